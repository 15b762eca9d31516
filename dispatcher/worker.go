package dispatcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"hookd.dev/hookd/models"
)

// Config configures a Worker. Zero fields take the defaults noted.
type Config struct {
	Queue                string         // asynq queue (default "hookd")
	Concurrency          int            // deliveries handled at once per worker process (default 200)
	EndpointConcurrency  int            // attempts in flight per endpoint across all workers, unless the endpoint sets its own (default 10)
	TenantConcurrency    int            // attempts in flight per tenant in each of this process's pools of Concurrency workers (default half of Concurrency)
	Schedule             Schedule       // delays between attempts (default DefaultSchedule)
	Jitter               float64        // ± fraction applied to each delay (default 0.2; negative: none)
	Timeout              time.Duration  // per attempt, body read included (default 15s)
	MaxRetryAfter        time.Duration  // cap on a receiver's Retry-After (default 1h)
	MaxResponseBytes     int64          // response body read and kept (default 64 KiB)
	AllowPrivateNetworks bool           // deliver to loopback and private addresses (default false)
	AllowedNetworks      []netip.Prefix // exceptions to the refusal of private addresses (default none)
	ShutdownTimeout      time.Duration  // wait for in-flight attempts on shutdown (default Timeout + 5s)
	DisableAfter         time.Duration  // disable an endpoint failing continuously this long (default 120h; negative: never)
	Logger               *slog.Logger   // default slog.Default()
	Metrics              *Metrics       // nil: not measured
	// Now is the clock of the worker's decisions: when a delivery is due,
	// when its next attempt is, when an endpoint began failing (default
	// time.Now). Durations are measured on the real clock.
	Now func() time.Time
	// Tracing makes each POST a span of its own (OpenTelemetry, the global
	// tracer provider); the attempts are spans either way.
	Tracing bool
	// Bounds are the operator's bounds on an endpoint's own timeout and
	// retry schedule, applied again here in case they were lowered since
	// the endpoint was saved (default MaxTimeout: Timeout).
	Bounds models.EndpointBounds
}

