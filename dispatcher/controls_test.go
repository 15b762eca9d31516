package dispatcher

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hookd.dev/hookd/dispatcher/signature"
	"hookd.dev/hookd/models"
)

// captured is what a receiver saw of one request.
type captured struct {
	header http.Header
	body   []byte
	valid  bool // the signature verified
}

// capturingReceiver records every request and answers status.
func capturingReceiver(t *testing.T, secret string, status int) (*httptest.Server, func() []captured) {
	var mu sync.Mutex
	var got []captured
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := signature.Verify(secret, r.Header, body, time.Now())
		mu.Lock()
		got = append(got, captured{header: r.Header.Clone(), body: body, valid: err == nil})
		mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []captured {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

// deliverAll runs the handler once for each of a message's deliveries.
func (h *harness) deliverAll(w *Worker, msg *models.Message) {
	h.t.Helper()
	for _, d := range msg.Deliveries {
		if err := w.HandleDeliverySend(h.ctx, task(h.t, d)); err != nil {
			h.t.Fatal(err)
		}
	}
}

// TestEnvelopeAndHeadersOnTheWire: every request names its event type; an
// endpoint that opted in gets the Standard Webhooks envelope, signed as
// sent; custom headers go out, and the secret ones are redacted in the
// recorded attempt.
func TestEnvelopeAndHeadersOnTheWire(t *testing.T) {
	h := newHarness(t)
	srv, got := capturingReceiver(t, localSecret, http.StatusOK)
	raw := h.endpoint(h.store, srv.URL+"/raw", localSecret)
	wrapped := h.endpoint(h.store, srv.URL+"/wrapped", localSecret)
	if _, err := h.store.UpdateEndpoint(h.ctx, h.tenant.ID, wrapped.ID, models.EndpointParams{
		Envelope: ptr(true), Headers: map[string]string{"X-Tenant": "acme"}, SecretHeaders: map[string]string{"X-Api-Key": "k3y"},
	}); err != nil {
		t.Fatal(err)
	}
	w := h.worker(h.store, Config{AllowPrivateNetworks: true})
	msg := h.emit(h.pipeline(h.store))
	h.deliverAll(w, msg)

	requests := got()
	if len(requests) != 2 {
		t.Fatalf("%d requests, want 2", len(requests))
	}
	byPath := map[bool]captured{}
	for _, r := range requests {
		if !r.valid {
			t.Errorf("a request's signature does not verify: %s", r.body)
		}
		if r.header.Get("webhook-event-type") != "invoice.paid" {
			t.Errorf("webhook-event-type = %q", r.header.Get("webhook-event-type"))
		}
		byPath[r.header.Get("X-Tenant") != ""] = r
	}
	if string(byPath[false].body) != `{"n":1}` {
		t.Errorf("raw body = %s", byPath[false].body)
	}
	want := fmt.Sprintf(`{"type":"invoice.paid","timestamp":%q,"data":{"n":1}}`, msg.CreatedAt.UTC().Format(time.RFC3339Nano))
	if string(byPath[true].body) != want {
		t.Errorf("envelope = %s\nwant       %s", byPath[true].body, want)
	}
	if k := byPath[true].header.Get("X-Api-Key"); k != "k3y" {
		t.Errorf("X-Api-Key = %q", k)
	}
	for _, d := range msg.Deliveries {
		got := h.delivery(d.ID)
		headers := got.Attempts[0].RequestHeaders
		if d.EndpointID == raw.ID {
			if _, ok := headers["x-tenant"]; ok {
				t.Error("the raw endpoint got the other's headers")
			}
			continue
		}
		if headers["x-api-key"] != redacted || headers["x-tenant"] != "acme" || headers["webhook-event-type"] != "invoice.paid" {
			t.Errorf("recorded headers: %v", headers)
		}
	}
}

// TestEndpointTimingOverridesTheDefaults: an endpoint's timeout cuts its
// attempts short, and its retry schedule places the next attempt, both
// within the worker's bounds.
func TestEndpointTimingOverridesTheDefaults(t *testing.T) {
	h := newHarness(t)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	ep := h.endpoint(h.store, slow.URL, localSecret)
	if _, err := h.store.UpdateEndpoint(h.ctx, h.tenant.ID, ep.ID, models.EndpointParams{
		Timeout: ptr(1), RetrySchedule: []int{7, 9},
	}); err != nil {
		t.Fatal(err)
	}
	w := h.worker(h.store, Config{AllowPrivateNetworks: true, Timeout: 10 * time.Second, Jitter: -1, Schedule: Schedule{time.Hour}, Now: h.clock})
	msg := h.emit(h.pipeline(h.store))
	start := time.Now()
	h.deliverAll(w, msg)
	if took := time.Since(start); took > 2500*time.Millisecond {
		t.Errorf("the attempt took %s; the endpoint's timeout is 1s", took)
	}
	d := h.delivery(msg.Deliveries[0].ID)
	if !strings.Contains(d.Attempts[0].Error, "timed out") {
		t.Errorf("error = %q", d.Attempts[0].Error)
	}
	if wait := d.NextAttemptAt.Sub(h.clock()).Round(time.Millisecond); wait != 7*time.Second {
		t.Errorf("next attempt in %s, want the endpoint's 7s", wait)
	}

	// Bounds lowered since the endpoint was saved apply: one retry at most.
	bounded := h.worker(h.store, Config{AllowPrivateNetworks: true, Timeout: 10 * time.Second, Jitter: -1, Now: h.clock,
		Bounds: models.EndpointBounds{MaxRetries: 1, MaxTimeout: 10 * time.Second}})
	h.advance(7 * time.Second)
	if err := bounded.HandleDeliverySend(h.ctx, task(t, *d)); err != nil {
		t.Fatal(err)
	}
	if d := h.delivery(d.ID); d.Status != models.StatusFailed || d.AttemptCount != 2 {
		t.Errorf("after the bounded schedule: %s after %d attempts, want failed after 2", d.Status, d.AttemptCount)
	}
}

// TestFiltersChooseTheEndpoints: a message creates deliveries only for the
// endpoints whose filter it matches; a filter that fails at run time (a
// field the payload lacks) matches nothing.
func TestFiltersChooseTheEndpoints(t *testing.T) {
	h := newHarness(t)
	url := "http://127.0.0.1:1/"
	big := h.endpoint(h.store, url, localSecret)
	all := h.endpoint(h.store, url, localSecret)
	broken := h.endpoint(h.store, url, localSecret)
	for id, expr := range map[string]string{big.ID: `data.n > 1`, broken.ID: `data.missing.deeper == 1`} {
		if _, err := h.store.UpdateEndpoint(h.ctx, h.tenant.ID, id, models.EndpointParams{Filter: ptr(expr)}); err != nil {
			t.Fatal(err)
		}
	}
	p := h.pipeline(h.store)
	endpointsOf := func(payload string) []string {
		msg, _, err := p.Emit(h.ctx, models.EmitParams{TenantID: h.tenant.ID, EventType: "invoice.paid", Payload: []byte(payload)})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range msg.Deliveries {
			ids = append(ids, d.EndpointID)
		}
		slices.Sort(ids)
		return ids
	}
	if got := endpointsOf(`{"n": 1}`); !slices.Equal(got, []string{all.ID}) {
		t.Errorf("n=1 went to %v, want only %s", got, all.ID)
	}
	want := []string{big.ID, all.ID}
	slices.Sort(want)
	if got := endpointsOf(`{"n": 2}`); !slices.Equal(got, want) {
		t.Errorf("n=2 went to %v, want %v", got, want)
	}
	// The failing filter's endpoint says why, for its owner; the others say nothing.
	eventuallyTrue(t, "the filter error recorded", func() bool {
		ep, err := h.store.GetEndpoint(h.ctx, h.tenant.ID, broken.ID)
		return err == nil && strings.Contains(ep.FilterError, "no such key: missing") && ep.FilterErrorAt != nil
	})
	if ep, _ := h.store.GetEndpoint(h.ctx, h.tenant.ID, big.ID); ep.FilterError != "" {
		t.Errorf("a filter that worked has the error %q", ep.FilterError)
	}
	// A new filter starts without the old one's error.
	ep, err := h.store.UpdateEndpoint(h.ctx, h.tenant.ID, broken.ID, models.EndpointParams{Filter: ptr(`has(data.missing)`)})
	if err != nil || ep.FilterError != "" || ep.FilterErrorAt != nil {
		t.Fatalf("after a change: %q at %v, %v", ep.FilterError, ep.FilterErrorAt, err)
	}
	if got, _ := h.store.GetEndpoint(h.ctx, h.tenant.ID, broken.ID); got.FilterError != "" {
		t.Errorf("the stored endpoint kept the old filter's error %q", got.FilterError)
	}
}

// TestAFilterCannotStallAnEmit: a tenant's filter that would compare a list
// doubled 40 times (2^40 steps, charged as a few) is stopped within its
// bounds, the emit goes on without that endpoint, and the endpoint says why.
func TestAFilterCannotStallAnEmit(t *testing.T) {
	h := newHarness(t)
	url := "http://127.0.0.1:1/"
	plain := h.endpoint(h.store, url, localSecret)
	bomb := h.endpoint(h.store, url, localSecret)
	doubled := "[[1]]" + strings.Repeat(".map(a, a + a)", 40)
	if _, err := h.store.UpdateEndpoint(h.ctx, h.tenant.ID, bomb.ID, models.EndpointParams{Filter: ptr(doubled + " == " + doubled)}); err != nil {
		t.Fatal(err)
	}
	p := h.pipeline(h.store)
	start := time.Now()
	msg, _, err := p.Emit(h.ctx, models.EmitParams{TenantID: h.tenant.ID, EventType: "invoice.paid", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the emit took %s", took)
	}
	if len(msg.Deliveries) != 1 || msg.Deliveries[0].EndpointID != plain.ID {
		t.Errorf("deliveries %+v, want one to %s", msg.Deliveries, plain.ID)
	}
	eventuallyTrue(t, "the filter error recorded", func() bool {
		ep, err := h.store.GetEndpoint(h.ctx, h.tenant.ID, bomb.ID)
		return err == nil && strings.Contains(ep.FilterError, "stopped")
	})
}

// orderedReceiver answers each message by a script and records the order
// in which requests arrive, and how many were in flight at once.
type orderedReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	seen     []string // webhook-id of each request, in arrival order
	inFlight int
	maxIn    int
	fail     map[string]int // failures left per message id; -1: always
}

func newOrderedReceiver(t *testing.T) *orderedReceiver {
	r := &orderedReceiver{fail: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		id := req.Header.Get("webhook-id")
		r.mu.Lock()
		r.seen = append(r.seen, id)
		r.inFlight++
		r.maxIn = max(r.maxIn, r.inFlight)
		fail := r.fail[id]
		if fail > 0 {
			r.fail[id]--
		}
		r.mu.Unlock()
		time.Sleep(5 * time.Millisecond) // room for a second request to overlap, if one could
		r.mu.Lock()
		r.inFlight--
		r.mu.Unlock()
		if fail != 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *orderedReceiver) arrivals() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen), r.maxIn
}

// TestFIFOEndpointGetsOneAtATimeInOrder: two workers on one queue deliver
// a FIFO endpoint's messages one at a time, in the order they were
// accepted. A message that fails holds the ones behind it until it
// succeeds; one that fails for good lets the next go. An unordered
// endpoint beside it is not held up.
func TestFIFOEndpointGetsOneAtATimeInOrder(t *testing.T) {
	h := newHarness(t)
	recv := newOrderedReceiver(t)
	fifo := h.endpoint(h.store, recv.URL+"/fifo", localSecret)
	if _, err := h.store.UpdateEndpoint(h.ctx, h.tenant.ID, fifo.ID, models.EndpointParams{
		Ordering: ptr(models.OrderingFIFO), RetrySchedule: []int{1, 1},
	}); err != nil {
		t.Fatal(err)
	}
	// The workers' clock is the real one: retries come due as asynq runs them.
	h.setClock(time.Now())
	store := models.NewStore(h.db.Gorm, models.StoreOpts{AllowPrivateNetworks: true})
	for range 2 {
		h.run(NewWorker(store, h.queue, Config{Queue: h.queue.name, Logger: quiet(), AllowPrivateNetworks: true, Concurrency: 8}))
	}
	p := NewPipeline(PipelineConfig{Store: store, Queue: h.queue, Logger: quiet()})
	t.Cleanup(p.Close)

	const n = 12
	var order []string
	for i := range n {
		msg, _, err := p.Emit(h.ctx, models.EmitParams{TenantID: h.tenant.ID, EventType: "invoice.paid", Payload: fmt.Appendf(nil, `{"n":%d}`, i)})
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, msg.ID)
		recv.mu.Lock()
		switch i {
		case 3:
			recv.fail[msg.ID] = 2 // succeeds at its third attempt
		case 7:
			recv.fail[msg.ID] = -1 // fails for good after three
		}
		recv.mu.Unlock()
	}
	for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if seen, _ := recv.arrivals(); len(seen) >= n+2+2 {
			break
		}
		if time.Now().After(deadline) {
			seen, _ := recv.arrivals()
			t.Fatalf("after 45s, %d of %d requests arrived", len(seen), n+4)
		}
	}
	time.Sleep(300 * time.Millisecond) // nothing more arrives
	seen, maxIn := recv.arrivals()
	if maxIn != 1 {
		t.Errorf("%d requests were in flight at once, want 1", maxIn)
	}
	want := slices.Concat(order[:3], []string{order[3], order[3], order[3]}, order[4:7],
		[]string{order[7], order[7], order[7]}, order[8:])
	if !slices.Equal(seen, want) {
		t.Errorf("arrivals:\n%v\nwant\n%v", seen, want)
	}
}

