package dispatcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"gorm.io/gorm"

	"hookd.dev/hookd/models"
)

// Pipeline is the one home of every way a delivery comes to be: emit (from
// the API, or in process inside the app's own transaction), retry, recover
// and test sends. Each writes in a transaction, then enqueues after the
// commit; the fan-out (one delivery per subscribed endpoint) is decided
// here, and the store only writes rows. api, web and the SDK's Emitter reach
// it through small interfaces of their own.
type Pipeline struct {
	store *models.Store
	queue Enqueuer
	local *Worker // a worker in this process, or nil
	emits *batcher[*models.Message, emitOutcome]
	// behind holds a place for each enqueue an emit did not wait for;
	// enqueuing waits for them on Close.
	behind    chan struct{}
	enqueuing sync.WaitGroup
	ops       operational
	filterErr *filterErrors
	maxDepth  int
	budget    ManualBudget // nil: none
	log       *slog.Logger
}

// PipelineConfig configures a Pipeline. Zero fields take the defaults noted.
type PipelineConfig struct {
	Store *models.Store
	// Queue is where deliveries are enqueued after their commit (a *Queue).
	// Nil enqueues nothing: the workers' sweeper finds the deliveries instead.
	Queue Enqueuer
	// MaxBatch bounds the messages written in one transaction (default 100).
	MaxBatch int
	// Worker, when this process also delivers (hookd serve), is handed the
	// emits' deliveries, written already claimed for it, and offered the
	// others' before the queue: no trip through Redis for either.
	Worker *Worker
	// Writers is how many emit transactions may be under way at once
	// (default 2). Fewer writers make larger batches: with 2 instead of 4,
	// PostgreSQL used a tenth less CPU per delivery at 16 and 64 emitters,
	// and emits were no slower.
	Writers int
	// ManualBudget bounds the deliveries a tenant makes by hand (replay,
	// resend, recover, test send, retry) when a request is marked
	// models.ByTenant; nil: no bound.
	ManualBudget ManualBudget
	// MaxPayloadDepth bounds how deeply an emitted payload's objects and
	// arrays nest (default models.DefaultMaxPayloadDepth, 100).
	MaxPayloadDepth int
	Logger          *slog.Logger // default slog.Default()
}

// Enqueuer puts deliveries on the queue; *Queue is one.
type Enqueuer interface {
	Enqueue(ctx context.Context, ds ...models.Delivery) error
}

// NewPipeline starts a Pipeline; Close stops it.
func NewPipeline(cfg PipelineConfig) *Pipeline {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 100
	}
	if cfg.Writers <= 0 {
		cfg.Writers = 2
	}
	if cfg.MaxPayloadDepth <= 0 {
		cfg.MaxPayloadDepth = models.DefaultMaxPayloadDepth
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Pipeline{
		store: cfg.Store, queue: cfg.Queue, log: cfg.Logger, local: cfg.Worker,
		maxDepth: cfg.MaxPayloadDepth, budget: cfg.ManualBudget, behind: make(chan struct{}, maxEnqueuesBehind),
	}
	if cfg.Worker != nil {
		p.queue = localFirst{worker: cfg.Worker, queue: cfg.Queue}
	}
	p.ops = operational{store: p.store, queue: p.queue, log: p.log}
	p.filterErr = newFilterErrors(p.store, p.log)
	p.emits = newBatcher("hookd.emit.write", cfg.Writers, cfg.MaxBatch, emitLinger, p.writeEmits)
	return p
}

// Close waits for the emits being written and their enqueues, and stops.
func (p *Pipeline) Close() {
	p.emits.Close()
	p.enqueuing.Wait()
	p.filterErr.Close()
}

