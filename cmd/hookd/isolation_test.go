package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

// hangingReceiver accepts requests and never answers until the test ends.
func hangingReceiver(t *testing.T) (*httptest.Server, *atomic.Int64) {
	release := make(chan struct{})
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: lets the handlers return
	return srv, &hits
}

// TestHangingEndpointDoesNotDelayOthers sends 150 deliveries to an endpoint
// that hangs until the 15 s timeout and 100 to a healthy one: the healthy
// ones must all arrive within 10 s, with the default limits.
func TestHangingEndpointDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	env := backends(t)
	env["HOOKD_DELIVERY_TIMEOUT"] = "15s"
	m := start(t, "serve", env)
	c := newClient(t, m, testAdminKey)
	healthy := newReceiver(t, nil)
	hanging, hangingHits := hangingReceiver(t)

	c.must(201, "POST", "/v1/event-types", map[string]any{"name": "slow.event"}, nil)
	c.must(201, "POST", "/v1/event-types", map[string]any{"name": "fast.event"}, nil)
	c.must(201, "POST", "/v1/tenants", map[string]any{"uid": "acme"}, nil)
	c.must(201, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": hanging.URL, "event_types": []string{"slow.event"}}, nil)
	c.must(201, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": healthy.URL, "event_types": []string{"fast.event"}, "secret": healthy.Secret()}, nil)

	emit := func(eventType string, n int) {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				// Not c.must: t.Fatalf belongs to the test's goroutine only.
				if status := c.do("POST", "/v1/tenants/acme/messages", map[string]any{"event_type": eventType, "payload": map[string]any{}}, nil); status != 201 {
					t.Errorf("emit %s answered %d, want 201", eventType, status)
				}
			})
		}
		wg.Wait()
	}
	emit("slow.event", 150)
	eventually(t, 5*time.Second, "workers to be stuck on the hanging endpoint", func() bool { return hangingHits.Load() >= 10 })
	start := time.Now()
	emit("fast.event", 100)
	eventually(t, 10*time.Second, "100 deliveries to the healthy endpoint", func() bool {
		got, _ := healthy.snapshot()
		return len(got) == 100
	})
	t.Logf("100 healthy deliveries in %s beside 150 hanging ones", time.Since(start).Round(time.Millisecond))
	if n := hangingHits.Load(); n > 10 {
		t.Errorf("the hanging endpoint got %d requests at once; the default limit is 10", n)
	}
}

