package api_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hookd.dev/hookd/api"
	"hookd.dev/hookd/dispatcher"
	"hookd.dev/hookd/models"
)

// A changed event-type schema applies to the next emit: at once through the
// process that changed it, and, through another process on the same
// database, once its HOOKD_CACHE_TTL has passed (within it, that process
// may still go by what it read, as the README says).
func TestAChangedSchemaAppliesToTheNextEmit(t *testing.T) {
	f := setup(t)
	const ttl = 50 * time.Millisecond
	elsewhere := f.otherProcess(ttl)
	f.call(adminKey, "POST", "/v1/event-types", `{"name":"order.placed","schema":{"type":"object","required":["id"],"properties":{"id":{"type":"string"}}}}`, 201)
	f.call(adminKey, "POST", "/v1/tenants/acme/endpoints", `{"url":"https://a.example/hook","event_types":["*"]}`, 201)
	const emit = `{"event_type":"order.placed","payload":{"id":"o_1"}}`
	f.call(adminKey, "POST", "/v1/tenants/acme/messages", emit, 201)
	elsewhere.call(adminKey, "POST", "/v1/tenants/acme/messages", emit, 201) // both processes now hold the schema

	// The same payload, refused by the new schema.
	f.call(adminKey, "PATCH", "/v1/event-types/order.placed", `{"schema":{"type":"object","required":["id"],"properties":{"id":{"type":"integer"}}}}`, 200)
	changed := time.Now()
	raw := f.call(adminKey, "POST", "/v1/tenants/acme/messages", emit, 422)
	if !strings.Contains(string(raw), "does not match the schema of order.placed") {
		t.Fatalf("refused with %s", raw)
	}
	f.call(adminKey, "POST", "/v1/tenants/acme/messages", `{"event_type":"order.placed","payload":{"id":1}}`, 201)

	for time.Since(changed) <= ttl {
		time.Sleep(5 * time.Millisecond)
	}
	elsewhere.call(adminKey, "POST", "/v1/tenants/acme/messages", emit, 422)
	elsewhere.call(adminKey, "POST", "/v1/tenants/acme/messages", `{"event_type":"order.placed","payload":{"id":2}}`, 201)

	// And back: the change that accepts it again applies as soon.
	f.call(adminKey, "PATCH", "/v1/event-types/order.placed", `{"schema":{"type":"object","required":["id"]}}`, 200)
	changed = time.Now()
	f.call(adminKey, "POST", "/v1/tenants/acme/messages", emit, 201)
	for time.Since(changed) <= ttl {
		time.Sleep(5 * time.Millisecond)
	}
	elsewhere.call(adminKey, "POST", "/v1/tenants/acme/messages", emit, 201)
}

// otherProcess is another hookd API on the fixture's database, with a
// store, a cache and a pipeline of its own, whose cache holds for ttl.
func (f *fixture) otherProcess(ttl time.Duration) *fixture {
	store := models.NewStore(f.db.Gorm, models.StoreOpts{CacheTTL: ttl})
	pipeline := dispatcher.NewPipeline(dispatcher.PipelineConfig{Store: store, Queue: f.queue})
	f.t.Cleanup(pipeline.Close)
	srv := httptest.NewServer(api.New(api.Config{
		Store: store, Pipeline: pipeline, AdminKey: adminKey, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}).Handler())
	f.t.Cleanup(srv.Close)
	other := *f
	other.srv, other.store = srv, store
	return &other
}
