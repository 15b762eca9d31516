package dispatcher

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"hookd.dev/hookd/models"
)

const localSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// run runs the worker (asynq and its local handlers) until the test ends,
// and waits until it takes deliveries.
func (h *harness) run(w *Worker) {
	ctx, cancel := context.WithCancel(h.ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- w.Run(ctx, h.redis) }()
	h.t.Cleanup(func() {
		cancel()
		if err := <-stopped; err != nil {
			h.t.Error(err)
		}
	})
	eventuallyTrue(h.t, "the worker to run", w.accepting.Load)
}

// localPipeline is a pipeline whose emits go to w, as in hookd serve.
func (h *harness) localPipeline(w *Worker) *Pipeline {
	p := NewPipeline(PipelineConfig{Store: h.store, Queue: h.queue, Worker: w, Logger: quiet()})
	h.t.Cleanup(p.Close)
	return p
}

// TestLocalFirstDeliversWithoutTheQueue: in a process that emits and
// delivers, an emit's deliveries are written claimed for its own worker and
// go to it, never through Redis; a retry still goes through the queue; a
// worker not running, or a delivery not yet due, is left to the queue.
func TestLocalFirstDeliversWithoutTheQueue(t *testing.T) {
	h := newHarness(t)
	ok := newVerifyingReceiver(t, localSecret, http.StatusOK)
	h.endpoint(h.store, ok.URL, localSecret)
	w := NewWorker(h.store, h.queue, Config{Queue: h.queue.name, Logger: quiet(), AllowPrivateNetworks: true})

	due := models.Delivery{ID: "del_offered_early", EndpointID: "ep_x"}
	if rest := w.Offer(context.Background(), due); len(rest) != 1 {
		t.Fatalf("a worker not running took %d of 1 deliveries", 1-len(rest))
	}
	h.run(w)
	later := time.Now().Add(time.Hour)
	if rest := w.Offer(context.Background(), models.Delivery{ID: "del_later", NextAttemptAt: &later}); len(rest) != 1 {
		t.Fatal("a delivery due in an hour was taken")
	}

	p := h.localPipeline(w)
	for range 5 {
		// Written claimed for the local worker, which needs no claim of its own.
		if msg := h.emit(p); msg.Deliveries[0].Status != models.StatusInflight {
			t.Fatalf("an emit's delivery is %s, want inflight (claimed on write)", msg.Deliveries[0].Status)
		}
	}
	eventuallyTrue(t, "five deliveries", func() bool { return ok.count() == 5 })
	if info, err := h.queue.inspector.GetQueueInfo(h.queue.name); err == nil && info.Size+info.Processed > 0 {
		t.Fatalf("the queue saw tasks: %d queued, %d processed", info.Size, info.Processed)
	}

	// A failed attempt's retry is scheduled on the queue.
	ok.mu.Lock()
	ok.status = http.StatusInternalServerError
	ok.mu.Unlock()
	msg := h.emit(p)
	eventuallyTrue(t, "a retry scheduled on the queue", func() bool {
		info, err := h.queue.inspector.GetQueueInfo(h.queue.name)
		return err == nil && info.Scheduled == 1
	})
	if d := h.delivery(msg.Deliveries[0].ID); d.Status != models.StatusPending || d.AttemptCount != 1 {
		t.Fatalf("after a 500: %s with %d attempts, want pending with 1", d.Status, d.AttemptCount)
	}
}

