package dispatcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hibiken/asynq"
	"golang.org/x/sync/errgroup"

	"hookd.dev/hookd/models"
)

// TypeDeliverySend is the task that makes one attempt of one delivery.
const TypeDeliverySend = "delivery:send"

// TypeDeliveryBatch is the task that hands deliveries due now, enqueued
// together, to a worker process's local handlers (see HandleDeliveryBatch).
const TypeDeliveryBatch = "delivery:batch"

// DefaultQueue is the asynq queue hookd uses unless told otherwise.
const DefaultQueue = "hookd"

// deliveryPayload names the attempt a task was made for, so that a stale or
// duplicate task finds nothing to claim.
type deliveryPayload struct {
	DeliveryID   string `json:"delivery_id"`
	AttemptCount int    `json:"attempt_count"`
	EndpointID   string `json:"endpoint_id,omitempty"` // for the per-endpoint limits, checked before the claim
	// Trigger is the delivery's NextTrigger: with the above, what its own
	// task's ID is made of (a delivery in a batch may need one).
	Trigger string `json:"trigger,omitempty"`
	// Trace is the trace context of what enqueued the attempt (the emit, or
	// the attempt before), when tracing is on.
	Trace traceCarrier `json:"trace,omitempty"`
}

// payloadOf names d's next attempt, carrying trace.
func payloadOf(d models.Delivery, trace traceCarrier) deliveryPayload {
	return deliveryPayload{DeliveryID: d.ID, AttemptCount: d.AttemptCount, EndpointID: d.EndpointID, Trigger: d.NextTrigger, Trace: trace}
}

// delivery is the pending delivery p names, as far as a task knows it.
func (p deliveryPayload) delivery() models.Delivery {
	return models.Delivery{ID: p.DeliveryID, AttemptCount: p.AttemptCount, EndpointID: p.EndpointID, NextTrigger: p.Trigger}
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
	payload, err := json.Marshal(payloadOf(d, trace))
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

// deliveryBatch is the payload of a TypeDeliveryBatch task.
type deliveryBatch struct {
	Deliveries []deliveryPayload `json:"deliveries"`
}

// Queue enqueues deliveries on asynq.
type Queue struct {
	client    *asynq.Client
	inspector *asynq.Inspector
	name      string
	// together gathers the deliveries due now that concurrent callers
	// enqueue into one task (group enqueue).
	together *batcher[[]deliveryPayload, struct{}]
}

// NewQueue returns a Queue on the given Redis and asynq queue name (default
// DefaultQueue); Close releases it.
func NewQueue(redis asynq.RedisConnOpt, name string) *Queue {
	if name == "" {
		name = DefaultQueue
	}
	q := &Queue{client: asynq.NewClient(redis), inspector: asynq.NewInspector(redis), name: name}
	q.together = newBatcher("hookd.enqueue", 2, maxBatchTask, enqueueLinger, q.enqueueTogether)
	return q
}

// maxBatchTask bounds the deliveries in one batch task: a worker takes in
// a batch at once, and gives the queue back what it has no room for.
const maxBatchTask = 100

// enqueueLinger is how long an enqueue waits for others to share its task.
// A task costs a round trip to Redis to enqueue and two more to take and
// complete, per delivery if each had its own: in split mode, a fifth of
// the API's CPU went to enqueues, and asynq's dequeue and completion were
// the worker's largest cost.
const enqueueLinger = time.Millisecond

// Enqueue schedules each delivery's next attempt. Deliveries due now go
// out with those of concurrent callers, in one batch task when there are
// several (see HandleDeliveryBatch); the others, and a delivery alone,
// each in a task of its own whose ID names the attempt, so that enqueueing
// it twice is harmless. It returns once every delivery is enqueued, or the
// errors joined.
func (q *Queue) Enqueue(ctx context.Context, deliveries ...models.Delivery) error {
	now := time.Now()
	var due []deliveryPayload
	var later []models.Delivery
	carried := carry(ctx)
	for _, d := range deliveries {
		if d.NextAttemptAt != nil && d.NextAttemptAt.After(now) {
			later = append(later, d)
			continue
		}
		due = append(due, payloadOf(d, carried))
	}
	var errDue error
	if len(due) > 0 {
		_, errDue = q.together.submit(context.WithoutCancel(ctx), due)
	}
	return errors.Join(errDue, q.enqueueEach(ctx, later...))
}

// enqueueTogether enqueues what concurrent callers hand over: one batch
// task per maxBatchTask deliveries, or a task of its own for a delivery
// alone.
func (q *Queue) enqueueTogether(ctx context.Context, calls [][]deliveryPayload) ([]struct{}, error) {
	var all []deliveryPayload
	for _, ds := range calls {
		all = append(all, ds...)
	}
	if len(all) == 1 {
		p := all[0]
		ctx = p.Trace.resume(ctx)
		_, err := q.enqueue(ctx, p.delivery())
		return make([]struct{}, len(calls)), err
	}
	for chunk := range slices.Chunk(all, maxBatchTask) {
		payload, err := json.Marshal(deliveryBatch{Deliveries: chunk})
		if err != nil {
			return nil, err
		}
		// The ID is asynq's (random): a batch is not an attempt, and a
		// delivery in two tasks is claimed by one of them only.
		task := asynq.NewTask(TypeDeliveryBatch, payload, asynq.Queue(q.name), asynq.MaxRetry(5))
		if _, err := q.client.EnqueueContext(ctx, task); err != nil {
			return nil, fmt.Errorf("enqueue %d deliveries: %w", len(chunk), err)
		}
	}
	return make([]struct{}, len(calls)), nil
}

// enqueueEach enqueues a task of its own for each delivery, several at
// once. An attempt already queued is not an error. It tries every delivery
// and returns the errors joined.
func (q *Queue) enqueueEach(ctx context.Context, deliveries ...models.Delivery) error {
	if len(deliveries) == 0 {
		return nil
	}
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

// Close enqueues what is being gathered and releases the Redis connections.
func (q *Queue) Close() error {
	q.together.Close()
	return errors.Join(q.client.Close(), q.inspector.Close())
}

// latency is how long the oldest task waiting in the queue has waited
// (0 when none waits, or Redis does not answer).
func (q *Queue) latency() time.Duration {
	info, err := q.inspector.GetQueueInfo(q.name)
	if err != nil {
		return 0
	}
	return info.Latency
}

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