// Emit stores a message and one pending delivery per enabled endpoint of
// the tenant that subscribes to its event type, and enqueues them. The
// message is durable when Emit returns; its enqueue may have failed (Redis
// down), in which case the sweeper enqueues it later. created is false when
// the idempotency key named an earlier message, which is returned.
//
// Concurrent emits share transactions (group commit): each waits for the
// commit of the batch it is in.
func (p *Pipeline) Emit(ctx context.Context, e models.EmitParams) (msg *models.Message, created bool, err error) {
	ctx, span := tracer().Start(ctx, "hookd.emit")
	defer func() {
		if msg != nil && span.IsRecording() { // no attributes built for nothing when tracing is off
			span.SetAttributes(attribute.String("hookd.tenant_id", e.TenantID), attribute.String("hookd.event_type", e.EventType),
				attribute.String("hookd.message_id", msg.ID), attribute.Int("hookd.deliveries", len(msg.Deliveries)),
				attribute.Bool("hookd.created", created))
		}
		endSpan(span, err)
	}()
	msg, created, err = p.emit(ctx, e)
	if errors.Is(err, gorm.ErrForeignKeyViolated) {
		// An endpoint or the tenant was deleted through another process
		// since this one cached them: read them anew and try once more.
		p.store.ForgetSubscribers()
		msg, created, err = p.emit(ctx, e)
		if errors.Is(err, gorm.ErrForeignKeyViolated) {
			return nil, false, models.Errorf(models.CodeConflict,
				"the tenant or one of its endpoints was deleted while the message was written; nothing was stored")
		}
	}
	return msg, created, err
}

func (p *Pipeline) emit(ctx context.Context, e models.EmitParams) (*models.Message, bool, error) {
	msg, endpoints, err := p.prepare(ctx, nil, e)
	if err != nil {
		return nil, false, err
	}
	claims := p.claimForLocal(ctx, msg, endpoints)
	out, err := p.emits.submit(ctx, msg)
	if err == nil {
		err = out.err
	}
	if claims != nil && (err != nil || !out.created) {
		p.local.unreserve(len(claims), len(msg.Payload)) // nothing written to hand over
	}
	if err != nil {
		return nil, false, err
	}
	if !out.created {
		earlier, err := p.store.MessageByIdempotencyKey(ctx, nil, e.TenantID, e.IdempotencyKey)
		return earlier, false, err
	}
	if len(claims) > 0 {
		p.local.handOver(claims...)
	}
	// Each emit enqueues its own other deliveries once its batch has
	// committed, so that the enqueues of a batch go out side by side.
	if rest := msg.Deliveries[len(claims):]; len(rest) > 0 {
		p.enqueueBehind(ctx, rest...)
	}
	return msg, true, nil
}

// maxEnqueuesBehind bounds the enqueues emits have not waited for.
const maxEnqueuesBehind = 256

// enqueueBehind is Enqueue without the caller waiting for Redis, while
// fewer than maxEnqueuesBehind enqueues are under way; past that it waits
// as Enqueue does, so that a slow Redis slows the emitters instead of
// piling up work. The deliveries are committed: an enqueue lost with the
// process leaves them pending, for the sweeper, as a failed one does.
// Waiting for its enqueue (a millisecond of gathering, then a round trip)
// made an emit's answer slower, p50 5.8 ms against 4.5 with 16 emitters of
// hookd api, and the deliveries a second a fifth fewer.
func (p *Pipeline) enqueueBehind(ctx context.Context, ds ...models.Delivery) {
	select {
	case p.behind <- struct{}{}:
		p.enqueuing.Go(func() {
			defer func() { <-p.behind }()
			p.Enqueue(ctx, ds...)
		})
	default:
		p.Enqueue(ctx, ds...)
	}
}

// claimForLocal claims on write, for this process's worker, as many of the
// message's deliveries as it has room for (the first ones), and returns
// what to hand it after the commit. The others stay pending, for the queue.
func (p *Pipeline) claimForLocal(ctx context.Context, msg *models.Message, endpoints []models.Endpoint) []localItem {
	if p.local == nil {
		return nil
	}
	// A FIFO endpoint's delivery waits for those ahead of it: it goes
	// through a claim (see matching, which puts them last).
	unordered := 0
	for _, ep := range endpoints {
		if !ep.FIFO() {
			unordered++
		}
	}
	k := p.local.reserve(unordered, len(msg.Payload))
	if k == 0 {
		return nil
	}
	// As long as the worker's own claims: the longest timeout an endpoint
	// may have, so that no attempt outlives its claim.
	lockUntil := p.store.Now().Add(ClaimLock(p.local.cfg.longestTimeout()))
	items := make([]localItem, k)
	carried := carry(ctx)
	for i := range items {
		d := &msg.Deliveries[i]
		pending := *d
		claim := models.ClaimOnWrite(d, msg.Payload, endpoints[i].UpdatedAt, lockUntil) // newMessage keeps their order
		items[i] = localItem{delivery: pending, claim: claim, trace: carried}
	}
	return items
}

