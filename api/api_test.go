package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hookd.dev/hookd/api"
	"hookd.dev/hookd/dispatcher"
	"hookd.dev/hookd/models"
	"hookd.dev/hookd/models/storetest"
)

const adminKey = "hk_admin_for_tests_0123456789abcdefgh"

// fakeQueue records what the API enqueues; it can be made to fail like a Redis outage.
type fakeQueue struct {
	mu       sync.Mutex
	enqueued []string
	fail     bool
}

func (q *fakeQueue) Enqueue(_ context.Context, ds ...models.Delivery) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail {
		return errors.New("redis: connection refused")
	}
	for _, d := range ds {
		q.enqueued = append(q.enqueued, d.ID)
	}
	return nil
}

// ids are the deliveries enqueued so far.
func (q *fakeQueue) ids() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.enqueued)
}

func (q *fakeQueue) failing(fail bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.fail = fail
}

// settled returns what was enqueued once n deliveries were, or after 5 s:
// an emit answers before its enqueue ends.
func (q *fakeQueue) settled(n int) []string {
	for deadline := time.Now().Add(5 * time.Second); len(q.ids()) < n && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // for one too many to show
	return q.ids()
}

type fixture struct {
	t      *testing.T
	srv    *httptest.Server
	store  *models.Store
	db     *storetest.DB
	queue  *fakeQueue
	tenant string // tenant id of "acme"
	key    string // acme's own API key
}

func setup(t *testing.T) *fixture {
	t.Helper()
	t.Parallel()
	db := storetest.New(t)
	store := models.NewStore(db.Gorm, models.StoreOpts{})
	q := &fakeQueue{}
	pipeline := dispatcher.NewPipeline(dispatcher.PipelineConfig{Store: store, Queue: q})
	t.Cleanup(pipeline.Close)
	srv := httptest.NewServer(checkedAgainstSpec(t, api.New(api.Config{
		Store: store, Pipeline: pipeline, AdminKey: adminKey, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}).Handler()))
	t.Cleanup(srv.Close)
	f := &fixture{t: t, srv: srv, store: store, db: db, queue: q}
	f.call(adminKey, "POST", "/v1/event-types", `{"name":"invoice.paid"}`, 201)
	f.call(adminKey, "POST", "/v1/event-types", `{"name":"invoice.old"}`, 201)
	f.call(adminKey, "DELETE", "/v1/event-types/invoice.old", "", 204)
	var ten struct{ ID string }
	f.decode(f.call(adminKey, "POST", "/v1/tenants", `{"uid":"acme"}`, 201), &ten)
	f.tenant = ten.ID
	var key struct{ Key string }
	f.decode(f.call(adminKey, "POST", "/v1/tenants/acme/api-keys", `{"name":"ci"}`, 201), &key)
	f.key = key.Key
	return f
}

// call sends a request and checks the status; it returns the body.
func (f *fixture) call(key, method, path, body string, want int, header ...string) []byte {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		f.t.Fatalf("%s %s = %d %s, want %d", method, path, resp.StatusCode, raw, want)
	}
	return raw
}

func (f *fixture) decode(raw []byte, v any) {
	f.t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		f.t.Fatalf("decode %s: %v", raw, err)
	}
}

func (f *fixture) count(path string) int {
	var page struct{ Data []json.RawMessage }
	f.decode(f.call(adminKey, "GET", path, "", 200), &page)
	return len(page.Data)
}

// TestUnknownFieldsAreNamed: a member no field takes is refused with its
// name, as encoding/json matches members to fields (ignoring case).
func TestUnknownFieldsAreNamed(t *testing.T) {
	f := setup(t)
	var refused struct {
		Error struct{ Code, Message string }
	}
	f.decode(f.call(adminKey, "POST", "/v1/tenants/acme/endpoints", `{"url":"https://x.example","event_types":["*"],"timeout_ms":5}`, 422), &refused)
	if refused.Error.Code != "invalid" || refused.Error.Message != `unknown field "timeout_ms"` {
		t.Fatalf("error %+v, want invalid: unknown field \"timeout_ms\"", refused.Error)
	}
	f.decode(f.call(adminKey, "POST", "/v1/tenants/acme/messages", `{"Event_Type":"invoice.paid","payload":{},"Event":1}`, 422), &refused)
	if refused.Error.Message != `unknown field "Event"` {
		t.Fatalf("error %+v, want unknown field \"Event\"", refused.Error)
	}
	f.call(adminKey, "POST", "/v1/tenants/acme/endpoints", `{"URL":"https://x.example","Event_Types":["*"]}`, 201)
}

