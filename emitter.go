package hookd

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"gorm.io/gorm"

	"hookd.dev/hookd/dispatcher"
	"hookd.dev/hookd/migrations"
	"hookd.dev/hookd/models"
)

// Emitter emits events in process, into hookd's tables in the app's own
// database, so that an event can commit or roll back with the app's writes
// (the outbox pattern). hookd workers (`hookd worker`, or `hookd serve`) on
// the same database and Redis deliver them.
type Emitter struct {
	store    *models.Store
	queue    *dispatcher.Queue // nil: the workers' sweeper enqueues
	pipeline *dispatcher.Pipeline
}

// EmitterOpts configures an Emitter.
type EmitterOpts struct {
	// RedisURL is the workers' Redis (redis://…). With it, messages are
	// enqueued as soon as they commit; without it, the workers' sweeper finds
	// them within about two sweep intervals.
	RedisURL string
	// Queue is the workers' asynq queue (default "hookd").
	Queue string
	// Migrate applies hookd's migrations to the database first (as `hookd migrate` does).
	Migrate bool
}

// NewEmitter returns an Emitter writing to db, which must hold hookd's schema.
func NewEmitter(db *gorm.DB, opts EmitterOpts) (*Emitter, error) {
	if opts.Migrate {
		if _, err := migrations.Apply(context.Background(), db); err != nil {
			return nil, fmt.Errorf("hookd: migrate: %w", err)
		}
	}
	e := &Emitter{store: models.NewStore(db, models.StoreOpts{})}
	if opts.RedisURL != "" {
		opt, err := dispatcher.ParseRedisURL(opts.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("hookd: redis URL: %w", err)
		}
		e.queue = dispatcher.NewQueue(opt, opts.Queue)
	}
	cfg := dispatcher.PipelineConfig{Store: e.store}
	if e.queue != nil {
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

// Emit stores an event for the tenant's endpoints in its own transaction
// (shared with concurrent emits) and enqueues it. It satisfies
// EventEmitter, so Hook works over an Emitter.
func (e *Emitter) Emit(ctx context.Context, tenant, eventType string, payload any, opts *EmitOpts) (*Message, error) {
	raw, err := encodePayload(payload)
	if err != nil {
		return nil, err
	}
	t, err := e.store.CachedTenant(ctx, tenant)
	if err != nil {
		return nil, toError(err)
	}
	p := models.EmitParams{TenantID: t.ID, EventType: eventType, Payload: raw}
	if opts != nil {
		p.IdempotencyKey = opts.IdempotencyKey
	}
	msg, _, err := e.pipeline.Emit(ctx, p)
	if err != nil {
		return nil, toError(err)
	}
	return fromModel(msg), nil
}

// EmitTx stores an event inside the caller's transaction: it is delivered
// only if that transaction commits. Inside Transaction it is enqueued right
// after the commit; otherwise the workers' sweeper enqueues it shortly after.
func (e *Emitter) EmitTx(ctx context.Context, tx *gorm.DB, tenant, eventType string, payload any) (*Message, error) {
	return e.emitTx(ctx, tx, tenant, eventType, payload, nil)
}

func (e *Emitter) emitTx(ctx context.Context, tx *gorm.DB, tenant, eventType string, payload any, opts *EmitOpts) (*Message, error) {
	raw, err := encodePayload(payload)
	if err != nil {
		return nil, err
	}
	t, err := e.store.TenantIn(ctx, tx, tenant)
	if err != nil {
		return nil, toError(err)
	}
	p := models.EmitParams{TenantID: t.ID, EventType: eventType, Payload: raw}
	if opts != nil {
		p.IdempotencyKey = opts.IdempotencyKey
	}
	msg, created, err := e.pipeline.EmitTx(ctx, tx, p)
	if err != nil {
		return nil, toError(err)
	}
	if created {
		if c, ok := ctx.Value(collectorKey{}).(*collector); ok {
			c.add(msg.Deliveries)
		} else if c, ok := tx.Statement.Context.Value(collectorKey{}).(*collector); ok {
			c.add(msg.Deliveries)
		}
	}
	return fromModel(msg), nil
}

// Transaction runs fn in a transaction of the app's database and enqueues
// the events that fn emitted with EmitTx once it has committed.
func (e *Emitter) Transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	c := &collector{}
	ctx = context.WithValue(ctx, collectorKey{}, c)
	if err := e.store.DB().WithContext(ctx).Transaction(fn); err != nil {
		return err
	}
	// After the commit: a failure here loses nothing, the sweeper enqueues them.
	e.pipeline.Enqueue(ctx, c.deliveries...)
	return nil
}

type collectorKey struct{}

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

// toError turns a domain error into the SDK's *Error, as the API would answer it.
func toError(err error) error {
	status := map[string]int{
		models.CodeNotFound: 404, models.CodeInvalid: 422, models.CodeConflict: 409, models.CodeTooLarge: 413,
	}[models.ErrorCode(err)]
	if status == 0 {
		return err
	}
	return &Error{StatusCode: status, Code: models.ErrorCode(err), Message: models.ErrorMessage(err)}
}

// fromModel converts a stored message to the SDK's type.
func fromModel(m *models.Message) *Message {
	b, _ := json.Marshal(struct {
		*models.Message
		Deliveries []models.Delivery `json:"deliveries"`
	}{m, m.Deliveries})
	var out Message
	_ = json.Unmarshal(b, &out)
	out.Payload = json.RawMessage(m.Payload) // exact bytes, not re-encoded
	return &out
}