// TestResendAndReplayMakeNewDeliveries: a resend sends a message again as
// a new delivery with the same webhook-id; a replay sends an endpoint
// registered later every message since a time, in order, through its
// filter.
func TestResendAndReplayMakeNewDeliveries(t *testing.T) {
	h := newHarness(t)
	srv, got := capturingReceiver(t, localSecret, http.StatusOK)
	first := h.endpoint(h.store, srv.URL+"/first", localSecret)
	p := h.pipeline(h.store)
	w := h.worker(h.store, Config{AllowPrivateNetworks: true})
	var msgs []*models.Message
	for i := range 4 {
		msg, _, err := p.Emit(h.ctx, models.EmitParams{TenantID: h.tenant.ID, EventType: "invoice.paid", Payload: fmt.Appendf(nil, `{"n":%d}`, i)})
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, msg)
		h.advance(time.Second)
	}
	settle(p)

	ds, err := p.Resend(h.ctx, h.tenant.ID, msgs[0].ID, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].ID == msgs[0].Deliveries[0].ID || ds[0].MessageID != msgs[0].ID || ds[0].NextTrigger != models.TriggerManual {
		t.Fatalf("resend made %+v", ds)
	}
	if err := w.HandleDeliverySend(h.ctx, task(t, ds[0])); err != nil {
		t.Fatal(err)
	}
	if r := got(); len(r) != 1 || r[0].header.Get("webhook-id") != msgs[0].ID || !r[0].valid {
		t.Fatalf("the resend arrived as %+v", r)
	}

	late := h.endpoint(h.store, srv.URL+"/late", localSecret)
	if _, err := h.store.UpdateEndpoint(h.ctx, h.tenant.ID, late.ID, models.EndpointParams{Filter: ptr(`data.n != 2`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Replay(h.ctx, h.tenant.ID, late.ID, models.ReplayParams{}); models.ErrorCode(err) != models.CodeInvalid {
		t.Errorf("a replay without since: %v", err)
	}
	n, err := p.Replay(h.ctx, h.tenant.ID, late.ID, models.ReplayParams{Since: msgs[1].CreatedAt})
	if err != nil || n != 2 {
		t.Fatalf("replay sent %d (%v), want messages 1 and 3", n, err)
	}
	deliveries, _, err := h.store.ListDeliveries(h.ctx, models.DeliveryParams{TenantID: h.tenant.ID, EndpointID: late.ID, ListParams: models.ListParams{Limit: 10}})
	if err != nil {
		t.Fatal(err)
	}
	var replayed []string
	for _, d := range deliveries {
		replayed = append(replayed, d.MessageID)
	}
	slices.Reverse(replayed) // newest first
	if want := []string{msgs[1].ID, msgs[3].ID}; !slices.Equal(replayed, want) {
		t.Errorf("replayed %v, want %v", replayed, want)
	}
}
