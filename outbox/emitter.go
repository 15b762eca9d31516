// Package outbox emits hookd events in process, into hookd's tables in the
// app's own database, so that an event commits or rolls back with the
// app's writes (the outbox pattern). hookd workers (`hookd worker`, or
// `hookd serve`) on the same database and Redis deliver them.
//
//	emitter, err := outbox.New(db, outbox.Options{RedisURL: os.Getenv("HOOKD_REDIS_URL")})
//	err = emitter.Transaction(ctx, func(tx *gorm.DB) error {
//		if err := tx.Create(&invoice).Error; err != nil {
//			return err
//		}
//		_, err := emitter.EmitTx(ctx, tx, invoice.CustomerID, "invoice.paid", invoice, nil)
//		return err // roll back, and no event exists
//	})
//
// It brings hookd's storage and queue (gorm, asynq) into the app; an app
// that talks to hookd over HTTP imports hookd.dev/hookd alone.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"
	glogger "gorm.io/gorm/logger"

	"hookd.dev/hookd"
	"hookd.dev/hookd/api/httperr"
	"hookd.dev/hookd/api/wire"
	"hookd.dev/hookd/dispatcher"
	"hookd.dev/hookd/migrations"
	"hookd.dev/hookd/models"
)

// Emitter emits events into hookd's tables in the app's database.
type Emitter struct {
	db       *gorm.DB // the app's
	store    *models.Store
	queue    *dispatcher.Queue // nil: the workers' sweeper enqueues
	pipeline *dispatcher.Pipeline

	mu   sync.Mutex
	open map[gorm.ConnPool]*collector // the transactions Transaction runs, by their connection
}

var _ hookd.EventEmitter = (*Emitter)(nil)

// Options configures an Emitter.
type Options struct {
	// RedisURL is the workers' Redis (redis://…). With it, messages are
	// enqueued as soon as they commit; without it, the workers' sweeper finds
	// them within about two sweep intervals.
	RedisURL string
	// Queue is the workers' asynq queue (default "hookd").
	Queue string
	// Migrate applies hookd's migrations to the database first (as `hookd migrate` does).
	Migrate bool
}

// New returns an Emitter writing to db, which must hold hookd's schema
// (see Options.Migrate). Close releases it.
func New(db *gorm.DB, opts Options) (*Emitter, error) {
	if opts.Migrate {
		if _, err := migrations.Apply(context.Background(), db); err != nil {
			return nil, fmt.Errorf("hookd: migrate: %w", err)
		}
	}
	e := &Emitter{db: db, store: models.NewStore(quiet(db), models.StoreOpts{}), open: map[gorm.ConnPool]*collector{}}
	cfg := dispatcher.PipelineConfig{Store: e.store}
	if opts.RedisURL != "" {
		opt, err := dispatcher.ParseRedisURL(opts.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("hookd: redis URL: %w", err)
		}
		e.queue = dispatcher.NewQueue(opt, opts.Queue)
		cfg.Queue = e.queue
	}
	e.pipeline = dispatcher.NewPipeline(cfg)
	return e, nil
}

// Close waits for emits under way and releases the Redis connection, if any.
func (e *Emitter) Close() error {
	e.pipeline.Close()
	if e.queue != nil {
		return e.queue.Close()
	}
	return nil
}

// Emit stores an event for the tenant's endpoints (id or uid) in its own
// transaction, shared with concurrent emits, and enqueues it; it returns once
// the event is committed, while its enqueue may still be under way (the
// sweeper enqueues it if that fails). It satisfies
// hookd.EventEmitter, so hookd.Hook works over an Emitter as over a Client.
func (e *Emitter) Emit(ctx context.Context, tenant, eventType string, payload any, opts *hookd.EmitOpts) (*hookd.Message, error) {
	p, err := e.params(ctx, nil, tenant, eventType, payload, opts)
	if err != nil {
		return nil, err
	}
	msg, _, err := e.pipeline.Emit(ctx, p)
	if err != nil {
		return nil, toError(err)
	}
	out := wire.Message(msg)
	return &out, nil
}

