package dispatcher

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// DefaultSchedule is the delays between attempts after the first one: nine
// retries spread over about three days, as Standard Webhooks senders do.
var DefaultSchedule = Schedule{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
	10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
}

// Schedule is the delay before each retry: Schedule[0] follows the first attempt.
type Schedule []time.Duration

// ParseSchedule reads a comma-separated list of durations, like "5s,5m,1h".
func ParseSchedule(s string) (Schedule, error) {
	var out Schedule
	for part := range strings.SplitSeq(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("retry schedule %q: %w", s, err)
		}
		if d <= 0 {
			return nil, fmt.Errorf("retry schedule %q: delays must be positive", s)
		}
		out = append(out, d)
	}
	return out, nil
}

// Seconds is the schedule in whole seconds, as an endpoint's
// retry_schedule holds it; a delay with a fraction of a second is refused
// rather than rounded.
func (s Schedule) Seconds() ([]int, error) {
	out := make([]int, len(s))
	for i, d := range s {
		if d%time.Second != 0 {
			return nil, fmt.Errorf("%s is not a whole number of seconds", short(d))
		}
		out[i] = int(d / time.Second)
	}
	return out, nil
}

// String renders the schedule as ParseSchedule reads it.
func (s Schedule) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = short(d)
	}
	return strings.Join(parts, ",")
}

// short writes 2h rather than time.Duration's 2h0m0s.
func short(d time.Duration) string {
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}

// Next returns the delay before the next attempt once attemptsMade attempts
// have failed, with ±jitter (0.2 = ±20%) so that retries after an outage do
// not arrive in one wave; ok is false when the schedule is exhausted.
func (s Schedule) Next(attemptsMade int, jitter float64) (delay time.Duration, ok bool) {
	i := attemptsMade - 1
	if i < 0 || i >= len(s) {
		return 0, false
	}
	d := float64(s[i])
	if jitter > 0 {
		d *= 1 + jitter*(2*rand.Float64()-1) //nolint:gosec // jitter needs no cryptographic randomness
	}
	return time.Duration(d), true
}