func (c *Config) setDefaults() {
	if c.Queue == "" {
		c.Queue = DefaultQueue
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 200
	}
	if c.EndpointConcurrency <= 0 {
		c.EndpointConcurrency = 10
	}
	if c.TenantConcurrency <= 0 {
		c.TenantConcurrency = max(c.Concurrency/2, 1)
	}
	if c.Schedule == nil {
		c.Schedule = DefaultSchedule
	}
	if c.Jitter == 0 {
		c.Jitter = 0.2
	}
	if c.Timeout <= 0 {
		c.Timeout = 15 * time.Second
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = time.Hour
	}
	if c.DisableAfter == 0 {
		c.DisableAfter = 120 * time.Hour
	}
	if c.Bounds.MaxTimeout <= 0 {
		c.Bounds.MaxTimeout = c.Timeout
	}
	c.Bounds = c.Bounds.WithDefaults()
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = c.longestTimeout() + 5*time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// longestTimeout is the longest an attempt may take: the default timeout,
// or an endpoint's own up to the operator's bound.
func (c *Config) longestTimeout() time.Duration { return max(c.Timeout, c.Bounds.MaxTimeout) }

// timeoutFor is an endpoint's timeout: its own, within the bound, or the default.
func (c *Config) timeoutFor(ep *models.Endpoint) time.Duration {
	if ep.TimeoutSeconds == nil {
		return c.Timeout
	}
	return min(time.Duration(*ep.TimeoutSeconds)*time.Second, c.Bounds.MaxTimeout)
}

// scheduleFor is an endpoint's retry schedule: its own, cut to the bounds,
// or the default.
func (c *Config) scheduleFor(ep *models.Endpoint) Schedule {
	if ep.RetrySchedule == nil {
		return c.Schedule
	}
	out := make(Schedule, min(len(ep.RetrySchedule), c.Bounds.MaxRetries))
	for i := range out {
		out[i] = min(time.Duration(ep.RetrySchedule[i])*time.Second, c.Bounds.MaxRetryDelay)
	}
	return out
}

// lockMargin is how long past the attempt's timeout a claim holds, to cover
// recording the attempt. A worker that dies loses its claims after this.
const lockMargin = 15 * time.Second

// ClaimLock is how long a worker's claim on a delivery lasts for a given
// attempt timeout: after it, the delivery is taken for lost.
func ClaimLock(timeout time.Duration) time.Duration { return timeout + lockMargin }

// workerStore is what a Worker asks of the database, its operational
// events' included; *models.Store is one.
type workerStore interface {
	opsStore
	ClaimDeliveries(ctx context.Context, ps []models.ClaimParams, o models.ClaimOpts) ([]*models.Claim, error)
	RecordAttempts(ctx context.Context, rs []models.AttemptRecord) (results []error, err error)
	DeliveryEndpoint(ctx context.Context, id string) (string, error)
	CachedEndpoint(ctx context.Context, id string) (*models.Endpoint, error)
	RefreshEndpoint(ctx context.Context, id string) (*models.Endpoint, error)
	NoteEndpointHealth(id string, failingSince *time.Time, enabled bool)
	ParkClaim(ctx context.Context, c *models.Claim, reason string) error
	Unclaim(ctx context.Context, c *models.Claim, after time.Duration) error
	NextInLine(ctx context.Context, endpointID string) (*models.Delivery, error)
}

// Worker makes delivery attempts.
type Worker struct {
	cfg     Config
	store   workerStore
	queue   *Queue
	sender  *Sender
	limiter *limiter                                    // set by Run
	shares  *tenantShares                               // each tenant's share of the workers
	claims  *batcher[models.ClaimParams, *models.Claim] // set by Run
	records *batcher[models.AttemptRecord, error]       // set by Run
	log     *slog.Logger

	// Deliveries handed over by this process's own emits (hookd serve), for
	// local handlers: no trip through Redis. See local.go.
	intake    *intake
	ops       operational // tells the operator of disabled endpoints, failed and recovered deliveries
	accepting atomic.Bool // local handlers run and take deliveries
}

// NewWorker returns a Worker that claims deliveries from store (a
// *models.Store), POSTs them, and enqueues retries on queue.
func NewWorker(store workerStore, queue *Queue, cfg Config) *Worker {
	cfg.setDefaults()
	w := &Worker{
		cfg:    cfg,
		store:  store,
		queue:  queue,
		shares: newTenantShares(cfg.TenantConcurrency),
		sender: NewSender(SenderOpts{
			Timeout: cfg.longestTimeout(), MaxResponseBytes: cfg.MaxResponseBytes,
			AllowPrivateNetworks: cfg.AllowPrivateNetworks, AllowedNetworks: cfg.AllowedNetworks,
			MaxIdlePerHost: cfg.Concurrency, Tracing: cfg.Tracing,
		}),
		log:    cfg.Logger,
		ops:    operational{store: store, queue: queue, log: cfg.Logger},
		intake: newIntake(intakeItems*cfg.Concurrency, intakeBytes, maxWaiting(cfg.Concurrency)),
	}
	return w
}

// Run processes tasks from redis until ctx is done, then stops taking work
// and waits up to ShutdownTimeout for attempts in flight.
func (w *Worker) Run(ctx context.Context, redisOpt asynq.RedisConnOpt) error {
	rdb, ok := redisOpt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return fmt.Errorf("unsupported Redis connection %T", redisOpt)
	}
	defer rdb.Close()
	w.open(rdb)
	defer w.close()
	srv := asynq.NewServer(redisOpt, asynq.Config{
		Concurrency:     w.cfg.Concurrency,
		Queues:          map[string]int{w.cfg.Queue: 1},
		ShutdownTimeout: w.cfg.ShutdownTimeout,
		// asynq polls an empty queue after a pause (1 s and 5 s for scheduled
		// tasks by default), which is added to an emit's time to delivery
		// whenever the queue ran dry: 5-15 ms here, for about a hundred Redis
		// calls a second per idle worker process.
		TaskCheckInterval:        10 * time.Millisecond,
		DelayedTaskCheckInterval: time.Second,
		Logger:                   asynqLogger{w.log},
		LogLevel:                 asynq.WarnLevel,
		// An endpoint at its limit is not a failure: retry soon, uncounted.
		IsFailure: func(err error) bool { _, busy := isBusy(err); return !busy },
		RetryDelayFunc: func(n int, err error, _ *asynq.Task) time.Duration {
			if b, busy := isBusy(err); busy {
				return b.after
			}
			return min(time.Duration(1<<min(n, 6))*time.Second, time.Minute)
		},
	})
	mux := asynq.NewServeMux()
	mux.Use(w.neverArchive)
	mux.HandleFunc(TypeDeliverySend, w.HandleDeliverySend)
	mux.HandleFunc(TypeDeliveryBatch, w.HandleDeliveryBatch)
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	// Local handlers stop taking deliveries when ctx ends, and their
	// attempts get ShutdownTimeout to finish, as asynq's do.
	attemptCtx, cancelAttempts := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelAttempts()
	var local sync.WaitGroup
	go w.intake.watch(ctx)
	for range w.cfg.Concurrency {
		local.Go(func() { w.runLocal(attemptCtx) })
	}
	w.accepting.Store(true)
	<-ctx.Done()
	w.accepting.Store(false)
	srv.Shutdown()
	stopped := make(chan struct{})
	go func() { local.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(w.cfg.ShutdownTimeout):
		cancelAttempts()
		<-stopped
	}
	w.requeueLocal()
	return nil
}

