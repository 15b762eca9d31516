package dispatcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"
	"golang.org/x/sync/errgroup"

	"hookd.dev/hookd/models"
)

// TypeDeliverySend is the task that makes one attempt of one delivery.
const TypeDeliverySend = "delivery:send"

// DefaultQueue is the asynq queue hookd uses unless told otherwise.
const DefaultQueue = "hookd"

// deliveryPayload names the attempt a task was made for, so that a stale or
// duplicate task finds nothing to claim.
type deliveryPayload struct {
	DeliveryID   string `json:"delivery_id"`
	AttemptCount int    `json:"attempt_count"`
	EndpointID   string `json:"endpoint_id,omitempty"` // for the per-endpoint limits, checked before the claim
	// Trace is the trace context of what enqueued the attempt (the emit, or
	// the attempt before), when tracing is on.
	Trace traceCarrier `json:"trace,omitempty"`
}

// NewDeliverySendTask returns the task for a delivery's next attempt. Its ID
// is derived from the delivery, the attempt and the trigger, so enqueueing the
// same attempt twice (emit and sweeper, two sweepers) is harmless.
func NewDeliverySendTask(d models.Delivery, queue string) (*asynq.Task, error) {
	return newDeliverySendTask(d, queue, "", nil)
}

// newDeliverySendTask adds a suffix to the task ID, for a task that must not
// be mistaken for an earlier one with the same attempt.
func newDeliverySendTask(d models.Delivery, queue, suffix string, trace traceCarrier) (*asynq.Task, error) {
	payload, err := json.Marshal(deliveryPayload{DeliveryID: d.ID, AttemptCount: d.AttemptCount, EndpointID: d.EndpointID, Trace: trace})
	if err != nil {
		return nil, err
	}
	opts := []asynq.Option{
		asynq.Queue(queue),
		asynq.TaskID(taskID(d, suffix)),
		// asynq retries only infrastructure errors (database down); the webhook
		// schedule lives in the database. Past these, the sweeper takes over.
		asynq.MaxRetry(5),
	}
	if d.NextAttemptAt != nil {
		opts = append(opts, asynq.ProcessAt(*d.NextAttemptAt))
	}
	return asynq.NewTask(TypeDeliverySend, payload, opts...), nil
}

func taskID(d models.Delivery, suffix string) string {
	return fmt.Sprintf("%s-%d-%s%s", d.ID, d.AttemptCount, d.NextTrigger, suffix)
}

// Queue enqueues deliveries on asynq.
type Queue struct {
	client    *asynq.Client
	inspector *asynq.Inspector
	name      string
}

// NewQueue returns a Queue on the given Redis and asynq queue name (default DefaultQueue).
func NewQueue(redis asynq.RedisConnOpt, name string) *Queue {
	if name == "" {
		name = DefaultQueue
	}
	return &Queue{client: asynq.NewClient(redis), inspector: asynq.NewInspector(redis), name: name}
}

// Enqueue schedules each delivery's next attempt, several at once (a
// message's fan-out). An attempt already queued is not an error. It tries
// every delivery and returns the errors joined.
func (q *Queue) Enqueue(ctx context.Context, deliveries ...models.Delivery) error {
	if len(deliveries) == 1 {
		_, err := q.enqueue(ctx, deliveries[0])
		return err
	}
	errs := make([]error, len(deliveries))
	var g errgroup.Group
	g.SetLimit(16)
	for i, d := range deliveries {
		g.Go(func() error {
			_, errs[i] = q.enqueue(ctx, d)
			return nil
		})
	}
	_ = g.Wait()
	return errors.Join(errs...)
}

// enqueue reports whether the task is new.
func (q *Queue) enqueue(ctx context.Context, d models.Delivery) (bool, error) {
	return q.enqueueAs(ctx, d, "")
}

func (q *Queue) enqueueAs(ctx context.Context, d models.Delivery, suffix string) (bool, error) {
	task, err := newDeliverySendTask(d, q.name, suffix, carry(ctx))
	if err != nil {
		return false, err
	}
	_, err = q.client.EnqueueContext(ctx, task)
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("enqueue delivery %s: %w", d.ID, err)
	}
	return true, nil
}

// Close releases the Redis connections.
func (q *Queue) Close() error { return errors.Join(q.client.Close(), q.inspector.Close()) }

// replaceStuck enqueues a long-overdue delivery again when its task cannot
// run: held by a worker that died (active until asynq's recoverer sees it,
// so a fresh ID with suffix), or archived or kept as completed (deleted, so
// that its ID is free). A task still waiting its turn is left alone. It
// reports whether a task was enqueued.
func (q *Queue) replaceStuck(ctx context.Context, d models.Delivery, suffix string) (bool, error) {
	id := taskID(d, "")
	info, err := q.inspector.GetTaskInfo(q.name, id)
	if err != nil {
		return false, nil // gone since: the next sweep enqueues it
	}
	switch info.State {
	case asynq.TaskStateActive:
		return q.enqueueAs(ctx, d, suffix)
	case asynq.TaskStateArchived, asynq.TaskStateCompleted:
		if err := q.inspector.DeleteTask(q.name, id); err != nil {
			return false, fmt.Errorf("delete stuck task %s: %w", id, err)
		}
		return q.enqueue(ctx, d)
	}
	return false, nil
}

// Ping checks that Redis answers.
func (q *Queue) Ping(ctx context.Context) error {
	return q.client.Ping()
}
