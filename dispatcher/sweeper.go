package dispatcher

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"hookd.dev/hookd/models"
)

// SweeperConfig configures a Sweeper. Zero fields take the defaults noted.
type SweeperConfig struct {
	Interval time.Duration // between sweeps (default 5s)
	Batch    int           // deliveries read per query (default 500)
	// OrphanAfter is how long past due a pending delivery whose task a worker
	// holds may stay unclaimed before the sweeper takes the worker for dead
	// and enqueues a fresh task (default 30s; set it to the claim's lock).
	OrphanAfter time.Duration
	Logger      *slog.Logger     // default slog.Default()
	Metrics     *Metrics         // nil: not measured
	Now         func() time.Time // the clock (default time.Now); tests set their own
}

// sweepStore is what a Sweeper asks of the database; *models.Store is one.
// Declared here so that a test can sweep without a database.
type sweepStore interface {
	ReleaseExpired(ctx context.Context, limit int) ([]models.Delivery, error)
	DueDeliveries(ctx context.Context, p models.DueParams) ([]models.Delivery, error)
}

// sweepQueue is what a Sweeper asks of the queue; *Queue is one.
type sweepQueue interface {
	enqueue(ctx context.Context, d models.Delivery) (bool, error)
	enqueueAs(ctx context.Context, d models.Delivery, suffix string) (bool, error)
	replaceStuck(ctx context.Context, d models.Delivery, suffix string) (bool, error)
	latency() time.Duration
}

// Sweeper puts back on the queue what the queue lost: pending deliveries that
// are overdue (Redis flushed or restarted, enqueue failed after an emit) and
// inflight ones whose worker died (claim expired). Enqueueing is idempotent,
// so several sweepers may run at once.
type Sweeper struct {
	cfg   SweeperConfig
	store sweepStore
	queue sweepQueue
	log   *slog.Logger
}

// NewSweeper returns a Sweeper of store's deliveries (a *models.Store) onto
// queue (a *Queue).
func NewSweeper(store sweepStore, queue sweepQueue, cfg SweeperConfig) *Sweeper {
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.OrphanAfter <= 0 {
		cfg.OrphanAfter = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Sweeper{cfg: cfg, store: store, queue: queue, log: cfg.Logger}
}

// maxSweepBackoff bounds the wait after failed sweeps: long enough not to
// hammer a database that is down, short enough to catch up soon after.
const maxSweepBackoff = 10 * time.Second

// Run sweeps every Interval until ctx is done. After an error it waits
// longer, up to maxSweepBackoff (or Interval, if longer).
func (s *Sweeper) Run(ctx context.Context) error {
	wait := s.cfg.Interval
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		n, err := s.Sweep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			wait = max(min(wait*2, maxSweepBackoff), s.cfg.Interval)
			s.log.Warn("sweep failed", "error", err, "next_in", wait)
		case err == nil:
			wait = s.cfg.Interval
			s.cfg.Metrics.observeSwept(n)
			if n > 0 {
				s.log.Info("sweep re-enqueued deliveries", "count", n)
			}
		}
	}
}

// Sweep runs once and returns how many deliveries it newly enqueued.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	released, err := s.store.ReleaseExpired(ctx, s.cfg.Batch)
	if err != nil {
		return 0, err
	}
	// The dead worker's task stays "active" in asynq until its lease runs out
	// and asynq's recoverer (once a minute) brings it back, and it blocks its
	// task ID until then. A fresh ID gets the delivery going now; the old task
	// finds nothing to claim when it comes back.
	now := s.cfg.Now()
	suffix := fmt.Sprintf("-swept-%d", now.UnixNano())
	for _, d := range released {
		if _, err := s.queue.enqueueAs(ctx, d, suffix); err != nil {
			return 0, err
		}
	}
	// Deliveries due within the last interval are still on their way through
	// the queue, as are those due since the oldest task waiting in it was
	// enqueued (a backlog); older ones may have been lost. (A delivery in a
	// batch task has no ID of its own in Redis that would make a second
	// enqueue harmless.)
	before := now.Add(-s.cfg.Interval - s.queue.latency())
	enqueued := len(released)
	inspected := 0
	orphanBefore := now.Add(-s.cfg.OrphanAfter)
	var after *models.Delivery
	for range 50 { // bounded: at most 50 batches a sweep
		batch, err := s.store.DueDeliveries(ctx, models.DueParams{Before: before, After: after, Limit: s.cfg.Batch})
		if err != nil {
			return enqueued, err
		}
		for _, d := range batch {
			isNew, err := s.queue.enqueue(ctx, d)
			if err != nil {
				return enqueued, err
			}
			// A task that a worker took but never claimed, long past due: the
			// worker died between the two. Its task ID stays taken until
			// asynq's recoverer runs (up to 90 s), so use a fresh one now.
			if !isNew && d.NextAttemptAt.Before(orphanBefore) && inspected < s.cfg.Batch {
				inspected++
				isNew, err = s.queue.replaceStuck(ctx, d, suffix)
				if err != nil {
					return enqueued, err
				}
			}
			if isNew {
				enqueued++
			}
		}
		if len(batch) < s.cfg.Batch {
			break
		}
		after = &batch[len(batch)-1]
	}
	return enqueued, nil
}