// open starts what the handler needs besides asynq: the limiter on rdb and
// the claim and record batchers.
func (w *Worker) open(rdb redis.UniversalClient) {
	w.limiter = newLimiter(rdb, w.cfg.Queue, w.cfg.EndpointConcurrency, maxWaiting(w.cfg.Concurrency), ClaimLock(w.cfg.longestTimeout()), w.log)
	w.limiter.maxN = w.cfg.Bounds.MaxConcurrency
	w.claims = newBatcher("hookd.claim", 2, 100, batchLinger, w.claim)
	w.records = newBatcher("hookd.record", 2, 100, batchLinger, w.record)
}

// The local intake holds up to intakeItems deliveries per worker of a pool,
// and intakeBytes of their payloads: a backlog of seconds at the rates
// measured here, so that a burst beyond what the endpoints take waits
// there rather than going through Redis, where it costs a claim, CPU and,
// for a busy endpoint, retries. (At 64 emitters to one endpoint, 1× sent
// 11,784 of 20,000 deliveries through the queue, 4× 10,810, 20× 3,829.)
// A delivery that waits so long that its claim nears its end goes to the
// queue (see handleLocal).
const (
	intakeItems = 10
	intakeBytes = 64 << 20
)

// maxWaiting is how many of a pool's workers may work for one endpoint, in
// its slot line or in the local intake: three quarters. A waiting worker
// costs nothing, a turned-away task a trip through asynq's retry set; the
// quarter left serves other endpoints. (A line of half bounced a sixth of
// the tasks at 64 emitters to one endpoint: 1,800 deliveries/s against
// 2,080.)
func maxWaiting(concurrency int) int { return concurrency * 3 / 4 }

// close stops what open started, once no handler runs.
func (w *Worker) close() {
	w.claims.Close()
	w.records.Close()
	w.limiter.Close()
}

// batchLinger is how long a batch of claims or records gathers after its
// first item: a little latency that buys batches of dozens under load.
const batchLinger = 2 * time.Millisecond

// emitLinger is batchLinger for emits, shorter: an emit's caller waits for
// it, and emitters that wait longer emit less. At 16 emitters, 1 ms gave a
// tenth more deliveries a second than 2 ms (2,466–2,514 against
// 2,198–2,284, paired), and the same at 64. 300 µs gave 6–10% more at 16
// emitters, but a fan-out to 10 endpoints fell from 8,231–9,848/s to
// 6,355–7,347 (3 of 3 paired): its smaller batches cost PostgreSQL more, the
// local intake overflowed, and the overflow's trip through Redis and its
// claim cost more again.
const emitLinger = time.Millisecond

// claim claims a batch of deliveries in one statement.
func (w *Worker) claim(ctx context.Context, ps []models.ClaimParams) ([]*models.Claim, error) {
	return w.store.ClaimDeliveries(ctx, ps, models.ClaimOpts{
		LockFor: ClaimLock(w.cfg.longestTimeout()),
		Early:   time.Second, // asynq stores ProcessAt in whole seconds
	})
}

