package web

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"hookd.dev/hookd/dispatcher"
	"hookd.dev/hookd/models"
)

// This file reads and shows an endpoint's delivery controls (models.Endpoint:
// envelope, headers, timeout, retry schedule, filter, ordering) in the
// forms and pages of both UIs, and the times of the replay form.

// parseHeaderLines reads a textarea of headers, one "Name: value" per
// line; blank lines are skipped. The result is never nil: an empty box is
// an empty set. field names the box in messages.
func parseHeaderLines(field, text string) (map[string]string, error) {
	hs := map[string]string{}
	seen := map[string]bool{}
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" {
			return nil, models.Errorf(models.CodeInvalid, "%s, line %d: write each header as Name: value (got %q)", field, i+1, clip(line))
		}
		if seen[strings.ToLower(name)] {
			return nil, models.Errorf(models.CodeInvalid, "%s, line %d: %s is named twice", field, i+1, name)
		}
		seen[strings.ToLower(name)] = true
		hs[name] = value
	}
	return hs, nil
}

// clip shortens what a message quotes of a refused line.
func clip(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}

// headerLines writes headers as parseHeaderLines reads them, by name.
func headerLines(hs map[string]string) string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(hs)) {
		fmt.Fprintf(&b, "%s: %s\n", name, hs[name])
	}
	return b.String()
}

// parseSchedule reads a retry schedule like "5s, 5m, 1h" into the seconds
// between attempts; empty is the default schedule (an empty, non-nil slice).
func parseSchedule(text string) ([]int, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return []int{}, nil
	}
	sched, err := dispatcher.ParseSchedule(text)
	if err != nil {
		return nil, models.Errorf(models.CodeInvalid, "retry schedule: write delays like 5s, 5m, 1h (%s)", err)
	}
	secs, err := sched.Seconds()
	if err != nil {
		return nil, models.Errorf(models.CodeInvalid, "retry schedule: %s", err)
	}
	return secs, nil
}

// scheduleText writes seconds between attempts as parseSchedule reads them.
func scheduleText(secs []int) string {
	sched := make(dispatcher.Schedule, len(secs))
	for i, s := range secs {
		sched[i] = time.Duration(s) * time.Second
	}
	return strings.ReplaceAll(sched.String(), ",", ", ")
}

// formTime reads a time typed into a confirmation form (RFC 3339); empty
// is the zero time, for the store to refuse or read as "none".
func formTime(field, value string) (time.Time, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, value)
	if err != nil {
		return time.Time{}, models.Errorf(models.CodeInvalid, "%s must be a time like 2026-01-02T15:04:05Z", field)
	}
	return t, nil
}

// readReplay reads the replay form: since (required, which the store
// says when it is missing) and until (optional).
func readReplay(c echo.Context) (models.ReplayParams, error) {
	var rp models.ReplayParams
	var err error
	form := c.Request().PostForm
	if rp.Since, err = formTime("since", form.Get("since")); err != nil {
		return rp, err
	}
	rp.Until, err = formTime("until", form.Get("until"))
	return rp, err
}

// plural writes "1 endpoint", "2 endpoints".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
