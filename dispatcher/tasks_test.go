package dispatcher

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"hookd.dev/hookd/models"
)

// pendingDeliveries emits n messages to the tenant's endpoints without
// enqueueing their deliveries (due now), and returns those in the order
// written.
func (h *harness) pendingDeliveries(n int) []models.Delivery {
	h.t.Helper()
	p := NewPipeline(PipelineConfig{Store: h.store, Logger: quiet()}) // no queue
	h.t.Cleanup(p.Close)
	var ds []models.Delivery
	for range n {
		ds = append(ds, h.emit(p).Deliveries...)
	}
	return ds
}

// queued lists the queue's pending tasks with the deliveries each names.
func (h *harness) queued() map[*asynq.TaskInfo][]string {
	h.t.Helper()
	tasks, err := h.queue.inspector.ListPendingTasks(h.queue.name)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[*asynq.TaskInfo][]string{}
	for _, tk := range tasks {
		switch tk.Type {
		case TypeDeliverySend:
			var p deliveryPayload
			if err := json.Unmarshal(tk.Payload, &p); err != nil {
				h.t.Fatal(err)
			}
			out[tk] = []string{p.DeliveryID}
		case TypeDeliveryBatch:
			var b deliveryBatch
			if err := json.Unmarshal(tk.Payload, &b); err != nil {
				h.t.Fatal(err)
			}
			for _, p := range b.Deliveries {
				out[tk] = append(out[tk], p.DeliveryID)
			}
		}
	}
	return out
}

// TestEnqueueSharesATaskAmongDeliveriesDueNow: deliveries due now
// enqueued together go in one batch task; a delivery alone, and one due
// later, each get a task of their own whose ID names the attempt.
func TestEnqueueSharesATaskAmongDeliveriesDueNow(t *testing.T) {
	h := newHarness(t)
	h.endpoint(h.store, "https://example.com/hook", localSecret)
	ds := h.pendingDeliveries(4)
	if err := h.queue.Enqueue(h.ctx, ds[:3]...); err != nil {
		t.Fatal(err)
	}
	tasks := h.queued()
	if len(tasks) != 1 {
		t.Fatalf("3 deliveries enqueued together made %d tasks, want 1", len(tasks))
	}
	for tk, ids := range tasks {
		if tk.Type != TypeDeliveryBatch || !slices.Equal(ids, []string{ds[0].ID, ds[1].ID, ds[2].ID}) {
			t.Fatalf("task %s names %v", tk.Type, ids)
		}
	}

	alone := ds[3]
	if err := h.queue.Enqueue(h.ctx, alone); err != nil {
		t.Fatal(err)
	}
	if _, err := h.queue.inspector.GetTaskInfo(h.queue.name, taskID(alone, "")); err != nil {
		t.Fatalf("a delivery enqueued alone has no task of its own: %v", err)
	}
	later := time.Now().Add(time.Hour)
	ds[0].NextAttemptAt = &later
	ds[0].AttemptCount = 1
	if err := h.queue.Enqueue(h.ctx, ds[0], ds[1]); err != nil {
		t.Fatal(err)
	}
	info, err := h.queue.inspector.GetTaskInfo(h.queue.name, taskID(ds[0], ""))
	if err != nil || info.State != asynq.TaskStateScheduled {
		t.Fatalf("a delivery due in an hour: %+v, %v; want its own scheduled task", info, err)
	}
}

// gatedReceiver answers 200 to each request once the test opens its gate,
// and counts the requests by their webhook-id.
type gatedReceiver struct {
	*httptest.Server
	gate chan struct{}
	mu   sync.Mutex
	got  map[string]int
}

func newGatedReceiver(t *testing.T) *gatedReceiver {
	r := &gatedReceiver{gate: make(chan struct{}), got: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		<-r.gate
		r.mu.Lock()
		r.got[req.Header.Get("webhook-id")]++
		r.mu.Unlock()
	}))
	t.Cleanup(func() {
		r.open()
		r.Close()
	})
	return r
}

func (r *gatedReceiver) open() {
	select {
	case <-r.gate:
	default:
		close(r.gate)
	}
}

func (r *gatedReceiver) counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.got)
}

// TestBatchTaskGivesBackWhatFindsNoRoom: a worker process takes a batch
// task's deliveries into its local intake; what finds no room there within
// batchRoomWait goes back to the queue as a task of its own, and every
// delivery is sent once.
func TestBatchTaskGivesBackWhatFindsNoRoom(t *testing.T) {
	h := newHarness(t)
	rcv := newGatedReceiver(t)
	h.endpoint(h.store, rcv.URL, localSecret)
	ds := h.pendingDeliveries(3)
	w := NewWorker(h.store, h.queue, Config{Queue: h.queue.name, Concurrency: 1, Logger: quiet(), AllowPrivateNetworks: true})
	w.intake = newIntake(1, intakeBytes, 1) // one place; one delivery of the endpoint taken at a time
	h.run(w)

	if err := h.queue.Enqueue(h.ctx, ds...); err != nil {
		t.Fatal(err)
	}
	// The first is being sent, the second waits in the intake, the third
	// finds no room and is given back.
	eventuallyTrue(t, "the third delivery given back to the queue", func() bool {
		_, err := h.queue.inspector.GetTaskInfo(h.queue.name, taskID(ds[2], ""))
		return err == nil
	})
	rcv.open()
	eventuallyTrue(t, "three deliveries", func() bool { return len(rcv.counts()) == 3 })
	time.Sleep(100 * time.Millisecond)
	for _, d := range ds {
		if got := h.delivery(d.ID); got.Status != models.StatusSucceeded || got.AttemptCount != 1 {
			t.Errorf("delivery %s: %s after %d attempts, want succeeded after 1", d.ID, got.Status, got.AttemptCount)
		}
	}
	for id, n := range rcv.counts() {
		if n != 1 {
			t.Errorf("message %s sent %d times", id, n)
		}
	}
}

// TestSweeperLeavesABacklogAlone: deliveries due since the oldest task
// waiting in the queue was enqueued are waiting in it, batch tasks
// included; the sweeper enqueues only those due before, which the queue
// may have lost.
func TestSweeperLeavesABacklogAlone(t *testing.T) {
	h := newHarness(t)
	h.endpoint(h.store, "https://example.com/hook", localSecret)
	h.setClock(time.Now().Add(-time.Minute))
	lost := h.pendingDeliveries(1)[0] // due a minute ago, never enqueued
	h.setClock(time.Now())
	waiting := h.pendingDeliveries(2)
	if err := h.queue.Enqueue(h.ctx, waiting...); err != nil { // one batch task, no worker to take it
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the queue's backlog: as old as the batch task
	// The interval covers the time between a delivery's due time (its
	// write) and its enqueue, which the queue's latency does not count.
	sw := NewSweeper(h.store, h.queue, SweeperConfig{Interval: 500 * time.Millisecond, Logger: quiet()})
	h.setClock(time.Now())
	if n, err := sw.Sweep(h.ctx); err != nil || n != 1 {
		t.Fatalf("sweep enqueued %d, %v; want only the lost delivery", n, err)
	}
	var named []string
	for _, ids := range h.queued() {
		named = append(named, ids...)
	}
	slices.Sort(named)
	want := []string{lost.ID, waiting[0].ID, waiting[1].ID}
	slices.Sort(want)
	if !slices.Equal(named, want) {
		t.Fatalf("the queue names %v, want each of %v once", named, want)
	}
}