// record stores a batch of attempts in one transaction (group commit).
func (w *Worker) record(ctx context.Context, rs []models.AttemptRecord) ([]error, error) {
	return w.store.RecordAttempts(ctx, rs)
}

// neverArchive keeps asynq from archiving a task. asynq retries a task whose
// handler failed (the database was down, say) a few times, then archives it,
// and an archived task keeps its ID, which the sweeper would need to enqueue
// the delivery again. So the last retry revokes the task instead: asynq
// forgets it, and the delivery, still pending in the database, is the
// sweeper's. A panic counts as a failure.
func (w *Worker) neverArchive(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
			if err == nil || errors.Is(err, asynq.RevokeTask) {
				return
			}
			if _, busy := isBusy(err); busy {
				return // retried without counting, never archived
			}
			retried, _ := asynq.GetRetryCount(ctx)
			maxRetry, _ := asynq.GetMaxRetry(ctx)
			if retried >= maxRetry {
				w.log.Warn("giving the task up to the sweeper", "task_type", t.Type(), "error", err)
				err = fmt.Errorf("%w: %w", asynq.RevokeTask, err)
			}
		}()
		return next.ProcessTask(ctx, t)
	})
}

// HandleDeliverySend makes one attempt of the delivery named by the task:
// claim the delivery, take a slot of the endpoint, sign and POST it, give
// the slot back, and record the attempt with the delivery's new state. The
// claim and the record are batched with other workers' (one statement, one
// transaction); the handler returns once its attempt is durable. A nil
// error means the task is done, whatever the receiver answered.
func (w *Worker) HandleDeliverySend(ctx context.Context, t *asynq.Task) error {
	var p deliveryPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.DeliveryID == "" {
		// Retrying cannot fix it; the sweeper re-enqueues its delivery, if any, from the database.
		w.log.Error("dropping undecodable task", "type", t.Type(), "payload_bytes", len(t.Payload()), "error", err)
		return nil
	}
	return w.deliver(ctx, p, queueHandlers)
}