// EmitTx is Emit inside the caller's transaction tx: the event is
// delivered only if tx commits. Inside Transaction it is enqueued right
// after the commit; in a transaction of the app's own, the workers'
// sweeper enqueues it shortly after (or pass the message to Enqueue once
// committed).
func (e *Emitter) EmitTx(ctx context.Context, tx *gorm.DB, tenant, eventType string, payload any, opts *hookd.EmitOpts) (*hookd.Message, error) {
	tx = quiet(tx)
	p, err := e.params(ctx, tx, tenant, eventType, payload, opts)
	if err != nil {
		return nil, err
	}
	msg, created, err := e.pipeline.EmitTx(ctx, tx, p)
	if err != nil {
		return nil, toError(err)
	}
	if created {
		e.collect(tx, msg.Deliveries)
	}
	out := wire.Message(msg)
	return &out, nil
}

// params checks an emit's arguments and names its tenant by id.
func (e *Emitter) params(ctx context.Context, tx *gorm.DB, tenant, eventType string, payload any, opts *hookd.EmitOpts) (models.EmitParams, error) {
	raw, err := hookd.EncodePayload(payload)
	if err != nil {
		return models.EmitParams{}, err
	}
	var t *models.Tenant
	if tx == nil {
		t, err = e.store.CachedTenant(ctx, tenant)
	} else {
		t, err = e.store.TenantIn(ctx, tx, tenant) // seen in tx, even if created there
	}
	if err != nil {
		return models.EmitParams{}, toError(err)
	}
	p := models.EmitParams{TenantID: t.ID, EventType: eventType, Payload: raw}
	if opts != nil {
		p.IdempotencyKey = opts.IdempotencyKey
	}
	return p, nil
}

// Transaction runs fn in a transaction of the app's database and enqueues
// the events that fn emitted with EmitTx, or through ModelEvents, once it
// has committed.
func (e *Emitter) Transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	c := &collector{}
	err := e.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		e.mu.Lock()
		e.open[tx.Statement.ConnPool] = c
		e.mu.Unlock()
		defer func() {
			e.mu.Lock()
			delete(e.open, tx.Statement.ConnPool)
			e.mu.Unlock()
		}()
		return fn(tx)
	})
	if err != nil {
		return err
	}
	// After the commit: a failure here loses nothing, the sweeper enqueues them.
	e.pipeline.Enqueue(ctx, c.deliveries...)
	return nil
}

// Enqueue enqueues the deliveries of messages that EmitTx wrote in a
// transaction of the app's own, once it has committed, rather than leave
// them to the workers' sweeper.
func (e *Emitter) Enqueue(ctx context.Context, msgs ...*hookd.Message) {
	var ds []models.Delivery
	now := time.Now()
	for _, m := range msgs {
		for _, d := range m.Deliveries {
			ds = append(ds, models.Delivery{ID: d.ID, EndpointID: d.EndpointID, AttemptCount: d.AttemptCount, NextAttemptAt: &now, NextTrigger: models.TriggerScheduled})
		}
	}
	e.pipeline.Enqueue(ctx, ds...)
}

// collect keeps a message's deliveries for after the commit, when tx is a
// transaction that Transaction runs.
func (e *Emitter) collect(tx *gorm.DB, ds []models.Delivery) {
	e.mu.Lock()
	c := e.open[tx.Statement.ConnPool]
	e.mu.Unlock()
	if c != nil {
		c.add(ds)
	}
}

// collector gathers the deliveries emitted inside one Transaction.
type collector struct {
	mu         sync.Mutex
	deliveries []models.Delivery
}

func (c *collector) add(ds []models.Delivery) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deliveries = append(c.deliveries, ds...)
}

// toError turns a domain error into the SDK's *hookd.Error, as the API
// would answer it.
func toError(err error) error {
	code := models.ErrorCode(err)
	if code == "" {
		return err
	}
	return &hookd.Error{StatusCode: httperr.Status(code), Code: code, Message: models.ErrorMessage(err)}
}

// quiet returns db with a logger that does not report "record not found":
// an unknown tenant is an answer (a 404), not an error for the app's log.
func quiet(db *gorm.DB) *gorm.DB {
	if _, ok := db.Logger.(notFoundIsNoError); ok {
		return db
	}
	return db.Session(&gorm.Session{Logger: notFoundIsNoError{db.Logger}})
}

// notFoundIsNoError passes every trace on, with gorm.ErrRecordNotFound as
// no error.
type notFoundIsNoError struct{ glogger.Interface }

func (l notFoundIsNoError) LogMode(level glogger.LogLevel) glogger.Interface {
	return notFoundIsNoError{l.Interface.LogMode(level)}
}

func (l notFoundIsNoError) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		err = nil
	}
	l.Interface.Trace(ctx, begin, fc, err)
}
