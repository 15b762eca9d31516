package dispatcher

import (
	"context"
	"fmt"
	"time"

	"hookd.dev/hookd/models"
)

// The local hand-off: in a process that emits and delivers (hookd serve),
// an emit's deliveries go to the process's own worker instead of through
// Redis. The database stays the record: what the process holds when it dies
// is pending there, and the sweeper enqueues it.

// Offer hands deliveries due now to this process's own handlers, as far as
// they have room, sparing each the trip through Redis (enqueue, dequeue,
// completion); it returns the ones it did not take, for the queue. Nothing
// is lost if the process dies holding them: they are pending in the
// database, and the sweeper enqueues them once overdue.
func (w *Worker) Offer(ds ...models.Delivery) (rest []models.Delivery) {
	now := time.Now()
	for i, d := range ds {
		if !w.accepting.Load() {
			return append(rest, ds[i:]...)
		}
		if d.NextAttemptAt != nil && d.NextAttemptAt.After(now) {
			rest = append(rest, d)
			continue
		}
		select {
		case w.local <- d:
		default:
			rest = append(rest, d)
		}
	}
	return rest
}

// runLocal handles offered deliveries until ctx ends.
func (w *Worker) runLocal(ctx, attemptCtx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-w.local:
			w.handleLocal(attemptCtx, d)
		}
	}
}

// handleLocal makes the attempt of an offered delivery. What it cannot do
// now (the endpoint busy, the database away) goes to the queue, as if it
// had come from there.
func (w *Worker) handleLocal(ctx context.Context, d models.Delivery) {
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		return w.deliver(ctx, deliveryPayload{DeliveryID: d.ID, AttemptCount: d.AttemptCount, EndpointID: d.EndpointID})
	}()
	if err == nil {
		return
	}
	after := time.Second
	if b, busy := isBusy(err); busy {
		after = b.after
	} else {
		w.log.Warn("attempt failed; the queue retries it", "delivery_id", d.ID, "error", err)
	}
	next := time.Now().Add(after)
	d.NextAttemptAt = &next
	if err := w.queue.Enqueue(context.WithoutCancel(ctx), d); err != nil {
		w.log.Warn("enqueue", "delivery_id", d.ID, "error", err) // the sweeper's, then
	}
}

// requeueLocal puts on the queue the offered deliveries no handler took
// before shutdown.
func (w *Worker) requeueLocal() {
	var ds []models.Delivery
	for {
		select {
		case d := <-w.local:
			ds = append(ds, d)
		default:
			if len(ds) > 0 {
				if err := w.queue.Enqueue(context.Background(), ds...); err != nil {
					w.log.Warn("enqueue deliveries offered before shutdown", "count", len(ds), "error", err)
				}
			}
			return
		}
	}
}

// LocalFirst is the Enqueuer of a process that emits and delivers (hookd
// serve): deliveries go to its own Worker when it has room (Offer), the
// rest to the queue.
type LocalFirst struct {
	Worker *Worker
	Queue  Enqueuer
}

// Enqueue offers the deliveries to the worker and enqueues the rest.
func (l LocalFirst) Enqueue(ctx context.Context, ds ...models.Delivery) error {
	if rest := l.Worker.Offer(ds...); len(rest) > 0 {
		return l.Queue.Enqueue(ctx, rest...)
	}
	return nil
}
