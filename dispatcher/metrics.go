package dispatcher

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what the dispatcher does, for Prometheus.
type Metrics struct {
	attempts *prometheus.CounterVec
	duration prometheus.Histogram
	finished *prometheus.CounterVec
	swept    prometheus.Counter
	stages   *prometheus.HistogramVec
	disabled *prometheus.CounterVec
}

// NewMetrics registers the dispatcher's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookd_attempts_total",
			Help: "Delivery attempts made, by result: success (2xx), failure (any other answer) or error (no answer).",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hookd_attempt_duration_seconds",
			Help:    "Time from sending a webhook to reading its response.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30},
		}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookd_deliveries_finished_total",
			Help: "Deliveries that reached a final status: succeeded or failed.",
		}, []string{"status"}),
		swept: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookd_sweeper_requeued_total",
			Help: "Deliveries the sweeper put back on the queue because the queue had lost them.",
		}),
		stages: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hookd_attempt_stage_seconds",
			Help:    "Time a worker spends on each stage of an attempt: claim (the delivery, batched), slot (the endpoint's, waited for), send (sign, POST, read the response), record (the attempt, batched).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 15},
		}, []string{"stage"}),
		disabled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookd_endpoints_disabled_total",
			Help: "Endpoints the workers disabled, by cause: gone (the receiver answered 410) or failing (for longer than HOOKD_DISABLE_AFTER).",
		}, []string{"cause"}),
	}
	reg.MustRegister(m.attempts, m.duration, m.finished, m.swept, m.stages, m.disabled)
	return m
}

// observeAttempt counts an attempt, and the delivery as finished when the
// attempt gave it a final status, unless it had one already: a manual retry
// of a delivery that had succeeded (again is true) is an attempt, not
// another delivery.
func (m *Metrics) observeAttempt(resp Response, status string, again bool) {
	if m == nil {
		return
	}
	result := "failure"
	switch {
	case resp.StatusCode == 0:
		result = "error"
	case resp.Err == nil && resp.StatusCode >= 200 && resp.StatusCode < 300:
		result = "success"
	}
	m.attempts.WithLabelValues(result).Inc()
	m.duration.Observe(resp.Duration.Seconds())
	if status != "pending" && !again {
		m.finished.WithLabelValues(status).Inc()
	}
}

func (m *Metrics) observeDisabled(cause string) {
	if m != nil {
		m.disabled.WithLabelValues(cause).Inc()
	}
}

func (m *Metrics) observeSwept(n int) {
	if m != nil {
		m.swept.Add(float64(n))
	}
}

// stage names one stage of an attempt, for observeStage.
type stage string

const (
	stageClaim  stage = "claim"
	stageSlot   stage = "slot"
	stageSend   stage = "send"
	stageRecord stage = "record"
)

// observeStage counts the time since start as spent in the stage, and
// answers now, where the next stage starts.
func (m *Metrics) observeStage(s stage, start time.Time) time.Time {
	now := time.Now()
	if m != nil {
		m.stages.WithLabelValues(string(s)).Observe(now.Sub(start).Seconds())
	}
	return now
}
