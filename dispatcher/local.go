package dispatcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"hookd.dev/hookd/models"
)

// The local hand-off: in a process that emits and delivers (hookd serve),
// an emit's deliveries go to the process's own worker instead of through
// Redis, written already claimed for it, so that the worker needs no claim
// statement either. The database stays the record: what the process holds
// when it dies is there, pending or with a claim that expires, and the
// sweeper enqueues it.

// errLapsing: a delivery claimed on write waited for a handler so long
// that its claim could lapse during the attempt.
var errLapsing = errors.New("claim about to lapse")

// localItem is a delivery handed to the local handlers: claimed on write
// (claim set) or to be claimed like a task's.
type localItem struct {
	delivery models.Delivery
	claim    *models.Claim
	trace    traceCarrier // of what handed it over
}

// reserve promises up to n places to deliveries about to be handed over
// with payloads of size bytes (0: not held), and answers how many: none
// when the local handlers do not run.
func (w *Worker) reserve(n, size int) int {
	if n == 0 || !w.accepting.Load() {
		return 0
	}
	return w.intake.reserve(n, size)
}

// unreserve gives back places promised and not used.
func (w *Worker) unreserve(n, size int) { w.intake.unreserve(n, size) }

// handOver gives the local handlers what reserve promised places to.
func (w *Worker) handOver(items ...localItem) { w.intake.put(items...) }

// Offer hands deliveries due now to this process's own handlers, as far as
// they have room, sparing each the trip through Redis (enqueue, dequeue,
// completion); it returns the ones it did not take, for the queue. Nothing
// is lost if the process dies holding them: they are pending in the
// database, and the sweeper enqueues them once overdue.
func (w *Worker) Offer(ctx context.Context, ds ...models.Delivery) (rest []models.Delivery) {
	now := w.cfg.Now()
	carried := carry(ctx)
	for _, d := range ds {
		if (d.NextAttemptAt != nil && d.NextAttemptAt.After(now)) || w.reserve(1, 0) == 0 {
			rest = append(rest, d)
			continue
		}
		w.handOver(localItem{delivery: d, trace: carried})
	}
	return rest
}

// HandleDeliveryBatch hands the deliveries of a batch task to this
// process's local handlers, waiting up to batchRoomWait for room while
// they are busy: a burst waits here as data, holding one asynq handler per
// hundred deliveries, not as a task per delivery. What finds no room in
// that time goes back to the queue, a task each. The task is done once its
// deliveries are handed over; if the process dies holding them, they are
// pending in the database and the sweeper enqueues them.
func (w *Worker) HandleDeliveryBatch(ctx context.Context, t *asynq.Task) error {
	var b deliveryBatch
	if err := json.Unmarshal(t.Payload(), &b); err != nil {
		w.log.Error("dropping undecodable task", "type", t.Type(), "payload_bytes", len(t.Payload()), "error", err)
		return nil // the sweeper enqueues its deliveries from the database
	}
	waiting := b.Deliveries
	giveUp := time.NewTimer(batchRoomWait)
	defer giveUp.Stop()
	for len(waiting) > 0 && w.accepting.Load() {
		freed := w.intake.roomFreed()
		k := w.reserve(len(waiting), 0)
		for _, p := range waiting[:k] {
			w.handOver(localItem{delivery: p.delivery(), trace: p.Trace})
		}
		waiting = waiting[k:]
		if len(waiting) > 0 && !roomOrGiveUp(ctx, freed, giveUp.C) {
			break
		}
	}
	if len(waiting) == 0 {
		return nil
	}
	ds := make([]models.Delivery, len(waiting))
	for i, p := range waiting {
		ds[i] = p.delivery()
	}
	return w.queue.enqueueEach(context.WithoutCancel(ctx), ds...)
}

// roomOrGiveUp waits for room to be freed and reports true, or false when
// it is time to give up or ctx ends first.
func roomOrGiveUp(ctx context.Context, freed <-chan struct{}, giveUp <-chan time.Time) bool {
	select {
	case <-freed:
		return true
	case <-giveUp:
		return false
	case <-ctx.Done():
		return false
	}
}

// batchRoomWait bounds how long a batch task waits for room in the local
// intake before it gives the queue back what is left.
const batchRoomWait = time.Second

// runLocal handles handed-over deliveries until the intake closes.
func (w *Worker) runLocal(attemptCtx context.Context) {
	for {
		it, ok := w.intake.take()
		if !ok {
			return
		}
		w.handleLocal(attemptCtx, it)
		w.intake.done(it.delivery.EndpointID)
	}
}

// handleLocal makes the attempt of a handed-over delivery. What it cannot
// do now (the endpoint busy, the database away) goes to the queue, as if it
// had come from there.
func (w *Worker) handleLocal(ctx context.Context, it localItem) {
	d := it.delivery
	ctx = it.trace.resume(ctx)
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		if it.claim == nil {
			return w.deliver(ctx, payloadOf(d, nil), localHandlers)
		}
		ep, err := w.endpoint(ctx, d.EndpointID)
		if ep == nil {
			return err
		}
		if time.Until(*it.claim.Delivery.LockedUntil) < w.cfg.timeoutFor(ep)+lockMargin/2 {
			// Waited here so long that the claim could lapse mid-attempt
			// and the sweeper send it again: give it back to the queue.
			if err := w.store.Unclaim(ctx, it.claim, 0); err != nil {
				return err
			}
			return errLapsing
		}
		return w.attemptClaimed(ctx, ep, it.claim, time.Now(), localHandlers)
	}()
	if err == nil {
		return
	}
	after := time.Second
	if b, busy := isBusy(err); busy {
		after = b.after
	} else if errors.Is(err, errLapsing) {
		after = 0
	} else {
		w.log.Warn("attempt failed; the queue retries it", "delivery_id", d.ID, "error", err)
	}
	next := w.cfg.Now().Add(after)
	d.NextAttemptAt = &next
	if err := w.queue.Enqueue(context.WithoutCancel(ctx), d); err != nil {
		w.log.Warn("enqueue", "delivery_id", d.ID, "error", err) // the sweeper's, then
	}
}

// requeueLocal puts on the queue the handed-over deliveries no handler took
// before shutdown, giving back their claims first.
func (w *Worker) requeueLocal() {
	ctx := context.Background()
	var ds []models.Delivery
	for _, it := range w.intake.drain() {
		if it.claim != nil {
			if err := w.store.Unclaim(ctx, it.claim, 0); err != nil {
				w.log.Warn("give back a claim at shutdown", "delivery_id", it.delivery.ID, "error", err)
			}
		}
		ds = append(ds, it.delivery)
	}
	if len(ds) > 0 {
		if err := w.queue.Enqueue(ctx, ds...); err != nil {
			w.log.Warn("enqueue deliveries handed over before shutdown", "count", len(ds), "error", err)
		}
	}
}

// localFirst is the Enqueuer of a pipeline with a worker in its process:
// deliveries go to the worker when it has room (Offer), the rest to the
// queue.
type localFirst struct {
	worker *Worker
	queue  Enqueuer
}

// Enqueue offers the deliveries to the worker and enqueues the rest.
func (l localFirst) Enqueue(ctx context.Context, ds ...models.Delivery) error {
	if rest := l.worker.Offer(ctx, ds...); len(rest) > 0 && l.queue != nil {
		return l.queue.Enqueue(ctx, rest...)
	}
	return nil
}
