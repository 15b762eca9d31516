package dispatcher

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"hookd.dev/hookd/models"
)

// TestASlowTenantDoesNotHoldEveryWorker: a tenant with three endpoints
// that hang would hold every one of 20 workers with its requests (ten slots
// each); it holds at most its share, half, and another tenant's deliveries
// go out meanwhile, through the queue (hookd api) and handed over locally
// (hookd serve).
func TestASlowTenantDoesNotHoldEveryWorker(t *testing.T) {
	for _, local := range []bool{false, true} {
		name := map[bool]string{false: "through the queue", true: "handed over locally"}[local]
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			release := make(chan struct{})
			var hanging atomic.Int64
			slow := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				hanging.Add(1)
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}))
			t.Cleanup(slow.Close)
			for range 3 {
				h.endpoint(h.store, slow.URL, localSecret)
			}
			other, err := h.store.CreateTenant(h.ctx, models.TenantParams{UID: ptr("other")})
			if err != nil {
				t.Fatal(err)
			}
			healthy := newVerifyingReceiver(t, localSecret, http.StatusOK)
			url := healthy.URL
			if _, err := h.store.CreateEndpoint(h.ctx, other.ID, models.EndpointParams{URL: &url, EventTypes: []string{"*"}, Secret: ptr(localSecret)}); err != nil {
				t.Fatal(err)
			}
			w := NewWorker(h.store, h.queue, Config{Queue: h.queue.name, Logger: quiet(), AllowPrivateNetworks: true,
				Concurrency: 20, Timeout: time.Minute})
			h.run(w)
			t.Cleanup(func() { close(release) }) // before the worker stops: lets its requests end
			p := h.pipeline(h.store)
			if local {
				p = h.localPipeline(w)
			}
			for range 10 { // 30 deliveries, 10 to each hanging endpoint
				h.emit(p)
			}
			eventuallyTrue(t, "the slow tenant's share of workers to hang", func() bool { return hanging.Load() >= 10 })
			start := time.Now()
			for range 5 {
				if _, _, err := p.Emit(h.ctx, models.EmitParams{TenantID: other.ID, EventType: "invoice.paid", Payload: []byte(`{}`)}); err != nil {
					t.Fatal(err)
				}
			}
			for healthy.count() < 5 {
				if time.Since(start) > 5*time.Second {
					t.Fatalf("the other tenant got %d of 5 deliveries in 5 s, beside %d hanging requests", healthy.count(), hanging.Load())
				}
				time.Sleep(10 * time.Millisecond)
			}
			if n := hanging.Load(); n > 10 {
				t.Errorf("the slow tenant held %d workers of 20 at once; its share is 10", n)
			}
			t.Logf("5 deliveries in %s beside %d hanging requests", time.Since(start).Round(time.Millisecond), hanging.Load())
		})
	}
}