// deliver makes the attempt named by p, from a task or offered locally.
func (w *Worker) deliver(ctx context.Context, p deliveryPayload, from handlers) error {
	ctx = p.Trace.resume(ctx)
	if p.EndpointID == "" { // a task from before endpoint ids were in the payload
		id, err := w.store.DeliveryEndpoint(ctx, p.DeliveryID)
		if errors.Is(err, models.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		p.EndpointID = id
	}
	ep, err := w.endpoint(ctx, p.EndpointID)
	if ep == nil {
		return err
	}
	// An endpoint seen busy and slow moments ago is not worth a claim, nor
	// is a tenant holding its whole share of the workers.
	if err := w.limiter.recentlyBusy(ep.ID, from); err != nil {
		return err
	}
	if w.shares.full(ep.TenantID, from) {
		return &busyError{endpointID: ep.ID, after: tenantBusyAfter}
	}
	m := w.cfg.Metrics
	start := time.Now()
	claim, err := w.claims.submit(ctx, models.ClaimParams{DeliveryID: p.DeliveryID, AttemptCount: p.AttemptCount})
	if err != nil {
		return err
	}
	if claim == nil {
		return nil // done, gone, not due, or claimed by another worker: a stale task
	}
	start = m.observeStage(stageClaim, start)
	return w.attemptClaimed(ctx, ep, claim, start, from)
}

// endpoint is the endpoint from the cache; nil and no error when it was
// deleted, with its deliveries: nothing to attempt.
func (w *Worker) endpoint(ctx context.Context, id string) (*models.Endpoint, error) {
	ep, err := w.store.CachedEndpoint(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	return ep, err
}

// attemptClaimed makes the attempt of a claimed delivery, from start: the
// slot, the request, the record, the next attempt's enqueue. from is the
// pool of the worker making it.
func (w *Worker) attemptClaimed(ctx context.Context, ep *models.Endpoint, claim *models.Claim, start time.Time, from handlers) (err error) {
	ctx, span := tracer().Start(ctx, "hookd.attempt", trace.WithSpanKind(trace.SpanKindConsumer))
	defer func() { endSpan(span, err) }()
	if span.IsRecording() { // no attributes built for nothing when tracing is off
		span.SetAttributes(
			attribute.String("hookd.delivery_id", claim.Delivery.ID), attribute.String("hookd.message_id", claim.Delivery.MessageID),
			attribute.String("hookd.endpoint_id", ep.ID), attribute.Int("hookd.attempt", claim.Delivery.AttemptCount+1))
	}
	m := w.cfg.Metrics
	if !claim.EndpointUpdatedAt.Equal(ep.UpdatedAt) { // changed since it was cached
		var err error
		if ep, err = w.store.RefreshEndpoint(ctx, ep.ID); err != nil {
			return err
		}
	}
	// The attempt is recorded even if the task's context ends (shutdown):
	// the request may have reached the receiver.
	recordCtx := context.WithoutCancel(ctx)
	if !ep.Enabled {
		// Kept for when the endpoint is enabled again, which resumes it.
		return w.store.ParkClaim(recordCtx, claim, "endpoint disabled: "+ep.DisabledReason)
	}
	// The slot guards the receiver: held for the request only. A fast
	// endpoint's slot is waited for; a slow one's is not: the claim is given
	// back unused and the task comes back later.
	release, err := w.limiter.acquire(ctx, ep, from)
	if err == nil {
		var done func()
		if done, err = w.shares.take(ep.TenantID, ep.ID, from); err != nil {
			release()
		} else {
			release = joinFuncs(release, done)
		}
	}
	if err != nil {
		after := time.Second
		if b, busy := isBusy(err); busy {
			after = b.after
		}
		if uerr := w.store.Unclaim(recordCtx, claim, after); uerr != nil {
			return errors.Join(err, uerr)
		}
		return err
	}
	release = sync.OnceFunc(release)
	defer release()
	start = m.observeStage(stageSlot, start)
	attempt, resp, outcome := w.attempt(ctx, ep, claim)
	release()
	start = m.observeStage(stageSend, start)
	now := w.cfg.Now().UTC()
	health := w.health(ep, outcome, now)
	err = errorOf(w.records.submit(recordCtx, models.AttemptRecord{
		Claim: claim, Attempt: attempt, Status: outcome.Status, NextAttemptAt: outcome.NextAttemptAt, Health: health,
	}))
	if errors.Is(err, models.ErrClaimLost) {
		w.log.Warn("claim expired before the attempt was recorded", "delivery_id", claim.Delivery.ID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("record attempt of %s: %w", claim.Delivery.ID, err)
	}
	m.observeStage(stageRecord, start)
	if health != nil {
		w.store.NoteEndpointHealth(ep.ID, health.FailingSince, health.Disable == "" && ep.Enabled)
		if health.Disabled {
			cause := disableCause(outcome)
			m.observeDisabled(cause)
			w.log.Warn("endpoint disabled", "endpoint_id", ep.ID, "tenant_id", ep.TenantID, "cause", cause, "reason", health.Disable)
		}
	}
	d := claim.Delivery
	d.Status, d.AttemptCount, d.NextAttemptAt, d.NextTrigger = outcome.Status, attempt.Number, outcome.NextAttemptAt, models.TriggerScheduled
	m.observeAttempt(resp, d.Status, succeededBefore(claim.Delivery))
	if span.IsRecording() {
		span.SetAttributes(attribute.String("hookd.outcome", d.Status), attribute.Int("http.response.status_code", resp.StatusCode))
	}
	w.log.Info("attempt",
		"delivery_id", d.ID, "endpoint_id", ep.ID, "attempt", attempt.Number,
		"status_code", statusCode(attempt), "duration_ms", attempt.DurationMS,
		"outcome", d.Status, "error", attempt.Error)
	w.tellOperator(recordCtx, ep, d, attempt, health, disableCause(outcome))
	if d.Status == models.StatusPending {
		if err := w.queue.Enqueue(recordCtx, d); err != nil {
			// The sweeper re-enqueues it from the database.
			w.log.Warn("enqueue retry", "delivery_id", d.ID, "error", err)
		}
	} else if d.Ordered {
		w.sendNextInLine(recordCtx, ep.ID)
	}
	return nil
}

// sendNextInLine enqueues the delivery that waited behind one of a FIFO
// endpoint that is done. Should this fail, the sweeper finds it.
func (w *Worker) sendNextInLine(ctx context.Context, endpointID string) {
	next, err := w.store.NextInLine(ctx, endpointID)
	if err == nil && next != nil {
		err = w.queue.Enqueue(ctx, *next)
	}
	if err != nil {
		w.log.Warn("enqueue the next delivery of a fifo endpoint", "endpoint_id", endpointID, "error", err)
	}
}

// tellOperator emits the operational events an attempt's outcome makes: the
// endpoint disabled, the delivery failed for good, the endpoint recovered.
// Each once, however many concurrent attempts decided it.
func (w *Worker) tellOperator(ctx context.Context, ep *models.Endpoint, d models.Delivery, a *models.Attempt, h *models.HealthChange, cause string) {
	if h != nil && h.Disabled {
		w.ops.notify(ctx, models.OpEndpointDisabled, ep, map[string]any{"by": "worker", "cause": cause, "reason": h.Disable})
	}
	if h != nil && h.Recovered {
		w.ops.notify(ctx, models.OpDeliveryRecovered, ep, map[string]any{
			"delivery_id": d.ID, "message_id": d.MessageID, "failing_since": ep.FailingSince,
		})
	}
	if d.Status == models.StatusFailed {
		w.ops.notify(ctx, models.OpDeliveryFailed, ep, map[string]any{
			"delivery_id": d.ID, "message_id": d.MessageID, "event_type": d.EventType, "attempts": a.Number,
			"last_status_code": a.ResponseStatusCode, "reason": failureReason(a),
		})
	}
}

// disableCause is why an outcome disables its endpoint: gone (the receiver
// answered 410) or failing (for longer than DisableAfter).
func disableCause(o Outcome) string {
	if o.DisableEndpoint != "" {
		return "gone"
	}
	return "failing"
}

// failureReason says why an attempt failed: its error, or the status.
func failureReason(a *models.Attempt) string {
	if a.Error != "" {
		return a.Error
	}
	if a.ResponseStatusCode != nil {
		return fmt.Sprintf("the endpoint answered %d", *a.ResponseStatusCode)
	}
	return "no answer"
}

// succeededBefore reports whether a claimed delivery is a manual retry of
// one that had succeeded: only a success leaves a 2xx as its last status.
func succeededBefore(d models.Delivery) bool {
	return d.NextTrigger == models.TriggerManual && d.LastStatusCode != nil && *d.LastStatusCode/100 == 2
}

// errorOf folds a batched call's two errors: the batch's, then the item's.
func errorOf(itemErr, batchErr error) error {
	if batchErr != nil {
		return batchErr
	}
	return itemErr
}

// health is the change an attempt's outcome makes to its endpoint's health,
// or nil: a run of failures starts or ends, or has lasted longer than
// DisableAfter, or the receiver said the endpoint is gone.
func (w *Worker) health(ep *models.Endpoint, o Outcome, now time.Time) *models.HealthChange {
	h := &models.HealthChange{EndpointID: ep.ID, FailingSince: ep.FailingSince}
	switch {
	case o.DisableEndpoint != "":
		h.Disable = o.DisableEndpoint
	case o.Status == models.StatusSucceeded:
		if ep.FailingSince == nil {
			return nil
		}
		h.FailingSince = nil
	case ep.FailingSince == nil:
		h.FailingSince = &now
	case w.cfg.DisableAfter > 0 && now.Sub(*ep.FailingSince) > w.cfg.DisableAfter:
		h.Disable = fmt.Sprintf("failing continuously for more than %s", w.cfg.DisableAfter)
	default:
		return nil
	}
	return h
}

// Outcome is what a worker decided after an attempt.
type Outcome struct {
	Status          string     // succeeded, pending (retry at NextAttemptAt) or failed
	NextAttemptAt   *time.Time // when Status is pending
	DisableEndpoint string     // non-empty: disable the endpoint with this reason
}

// attempt signs and sends the claimed delivery and decides what comes next.
func (w *Worker) attempt(ctx context.Context, ep *models.Endpoint, c *models.Claim) (*models.Attempt, Response, Outcome) {
	number := c.Delivery.AttemptCount + 1
	trigger := c.Delivery.NextTrigger
	if trigger == "" {
		trigger = models.TriggerScheduled
	}
	a := &models.Attempt{Number: number, Trigger: trigger, URL: ep.URL}
	body := []byte(c.Payload)
	if ep.Envelope {
		body = envelope(c.Delivery.EventType, c.MessageCreatedAt, c.Payload)
	}
	sentAt := time.Now()
	headers, err := signedHeaders(ep, c.Delivery.MessageID, sentAt, body)
	if err != nil {
		// A secret that cannot sign will never sign: fail now, do not retry.
		a.Error = "cannot sign: " + err.Error()
		return a, Response{Err: err}, Outcome{Status: models.StatusFailed}
	}
	addHeaders(headers, ep, c.Delivery.EventType)
	a.RequestHeaders = recordedHeaders(ep, headers)

	resp := w.sender.Send(ctx, Request{URL: ep.URL, Headers: headers, Body: body, Timeout: w.cfg.timeoutFor(ep)})
	a.DurationMS = resp.Duration.Milliseconds()
	if resp.StatusCode != 0 {
		code := resp.StatusCode
		a.ResponseStatusCode = &code
		a.ResponseHeaders = flattenBounded(resp.Headers, maxRecordedHeaderBytes)
		a.ResponseBody = resp.Body
	}
	if resp.Err != nil {
		a.Error = resp.Err.Error()
	}
	return a, resp, w.decide(w.cfg.scheduleFor(ep), number, resp, w.cfg.Now())
}

// decide applies the sender rules of Standard Webhooks to a response, with
// the endpoint's schedule.
func (w *Worker) decide(schedule Schedule, attemptsMade int, resp Response, now time.Time) Outcome {
	code := resp.StatusCode
	switch {
	case resp.Err == nil && code >= 200 && code < 300:
		return Outcome{Status: models.StatusSucceeded}
	case code == http.StatusGone:
		return Outcome{
			Status:          models.StatusFailed,
			DisableEndpoint: "the endpoint answered 410 Gone",
		}
	}
	delay, ok := schedule.Next(attemptsMade, w.cfg.Jitter)
	if !ok {
		return Outcome{Status: models.StatusFailed}
	}
	if throttled(code) {
		if after, ok := RetryAfter(resp.Headers, now); ok {
			delay = min(max(after, time.Second), w.cfg.MaxRetryAfter)
		}
	}
	next := now.Add(delay).UTC()
	return Outcome{Status: models.StatusPending, NextAttemptAt: &next}
}

// statusCode is the attempt's response status, or 0 when none came.
func statusCode(a *models.Attempt) int {
	if a.ResponseStatusCode == nil {
		return 0
	}
	return *a.ResponseStatusCode
}

// throttled reports the statuses whose Retry-After hookd honours.
func throttled(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// flatten joins each header's values, under its lower-case name.
func flatten(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	return out
}

// joinFuncs is a func that calls each of fs.
func joinFuncs(fs ...func()) func() {
	return func() {
		for _, f := range fs {
			f()
		}
	}
}

// flattenBounded is flatten keeping at most maxBytes of names and values,
// in name order; what is left out is counted in a header of hookd's own,
// so that the attempt says its record is partial.
func flattenBounded(h http.Header, maxBytes int) map[string]string {
	total := 0
	for k, vs := range h {
		total += len(k)
		for _, v := range vs {
			total += len(v) + 2
		}
	}
	if total <= maxBytes { // nearly always: no sorting needed
		return flatten(h)
	}
	out := make(map[string]string, len(h))
	size, left, leftBytes := 0, 0, 0
	for _, k := range slices.Sorted(maps.Keys(h)) {
		name, value := strings.ToLower(k), strings.Join(h[k], ", ")
		if n := len(name) + len(value); size+n <= maxBytes {
			out[name], size = value, size+n
		} else {
			left, leftBytes = left+1, leftBytes+n
		}
	}
	if left > 0 {
		out[truncatedHeader] = fmt.Sprintf("%d more headers (%d bytes) not recorded", left, leftBytes)
	}
	return out
}

// truncatedHeader marks an attempt's response headers as partial.
const truncatedHeader = "hookd-not-recorded"

// asynqLogger sends asynq's logs to slog.
type asynqLogger struct{ log *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Error(args ...any) { l.log.Error(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Fatal(args ...any) {
	l.log.Error(fmt.Sprint(args...), "component", "asynq", "fatal", true)
}
