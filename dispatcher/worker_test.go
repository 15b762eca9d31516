package dispatcher

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"hookd.dev/hookd/models"
)

func TestDecide(t *testing.T) {
	t.Parallel()
	w := NewWorker(nil, nil, Config{Schedule: Schedule{time.Minute, time.Hour}, Jitter: -1, MaxRetryAfter: 2 * time.Hour})
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	hdr := func(k, v string) http.Header { h := http.Header{}; h.Set(k, v); return h }
	cases := []struct {
		name     string
		attempts int
		resp     Response
		status   string
		delay    time.Duration
		disables bool
	}{
		{"200 succeeds", 1, Response{StatusCode: 200}, models.StatusSucceeded, 0, false},
		{"204 succeeds", 1, Response{StatusCode: 204}, models.StatusSucceeded, 0, false},
		{"299 succeeds", 1, Response{StatusCode: 299}, models.StatusSucceeded, 0, false},
		{"300 is a failure", 1, Response{StatusCode: 300}, models.StatusPending, time.Minute, false},
		{"199 is a failure", 1, Response{StatusCode: 199}, models.StatusPending, time.Minute, false},
		{"301 is a failure, never followed", 1, Response{StatusCode: 301}, models.StatusPending, time.Minute, false},
		{"410 disables the endpoint", 1, Response{StatusCode: 410}, models.StatusFailed, 0, true},
		{"500 retries on schedule", 1, Response{StatusCode: 500}, models.StatusPending, time.Minute, false},
		{"second failure takes the second delay", 2, Response{StatusCode: 500}, models.StatusPending, time.Hour, false},
		{"schedule exhausted", 3, Response{StatusCode: 500}, models.StatusFailed, 0, false},
		{"timeout retries", 1, Response{Err: errors.New("timed out")}, models.StatusPending, time.Minute, false},
		{"429 honours Retry-After seconds", 1, Response{StatusCode: 429, Headers: hdr("Retry-After", "120")}, models.StatusPending, 2 * time.Minute, false},
		{"503 honours Retry-After date", 1, Response{StatusCode: 503, Headers: hdr("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat))}, models.StatusPending, 90 * time.Second, false},
		{"Retry-After is capped", 1, Response{StatusCode: 429, Headers: hdr("Retry-After", "999999")}, models.StatusPending, 2 * time.Hour, false},
		{"Retry-After ignored on 500", 1, Response{StatusCode: 500, Headers: hdr("Retry-After", "120")}, models.StatusPending, time.Minute, false},
		{"unreadable Retry-After falls back", 1, Response{StatusCode: 502, Headers: hdr("Retry-After", "soon")}, models.StatusPending, time.Minute, false},
	}
	for _, c := range cases {
		o := w.decide(w.cfg.Schedule, c.attempts, c.resp, now)
		if o.Status != c.status || (o.DisableEndpoint != "") != c.disables {
			t.Errorf("%s: outcome %+v, want %s (disable %v)", c.name, o, c.status, c.disables)
			continue
		}
		if c.status == models.StatusPending && o.NextAttemptAt.Sub(now) != c.delay {
			t.Errorf("%s: next attempt in %s, want %s", c.name, o.NextAttemptAt.Sub(now), c.delay)
		}
	}
}

func TestSchedule(t *testing.T) {
	t.Parallel()
	s, err := ParseSchedule("1s, 5m,2h")
	if err != nil || s.String() != "1s,5m,2h" {
		t.Fatalf("ParseSchedule = %v, %v", s, err)
	}
	for _, bad := range []string{"", "1s,,2s", "-1s", "0s", "soon"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", bad)
		}
	}
	if got := DefaultSchedule.String(); got != "5s,5m,30m,2h,5h,10h,14h,20h,24h" {
		t.Fatalf("default schedule renders as %q", got)
	}
	for range 1000 {
		d, ok := DefaultSchedule.Next(2, 0.2)
		if !ok || d < 4*time.Minute || d > 6*time.Minute {
			t.Fatalf("second retry delay %s outside 5m ±20%%", d)
		}
	}
	// Jitter spreads retries: the delays differ from one another and from the schedule's.
	seen := map[time.Duration]bool{}
	for range 100 {
		d, _ := DefaultSchedule.Next(2, 0.2)
		seen[d] = true
	}
	if len(seen) < 50 || seen[5*time.Minute] {
		t.Fatalf("100 jittered delays took %d values (the exact 5m among them: %v)", len(seen), seen[5*time.Minute])
	}
	if d, _ := DefaultSchedule.Next(2, -1); d != 5*time.Minute {
		t.Fatalf("without jitter: %s, want 5m", d)
	}
	if _, ok := DefaultSchedule.Next(len(DefaultSchedule)+1, 0.2); ok {
		t.Fatal("schedule not exhausted after its last delay")
	}
}

// TestDisablingAnEndpointLogsAndCountsOnce: a 410 disables the endpoint
// with a log line that says so and one count; the next attempt, whatever
// its outcome, adds neither.
func TestDisablingAnEndpointLogsAndCountsOnce(t *testing.T) {
	h := newHarness(t)
	gone := newVerifyingReceiver(t, localSecret, http.StatusGone)
	ep := h.endpoint(h.store, gone.URL, localSecret)
	p := h.pipeline(h.store)
	first, second := h.emit(p), h.emit(p)
	metrics := NewMetrics(prometheus.NewRegistry())
	w := h.worker(h.store, Config{AllowPrivateNetworks: true, Metrics: metrics})
	var logged bytes.Buffer
	w.log = slog.New(slog.NewTextHandler(&logged, nil))

	for _, msg := range []*models.Message{first, second} {
		if err := w.HandleDeliverySend(h.ctx, task(t, msg.Deliveries[0])); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logged.String(), `msg="endpoint disabled"`); n != 1 ||
		!strings.Contains(logged.String(), "endpoint_id="+ep.ID) || !strings.Contains(logged.String(), "cause=gone") {
		t.Fatalf("%d lines say the endpoint was disabled, want 1 naming %s and its cause:\n%s", n, ep.ID, logged.String())
	}
	var counted dto.Metric
	if err := metrics.disabled.WithLabelValues("gone").Write(&counted); err != nil {
		t.Fatal(err)
	}
	if n := counted.GetCounter().GetValue(); n != 1 {
		t.Fatalf("hookd_endpoints_disabled_total{cause=\"gone\"} = %v, want 1", n)
	}
}

// A manual retry of a delivery that succeeded is a second attempt, not a
// second delivery: hookd_deliveries_finished_total counts it once.
func TestARetriedSuccessIsNotASecondDelivery(t *testing.T) {
	h := newHarness(t)
	ok := newVerifyingReceiver(t, localSecret, http.StatusOK)
	h.endpoint(h.store, ok.URL, localSecret)
	msg := h.emit(h.pipeline(h.store))
	metrics := NewMetrics(prometheus.NewRegistry())
	w := h.worker(h.store, Config{AllowPrivateNetworks: true, Metrics: metrics})
	if err := w.HandleDeliverySend(h.ctx, task(t, msg.Deliveries[0])); err != nil {
		t.Fatal(err)
	}
	retried, err := h.store.RetryDelivery(h.ctx, msg.TenantID, msg.Deliveries[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.HandleDeliverySend(h.ctx, task(t, *retried)); err != nil {
		t.Fatal(err)
	}
	count := func(c prometheus.Counter) float64 {
		var m dto.Metric
		if err := c.Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetCounter().GetValue()
	}
	if d, _ := h.store.GetDelivery(h.ctx, msg.TenantID, msg.Deliveries[0].ID); d.AttemptCount != 2 || d.Status != models.StatusSucceeded {
		t.Fatalf("delivery after the retry: %+v", d)
	}
	if n := count(metrics.attempts.WithLabelValues("success")); n != 2 {
		t.Fatalf("hookd_attempts_total{result=\"success\"} = %v, want 2", n)
	}
	if n := count(metrics.finished.WithLabelValues(models.StatusSucceeded)); n != 1 {
		t.Fatalf("hookd_deliveries_finished_total{status=\"succeeded\"} = %v, want 1", n)
	}
}

// fakeWorkerStore answers the endpoint lookups and records parked claims;
// any other call panics (the embedded nil interface): none is expected.
type fakeWorkerStore struct {
	workerStore
	cached, fresh *models.Endpoint // nil cached: deleted
	parked        []string         // delivery ID: reason
}

func (f *fakeWorkerStore) CachedEndpoint(context.Context, string) (*models.Endpoint, error) {
	if f.cached == nil {
		return nil, models.ErrNotFound
	}
	return f.cached, nil
}

func (f *fakeWorkerStore) RefreshEndpoint(context.Context, string) (*models.Endpoint, error) {
	return f.fresh, nil
}

func (f *fakeWorkerStore) ParkClaim(_ context.Context, c *models.Claim, reason string) error {
	f.parked = append(f.parked, c.Delivery.ID+": "+reason)
	return nil
}

// TestWorkerWithoutADatabase: a claim on an endpoint disabled since it was
// cached is parked, on the endpoint read again, without a slot or a
// request; a task of a deleted endpoint is done without a claim.
func TestWorkerWithoutADatabase(t *testing.T) {
	t.Parallel()
	cachedAt := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)
	store := &fakeWorkerStore{
		cached: &models.Endpoint{ID: "ep_1", Enabled: true, UpdatedAt: cachedAt},
		fresh:  &models.Endpoint{ID: "ep_1", DisabledReason: "by the operator", UpdatedAt: cachedAt.Add(time.Minute)},
	}
	w := NewWorker(store, nil, Config{Logger: quiet()}) // not Run: no limiter nor batchers, which would panic if used
	claim := &models.Claim{Delivery: models.Delivery{ID: "dlv_1"}, EndpointUpdatedAt: cachedAt.Add(time.Minute)}
	if err := w.attemptClaimed(context.Background(), store.cached, claim, time.Now(), queueHandlers); err != nil {
		t.Fatal(err)
	}
	if want := "dlv_1: endpoint disabled: by the operator"; len(store.parked) != 1 || store.parked[0] != want {
		t.Fatalf("parked %q, want [%q]", store.parked, want)
	}
	store.cached = nil
	if err := w.deliver(context.Background(), deliveryPayload{DeliveryID: "dlv_2", EndpointID: "ep_1"}, queueHandlers); err != nil {
		t.Fatalf("task of a deleted endpoint: %v, want done", err)
	}
}

// TestOfferTakesWhatIsDueByItsClock: the worker decides what is due by its
// own clock (Config.Now), not the machine's.
func TestOfferTakesWhatIsDueByItsClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 2, 15, 0, 0, 0, time.UTC) // years ahead of the machine's
	w := NewWorker(&fakeWorkerStore{}, nil, Config{Logger: quiet(), Now: func() time.Time { return now }})
	w.accepting.Store(true) // as Run does; its handlers are not needed to take deliveries in
	due, later := now.Add(-time.Minute), now.Add(time.Minute)
	rest := w.Offer(context.Background(), models.Delivery{ID: "dlv_due", NextAttemptAt: &due}, models.Delivery{ID: "dlv_later", NextAttemptAt: &later})
	if len(rest) != 1 || rest[0].ID != "dlv_later" {
		t.Fatalf("returned %v, want only dlv_later: dlv_due is due by the worker's clock", rest)
	}
}