func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	f := setup(t)
	big := `{"event_type":"invoice.paid","payload":{"x":"` + strings.Repeat("a", models.MaxPayloadBytes) + `"}}`
	huge := strings.Repeat(" ", 2<<20) + "{}"
	other := "ten_01hzzzzzzzzzzzzzzzzzzzzzzz"
	cases := []struct {
		name, key, method, path, body string
		status                        int
		code                          string
	}{
		{"malformed JSON", adminKey, "POST", "/v1/tenants/acme/messages", `{"event_type":`, 400, "bad_request"},
		{"not an object", adminKey, "POST", "/v1/tenants/acme/messages", `[1]`, 400, "bad_request"},
		{"empty body", adminKey, "POST", "/v1/tenants/acme/endpoints", ``, 400, "bad_request"},
		{"missing event type", adminKey, "POST", "/v1/tenants/acme/messages", `{"payload":{}}`, 422, "invalid"},
		{"missing payload", adminKey, "POST", "/v1/tenants/acme/messages", `{"event_type":"invoice.paid"}`, 422, "invalid"},
		{"unknown event type", adminKey, "POST", "/v1/tenants/acme/messages", `{"event_type":"nope","payload":{}}`, 422, "invalid"},
		{"archived event type", adminKey, "POST", "/v1/tenants/acme/messages", `{"event_type":"invoice.old","payload":{}}`, 422, "invalid"},
		{"payload a string", adminKey, "POST", "/v1/tenants/acme/messages", `{"event_type":"invoice.paid","payload":"hi"}`, 422, "invalid"},
		{"payload a number", adminKey, "POST", "/v1/tenants/acme/messages", `{"event_type":"invoice.paid","payload":42}`, 422, "invalid"},
		{"payload over 256 KiB", adminKey, "POST", "/v1/tenants/acme/messages", big, 413, "payload_too_large"},
		{"body over the limit", adminKey, "POST", "/v1/tenants/acme/messages", huge, 413, "payload_too_large"},
		{"unknown field", adminKey, "POST", "/v1/tenants/acme/messages", `{"event":"invoice.paid","payload":{}}`, 422, "invalid"},
		{"wrong field type", adminKey, "POST", "/v1/tenants/acme/endpoints", `{"url":1,"event_types":["*"]}`, 422, "invalid"},
		{"unknown tenant", adminKey, "POST", "/v1/tenants/nobody/messages", `{"event_type":"invoice.paid","payload":{}}`, 404, "not_found"},
		{"relative endpoint URL", adminKey, "POST", "/v1/tenants/acme/endpoints", `{"url":"/hook","event_types":["*"]}`, 422, "invalid"},
		{"ftp endpoint URL", adminKey, "POST", "/v1/tenants/acme/endpoints", `{"url":"ftp://x.example","event_types":["*"]}`, 422, "invalid"},
		{"endpoint without event types", adminKey, "POST", "/v1/tenants/acme/endpoints", `{"url":"https://x.example"}`, 422, "invalid"},
		{"endpoint with a bad secret", adminKey, "POST", "/v1/tenants/acme/endpoints", `{"url":"https://x.example","event_types":["*"],"secret":"hunter2"}`, 422, "invalid"},
		{"no key", "", "GET", "/v1/tenants/acme/messages", ``, 401, "unauthorized"},
		{"wrong key", "hk_wrong", "GET", "/v1/tenants/acme/messages", ``, 401, "unauthorized"},
		{"tenant key on another tenant", "TENANT", "GET", "/v1/tenants/" + other + "/messages", ``, 404, "not_found"},
		{"tenant key on an admin route", "TENANT", "POST", "/v1/tenants", `{}`, 403, "forbidden"},
		{"limit too high", adminKey, "GET", "/v1/tenants/acme/deliveries?limit=251", ``, 422, "invalid"},
		{"limit not a number", adminKey, "GET", "/v1/tenants/acme/deliveries?limit=ten", ``, 422, "invalid"},
		{"unknown status", adminKey, "GET", "/v1/tenants/acme/deliveries?status=lost", ``, 422, "invalid"},
		{"bad time", adminKey, "GET", "/v1/tenants/acme/messages?since=yesterday", ``, 422, "invalid"},
		{"unknown route", adminKey, "GET", "/v1/nothing", ``, 404, "not_found"},
		{"duplicate uid", adminKey, "POST", "/v1/tenants", `{"uid":"acme"}`, 409, "conflict"},
	}
	// Another tenant exists, so that a tenant key's 404 is about ownership.
	f.call(adminKey, "POST", "/v1/tenants", `{"uid":"other"}`, 201)
	var otherTenant struct{ ID string }
	f.decode(f.call(adminKey, "GET", "/v1/tenants/other", "", 200), &otherTenant)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key, path := c.key, c.path
			if key == "TENANT" {
				key = f.key
			}
			path = strings.Replace(path, other, otherTenant.ID, 1)
			req, _ := http.NewRequest(c.method, f.srv.URL+path, strings.NewReader(c.body))
			if key != "" {
				req.Header.Set("Authorization", "Bearer "+key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Error struct{ Code, Message string }
			}
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != c.status || body.Error.Code != c.code || body.Error.Message == "" {
				t.Fatalf("= %d %+v, want %d %s with a message", resp.StatusCode, body.Error, c.status, c.code)
			}
		})
	}
	if n := f.count("/v1/tenants/acme/messages"); n != 0 {
		t.Fatalf("bad input stored %d messages", n)
	}
	if n := f.count("/v1/tenants/acme/endpoints"); n != 0 {
		t.Fatalf("bad input stored %d endpoints", n)
	}
	if n := f.count("/v1/tenants"); n != 2 {
		t.Fatalf("%d tenants, want 2", n)
	}
}

