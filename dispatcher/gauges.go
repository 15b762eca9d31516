package dispatcher

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"hookd.dev/hookd/models"
)

// BacklogCollector reports, at each scrape, the queue's tasks by state and
// its latency (asked of Redis), and the deliveries in flight and overdue
// (asked of the database). Answers are kept for a few seconds, so that
// several scrapers cost one query.
type BacklogCollector struct {
	queue *Queue
	store *models.Store
	grace time.Duration
	log   *slog.Logger

	tasks, latency, inflight, overdue *prometheus.Desc

	mu      sync.Mutex
	at      time.Time
	metrics []prometheus.Metric
}

// backlogFresh is how long a scrape's answers serve the next ones.
const backlogFresh = 5 * time.Second

// overdueCap bounds the count of overdue deliveries: after an outage there
// may be millions, and a scrape need not count them all.
const overdueCap = 100_000

// NewBacklogCollector returns a collector for queue (asked through its own
// inspector) and the deliveries of store; overdue counts the pending ones
// more than grace past their time (the sweeper's interval: by then it
// enqueues them anew).
func NewBacklogCollector(queue *Queue, store *models.Store, grace time.Duration, log *slog.Logger) *BacklogCollector {
	return &BacklogCollector{
		queue: queue, store: store, grace: grace, log: log,
		tasks: prometheus.NewDesc("hookd_queue_tasks", "Tasks in the delivery queue, by state: pending (ready), active (being handled), scheduled (later attempts), retry.",
			[]string{"state"}, nil),
		latency:  prometheus.NewDesc("hookd_queue_latency_seconds", "How long the oldest ready task has waited in the delivery queue.", nil, nil),
		inflight: prometheus.NewDesc("hookd_deliveries_inflight", "Deliveries being attempted now (claimed by a worker).", nil, nil),
		overdue: prometheus.NewDesc("hookd_deliveries_overdue",
			"Pending deliveries more than a sweep interval past their time: the backlog the workers have not reached (counted up to 100,000).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *BacklogCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.tasks, c.latency, c.inflight, c.overdue} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. What cannot be read now (Redis
// or the database away) is left out of the scrape and logged.
func (c *BacklogCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) >= backlogFresh {
		c.metrics, c.at = c.read(), time.Now()
	}
	for _, m := range c.metrics {
		ch <- m
	}
}

// queueExists reports whether Redis knows the queue (asynq's not-found
// error is not exported); true when it cannot tell.
func (c *BacklogCollector) queueExists() bool {
	queues, err := c.queue.inspector.Queues()
	return err != nil || slices.Contains(queues, c.queue.name)
}

func (c *BacklogCollector) read() []prometheus.Metric {
	var out []prometheus.Metric
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		out = append(out, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...))
	}
	info, err := c.queue.inspector.GetQueueInfo(c.queue.name)
	if err != nil && !c.queueExists() { // nothing enqueued yet
		info, err = &asynq.QueueInfo{}, nil
	}
	if err != nil {
		c.log.Warn("metrics: read the queue", "error", err)
	}
	if err == nil {
		gauge(c.tasks, float64(info.Pending), "pending")
		gauge(c.tasks, float64(info.Active), "active")
		gauge(c.tasks, float64(info.Scheduled), "scheduled")
		gauge(c.tasks, float64(info.Retry), "retry")
		gauge(c.latency, info.Latency.Seconds())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	inflight, err := c.store.CountInflight(ctx)
	if err == nil {
		var overdue int64
		if overdue, err = c.store.Backlog(ctx, c.grace, overdueCap); err == nil {
			gauge(c.inflight, float64(inflight))
			gauge(c.overdue, float64(overdue))
		}
	}
	if err != nil {
		c.log.Warn("metrics: count the deliveries", "error", err)
	}
	return out
}