// EmitTx is Emit inside the caller's transaction: the message and its
// deliveries commit or roll back with the caller's own writes. Nothing is
// enqueued: the caller passes the message's deliveries to Enqueue once the
// transaction has committed (or the sweeper finds them).
func (p *Pipeline) EmitTx(ctx context.Context, tx *gorm.DB, e models.EmitParams) (*models.Message, bool, error) {
	if e.IdempotencyKey != "" {
		earlier, err := p.store.MessageByIdempotencyKey(ctx, tx, e.TenantID, e.IdempotencyKey)
		if err == nil {
			return earlier, false, nil
		}
		if !errors.Is(err, models.ErrNotFound) {
			return nil, false, err
		}
	}
	msg, _, err := p.prepare(ctx, tx, e)
	if err != nil {
		return nil, false, err
	}
	created, err := p.store.WriteMessages(ctx, tx, []*models.Message{msg})
	if err != nil {
		return nil, false, err
	}
	if !created[0] {
		earlier, err := p.store.MessageByIdempotencyKey(ctx, tx, e.TenantID, e.IdempotencyKey)
		return earlier, false, err
	}
	return msg, true, nil
}

// prepare checks an emit and builds its message with its deliveries, one
// per subscribed endpoint, in the order of the endpoints it returns. tx,
// when not nil, is the caller's transaction.
func (p *Pipeline) prepare(ctx context.Context, tx *gorm.DB, e models.EmitParams) (*models.Message, []models.Endpoint, error) {
	if err := e.Validate(); err != nil {
		return nil, nil, err
	}
	if err := models.CheckPayloadDepth(e.Payload, p.maxDepth); err != nil {
		return nil, nil, err
	}
	et, err := p.store.CachedEventType(ctx, e.EventType)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil, models.Errorf(models.CodeInvalid, "unknown event type %q: create it first (POST /v1/event-types)", e.EventType)
	}
	if err != nil {
		return nil, nil, err
	}
	if et.ArchivedAt != nil {
		return nil, nil, models.Errorf(models.CodeInvalid, "event type %q is archived", e.EventType)
	}
	if err := p.store.ValidateSchema(et, e.Payload); err != nil {
		return nil, nil, err
	}
	endpoints, err := p.store.Subscribers(ctx, tx, e.TenantID, e.EventType)
	if err != nil {
		return nil, nil, err
	}
	endpoints = p.matching(ctx, e.EventType, e.Payload, endpoints)
	if err := ctx.Err(); err != nil {
		return nil, nil, err // the filters stopped short: the fan-out is not known
	}
	msg := newMessage(p.store.Now(), e.TenantID, e.EventType, e.Payload, models.TriggerScheduled, endpoints)
	if e.IdempotencyKey != "" {
		msg.IdempotencyKey = &e.IdempotencyKey
	}
	return msg, endpoints, nil
}

// newMessage builds a message with one pending delivery, due now, per endpoint.
func newMessage(t time.Time, tenantID, eventType string, payload []byte, trigger string, endpoints []models.Endpoint) *models.Message {
	msg := &models.Message{
		ID: models.NewID(models.PrefixMessage), TenantID: tenantID, EventType: eventType,
		Payload: models.RawJSON(payload), CreatedAt: t, Deliveries: make([]models.Delivery, 0, len(endpoints)),
	}
	for _, ep := range endpoints {
		msg.Deliveries = append(msg.Deliveries, newDelivery(t, msg, &ep, trigger))
	}
	return msg
}

// newDelivery is a pending delivery of msg to ep, due at t.
func newDelivery(t time.Time, msg *models.Message, ep *models.Endpoint, trigger string) models.Delivery {
	return models.Delivery{
		ID: models.NewID(models.PrefixDelivery), TenantID: msg.TenantID, MessageID: msg.ID, EndpointID: ep.ID,
		EventType: msg.EventType, Status: models.StatusPending, NextAttemptAt: &t, NextTrigger: trigger,
		Ordered: ep.FIFO(), CreatedAt: t, UpdatedAt: t,
	}
}

// emitOutcome is what became of one emit in a batch.
type emitOutcome struct {
	created bool // false: its idempotency key named an earlier message
	err     error
}

// writeEmits writes a batch of emits in one transaction. If the batch
// fails while the database answers, each message is tried alone, so that
// one bad message does not fail its neighbours.
func (p *Pipeline) writeEmits(ctx context.Context, msgs []*models.Message) ([]emitOutcome, error) {
	created, err := p.store.WriteMessages(ctx, nil, msgs)
	if err != nil && len(msgs) > 1 && p.store.Ping(ctx) == nil {
		out := make([]emitOutcome, len(msgs))
		for i, m := range msgs {
			alone, err := p.writeEmits(ctx, []*models.Message{m})
			if err != nil {
				out[i].err = err
				continue
			}
			out[i] = alone[0]
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]emitOutcome, len(msgs))
	for i := range msgs {
		out[i].created = created[i]
	}
	return out, nil
}

