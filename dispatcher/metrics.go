package dispatcher

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what the dispatcher does, for Prometheus.
type Metrics struct {
	attempts *prometheus.CounterVec
	duration prometheus.Histogram
	finished *prometheus.CounterVec
	swept    prometheus.Counter
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
	}
	reg.MustRegister(m.attempts, m.duration, m.finished, m.swept)
	return m
}

func (m *Metrics) observeAttempt(resp Response, status string) {
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
	if status != "pending" {
		m.finished.WithLabelValues(status).Inc()
	}
}

func (m *Metrics) observeSwept(n int) {
	if m != nil {
		m.swept.Add(float64(n))
	}
}