func TestEmitEnqueuesOnceAndIsIdempotent(t *testing.T) {
	f := setup(t)
	f.call(f.key, "POST", "/v1/tenants/acme/endpoints", `{"url":"https://a.example/hook","event_types":["invoice.paid"]}`, 201)
	f.call(f.key, "POST", "/v1/tenants/acme/endpoints", `{"url":"https://b.example/hook","event_types":["*"]}`, 201)
	body := `{"event_type":"invoice.paid","payload":{"id":"inv_1"}}`
	var first, second struct {
		ID         string
		Deliveries []struct{ ID, Status string }
	}
	f.decode(f.call(f.key, "POST", "/v1/tenants/acme/messages", body, 201, "Idempotency-Key", "k-1"), &first)
	f.decode(f.call(f.key, "POST", "/v1/tenants/"+f.tenant+"/messages", body, 200, "Idempotency-Key", "k-1"), &second)
	if first.ID != second.ID || len(first.Deliveries) != 2 {
		t.Fatalf("first %+v, second %+v", first, second)
	}
	if ids := f.queue.settled(2); len(ids) != 2 {
		t.Fatalf("enqueued %v, want the two deliveries once", ids)
	}
	f.call(f.key, "POST", "/v1/tenants/acme/messages", body, 201, "Idempotency-Key", "k-2")
	if n := f.count("/v1/tenants/acme/messages"); n != 2 {
		t.Fatalf("%d messages, want 2", n)
	}
	if n := f.count("/v1/tenants/acme/deliveries?status=pending"); n != 4 {
		t.Fatalf("%d pending deliveries, want 4", n)
	}
}

func TestEmitSucceedsWhileTheQueueIsDown(t *testing.T) {
	f := setup(t)
	f.call(adminKey, "POST", "/v1/tenants/acme/endpoints", `{"url":"https://a.example/hook","event_types":["*"]}`, 201)
	f.queue.failing(true)
	// The sweeper enqueues it once Redis is back; the message is kept.
	f.call(adminKey, "POST", "/v1/tenants/acme/messages", `{"event_type":"invoice.paid","payload":{}}`, 201)
	if n := f.count("/v1/tenants/acme/deliveries?status=pending"); n != 1 {
		t.Fatalf("%d pending deliveries, want 1", n)
	}
}

func TestDatabaseDownAnswers503(t *testing.T) {
	f := setup(t)
	sqlDB, _ := f.db.Gorm.DB()
	_ = sqlDB.Close()
	raw := f.call(adminKey, "POST", "/v1/tenants/"+f.tenant+"/messages", `{"event_type":"invoice.paid","payload":{}}`, 503)
	if strings.Contains(string(raw), "sql") {
		t.Fatalf("503 leaks an internal detail: %s", raw)
	}
	f.call("", "GET", "/readyz", "", 503)
	f.call("", "GET", "/healthz", "", 200)
}

