package dispatcher

import (
	"context"
	"log/slog"
	"time"
)

// PurgerConfig configures a Purger. Zero fields take the defaults noted.
type PurgerConfig struct {
	Retention time.Duration // keep messages and attempts this long (default 720h = 30 days)
	Interval  time.Duration // between purges (default 1h; the first runs a minute after start)
	// Progress, when set, is told the running totals after each batch.
	Progress func(messages, attempts int64)
	Batch    int              // rows per delete (default 500)
	Pause    time.Duration    // between batches, to leave room for other writers (default 50ms)
	Logger   *slog.Logger     // default slog.Default()
	Now      func() time.Time // the clock the retention counts back from (default time.Now)
}

// purgeStore is what a Purger asks of the database; *models.Store is one.
// Declared here so that a test can purge without a database.
type purgeStore interface {
	PurgeBatch(ctx context.Context, cutoff time.Time, limit int) (messages, attempts int64, err error)
}

// Purger deletes messages (with their deliveries and attempts) and attempts
// older than the retention, in small batches. Messages with a delivery still
// pending or inflight are kept: nothing accepted is dropped undelivered.
type Purger struct {
	cfg   PurgerConfig
	store purgeStore
	log   *slog.Logger
}

// NewPurger returns a Purger of store's data (a *models.Store).
func NewPurger(store purgeStore, cfg PurgerConfig) *Purger {
	if cfg.Retention <= 0 {
		cfg.Retention = 720 * time.Hour
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Hour
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.Pause <= 0 {
		cfg.Pause = 50 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Purger{cfg: cfg, store: store, log: cfg.Logger}
}

// Run purges every Interval until ctx is done.
func (p *Purger) Run(ctx context.Context) error {
	wait := min(time.Minute, p.cfg.Interval)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = p.cfg.Interval
		msgs, atts, err := p.Purge(ctx)
		if err != nil && ctx.Err() == nil {
			p.log.Warn("purge failed; trying again next time", "error", err)
		}
		if msgs+atts > 0 {
			p.log.Info("purged", "messages", msgs, "attempts", atts, "retention", p.cfg.Retention)
		}
	}
}

// Purge deletes everything past the retention, batch by batch.
func (p *Purger) Purge(ctx context.Context) (messages, attempts int64, err error) {
	cutoff := p.cfg.Now().Add(-p.cfg.Retention)
	for ctx.Err() == nil {
		m, a, err := p.store.PurgeBatch(ctx, cutoff, p.cfg.Batch)
		messages += m
		attempts += a
		if p.cfg.Progress != nil {
			p.cfg.Progress(messages, attempts)
		}
		if err != nil || (m == 0 && a == 0) {
			return messages, attempts, err
		}
		select {
		case <-ctx.Done():
		case <-time.After(p.cfg.Pause):
		}
	}
	return messages, attempts, ctx.Err()
}