// TestEndpointLimits: an endpoint's own concurrency limit holds across two
// workers, and work over it waits without using up attempts.
func TestEndpointLimits(t *testing.T) {
	t.Parallel()
	env := backends(t)
	apiProc := start(t, "api", env)
	start(t, "worker", env)
	start(t, "worker", env)
	c := newClient(t, apiProc, testAdminKey)

	var inflight, peak atomic.Int64
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		seen[r.Header.Get("webhook-id")]++
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	c.must(201, "POST", "/v1/event-types", map[string]any{"name": "invoice.paid"}, nil)
	c.must(201, "POST", "/v1/tenants", map[string]any{"uid": "acme"}, nil)
	c.must(422, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": srv.URL, "event_types": []string{"*"}, "max_concurrency": -1}, nil)
	c.must(201, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": srv.URL, "event_types": []string{"*"}, "max_concurrency": 2}, nil)
	for range 20 {
		c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": map[string]any{}}, nil)
	}
	eventually(t, 30*time.Second, "20 deliveries", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == 20
	})
	if p := peak.Load(); p > 2 {
		t.Fatalf("%d requests in flight at once across two workers; the endpoint allows 2", p)
	}
	var list struct{ Data []delivery }
	c.must(200, "GET", "/v1/tenants/acme/deliveries?status=succeeded", nil, &list)
	for _, d := range list.Data {
		if d.AttemptCount != 1 {
			t.Fatalf("delivery %s took %d attempts; waiting for a slot must not count", d.ID, d.AttemptCount)
		}
	}
}

func TestContinuousFailureDisablesAndEnablingResumes(t *testing.T) {
	t.Parallel()
	env := backends(t)
	env["HOOKD_RETRY_SCHEDULE"] = "1s,1s,1s,1s,1s,1s"
	env["HOOKD_DISABLE_AFTER"] = "1500ms"
	m := start(t, "serve", env)
	c := newClient(t, m, testAdminKey)
	r, heal := newSwitchableReceiver(t, http.StatusInternalServerError)
	setupTenant(c, r)
	var msg message
	c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": map[string]any{}}, &msg)
	id := msg.Deliveries[0].ID
	var eps struct {
		Data []struct {
			ID             string `json:"id"`
			Enabled        bool   `json:"enabled"`
			DisabledReason string `json:"disabled_reason"`
		} `json:"data"`
	}
	eventually(t, 15*time.Second, "the endpoint to be disabled", func() bool {
		c.must(200, "GET", "/v1/tenants/acme/endpoints", nil, &eps)
		return !eps.Data[0].Enabled
	})
	if !strings.Contains(eps.Data[0].DisabledReason, "failing continuously") {
		t.Fatalf("disabled reason %q", eps.Data[0].DisabledReason)
	}
	// Its delivery waits, parked, without using up attempts.
	eventually(t, 10*time.Second, "the delivery to be parked", func() bool {
		d := c.delivery(id)
		return d.Status == "pending" && strings.Contains(c.deliveryError(id), "endpoint disabled")
	})
	parkedAt := c.delivery(id).AttemptCount
	heal()
	c.must(200, "PATCH", "/v1/tenants/acme/endpoints/"+eps.Data[0].ID, map[string]any{"enabled": true}, nil)
	eventually(t, 15*time.Second, "the delivery to resume and succeed", func() bool { return c.delivery(id).Status == "succeeded" })
	if got := c.delivery(id).AttemptCount; got != parkedAt+1 {
		t.Fatalf("%d attempts after resuming, want %d", got, parkedAt+1)
	}
}

func TestUndecodableTaskIsDroppedAndWorkGoesOn(t *testing.T) {
	t.Parallel()
	env := backends(t)
	m := start(t, "serve", env)
	c := newClient(t, m, testAdminKey)
	r := newReceiver(t, nil)
	setupTenant(c, r)
	opt, err := asynq.ParseRedisURI(env["HOOKD_REDIS_URL"])
	if err != nil {
		t.Fatal(err)
	}
	client := asynq.NewClient(opt)
	defer client.Close()
	for _, payload := range []string{"not json", `{"delivery_id":""}`, `{"delivery_id":"dlv_gone","attempt_count":0}`} {
		if _, err := client.Enqueue(asynq.NewTask("delivery:send", []byte(payload)), asynq.Queue(env["HOOKD_QUEUE"])); err != nil {
			t.Fatal(err)
		}
	}
	var msg message
	c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": map[string]any{}}, &msg)
	eventually(t, 10*time.Second, "the good message", func() bool { got, _ := r.snapshot(); return got[msg.ID] == 1 })
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	eventually(t, 10*time.Second, "the queue to empty", func() bool {
		info, err := insp.GetQueueInfo(env["HOOKD_QUEUE"])
		return err == nil && info.Size == 0 && info.Archived == 0
	})
}

// TestEndpointRateLimit: an endpoint's rate_limit spaces its requests, and
// the wait uses up no attempt.
func TestEndpointRateLimit(t *testing.T) {
	t.Parallel()
	env := backends(t)
	m := start(t, "serve", env)
	c := newClient(t, m, testAdminKey)
	var mu sync.Mutex
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	c.must(201, "POST", "/v1/event-types", map[string]any{"name": "invoice.paid"}, nil)
	c.must(201, "POST", "/v1/tenants", map[string]any{"uid": "acme"}, nil)
	c.must(201, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": srv.URL, "event_types": []string{"*"}, "rate_limit": 4}, nil)
	for range 12 {
		c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": map[string]any{}}, nil)
	}
	eventually(t, 20*time.Second, "12 deliveries", func() bool { mu.Lock(); defer mu.Unlock(); return len(times) == 12 })
	mu.Lock()
	spread := times[11].Sub(times[0])
	mu.Unlock()
	// 12 requests at 4/s: the last no sooner than about 2 s after the first.
	if spread < 1900*time.Millisecond {
		t.Fatalf("12 requests within %s at a limit of 4 per second", spread)
	}
	var list struct{ Data []delivery }
	c.must(200, "GET", "/v1/tenants/acme/deliveries?status=succeeded", nil, &list)
	for _, d := range list.Data {
		if d.AttemptCount != 1 {
			t.Fatalf("delivery %s took %d attempts; waiting for the rate limit must not count", d.ID, d.AttemptCount)
		}
	}
}

// TestAPIRateLimitPerTenantKey: a tenant key over HOOKD_API_RATE_LIMIT gets
// 429 with Retry-After; the admin key, which the app emits with, does not.
func TestAPIRateLimitPerTenantKey(t *testing.T) {
	t.Parallel()
	env := backends(t)
	env["HOOKD_API_RATE_LIMIT"] = "2" // burst 4
	m := start(t, "serve", env)
	admin := newClient(t, m, testAdminKey)
	admin.must(201, "POST", "/v1/tenants", map[string]any{"uid": "acme"}, nil)
	var key struct{ Key string }
	admin.must(201, "POST", "/v1/tenants/acme/api-keys", nil, &key)
	tenant := newClient(t, m, key.Key)
	statuses := map[int]int{}
	for range 8 {
		statuses[tenant.do("GET", "/v1/tenants/acme/endpoints", nil, nil)]++
	}
	if statuses[200] < 4 || statuses[429] < 3 {
		t.Fatalf("statuses %v: want the burst of 4 through and the rest refused with 429", statuses)
	}
	req, _ := http.NewRequest("GET", tenant.url+"/v1/tenants/acme/endpoints", nil)
	req.Header.Set("Authorization", "Bearer "+key.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over the limit: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	for range 20 {
		admin.must(200, "GET", "/v1/tenants/acme/endpoints", nil, nil)
	}
}
