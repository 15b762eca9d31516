package dispatcher

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"hookd.dev/hookd/models"
)

// heldReceiver records the webhook-id of each request in the order they
// arrive and holds every request until released, counting how many it
// held at once.
type heldReceiver struct {
	*httptest.Server
	gate        chan struct{}
	release     func()
	mu          sync.Mutex
	seen        []string
	inFlight, n int
}

func newHeldReceiver(t *testing.T) *heldReceiver {
	r := &heldReceiver{gate: make(chan struct{})}
	r.release = sync.OnceFunc(func() { close(r.gate) })
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.seen = append(r.seen, req.Header.Get("webhook-id"))
		r.inFlight++
		r.n = max(r.n, r.inFlight)
		r.mu.Unlock()
		<-r.gate
		time.Sleep(5 * time.Millisecond) // room for a second request to overlap, if one could
		r.mu.Lock()
		r.inFlight--
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	t.Cleanup(r.release) // before Close: a held request would block it
	return r
}

func (r *heldReceiver) arrivals() (seen []string, mostAtOnce int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen), r.n
}

// TestServeNeverClaimsAFIFODeliveryOnWrite: in serve, an emit's deliveries
// are written claimed for the process's own worker, except a FIFO
// endpoint's, which waits its turn: pending in the emit's answer and in the
// database while an earlier one is open, then sent one at a time, in
// order. Whatever the order the endpoints were made in, and whether or not
// an endpoint has a filter (the fan-out takes another path without one).
func TestServeNeverClaimsAFIFODeliveryOnWrite(t *testing.T) {
	cases := []struct {
		name       string
		fifoFirst  bool
		filterOn   string // "", "fifo" or "other": which endpoint has a filter
		plainCount int
	}{
		{"fifo made first, no filter", true, "", 2},
		{"fifo made last, no filter", false, "", 2},
		{"fifo made first, a filter on another endpoint", true, "other", 2},
		{"fifo made last, a filter on another endpoint", false, "other", 2},
		{"fifo made first, a filter on the fifo endpoint", true, "fifo", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.setClock(time.Now()) // the worker's claims and asynq's schedule agree
			held := newHeldReceiver(t)
			ok := newVerifyingReceiver(t, localSecret, http.StatusOK)
			var fifo *models.Endpoint
			var plain []*models.Endpoint
			makeFIFO := func() {
				fifo = h.endpoint(h.store, held.URL, localSecret)
				params := models.EndpointParams{Ordering: ptr(models.OrderingFIFO)}
				if c.filterOn == "fifo" {
					params.Filter = ptr(`data.n >= 0`)
				}
				if _, err := h.store.UpdateEndpoint(h.ctx, h.tenant.ID, fifo.ID, params); err != nil {
					t.Fatal(err)
				}
			}
			if c.fifoFirst {
				makeFIFO()
			}
			for i := range c.plainCount {
				ep := h.endpoint(h.store, ok.URL, localSecret)
				if c.filterOn == "other" && i == 0 {
					if _, err := h.store.UpdateEndpoint(h.ctx, h.tenant.ID, ep.ID, models.EndpointParams{Filter: ptr(`data.n >= 0`)}); err != nil {
						t.Fatal(err)
					}
				}
				plain = append(plain, ep)
			}
			if !c.fifoFirst {
				makeFIFO()
			}
			store := h.newStore(models.StoreOpts{}) // endpoints read as they are now, not as cached while made
			w := NewWorker(store, h.queue, Config{Queue: h.queue.name, Logger: quiet(), AllowPrivateNetworks: true})
			h.run(w)
			p := NewPipeline(PipelineConfig{Store: store, Queue: h.queue, Worker: w, Logger: quiet()})
			t.Cleanup(p.Close)

			const n = 3
			var order, fifoDeliveries []string
			for i := range n {
				msg, _, err := p.Emit(h.ctx, models.EmitParams{TenantID: h.tenant.ID, EventType: "invoice.paid", Payload: fmt.Appendf(nil, `{"n":%d}`, i)})
				if err != nil {
					t.Fatal(err)
				}
				if len(msg.Deliveries) != 1+len(plain) {
					t.Fatalf("emit %d: %d deliveries, want %d", i, len(msg.Deliveries), 1+len(plain))
				}
				order = append(order, msg.ID)
				for _, d := range msg.Deliveries {
					switch {
					case d.EndpointID == fifo.ID:
						fifoDeliveries = append(fifoDeliveries, d.ID)
						if d.Status != models.StatusPending || d.LockToken != nil {
							t.Errorf("emit %d: the fifo endpoint's delivery is %s (claimed: %v) in the answer, want pending, unclaimed", i, d.Status, d.LockToken != nil)
						}
					case d.Status != models.StatusInflight:
						t.Errorf("emit %d: the delivery to %s is %s, want inflight (claimed on write)", i, d.EndpointID, d.Status)
					}
				}
			}
			// The first may be in flight by now, through the queue; those behind it wait.
			eventuallyTrue(t, "the first fifo delivery sent", func() bool { seen, _ := held.arrivals(); return len(seen) >= 1 })
			for i, id := range fifoDeliveries[1:] {
				if d := h.delivery(id); d.Status != models.StatusPending || d.LockToken != nil {
					t.Errorf("fifo delivery %d is %s (claimed: %v) in the database while the first is open, want pending, unclaimed", i+1, d.Status, d.LockToken != nil)
				}
			}
			held.release()
			eventuallyTrue(t, "every fifo delivery", func() bool { seen, _ := held.arrivals(); return len(seen) >= n })
			time.Sleep(100 * time.Millisecond) // nothing more arrives
			seen, mostAtOnce := held.arrivals()
			if !slices.Equal(seen, order) || mostAtOnce != 1 {
				t.Errorf("the fifo endpoint got %v, %d at once; want %v, one at a time", seen, mostAtOnce, order)
			}
			eventuallyTrue(t, "every other delivery", func() bool { return ok.count() == n*len(plain) })
		})
	}
}
