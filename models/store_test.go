package models_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"hookd.dev/hookd/dispatcher"
	"hookd.dev/hookd/models"
	"hookd.dev/hookd/models/storetest"
)

// These tests are the storage conformance suite: they run against SQLite by
// default and against PostgreSQL when HOOKD_TEST_DATABASE_URL is set.

type fixture struct {
	store  *models.Store
	tenant *models.Tenant
	ctx    context.Context
	pipe   *dispatcher.Pipeline
}

func setup(t *testing.T) *fixture {
	t.Helper()
	t.Parallel()
	db := storetest.New(t)
	s := models.NewStore(db.Gorm, models.StoreOpts{})
	ctx := context.Background()
	ten, err := s.CreateTenant(ctx, models.TenantParams{UID: ptr("acme"), Name: ptr("Acme")})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"invoice.paid", "invoice.voided"} {
		if _, err := s.CreateEventType(ctx, models.EventTypeParams{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{store: s, tenant: ten, ctx: ctx}
}

func ptr[T any](v T) *T { return &v }

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if models.ErrorCode(err) != code {
		t.Fatalf("error = %v (code %q), want code %q", err, models.ErrorCode(err), code)
	}
}

func (f *fixture) endpoint(t *testing.T, types ...string) *models.Endpoint {
	t.Helper()
	ep, err := f.store.CreateEndpoint(f.ctx, f.tenant.ID, models.EndpointParams{
		URL: ptr("https://example.com/hook"), EventTypes: types,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

func TestTenants(t *testing.T) {
	f := setup(t)
	byUID, err := f.store.GetTenant(f.ctx, "acme")
	if err != nil || byUID.ID != f.tenant.ID {
		t.Fatalf("get by uid = %v, %v", byUID, err)
	}
	byID, err := f.store.GetTenant(f.ctx, f.tenant.ID)
	if err != nil || *byID.UID != "acme" {
		t.Fatalf("get by id = %v, %v", byID, err)
	}
	_, err = f.store.CreateTenant(f.ctx, models.TenantParams{UID: ptr("acme")})
	wantCode(t, err, models.CodeConflict)
	_, err = f.store.CreateTenant(f.ctx, models.TenantParams{UID: ptr("ten_x")})
	wantCode(t, err, models.CodeInvalid)
	_, err = f.store.CreateTenant(f.ctx, models.TenantParams{UID: ptr("has space")})
	wantCode(t, err, models.CodeInvalid)
	_, err = f.store.GetTenant(f.ctx, "nobody")
	if !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("unknown tenant: %v", err)
	}

	renamed, err := f.store.UpdateTenant(f.ctx, "acme", models.TenantParams{Name: ptr("Acme Inc")})
	if err != nil || renamed.Name != "Acme Inc" || *renamed.UID != "acme" {
		t.Fatalf("update = %+v, %v", renamed, err)
	}
	if err := f.store.DeleteTenant(f.ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.GetTenant(f.ctx, f.tenant.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("deleted tenant still there: %v", err)
	}
}

func TestPagination(t *testing.T) {
	f := setup(t)
	for range 5 {
		if _, err := f.store.CreateTenant(f.ctx, models.TenantParams{}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		rows, next, err := f.store.ListTenants(f.ctx, models.ListParams{Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for i, r := range rows {
			if seen[r.ID] {
				t.Fatalf("tenant %s listed twice", r.ID)
			}
			seen[r.ID] = true
			if i > 0 && rows[i-1].ID < r.ID {
				t.Fatalf("not newest first: %s before %s", rows[i-1].ID, r.ID)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 6 || pages != 3 {
		t.Fatalf("saw %d tenants in %d pages, want 6 in 3", len(seen), pages)
	}
}

func TestEventTypes(t *testing.T) {
	f := setup(t)
	_, err := f.store.CreateEventType(f.ctx, models.EventTypeParams{Name: "invoice.paid"})
	wantCode(t, err, models.CodeConflict)
	_, err = f.store.CreateEventType(f.ctx, models.EventTypeParams{Name: "bad name!"})
	wantCode(t, err, models.CodeInvalid)
	et, err := f.store.ArchiveEventType(f.ctx, "invoice.voided")
	if err != nil || et.ArchivedAt == nil {
		t.Fatalf("archive = %+v, %v", et, err)
	}
	live, _, err := f.store.ListEventTypes(f.ctx, models.ListParams{}, false)
	if err != nil || len(live) != 1 || live[0].Name != "invoice.paid" {
		t.Fatalf("live event types = %+v, %v", live, err)
	}
	all, _, _ := f.store.ListEventTypes(f.ctx, models.ListParams{}, true)
	if len(all) != 2 {
		t.Fatalf("all event types = %d, want 2", len(all))
	}
}

func TestEndpointValidation(t *testing.T) {
	f := setup(t)
	cases := []struct {
		name string
		p    models.EndpointParams
	}{
		{"no url", models.EndpointParams{EventTypes: []string{"*"}}},
		{"relative url", models.EndpointParams{URL: ptr("/hook"), EventTypes: []string{"*"}}},
		{"ftp url", models.EndpointParams{URL: ptr("ftp://example.com"), EventTypes: []string{"*"}}},
		{"no event types", models.EndpointParams{URL: ptr("https://example.com")}},
		{"empty event types", models.EndpointParams{URL: ptr("https://example.com"), EventTypes: []string{}}},
		{"unknown event type", models.EndpointParams{URL: ptr("https://example.com"), EventTypes: []string{"nope"}}},
		{"bad secret", models.EndpointParams{URL: ptr("https://example.com"), EventTypes: []string{"*"}, Secret: ptr("hunter2")}},
	}
	for _, c := range cases {
		_, err := f.store.CreateEndpoint(f.ctx, f.tenant.ID, c.p)
		if models.ErrorCode(err) != models.CodeInvalid {
			t.Errorf("%s: error = %v, want invalid", c.name, err)
		}
	}
	eps, _, _ := f.store.ListEndpoints(f.ctx, f.tenant.ID, models.ListParams{})
	if len(eps) != 0 {
		t.Fatalf("bad input created %d endpoints", len(eps))
	}

	ep := f.endpoint(t, "invoice.paid")
	if len(ep.Secret) < 30 || ep.Secret[:6] != "whsec_" {
		t.Fatalf("generated secret %q is not whsec_", ep.Secret)
	}
	other, _ := f.store.CreateTenant(f.ctx, models.TenantParams{})
	if _, err := f.store.GetEndpoint(f.ctx, other.ID, ep.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another tenant's endpoint: %v", err)
	}
	off, err := f.store.UpdateEndpoint(f.ctx, f.tenant.ID, ep.ID, models.EndpointParams{Enabled: ptr(false)})
	if err != nil || off.Enabled || off.DisabledReason == "" {
		t.Fatalf("disable = %+v, %v", off, err)
	}
	got, _ := f.store.GetEndpoint(f.ctx, f.tenant.ID, ep.ID)
	if got.Enabled || got.URL != ep.URL || len(got.EventTypes) != 1 {
		t.Fatalf("stored endpoint = %+v", got)
	}
}

func TestEmit(t *testing.T) {
	f := setup(t)
	paid := f.endpoint(t, "invoice.paid")
	all := f.endpoint(t, "*")
	f.endpoint(t, "invoice.voided")
	disabled := f.endpoint(t, "*")
	if _, err := f.store.UpdateEndpoint(f.ctx, f.tenant.ID, disabled.ID, models.EndpointParams{Enabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}

	payload := `{"b": 1,  "a": [2, 3]}` // odd spacing and key order must survive
	msg, created, err := f.pipeline(t).Emit(f.ctx, models.EmitParams{
		TenantID: f.tenant.ID, EventType: "invoice.paid", Payload: []byte(payload), IdempotencyKey: "k1",
	})
	if err != nil || !created {
		t.Fatalf("emit = %v, %v", created, err)
	}
	got := map[string]bool{}
	for _, d := range msg.Deliveries {
		got[d.EndpointID] = true
		if d.Status != models.StatusPending || d.NextAttemptAt == nil {
			t.Errorf("new delivery %+v", d)
		}
	}
	if len(got) != 2 || !got[paid.ID] || !got[all.ID] {
		t.Fatalf("deliveries to %v, want %s and %s", got, paid.ID, all.ID)
	}
	stored, err := f.store.GetMessage(f.ctx, f.tenant.ID, msg.ID)
	if err != nil || string(stored.Payload) != payload || len(stored.Deliveries) != 2 {
		t.Fatalf("stored message = %q with %d deliveries, %v", stored.Payload, len(stored.Deliveries), err)
	}

	again, created, err := f.pipeline(t).Emit(f.ctx, models.EmitParams{
		TenantID: f.tenant.ID, EventType: "invoice.paid", Payload: []byte(`{}`), IdempotencyKey: "k1",
	})
	if err != nil || created || again.ID != msg.ID || len(again.Deliveries) != 2 {
		t.Fatalf("same idempotency key = %v, %v, %v", again, created, err)
	}

	bad := []struct {
		p    models.EmitParams
		code string
	}{
		{models.EmitParams{EventType: "nope", Payload: []byte(`{}`)}, models.CodeInvalid},
		{models.EmitParams{EventType: "invoice.paid", Payload: []byte(`"str"`)}, models.CodeInvalid},
		{models.EmitParams{EventType: "invoice.paid", Payload: []byte(`{"a":`)}, models.CodeInvalid},
		{models.EmitParams{EventType: "invoice.paid", Payload: make([]byte, models.MaxPayloadBytes+1)}, models.CodeTooLarge},
	}
	for _, b := range bad {
		b.p.TenantID = f.tenant.ID
		_, _, err := f.pipeline(t).Emit(f.ctx, b.p)
		wantCode(t, err, b.code)
	}
	if _, err := f.store.ArchiveEventType(f.ctx, "invoice.paid"); err != nil {
		t.Fatal(err)
	}
	_, _, err = f.pipeline(t).Emit(f.ctx, models.EmitParams{TenantID: f.tenant.ID, EventType: "invoice.paid", Payload: []byte(`{}`)})
	wantCode(t, err, models.CodeInvalid)
	msgs, _, _ := f.store.ListMessages(f.ctx, models.MessageParams{TenantID: f.tenant.ID})
	if len(msgs) != 1 {
		t.Fatalf("bad emits stored messages: %d, want 1", len(msgs))
	}
}

func TestEmitIdempotencyRace(t *testing.T) {
	f := setup(t)
	f.endpoint(t, "*")
	var wg sync.WaitGroup
	ids := make([]string, 8)
	errs := make([]error, 8)
	pipe := f.pipeline(t) // made once, before the emitters race
	for i := range ids {
		wg.Go(func() {
			msg, _, err := pipe.Emit(f.ctx, models.EmitParams{
				TenantID: f.tenant.ID, EventType: "invoice.paid", Payload: []byte(`{}`), IdempotencyKey: "same",
			})
			errs[i] = err
			if err == nil {
				ids[i] = msg.ID
			}
		})
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("emit %d = %s, %v; want %s", i, ids[i], errs[i], ids[0])
		}
	}
}

func (f *fixture) emit(t *testing.T) *models.Delivery {
	t.Helper()
	msg, _, err := f.pipeline(t).Emit(f.ctx, models.EmitParams{TenantID: f.tenant.ID, EventType: "invoice.paid", Payload: []byte(`{"n":1}`)})
	if err != nil || len(msg.Deliveries) != 1 {
		t.Fatalf("emit: %v, %d deliveries", err, len(msg.Deliveries))
	}
	return &msg.Deliveries[0]
}

func TestClaimAndRecord(t *testing.T) {
	f := setup(t)
	f.endpoint(t, "*")
	d := f.emit(t)
	claimParams := claimArgs{DeliveryID: d.ID, LockFor: time.Minute}

	c, err := f.claim(claimParams)
	if err != nil || c.Payload != `{"n":1}` || c.EndpointUpdatedAt.IsZero() {
		t.Fatalf("claim = %+v, %v", c, err)
	}
	if _, err := f.claim(claimParams); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("second claim: %v, want not found", err)
	}
	if _, err := f.store.RetryDelivery(f.ctx, f.tenant.ID, d.ID); models.ErrorCode(err) != models.CodeConflict {
		t.Fatalf("retry while inflight: %v, want conflict", err)
	}

	next := time.Now().Add(time.Hour).UTC()
	updated, err := f.record(c, &models.Attempt{
		Number: 1, Trigger: models.TriggerScheduled, URL: "https://example.com/hook", ResponseStatusCode: ptr(500),
		RequestHeaders: map[string]string{"webhook-id": c.Delivery.MessageID}, Error: "HTTP 500",
	}, outcome{Status: models.StatusPending, NextAttemptAt: &next})
	if err != nil || updated.AttemptCount != 1 || updated.Status != models.StatusPending {
		t.Fatalf("record = %+v, %v", updated, err)
	}
	// Not due for an hour, and the old attempt count is stale.
	if _, err := f.claim(claimArgs{DeliveryID: d.ID, AttemptCount: 1, LockFor: time.Minute}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("claim before due: %v", err)
	}
	due, err := f.store.DueDeliveries(f.ctx, models.DueParams{Before: next.Add(time.Second), Limit: 10})
	if err != nil || len(due) != 1 || due[0].AttemptCount != 1 {
		t.Fatalf("due = %+v, %v", due, err)
	}

	retried, err := f.store.RetryDelivery(f.ctx, f.tenant.ID, d.ID)
	if err != nil || retried.NextTrigger != models.TriggerManual {
		t.Fatalf("retry = %+v, %v", retried, err)
	}
	c, err = f.claim(claimArgs{DeliveryID: d.ID, AttemptCount: 1, LockFor: time.Minute})
	if err != nil || c.Delivery.NextTrigger != models.TriggerManual {
		t.Fatalf("claim after retry = %+v, %v", c, err)
	}
	if _, err := f.record(c, &models.Attempt{Number: 2, Trigger: models.TriggerManual, URL: "u", ResponseStatusCode: ptr(200)},
		outcome{Status: models.StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
	got, err := f.store.GetDelivery(f.ctx, f.tenant.ID, d.ID)
	if err != nil || got.Status != models.StatusSucceeded || len(got.Attempts) != 2 || *got.LastStatusCode != 200 {
		t.Fatalf("delivery = %+v, %v", got, err)
	}
	if got.Attempts[0].RequestHeaders["webhook-id"] == "" || got.Attempts[1].Trigger != models.TriggerManual {
		t.Fatalf("attempts = %+v", got.Attempts)
	}
}

func TestExpiredClaimIsReleased(t *testing.T) {
	f := setup(t)
	f.endpoint(t, "*")
	d := f.emit(t)
	c, err := f.claim(claimArgs{DeliveryID: d.ID, LockFor: -time.Second})
	if err != nil {
		t.Fatal(err)
	}
	released, err := f.store.ReleaseExpired(f.ctx, 100)
	if err != nil || len(released) != 1 || released[0].ID != d.ID {
		t.Fatalf("released %+v, %v", released, err)
	}
	// The released delivery can be claimed again; the old claim cannot record over it.
	c2, err := f.claim(claimArgs{DeliveryID: d.ID, LockFor: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.record(c, &models.Attempt{Number: 1, Trigger: "scheduled", URL: "u"}, outcome{Status: models.StatusFailed})
	wantCode(t, err, models.CodeConflict)
	if _, err := f.record(c2, &models.Attempt{Number: 1, Trigger: "scheduled", URL: "u"}, outcome{Status: models.StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
	got, _ := f.store.GetDelivery(f.ctx, f.tenant.ID, d.ID)
	if got.Status != models.StatusSucceeded || len(got.Attempts) != 2 {
		t.Fatalf("delivery = %s with %d attempts, want succeeded with both attempts kept", got.Status, len(got.Attempts))
	}
}

func TestAuthenticate(t *testing.T) {
	f := setup(t)
	key, k, err := f.store.CreateAPIKey(f.ctx, &f.tenant.ID, "ci")
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.store.Authenticate(f.ctx, key)
	if err != nil || got.ID != k.ID || got.IsAdmin() {
		t.Fatalf("authenticate = %+v, %v", got, err)
	}
	if _, err := f.store.Authenticate(f.ctx, key+"x"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("wrong key: %v", err)
	}
	admin, err := f.store.EnsureAdminKey(f.ctx)
	if err != nil || admin == "" {
		t.Fatalf("first admin key = %q, %v", admin, err)
	}
	if again, _ := f.store.EnsureAdminKey(f.ctx); again != "" {
		t.Fatal("second EnsureAdminKey made another key")
	}
	a, err := f.store.Authenticate(f.ctx, admin)
	if err != nil || !a.IsAdmin() {
		t.Fatalf("admin key = %+v, %v", a, err)
	}
}

// TestLiveClaimIsNotReleased: a claim is released only once its lock has
// expired, on the store's clock.
func TestLiveClaimIsNotReleased(t *testing.T) {
	f := setup(t)
	now := time.Now().UTC()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f.store = models.NewStore(f.store.DB(), models.StoreOpts{NowFunc: clock})
	f.endpoint(t, "*")
	d := f.emit(t)
	if _, err := f.claim(claimArgs{DeliveryID: d.ID, LockFor: time.Minute}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(59 * time.Second)
	mu.Unlock()
	if released, err := f.store.ReleaseExpired(f.ctx, 10); err != nil || len(released) != 0 {
		t.Fatalf("a live claim was released: %+v, %v", released, err)
	}
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	if released, err := f.store.ReleaseExpired(f.ctx, 10); err != nil || len(released) != 1 {
		t.Fatalf("an expired claim: released %+v, %v", released, err)
	}
}

// TestOneClaimPerAttemptInABatch: two tasks for the same attempt claimed in
// one batch (a duplicate beside its original) get one claim between them.
func TestOneClaimPerAttemptInABatch(t *testing.T) {
	f := setup(t)
	f.endpoint(t, "*")
	d := f.emit(t)
	p := models.ClaimParams{DeliveryID: d.ID}
	cs, err := f.store.ClaimDeliveries(f.ctx, []models.ClaimParams{p, p}, models.ClaimOpts{LockFor: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if (cs[0] == nil) == (cs[1] == nil) {
		t.Fatalf("claims %v: want exactly one", cs)
	}
}

func TestBacklogAndInflight(t *testing.T) {
	f := setup(t)
	f.endpoint(t, "*")
	first, _ := f.emit(t), f.emit(t)
	time.Sleep(5 * time.Millisecond)
	if n, err := f.store.Backlog(f.ctx, time.Millisecond, 100); err != nil || n != 2 {
		t.Fatalf("two pending past due: %d, %v", n, err)
	}
	if n, _ := f.store.Backlog(f.ctx, time.Millisecond, 1); n != 1 {
		t.Fatalf("counted up to 1: %d", n)
	}
	if n, _ := f.store.Backlog(f.ctx, time.Hour, 100); n != 0 {
		t.Fatalf("none an hour past due: %d", n)
	}
	if _, err := f.claim(claimArgs{DeliveryID: first.ID, LockFor: time.Minute}); err != nil {
		t.Fatal(err)
	}
	inflight, err := f.store.CountInflight(f.ctx)
	if n, _ := f.store.Backlog(f.ctx, time.Millisecond, 100); err != nil || inflight != 1 || n != 1 {
		t.Fatalf("one claimed: inflight %d, overdue %d, %v", inflight, n, err)
	}
}

func TestSearch(t *testing.T) {
	f := setup(t)
	ep, err := f.store.CreateEndpoint(f.ctx, f.tenant.ID, models.EndpointParams{URL: ptr("https://Hooks.Example.com/in_100%25"), EventTypes: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	f.endpoint(t, "*") // https://example.com/hook
	msg, _, err := f.pipeline(t).Emit(f.ctx, models.EmitParams{TenantID: f.tenant.ID, EventType: "invoice.paid", Payload: []byte(`{}`), IdempotencyKey: "order-42"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		q                           string
		messages, deliveries, hooks int
		exact                       bool
	}{
		{msg.ID, 1, 0, 0, true},
		{msg.Deliveries[0].ID, 0, 1, 0, true},
		{ep.ID, 0, 0, 1, true},
		{"msg_nope", 0, 0, 0, false},
		{"order-42", 1, 0, 0, false},
		{"hooks.example", 0, 0, 1, false}, // case aside
		{"in_100%25", 0, 0, 1, false},     // _ and % are not wildcards
		{"s_example", 0, 0, 0, false},     // as a wildcard, _ would match the . of hooks.example
		{"example.com", 0, 0, 2, false},
		{"  ", 0, 0, 0, false},
	}
	for _, c := range cases {
		r, err := f.store.Search(f.ctx, c.q)
		if err != nil || len(r.Messages) != c.messages || len(r.Deliveries) != c.deliveries || len(r.Endpoints) != c.hooks || r.Exact != c.exact {
			t.Errorf("search %q: %d messages, %d deliveries, %d endpoints, exact %v, %v; want %d, %d, %d, %v",
				c.q, len(r.Messages), len(r.Deliveries), len(r.Endpoints), r.Exact, err, c.messages, c.deliveries, c.hooks, c.exact)
		}
	}
	_, err = f.store.Search(f.ctx, strings.Repeat("x", models.MaxSearchLength+1))
	wantCode(t, err, models.CodeInvalid)
}

func TestHourly(t *testing.T) {
	f := setup(t)
	ep := f.endpoint(t, "*")
	d := f.emit(t)
	f.emit(t)
	c, err := f.claim(claimArgs{DeliveryID: d.ID, LockFor: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.record(c, &models.Attempt{Number: 1, Trigger: models.TriggerScheduled, URL: ep.URL, DurationMS: 42, ResponseStatusCode: ptr(200)},
		outcome{Status: models.StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
	hours, err := f.store.Hourly(f.ctx, 24, "")
	if err != nil || len(hours) != 24 {
		t.Fatalf("%d hours, %v", len(hours), err)
	}
	now := hours[23]
	if now.Deliveries[models.StatusSucceeded] != 1 || now.Deliveries[models.StatusPending] != 1 || now.Percentile(0.5) != 50 || now.Percentile(0.95) != 50 {
		t.Fatalf("this hour: %+v, p50 %d", now, now.Percentile(0.5))
	}
	if hours[0].Deliveries.Total() != 0 || hours[0].Percentile(0.5) != -1 || !hours[23].Start.Equal(hours[0].Start.Add(23*time.Hour)) {
		t.Fatalf("23 hours ago: %+v", hours[0])
	}
	mine, err := f.store.Hourly(f.ctx, 6, ep.ID)
	if err != nil || mine[5].Deliveries.Total() != 2 {
		t.Fatalf("the endpoint's: %+v, %v", mine, err)
	}
	other, _ := f.store.Hourly(f.ctx, 6, "ep_other")
	if other[5].Deliveries.Total() != 0 {
		t.Fatalf("another endpoint's: %+v", other[5])
	}
}
