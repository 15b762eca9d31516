package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hookd.dev/hookd/dispatcher"
	"hookd.dev/hookd/models"
	"hookd.dev/hookd/models/storetest"
	"hookd.dev/hookd/web"
)

const adminKey = "hk_ui_admin_for_tests_0123456789abcdef"

type fakeQueue struct {
	mu  sync.Mutex
	ids []string
}

func (q *fakeQueue) Enqueue(_ context.Context, ds ...models.Delivery) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, d := range ds {
		q.ids = append(q.ids, d.ID)
	}
	return nil
}

// enqueued is what was enqueued so far.
func (q *fakeQueue) enqueued() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.ids)
}

type fixture struct {
	t        *testing.T
	srv      *httptest.Server
	store    *models.Store
	queue    *fakeQueue
	pipeline *dispatcher.Pipeline
	budget   *fakeBudget
	client   *http.Client
	tenant   *models.Tenant
	endpoint *models.Endpoint
	delivery models.Delivery // failed after one 500
	ctx      context.Context
}

func setup(t *testing.T) *fixture {
	t.Helper()
	t.Parallel()
	ctx := context.Background()
	db := storetest.New(t)
	store := models.NewStore(db.Gorm, models.StoreOpts{})
	q := &fakeQueue{}
	budget := &fakeBudget{}
	pipeline := dispatcher.NewPipeline(dispatcher.PipelineConfig{Store: store, Queue: q, ManualBudget: budget})
	t.Cleanup(pipeline.Close)
	ui, err := web.New(web.Config{Store: store, Pipeline: pipeline, AdminKey: adminKey, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	portal, err := web.NewPortal(web.PortalConfig{
		Store: store, Pipeline: pipeline, FrameAncestors: []string{"https://app.example"}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ui/", ui.Handler())
	mux.Handle("/ui", ui.Handler())
	mux.Handle("/portal/", portal.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	f := &fixture{t: t, srv: srv, store: store, queue: q, pipeline: pipeline, budget: budget, client: client, ctx: ctx}

	// A tenant, an endpoint, and a message whose delivery failed once for good.
	f.tenant, _ = store.CreateTenant(ctx, models.TenantParams{UID: ptr("acme"), Name: ptr("Acme")})
	if _, err := store.CreateEventType(ctx, models.EventTypeParams{Name: "invoice.paid"}); err != nil {
		t.Fatal(err)
	}
	f.endpoint, err = store.CreateEndpoint(ctx, f.tenant.ID, models.EndpointParams{URL: ptr("https://hooks.acme.example/in"), EventTypes: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	msg, _, err := pipeline.Emit(ctx, models.EmitParams{TenantID: f.tenant.ID, EventType: "invoice.paid", Payload: []byte(`{"id":"inv_42","amount":1200}`)})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := store.ClaimDeliveries(ctx, []models.ClaimParams{{DeliveryID: msg.Deliveries[0].ID}}, models.ClaimOpts{LockFor: time.Minute})
	if err != nil || claims[0] == nil {
		t.Fatalf("claim: %v", err)
	}
	results, err := store.RecordAttempts(ctx, []models.AttemptRecord{{Claim: claims[0], Status: models.StatusFailed, Attempt: &models.Attempt{
		Number: 1, Trigger: models.TriggerScheduled, URL: f.endpoint.URL, ResponseStatusCode: ptr(500),
		RequestHeaders:  map[string]string{"webhook-id": msg.ID, "content-type": "application/json"},
		ResponseHeaders: map[string]string{"content-type": "text/plain"}, ResponseBody: "database on fire", DurationMS: 42,
	}}})
	if err != nil || results[0] != nil {
		t.Fatalf("record: %v %v", err, results)
	}
	d, err := store.GetDelivery(ctx, f.tenant.ID, msg.Deliveries[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	f.delivery = *d
	// Tests count what the UI enqueues: forget the emit's, once it is in.
	for deadline := time.Now().Add(5 * time.Second); !slices.Contains(q.enqueued(), d.ID); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the emit's delivery was never enqueued")
		}
	}
	q.mu.Lock()
	q.ids = nil
	q.mu.Unlock()
	return f
}

func ptr[T any](v T) *T { return &v }

// get fetches a page and returns its status and body.
func (f *fixture) get(path string) (int, string) {
	f.t.Helper()
	resp, err := f.client.Get(f.srv.URL + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusSeeOther {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(b)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([0-9a-f]{32})"`)

// post submits a form; csrf "" sends none.
func (f *fixture) post(path, csrf string, form url.Values) (int, string) {
	f.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if csrf != "" {
		form.Set("csrf", csrf)
	}
	resp, err := f.client.PostForm(f.srv.URL+path, form)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusSeeOther {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(b)
}

// login logs in and returns the CSRF token of the session's forms.
func (f *fixture) login() string {
	f.t.Helper()
	_, page := f.get("/ui/login")
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		f.t.Fatalf("login form has no CSRF token:\n%s", page)
	}
	status, loc := f.post("/ui/login", m[1], url.Values{"key": {adminKey}})
	if status != http.StatusSeeOther || loc != "/ui" {
		f.t.Fatalf("login = %d %s", status, loc)
	}
	// The session's forms carry a token of their own, bound to the session.
	_, page = f.get("/ui")
	if m = csrfInput.FindStringSubmatch(page); m == nil {
		f.t.Fatalf("the overview has no CSRF token:\n%s", page)
	}
	return m[1]
}

func mustContain(t *testing.T, page string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

func TestPagesNeedASession(t *testing.T) {
	f := setup(t)
	for _, path := range []string{"/ui", "/ui/deliveries", "/ui/deliveries/" + f.delivery.ID, "/ui/messages", "/ui/endpoints"} {
		if status, loc := f.get(path); status != http.StatusSeeOther || loc != "/ui/login" {
			t.Errorf("%s without a session = %d %s, want a redirect to /ui/login", path, status, loc)
		}
	}
	_, page := f.get("/ui/login")
	csrf := csrfInput.FindStringSubmatch(page)[1]
	if status, _ := f.post("/ui/login", csrf, url.Values{"key": {"hk_wrong"}}); status != http.StatusUnauthorized {
		t.Fatalf("wrong key = %d, want 401", status)
	}
	tenantKey, _, _ := f.store.CreateAPIKey(f.ctx, &f.tenant.ID, "tenant")
	if status, _ := f.post("/ui/login", csrf, url.Values{"key": {tenantKey}}); status != http.StatusUnauthorized {
		t.Fatalf("a tenant key logged in: %d", status)
	}
	if status, _ := f.post("/ui/login", "", url.Values{"key": {adminKey}}); status != http.StatusForbidden {
		t.Fatalf("login without CSRF token = %d, want 403", status)
	}
	// An admin key from the database logs in too.
	dbKey, _, _ := f.store.CreateAPIKey(f.ctx, nil, "ops")
	if status, loc := f.post("/ui/login", csrf, url.Values{"key": {dbKey}}); status != http.StatusSeeOther || loc != "/ui" {
		t.Fatalf("database admin key = %d %s", status, loc)
	}
}

func TestFormsNeedTheCSRFToken(t *testing.T) {
	f := setup(t)
	csrf := f.login()
	for _, path := range []string{"/ui/deliveries/" + f.delivery.ID + "/retry", "/ui/endpoints/" + f.endpoint.ID + "/disable", "/ui/logout"} {
		if status, _ := f.post(path, "", nil); status != http.StatusForbidden {
			t.Errorf("POST %s without a token = %d, want 403", path, status)
		}
		if status, _ := f.post(path, strings.Repeat("0", 32), nil); status != http.StatusForbidden {
			t.Errorf("POST %s with a wrong token = %d, want 403", path, status)
		}
	}
	if len(f.queue.enqueued()) != 0 {
		t.Fatal("a refused form enqueued a retry")
	}
	ep, _ := f.store.GetEndpoint(f.ctx, f.tenant.ID, f.endpoint.ID)
	if !ep.Enabled {
		t.Fatal("a refused form disabled the endpoint")
	}
	if status, loc := f.post("/ui/logout", csrf, nil); status != http.StatusSeeOther || loc != "/ui/login" {
		t.Fatalf("logout = %d %s", status, loc)
	}
	if status, _ := f.get("/ui"); status != http.StatusSeeOther {
		t.Fatal("still logged in after logout")
	}
}

func TestPages(t *testing.T) {
	f := setup(t)
	f.login()
	d := f.delivery
	cases := []struct {
		path  string
		wants []string
	}{
		{"/ui", []string{"Last hour", "0.0%", "Queue backlog", "No endpoint is failing",
			`aria-label="Deliveries created each hour of the last 24, by outcome"`, `<rect class="failed"`, ": 1 failed</title>",
			`aria-label="Attempt latency each hour of the last 24: p50 and p95"`, "p50 ≤ 50 ms</title>"}},
		{"/ui/endpoints/" + f.endpoint.ID, []string{"https://hooks.acme.example/in", "Failing since", "Its deliveries →",
			`aria-label="Share of the endpoint&#39;s finished deliveries that succeeded`, ": 0% of 1</title>"}},
		{"/ui/messages", []string{d.MessageID, "invoice.paid"}},
		{"/ui/messages?tenant=acme&period=1h&event_type=invoice.paid", []string{d.MessageID}},
		{"/ui/messages/" + d.MessageID, []string{"&#34;amount&#34;: 1200", d.ID, "hooks.acme.example"}},
		{"/ui/deliveries", []string{d.ID, d.MessageID, "invoice.paid", "https://hooks.acme.example/in", `class="status failed"`, "500"}},
		{"/ui/deliveries?status=failed&tenant=" + f.tenant.ID + "&endpoint_id=" + f.endpoint.ID, []string{d.ID}},
		{"/ui/deliveries/" + d.ID, []string{"#1", "database on fire", "webhook-id", "42 ms", "Retry now…", "text/plain"}},
		{"/ui/deliveries/" + d.ID + "/retry", []string{"Retry delivery?", `action="/ui/deliveries/` + d.ID + `/retry"`}},
		{"/ui/endpoints", []string{f.endpoint.ID, "0.0%", "Disable…", "Resend failed…"}},
		{"/ui/endpoints/" + f.endpoint.ID + "/recover", []string{"Failed since", `name="since"`}},
	}
	for _, c := range cases {
		status, page := f.get(c.path)
		if status != http.StatusOK {
			t.Errorf("GET %s = %d", c.path, status)
			continue
		}
		mustContain(t, page, c.wants...)
	}
	// Filters that match nothing say so, and say what to do.
	_, page := f.get("/ui/deliveries?status=succeeded")
	mustContain(t, page, "No deliveries match")
	if status, _ := f.get("/ui/endpoints/ep_missing"); status != http.StatusNotFound {
		t.Errorf("unknown endpoint = %d", status)
	}
	if status, _ := f.get("/ui/deliveries/dlv_missing"); status != http.StatusNotFound {
		t.Errorf("unknown delivery = %d", status)
	}
	if status, _ := f.get("/ui/deliveries?tenant=nobody"); status != http.StatusNotFound {
		t.Errorf("unknown tenant filter = %d", status)
	}
}

func TestRetryAndEndpointActions(t *testing.T) {
	f := setup(t)
	csrf := f.login()
	status, loc := f.post("/ui/deliveries/"+f.delivery.ID+"/retry", csrf, nil)
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/deliveries/"+f.delivery.ID+"?") ||
		f.notice(loc) != "Retry queued: the new attempt appears below in a moment." {
		t.Fatalf("retry = %d %s", status, loc)
	}
	if ids := f.queue.enqueued(); len(ids) != 1 || ids[0] != f.delivery.ID {
		t.Fatalf("enqueued %v", ids)
	}
	_, page := f.get(loc)
	mustContain(t, page, "Retry queued", `class="status pending"`)

	ep := "/ui/endpoints/" + f.endpoint.ID
	if status, loc := f.post(ep+"/disable", csrf, nil); status != http.StatusSeeOther || f.notice(loc) != "Endpoint "+f.endpoint.ID+" disabled." {
		t.Fatalf("disable = %d %s", status, loc)
	}
	_, page = f.get("/ui/endpoints?tenant=" + f.tenant.ID)
	mustContain(t, page, "disabled through the API", "Enable…")
	_, page = f.get("/ui")
	mustContain(t, page, "Disabled endpoints", f.endpoint.ID)
	if status, loc := f.post(ep+"/enable", csrf, nil); status != http.StatusSeeOther || f.notice(loc) != "Endpoint "+f.endpoint.ID+" enabled." {
		t.Fatalf("enable = %d %s", status, loc)
	}

	// Recover resends the failed delivery (make it fail again first).
	if err := f.store.DB().Model(&models.Delivery{}).Where("id = ?", f.delivery.ID).Update("status", models.StatusFailed).Error; err != nil {
		t.Fatal(err)
	}
	if status, _ := f.post(ep+"/recover", csrf, url.Values{"since": {"yesterday"}}); status != http.StatusUnprocessableEntity {
		t.Fatalf("recover with a bad time = %d, want 422, as the API answers", status)
	}
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	status, loc = f.post(ep+"/recover", csrf, url.Values{"since": {since}})
	if status != http.StatusSeeOther || f.notice(loc) != "Resending 1 failed deliveries of "+f.endpoint.ID+"." {
		t.Fatalf("recover = %d %s", status, loc)
	}
	if ids := f.queue.enqueued(); len(ids) != 2 {
		t.Fatalf("enqueued %v after recover", ids)
	}
	if status, _ := f.post(ep+"/explode", csrf, nil); status != http.StatusNotFound {
		t.Fatalf("unknown action = %d", status)
	}
}

func TestRevokingTheKeyEndsItsSessions(t *testing.T) {
	f := setup(t)
	_, page := f.get("/ui/login")
	csrf := csrfInput.FindStringSubmatch(page)[1]
	key, k, err := f.store.CreateAPIKey(f.ctx, nil, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if status, loc := f.post("/ui/login", csrf, url.Values{"key": {key}}); status != http.StatusSeeOther || loc != "/ui" {
		t.Fatalf("login = %d %s", status, loc)
	}
	if status, _ := f.get("/ui"); status != http.StatusOK {
		t.Fatalf("logged in: GET /ui = %d", status)
	}
	if err := f.store.RevokeAdminKey(f.ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if status, loc := f.get("/ui"); status != http.StatusSeeOther || loc != "/ui/login" {
		t.Fatalf("after the key was revoked: GET /ui = %d %s, want a redirect to the login", status, loc)
	}
}

func TestEnvKeySessionsLastWhileTheKeyIsSet(t *testing.T) {
	f := setup(t)
	f.login() // with the UI's AdminKey, as HOOKD_ADMIN_KEY
	// The same database served with the same setting: still logged in.
	// Cookies ignore ports, so the client's session goes to each server.
	serve := func(key string) string {
		ui, err := web.New(web.Config{Store: f.store, Pipeline: f.pipeline, AdminKey: key, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(ui.Handler())
		t.Cleanup(srv.Close)
		return srv.URL
	}
	status := func(base string) int {
		resp, err := f.client.Get(base + "/ui")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(serve(adminKey)); got != http.StatusOK {
		t.Fatalf("same HOOKD_ADMIN_KEY: GET /ui = %d", got)
	}
	if got := status(serve("hk_another_admin_key_0123456789abcdefgh")); got != http.StatusSeeOther {
		t.Fatalf("HOOKD_ADMIN_KEY changed: GET /ui = %d, want a redirect to the login", got)
	}
	f.login()
	if got := status(serve("")); got != http.StatusSeeOther {
		t.Fatalf("HOOKD_ADMIN_KEY removed: GET /ui = %d, want a redirect to the login", got)
	}
}

// postRaw sends a POST as given, with the client's cookies.
func (f *fixture) postRaw(path string, form url.Values, header ...string) int {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestCSRFTokenIsBoundToTheSession(t *testing.T) {
	f := setup(t)
	csrf := f.login()
	disable := "/ui/endpoints/" + f.endpoint.ID + "/disable"

	// A sibling site that can set cookies for this host injects its own
	// CSRF cookie and sends the same value in the form.
	u, _ := url.Parse(f.srv.URL)
	injected := strings.Repeat("ab", 16)
	f.client.Jar.SetCookies(u, []*http.Cookie{{Name: "hookd_csrf", Value: injected, Path: "/ui"}})
	if status := f.postRaw(disable, url.Values{"csrf": {injected}}); status != http.StatusForbidden {
		t.Errorf("injected cookie and matching form = %d, want 403", status)
	}
	// The real token, but in the query string: refused.
	if status := f.postRaw(disable+"?csrf="+csrf, url.Values{}); status != http.StatusForbidden {
		t.Errorf("token in the query string = %d, want 403", status)
	}
	// The real token, from a page of another origin: refused.
	for _, h := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
		if status := f.postRaw(disable, url.Values{"csrf": {csrf}}, h...); status != http.StatusForbidden {
			t.Errorf("%s: %s = %d, want 403", h[0], h[1], status)
		}
	}
	if ep, _ := f.store.GetEndpoint(f.ctx, f.tenant.ID, f.endpoint.ID); !ep.Enabled {
		t.Fatal("a refused form disabled the endpoint")
	}

	// The session's own token works from the form body or the header.
	if status := f.postRaw(disable, url.Values{"csrf": {csrf}}, "Sec-Fetch-Site", "same-origin"); status != http.StatusSeeOther {
		t.Fatalf("the session's token in the form = %d, want 303", status)
	}
	if status := f.postRaw("/ui/endpoints/"+f.endpoint.ID+"/enable", url.Values{}, "X-CSRF-Token", csrf); status != http.StatusSeeOther {
		t.Fatalf("the session's token in the header = %d, want 303", status)
	}
	// A new session has a new token; the old one no longer fits.
	if status, _ := f.post("/ui/logout", csrf, nil); status != http.StatusSeeOther {
		t.Fatalf("logout = %d", status)
	}
	f.login()
	_, page := f.get("/ui/endpoints/" + f.endpoint.ID + "/disable")
	if fresh := csrfInput.FindStringSubmatch(page); fresh == nil || fresh[1] == csrf {
		t.Fatalf("the new session's token = %v, want a new one", fresh)
	}
	if status := f.postRaw(disable, url.Values{"csrf": {csrf}}); status != http.StatusForbidden {
		t.Errorf("the previous session's token = %d, want 403", status)
	}
}

func TestLoginFormRefusesOtherOrigins(t *testing.T) {
	f := setup(t)
	_, page := f.get("/ui/login")
	csrf := csrfInput.FindStringSubmatch(page)[1]
	form := url.Values{"csrf": {csrf}, "key": {adminKey}}
	if status := f.postRaw("/ui/login", form, "Sec-Fetch-Site", "cross-site"); status != http.StatusForbidden {
		t.Fatalf("cross-site login = %d, want 403", status)
	}
	if status := f.postRaw("/ui/login?key="+adminKey, url.Values{"csrf": {csrf}}); status != http.StatusUnauthorized {
		t.Fatalf("key in the query string = %d, want 401", status)
	}
	if status := f.postRaw("/ui/login", form); status != http.StatusSeeOther {
		t.Fatalf("login = %d, want 303", status)
	}
}

func TestWrongLoginsAreThrottled(t *testing.T) {
	f := setup(t)
	_, page := f.get("/ui/login")
	csrf := csrfInput.FindStringSubmatch(page)[1]
	for i := range 10 {
		if status := f.postRaw("/ui/login", url.Values{"csrf": {csrf}, "key": {"hk_wrong"}}); status != http.StatusUnauthorized {
			t.Fatalf("wrong key #%d = %d, want 401", i+1, status)
		}
	}
	login := func(key string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/ui/login",
			strings.NewReader(url.Values{"csrf": {csrf}, "key": {key}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", "203.0.113.9") // not trusted
		resp, err := f.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	resp, page := login("hk_wrong")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a wrong key after 10 = %d (Retry-After %q), want 429", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	mustContain(t, page, "Too many wrong keys", "Wait")
	// The address may be the app's too: a right key logs in.
	if resp, _ := login(adminKey); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the right key from the throttled address = %d, want 303", resp.StatusCode)
	}
	if status, _ := f.get("/ui"); status != http.StatusOK {
		t.Fatalf("after logging in from a throttled address: /ui = %d", status)
	}
}

// The header's search goes straight to what an id names, and lists what an
// idempotency key or part of a URL finds; what it was given comes back escaped.
func TestSearch(t *testing.T) {
	f := setup(t)
	f.login()
	d := f.delivery
	keyed, _, err := f.pipeline.Emit(f.ctx, models.EmitParams{TenantID: f.tenant.ID, EventType: "invoice.paid", Payload: []byte(`{}`), IdempotencyKey: "order-42"})
	if err != nil {
		t.Fatal(err)
	}
	for q, to := range map[string]string{
		d.MessageID:   "/ui/messages/" + d.MessageID,
		d.ID:          "/ui/deliveries/" + d.ID,
		f.endpoint.ID: "/ui/deliveries?endpoint_id=" + f.endpoint.ID,
	} {
		if status, loc := f.get("/ui/search?q=" + url.QueryEscape(q)); status != http.StatusSeeOther || loc != to {
			t.Errorf("search %s = %d %s, want a redirect to %s", q, status, loc, to)
		}
	}
	cases := map[string][]string{
		"order-42":           {keyed.ID, "order-42"},
		"acme.example":       {f.endpoint.ID, "https://hooks.acme.example/in"},
		"msg_nope":           {"Nothing matches “msg_nope”."},
		"<script>x</script>": {"Nothing matches “&lt;script&gt;x&lt;/script&gt;”."},
		"":                   {"Find a message, delivery or endpoint by its id"},
	}
	for q, wants := range cases {
		status, page := f.get("/ui/search?q=" + url.QueryEscape(q))
		if status != http.StatusOK {
			t.Errorf("search %q = %d", q, status)
			continue
		}
		mustContain(t, page, wants...)
		if strings.Contains(page, "<script>x") {
			t.Errorf("search %q: the query is not escaped", q)
		}
	}
	if status, _ := f.get("/ui/search?q=" + strings.Repeat("x", models.MaxSearchLength+1)); status != http.StatusUnprocessableEntity {
		t.Errorf("an over-long search = %d, want it refused", status)
	}
	if _, page := f.get("/ui/messages"); !strings.Contains(page, `action="/ui/search"`) {
		t.Error("the header has no search form")
	}
}

func TestReplayAndResend(t *testing.T) {
	f := setup(t)
	csrf := f.login()
	msgID, ep := f.delivery.MessageID, "/ui/endpoints/"+f.endpoint.ID
	deliveries := func() int {
		t.Helper()
		msg, err := f.store.GetMessage(f.ctx, f.tenant.ID, msgID)
		if err != nil {
			t.Fatal(err)
		}
		return len(msg.Deliveries)
	}

	mustContain(t, f.page(ep), `href="`+ep+`/replay"`, "Delivery options", "Envelope", "Retry schedule", "default")
	mustContain(t, f.page(ep+"/replay"), `action="`+ep+`/replay"`, `name="since"`, `name="until"`)
	if status, page := f.post(ep+"/replay", csrf, url.Values{"since": {""}}); status != http.StatusUnprocessableEntity || !strings.Contains(page, "since is required") {
		t.Fatalf("replay without since = %d\n%s", status, page)
	}
	if status, page := f.post(ep+"/replay", csrf, url.Values{"since": {"yesterday"}}); status != http.StatusUnprocessableEntity || !strings.Contains(page, "since must be a time") {
		t.Fatalf("replay with a bad time = %d\n%s", status, page)
	}
	hourAgo := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	status, loc := f.post(ep+"/replay", csrf, url.Values{"since": {hourAgo}})
	if status != http.StatusSeeOther || f.notice(loc) != "1 message replayed to "+f.endpoint.ID+"." {
		t.Fatalf("replay = %d %s", status, loc)
	}
	if n := deliveries(); n != 2 {
		t.Fatalf("after the replay the message has %d deliveries, want 2", n)
	}

	msg := "/ui/messages/" + msgID
	mustContain(t, f.page(msg), `href="`+msg+`/resend"`)
	mustContain(t, f.page(msg+"/resend"), `action="`+msg+`/resend"`, "all subscribed endpoints", `<option value="`+f.endpoint.ID+`"`)
	for _, to := range []string{"", f.endpoint.ID} {
		status, loc := f.post(msg+"/resend", csrf, url.Values{"endpoint_id": {to}})
		if status != http.StatusSeeOther || !strings.HasPrefix(loc, msg+"?") || f.notice(loc) != "Resent to 1 endpoint." {
			t.Fatalf("resend to %q = %d %s", to, status, loc)
		}
	}
	if n := deliveries(); n != 4 {
		t.Fatalf("after two resends the message has %d deliveries, want 4", n)
	}
	if got := f.queue.enqueued(); len(got) != 3 {
		t.Fatalf("enqueued %v, want the replay's and the resends' deliveries", got)
	}
	// A disabled endpoint is refused with the pipeline's reason.
	if status, _ := f.post(ep+"/disable", csrf, nil); status != http.StatusSeeOther {
		t.Fatalf("disable = %d", status)
	}
	if status, page := f.post(msg+"/resend", csrf, url.Values{"endpoint_id": {f.endpoint.ID}}); status != http.StatusConflict || !strings.Contains(page, "is disabled") {
		t.Fatalf("resend to a disabled endpoint = %d\n%s", status, page)
	}
	if status, _ := f.get("/ui/messages/msg_missing/resend"); status != http.StatusNotFound {
		t.Fatalf("resend page of an unknown message = %d", status)
	}
	if status, _ := f.post("/ui/messages/"+msgID+"/resend", "", nil); status != http.StatusForbidden {
		t.Fatalf("resend without the CSRF token = %d", status)
	}
	if n := deliveries(); n != 4 {
		t.Fatalf("refused resends made deliveries: %d", n)
	}
}