func TestEndpointLifecycle(t *testing.T) {
	f := setup(t)
	var ep struct {
		ID         string
		Enabled    bool
		EventTypes []string `json:"event_types"`
		Secret     string
	}
	f.decode(f.call(f.key, "POST", "/v1/tenants/acme/endpoints", `{"url":"https://a.example/hook","event_types":["invoice.paid"],"description":"billing"}`, 201), &ep)
	if !ep.Enabled || ep.Secret != "" {
		t.Fatalf("created endpoint %+v (the secret must not be in it)", ep)
	}
	var secret struct{ Key string }
	f.decode(f.call(f.key, "GET", "/v1/tenants/acme/endpoints/"+ep.ID+"/secret", "", 200), &secret)
	if !strings.HasPrefix(secret.Key, "whsec_") {
		t.Fatalf("secret %q", secret.Key)
	}
	f.decode(f.call(f.key, "PATCH", "/v1/tenants/acme/endpoints/"+ep.ID, `{"enabled":false,"event_types":["*"]}`, 200), &ep)
	if ep.Enabled || ep.EventTypes[0] != "*" {
		t.Fatalf("patched endpoint %+v", ep)
	}
	f.call(f.key, "DELETE", "/v1/tenants/acme/endpoints/"+ep.ID, "", 204)
	f.call(f.key, "GET", "/v1/tenants/acme/endpoints/"+ep.ID, "", 404)
}

func TestRetryDelivery(t *testing.T) {
	f := setup(t)
	f.call(adminKey, "POST", "/v1/tenants/acme/endpoints", `{"url":"https://a.example/hook","event_types":["*"]}`, 201)
	var msg struct {
		Deliveries []struct{ ID string }
	}
	f.decode(f.call(adminKey, "POST", "/v1/tenants/acme/messages", `{"event_type":"invoice.paid","payload":{}}`, 201), &msg)
	id := msg.Deliveries[0].ID
	f.call(f.key, "POST", "/v1/tenants/acme/deliveries/"+id+"/retry", "", 202)
	if ids := f.queue.settled(2); len(ids) != 2 || ids[1] != id {
		t.Fatalf("enqueued %v, want the delivery again", ids)
	}
	f.call(f.key, "POST", "/v1/tenants/acme/deliveries/dlv_nope/retry", "", 404)
}

func TestAPIKeysListAndRevoke(t *testing.T) {
	f := setup(t)
	var page struct {
		Data []struct {
			ID        string  `json:"id"`
			Prefix    string  `json:"prefix"`
			RevokedAt *string `json:"revoked_at"`
			Hash      string  `json:"hash"`
		} `json:"data"`
	}
	f.decode(f.call(adminKey, "GET", "/v1/tenants/acme/api-keys", "", 200), &page)
	if len(page.Data) != 1 || page.Data[0].Hash != "" || !strings.HasPrefix(f.key, page.Data[0].Prefix) {
		t.Fatalf("keys = %+v", page.Data)
	}
	f.call(f.key, "GET", "/v1/tenants/acme/api-keys", "", 403) // a tenant key cannot manage keys
	f.call(f.key, "GET", "/v1/tenants/acme/endpoints", "", 200)
	f.call(adminKey, "DELETE", "/v1/tenants/acme/api-keys/"+page.Data[0].ID, "", 204)
	f.call(f.key, "GET", "/v1/tenants/acme/endpoints", "", 401)
	f.call(adminKey, "DELETE", "/v1/tenants/acme/api-keys/"+page.Data[0].ID, "", 404)
}

func TestEventTypeSchema(t *testing.T) {
	f := setup(t)
	f.call(adminKey, "POST", "/v1/event-types", `{"name":"bad.schema","schema":{"type":"nonsense"}}`, 422)
	f.call(adminKey, "POST", "/v1/event-types", `{"name":"order.placed","schema":{"type":"object","required":["id"],"properties":{"id":{"type":"string"},"amount":{"type":"integer","minimum":0}}}}`, 201)
	var et struct{ Schema map[string]any }
	f.decode(f.call(adminKey, "GET", "/v1/event-types/order.placed", "", 200), &et)
	if et.Schema["type"] != "object" {
		t.Fatalf("schema read back as %v", et.Schema)
	}
	f.call(adminKey, "POST", "/v1/tenants/acme/endpoints", `{"url":"https://a.example/hook","event_types":["*"]}`, 201)
	raw := f.call(adminKey, "POST", "/v1/tenants/acme/messages", `{"event_type":"order.placed","payload":{"amount":-1}}`, 422)
	if !strings.Contains(string(raw), "does not match the schema of order.placed") {
		t.Fatalf("error %s", raw)
	}
	f.call(adminKey, "POST", "/v1/tenants/acme/messages", `{"event_type":"order.placed","payload":{"id":"o_1","amount":5}}`, 201)
	// Removing the schema accepts any payload again.
	f.call(adminKey, "PATCH", "/v1/event-types/order.placed", `{"schema":null}`, 200)
	f.call(adminKey, "POST", "/v1/tenants/acme/messages", `{"event_type":"order.placed","payload":{"amount":-1}}`, 201)
	if n := f.count("/v1/tenants/acme/messages"); n != 2 {
		t.Fatalf("%d messages stored, want the 2 accepted", n)
	}
}