// TestLocalClaimAboutToLapseGoesToTheQueue: a delivery claimed on write
// whose claim would lapse during the attempt (it waited too long for a
// handler) is given back and sent once, through the queue.
func TestLocalClaimAboutToLapseGoesToTheQueue(t *testing.T) {
	h := newHarness(t)
	ok := newVerifyingReceiver(t, localSecret, http.StatusOK)
	h.endpoint(h.store, ok.URL, localSecret)
	w := NewWorker(h.store, h.queue, Config{Queue: h.queue.name, Logger: quiet(), AllowPrivateNetworks: true})
	h.run(w)

	// The store's clock 20 s behind: the claim written with the emit ends
	// 10 s from now, less than an attempt's timeout and margin.
	h.advance(-20 * time.Second)
	p := h.localPipeline(w)
	msg := h.emit(p)
	eventuallyTrue(t, "the delivery through the queue", func() bool {
		info, err := h.queue.inspector.GetQueueInfo(h.queue.name)
		return err == nil && info.Processed >= 1 && ok.count() == 1
	})
	time.Sleep(100 * time.Millisecond)
	if n := ok.count(); n != 1 {
		t.Fatalf("sent %d times, want once", n)
	}
	if d := h.delivery(msg.Deliveries[0].ID); d.Status != models.StatusSucceeded {
		t.Fatalf("delivery %s, want succeeded", d.Status)
	}
}

// TestLocalClaimsWhatFits: a fan-out larger than the local worker's room
// has as many deliveries claimed on write as fit, the first ones; the
// others are written pending and still delivered.
func TestLocalClaimsWhatFits(t *testing.T) {
	h := newHarness(t)
	ok := newVerifyingReceiver(t, localSecret, http.StatusOK)
	for range 3 {
		h.endpoint(h.store, ok.URL, localSecret)
	}
	w := NewWorker(h.store, h.queue, Config{Queue: h.queue.name, Concurrency: 2, Logger: quiet(), AllowPrivateNetworks: true})
	w.intake = newIntake(2, intakeBytes, 2) // room for 2
	h.run(w)
	p := h.localPipeline(w)

	msg := h.emit(p)
	var statuses []string
	for _, d := range msg.Deliveries {
		statuses = append(statuses, d.Status)
	}
	if want := []string{models.StatusInflight, models.StatusInflight, models.StatusPending}; !slices.Equal(statuses, want) {
		t.Fatalf("deliveries written %v, want %v (room for 2)", statuses, want)
	}
	eventuallyTrue(t, "three deliveries", func() bool { return ok.count() == 3 })
}

// TestAClaimOnWriteOutlastsTheEndpointsTimeout: an endpoint may have a
// timeout longer than the default (up to HOOKD_MAX_ENDPOINT_TIMEOUT); the
// delivery written claimed for the local worker holds its claim past that
// timeout, as a queue claim does, so that the sweeper cannot hand it to a
// second worker while the first is still sending it.
func TestAClaimOnWriteOutlastsTheEndpointsTimeout(t *testing.T) {
	h := newHarness(t)
	bounds := models.EndpointBounds{MaxTimeout: 40 * time.Second}
	store := h.newStore(models.StoreOpts{EndpointBounds: bounds})
	ok := newVerifyingReceiver(t, localSecret, http.StatusOK)
	ep := h.endpoint(store, ok.URL, localSecret)
	if _, err := store.UpdateEndpoint(h.ctx, h.tenant.ID, ep.ID, models.EndpointParams{Timeout: ptr(40)}); err != nil {
		t.Fatal(err)
	}
	w := NewWorker(store, h.queue, Config{Queue: h.queue.name, Logger: quiet(), AllowPrivateNetworks: true,
		Timeout: time.Second, Bounds: bounds})
	h.run(w)
	p := NewPipeline(PipelineConfig{Store: store, Queue: h.queue, Worker: w, Logger: quiet()})
	t.Cleanup(p.Close)
	msg, _, err := p.Emit(h.ctx, h.emitParams())
	if err != nil {
		t.Fatal(err)
	}
	d := msg.Deliveries[0]
	if d.Status != models.StatusInflight {
		t.Fatalf("the delivery is %s, want written claimed", d.Status)
	}
	if held := d.LockedUntil.Sub(msg.CreatedAt); held < 40*time.Second+lockMargin {
		t.Errorf("the claim holds for %s, less than the endpoint's 40 s timeout and the %s to record it", held, lockMargin)
	}
	eventuallyTrue(t, "the delivery", func() bool { return ok.count() == 1 })
}