// Enqueue puts committed deliveries on the queue. A failure loses nothing:
// the deliveries are in the database, and the sweeper enqueues them.
func (p *Pipeline) Enqueue(ctx context.Context, ds ...models.Delivery) {
	if p.queue == nil || len(ds) == 0 {
		return
	}
	if err := p.queue.Enqueue(context.WithoutCancel(ctx), ds...); err != nil {
		p.log.Warn("enqueue after commit failed; the sweeper will enqueue", "deliveries", len(ds), "error", err)
	}
}

// Retry makes a delivery due now for a manual attempt, whatever its
// status, unless a worker holds it right now, and enqueues it.
func (p *Pipeline) Retry(ctx context.Context, tenantID, id string) (*models.Delivery, error) {
	if err := p.charge(ctx, tenantID, 1); err != nil {
		return nil, err
	}
	d, err := p.store.RetryDelivery(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	p.Enqueue(ctx, *d)
	return d, nil
}

// Recover makes an endpoint's failed deliveries created since a time due
// now for a manual attempt, and enqueues them.
func (p *Pipeline) Recover(ctx context.Context, tenantID, endpointID string, since time.Time) ([]models.Delivery, error) {
	if models.IsByTenant(ctx) && p.budget != nil && !since.IsZero() { // RecoverEndpoint refuses a zero since
		if _, err := p.store.GetEndpoint(ctx, tenantID, endpointID); err != nil {
			return nil, err
		}
		n, err := p.store.CountRecoverable(ctx, endpointID, since)
		if err != nil {
			return nil, err
		}
		if err := p.charge(ctx, tenantID, n); err != nil {
			return nil, err
		}
	}
	ds, err := p.store.RecoverEndpoint(ctx, tenantID, endpointID, since)
	if err != nil {
		return nil, err
	}
	p.Enqueue(ctx, ds...)
	return ds, nil
}

// UpdateEndpoint changes the given fields of an endpoint. Enabling or
// disabling it tells the operator (endpoint.enabled, endpoint.disabled),
// naming who did it: by, as "api" or "admin UI".
func (p *Pipeline) UpdateEndpoint(ctx context.Context, tenantID, id string, params models.EndpointParams, by string) (*models.Endpoint, error) {
	var before *models.Endpoint
	if params.Enabled != nil {
		var err error
		if before, err = p.store.GetEndpoint(ctx, tenantID, id); err != nil {
			return nil, err
		}
	}
	ep, err := p.store.UpdateEndpoint(ctx, tenantID, id, params)
	if err != nil {
		return nil, err
	}
	if before != nil && before.Enabled != ep.Enabled {
		typ := models.OpEndpointEnabled
		if !ep.Enabled {
			typ = models.OpEndpointDisabled
		}
		p.ops.notify(ctx, typ, ep, map[string]any{"by": by})
	}
	return ep, nil
}

// SendTest stores a signed hookd.ping message with one delivery to one
// endpoint, whatever it subscribes to, and enqueues it.
func (p *Pipeline) SendTest(ctx context.Context, tenantID, endpointID string) (*models.Message, error) {
	ep, err := p.store.GetEndpoint(ctx, tenantID, endpointID)
	if err != nil {
		return nil, err
	}
	if !ep.Enabled {
		return nil, models.Errorf(models.CodeConflict, "endpoint %s is disabled; enable it before testing it", ep.ID)
	}
	if err := p.charge(ctx, tenantID, 1); err != nil {
		return nil, err
	}
	t := p.store.Now()
	payload, err := json.Marshal(map[string]string{"type": models.PingEventType, "endpoint_id": ep.ID, "sent_at": t.Format(time.RFC3339)})
	if err != nil {
		return nil, err
	}
	msg := newMessage(t, tenantID, models.PingEventType, payload, models.TriggerManual, []models.Endpoint{*ep})
	if _, err := p.store.WriteMessages(ctx, nil, []*models.Message{msg}); err != nil {
		return nil, fmt.Errorf("send test to %s: %w", ep.ID, err)
	}
	p.Enqueue(ctx, msg.Deliveries...)
	return msg, nil
}
