// Package progress shows how far long work has come: redrawn in place on a
// terminal, a line now and then otherwise (a log keeps every line).
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Meter reports the progress of one piece of work on w.
type Meter struct {
	w       io.Writer
	tty     bool
	label   string
	total   int64 // 0: unknown
	unit    string
	start   time.Time
	every   time.Duration // between reports
	mu      sync.Mutex
	last    time.Time
	current int64
}

// New starts a meter for label, counting unit (like "deliveries") up to
// total (0 when unknown). On a terminal it redraws one line ten times a
// second; elsewhere it writes a line every 10 seconds.
func New(w io.Writer, label, unit string, total int64) *Meter {
	m := &Meter{w: w, label: label, unit: unit, total: total, start: time.Now(), every: 10 * time.Second}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) { //nolint:gosec // a file descriptor fits an int
		m.tty, m.every = true, 100*time.Millisecond
	}
	return m
}

// Set records that done units are done, and reports if it is time.
func (m *Meter) Set(done int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.current = done
	if now := time.Now(); now.Sub(m.last) >= m.every {
		m.last = now
		m.report(false)
	}
}

// Done reports the final count on its own line.
func (m *Meter) Done() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.report(true)
}

func (m *Meter) report(final bool) {
	elapsed := time.Since(m.start)
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d", m.label, m.current)
	if m.total > 0 {
		fmt.Fprintf(&b, " of %d %s (%.0f%%)", m.total, m.unit, 100*float64(m.current)/float64(m.total))
	} else {
		fmt.Fprintf(&b, " %s", m.unit)
	}
	if secs := elapsed.Seconds(); secs > 0 && m.current > 0 {
		rate := float64(m.current) / secs
		fmt.Fprintf(&b, ", %.0f/s", rate)
		if m.total > 0 && !final && m.current < m.total {
			fmt.Fprintf(&b, ", %s left", time.Duration(float64(m.total-m.current)/rate*float64(time.Second)).Round(time.Second))
		}
	}
	if final {
		fmt.Fprintf(&b, " in %s", elapsed.Round(time.Millisecond))
	}
	switch {
	case m.tty && final:
		fmt.Fprintf(m.w, "\r\033[K%s\n", b.String())
	case m.tty:
		fmt.Fprintf(m.w, "\r\033[K%s", b.String())
	default:
		fmt.Fprintln(m.w, b.String())
	}
}
