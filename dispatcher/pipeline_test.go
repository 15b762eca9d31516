package dispatcher

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"hookd.dev/hookd/models"
	"hookd.dev/hookd/models/storetest"
)

// TestEndpointChangesElsewhereTakeEffectWithinTheCacheTTL: a process caches
// endpoints for CacheTTL. An endpoint disabled through another process gets
// no new deliveries from this one's emits once the TTL has passed, and this
// one's worker sees the change at once, when it claims (the claim returns
// the endpoint's version), and parks the delivery instead of sending it.
func TestEndpointChangesElsewhereTakeEffectWithinTheCacheTTL(t *testing.T) {
	h := newHarness(t)
	const ttl = 50 * time.Millisecond
	here := h.newStore(models.StoreOpts{CacheTTL: ttl})
	elsewhere := h.newStore(models.StoreOpts{})
	r := newVerifyingReceiver(t, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 200)
	ep := h.endpoint(here, r.URL, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	p := h.pipeline(here)
	w := h.worker(here, Config{AllowPrivateNetworks: true})

	before := h.emit(p)
	if len(before.Deliveries) != 1 {
		t.Fatalf("%d deliveries before the change, want 1", len(before.Deliveries))
	}
	if _, err := here.CachedEndpoint(h.ctx, ep.ID); err != nil { // the worker's copy, from before the change
		t.Fatal(err)
	}
	h.advance(time.Second)
	changed := time.Now()
	if _, err := elsewhere.UpdateEndpoint(h.ctx, h.tenant.ID, ep.ID, models.EndpointParams{Enabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}

	if err := w.HandleDeliverySend(h.ctx, task(t, before.Deliveries[0])); err != nil {
		t.Fatal(err)
	}
	if r.count() != 0 {
		t.Fatal("the worker sent to an endpoint disabled elsewhere")
	}
	if d := h.delivery(before.Deliveries[0].ID); d.Status != models.StatusPending || d.NextAttemptAt != nil || d.AttemptCount != 0 {
		t.Fatalf("delivery %+v: want it parked, no attempt used", d)
	}

	// Emits go on meanwhile: reading the cached fan-out must not extend its life.
	for time.Since(changed) < ttl {
		h.emit(p)
		time.Sleep(5 * time.Millisecond)
	}
	if after := h.emit(p); len(after.Deliveries) != 0 {
		t.Fatalf("%d deliveries to an endpoint disabled elsewhere a TTL ago", len(after.Deliveries))
	}
}

// TestEmitRightAfterAnEndpointIsDeletedElsewhere: the fan-out cached here
// still names an endpoint that another process deleted; the emit reads the
// subscribers anew and succeeds without it.
func TestEmitRightAfterAnEndpointIsDeletedElsewhere(t *testing.T) {
	if storetest.Dialect() != "postgres" {
		t.Skip("SQLite serves one process, which forgets what it deletes at once")
	}
	h := newHarness(t)
	here := h.newStore(models.StoreOpts{CacheTTL: time.Hour})
	elsewhere := h.newStore(models.StoreOpts{})
	gone := h.endpoint(here, "https://example.com/a", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	kept := h.endpoint(here, "https://example.com/b", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	p := h.pipeline(here)
	if msg := h.emit(p); len(msg.Deliveries) != 2 {
		t.Fatalf("%d deliveries, want 2", len(msg.Deliveries))
	}
	if err := elsewhere.DeleteEndpoint(h.ctx, h.tenant.ID, gone.ID); err != nil {
		t.Fatal(err)
	}
	msg := h.emit(p)
	if len(msg.Deliveries) != 1 || msg.Deliveries[0].EndpointID != kept.ID {
		t.Fatalf("deliveries %+v, want one to %s", msg.Deliveries, kept.ID)
	}
}

// TestIdempotencyKeysBelongToTheirTenant: the same key from two tenants
// makes two messages.
func TestIdempotencyKeysBelongToTheirTenant(t *testing.T) {
	h := newHarness(t)
	other, err := h.store.CreateTenant(h.ctx, models.TenantParams{UID: ptr("globex")})
	if err != nil {
		t.Fatal(err)
	}
	p := h.pipeline(h.store)
	first, created, err := p.Emit(h.ctx, models.EmitParams{TenantID: h.tenant.ID, EventType: "invoice.paid", Payload: []byte(`{}`), IdempotencyKey: "k"})
	if err != nil || !created {
		t.Fatalf("first emit: %v, created %v", err, created)
	}
	second, created, err := p.Emit(h.ctx, models.EmitParams{TenantID: other.ID, EventType: "invoice.paid", Payload: []byte(`{}`), IdempotencyKey: "k"})
	if err != nil || !created || second.ID == first.ID || second.TenantID != other.ID {
		t.Fatalf("another tenant's emit with the same key: %+v, created %v, %v", second, created, err)
	}
	again, created, err := p.Emit(h.ctx, models.EmitParams{TenantID: h.tenant.ID, EventType: "invoice.paid", Payload: []byte(`{}`), IdempotencyKey: "k"})
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("the first tenant again: %+v, created %v, %v", again, created, err)
	}
}

// TestStaleTaskSendsNothing: a task made for an earlier attempt (a duplicate
// left in the queue) finds nothing to claim, and nothing is sent.
func TestStaleTaskSendsNothing(t *testing.T) {
	h := newHarness(t)
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	r := newVerifyingReceiver(t, secret, 500)
	h.endpoint(h.store, r.URL, secret)
	w := h.worker(h.store, Config{AllowPrivateNetworks: true, Schedule: Schedule{time.Nanosecond}, Jitter: -1})
	msg := h.emit(h.pipeline(h.store))
	first := msg.Deliveries[0]
	if err := w.HandleDeliverySend(h.ctx, task(t, first)); err != nil {
		t.Fatal(err)
	}
	if d := h.delivery(first.ID); d.AttemptCount != 1 || d.Status != models.StatusPending || r.count() != 1 {
		t.Fatalf("after the first attempt: %+v, %d requests", d, r.count())
	}
	h.advance(time.Minute)                                              // the retry is due
	if err := w.HandleDeliverySend(h.ctx, task(t, first)); err != nil { // still says attempt_count 0
		t.Fatal(err)
	}
	if d := h.delivery(first.ID); d.AttemptCount != 1 || r.count() != 1 {
		t.Fatalf("a stale task made an attempt: %+v, %d requests", d, r.count())
	}
}

// TestWorkerRefusesPrivateAddressesByDefault: with the zero Config, the
// worker does not connect to a loopback receiver; the attempt says why and
// names no address.
func TestWorkerRefusesPrivateAddressesByDefault(t *testing.T) {
	h := newHarness(t)
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	r := newVerifyingReceiver(t, secret, 200)
	h.endpoint(h.store, r.URL, secret) // registered by a store that allows it
	w := h.worker(h.store, Config{})
	msg := h.emit(h.pipeline(h.store))
	if err := w.HandleDeliverySend(h.ctx, task(t, msg.Deliveries[0])); err != nil {
		t.Fatal(err)
	}
	d := h.delivery(msg.Deliveries[0].ID)
	if r.count() != 0 || len(d.Attempts) != 1 || !strings.Contains(d.Attempts[0].Error, "refused to connect") ||
		strings.Contains(d.Attempts[0].Error, "127.0.0.1") {
		t.Fatalf("%d requests; attempts %+v", r.count(), d.Attempts)
	}
}

// TestSweeperEnqueuesEveryOverdueDelivery: deliveries overdue by hours and
// sharing one due time are all enqueued, across pages of the sweep.
func TestSweeperEnqueuesEveryOverdueDelivery(t *testing.T) {
	h := newHarness(t)
	h.advance(-3 * time.Hour) // emitted three hours ago, their tasks lost since
	h.endpoint(h.store, "https://example.com/hook", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	p := NewPipeline(PipelineConfig{Store: h.store, Logger: quiet()}) // no queue: nothing enqueued at emit
	t.Cleanup(p.Close)
	var ids []string
	for range 5 {
		ids = append(ids, h.emit(p).Deliveries[0].ID)
	}
	h.advance(3 * time.Hour)
	sw := NewSweeper(h.store, h.queue, SweeperConfig{Batch: 2, Interval: time.Second, Logger: quiet()})
	n, err := sw.Sweep(h.ctx)
	if err != nil || n != 5 {
		t.Fatalf("sweep enqueued %d, %v; want all 5", n, err)
	}
	queued := map[string]bool{}
	tasks, err := h.queue.inspector.ListPendingTasks(h.queue.name)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tasks {
		queued[strings.SplitN(tk.ID, "-", 2)[0]] = true
	}
	for _, id := range ids {
		if !queued[id] {
			t.Errorf("delivery %s was not enqueued", id)
		}
	}
}

// TestSweeperReplacesAnArchivedTask: a delivery whose task asynq archived
// keeps its place; the sweeper deletes the archived task and enqueues it.
func TestSweeperReplacesAnArchivedTask(t *testing.T) {
	h := newHarness(t)
	h.advance(-time.Hour)
	h.endpoint(h.store, "https://example.com/hook", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	d := h.emit(h.pipeline(h.store)).Deliveries[0] // enqueued
	h.advance(time.Hour)
	id := taskID(d, "")
	if err := h.queue.inspector.ArchiveTask(h.queue.name, id); err != nil {
		t.Fatal(err)
	}
	sw := NewSweeper(h.store, h.queue, SweeperConfig{Interval: time.Second, OrphanAfter: time.Minute, Logger: quiet()})
	if n, err := sw.Sweep(h.ctx); err != nil || n != 1 {
		t.Fatalf("sweep enqueued %d, %v; want the archived one", n, err)
	}
	info, err := h.queue.inspector.GetTaskInfo(h.queue.name, id)
	if err != nil || info.State.String() != "pending" {
		t.Fatalf("task %s: %+v, %v; want pending again", id, info, err)
	}
}

// heldQueue is an Enqueuer whose enqueues wait until released.
type heldQueue struct {
	release chan struct{}
	mu      sync.Mutex
	got     []models.Delivery
}

func (q *heldQueue) Enqueue(ctx context.Context, ds ...models.Delivery) error {
	<-q.release
	q.mu.Lock()
	defer q.mu.Unlock()
	q.got = append(q.got, ds...)
	return nil
}

func (q *heldQueue) enqueued() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.got)
}

// TestEmitAnswersBeforeItsEnqueue: an emit returns once its message is
// committed, while its enqueue is still under way; past maxEnqueuesBehind
// of them, emits wait. Close waits for every enqueue.
func TestEmitAnswersBeforeItsEnqueue(t *testing.T) {
	h := newHarness(t)
	h.endpoint(h.store, "https://example.com/a", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	q := &heldQueue{release: make(chan struct{})}
	p := NewPipeline(PipelineConfig{Store: h.store, Queue: q, Logger: quiet()})
	p.behind = make(chan struct{}, 2) // maxEnqueuesBehind, made small

	emitted := make(chan struct{})
	go func() {
		for range 3 {
			if _, _, err := p.Emit(h.ctx, h.emitParams()); err != nil {
				t.Error(err)
			}
			emitted <- struct{}{}
		}
	}()
	for i := range 2 {
		select {
		case <-emitted:
		case <-time.After(10 * time.Second):
			t.Fatalf("emit %d waits for the queue", i+1)
		}
	}
	select {
	case <-emitted:
		t.Fatal("a third emit did not wait, with two enqueues behind already")
	case <-time.After(100 * time.Millisecond):
	}
	if n := q.enqueued(); n != 0 {
		t.Fatalf("%d deliveries enqueued before the queue answered", n)
	}

	close(q.release)
	<-emitted
	p.Close()
	if n := q.enqueued(); n != 3 {
		t.Fatalf("%d deliveries enqueued once closed, want 3", n)
	}
}
