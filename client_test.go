package hookd_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"hookd.dev/hookd"
)

func TestClientRoundTrip(t *testing.T) {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	if _, err := admin.CreateEventType(ctx, hookd.EventTypeParams{Name: "sdk.test"}); err != nil && !hookd.IsConflict(err) {
		t.Fatal(err)
	}
	uid := fmt.Sprintf("sdk-roundtrip-%d", time.Now().UnixNano()) // unique: the hookd of TestMain outlives -count runs
	ten, err := admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String(uid), Name: hookd.String("SDK")})
	if err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAPIKey(ctx, ten.ID, "test")
	if err != nil || key == "" {
		t.Fatalf("api key = %q, %v", key, err)
	}

	// The tenant's own key manages its endpoints and sees only its tenant.
	tenant := hookd.NewClient(hookdURL, key)
	ep, err := tenant.CreateEndpoint(ctx, uid, hookd.EndpointParams{
		URL: hookd.String("https://example.com/hook"), EventTypes: []string{"sdk.test"}, Enabled: hookd.Bool(false),
	})
	if err != nil || ep.Enabled {
		t.Fatalf("create endpoint = %+v, %v", ep, err)
	}
	secret, err := tenant.EndpointSecret(ctx, uid, ep.ID)
	if err != nil || len(secret) < 10 {
		t.Fatalf("secret = %q, %v", secret, err)
	}
	rotated, err := tenant.RotateEndpointSecret(ctx, uid, ep.ID, "")
	if err != nil || rotated == secret {
		t.Fatalf("rotate = %q, %v", rotated, err)
	}
	// hmac-sha256 carries one signature: the rotated key is staged, and the answer says until when.
	hmacEP, err := tenant.CreateEndpoint(ctx, uid, hookd.EndpointParams{
		URL: hookd.String("https://example.com/hmac"), EventTypes: []string{"*"}, SigningScheme: hookd.String("hmac-sha256"), Enabled: hookd.Bool(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	staged, err := tenant.RotateEndpointSecretInfo(ctx, uid, hmacEP.ID, "")
	if err != nil || staged.Key == "" || staged.ActiveFrom == nil || staged.PreviousKeyExpiresAt == nil || !staged.ActiveFrom.Equal(*staged.PreviousKeyExpiresAt) {
		t.Fatalf("rotate hmac-sha256 = %+v, %v", staged, err)
	}
	if info, err := tenant.EndpointSecretInfo(ctx, uid, hmacEP.ID); err != nil || info.Key != staged.Key || info.ActiveFrom == nil {
		t.Fatalf("secret info = %+v, %v", info, err)
	}
	if _, err := tenant.TestEndpoint(ctx, uid, ep.ID); !hookd.IsConflict(err) {
		t.Fatalf("testing a disabled endpoint: %v, want a conflict", err)
	}
	if n, err := tenant.RecoverEndpoint(ctx, uid, ep.ID, time.Now().Add(-time.Hour)); n != 0 || err != nil {
		t.Fatalf("recover = %d, %v", n, err)
	}
	if _, err := tenant.ListTenants(ctx, hookd.ListParams{}); statusOf(err) != 403 {
		t.Fatalf("tenant key listing tenants: %v, want 403", err)
	}

	raw := json.RawMessage(`{"b":2,  "a":1}`)
	msg, err := tenant.Emit(ctx, uid, "sdk.test", raw, &hookd.EmitOpts{IdempotencyKey: "once"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := tenant.Emit(ctx, uid, "sdk.test", raw, &hookd.EmitOpts{IdempotencyKey: "once"})
	if err != nil || again.ID != msg.ID {
		t.Fatalf("idempotent emit = %v, %v; want %s", again, err, msg.ID)
	}
	got, err := tenant.GetMessage(ctx, uid, msg.ID)
	// JSON answers are compacted; the keys keep their order (receivers get the exact bytes).
	if err != nil || string(got.Payload) != `{"b":2,"a":1}` {
		t.Fatalf("payload = %s, %v; want the emitted object, keys in order", got.Payload, err)
	}
	if len(got.Deliveries) != 0 {
		t.Fatalf("a disabled endpoint got %d deliveries", len(got.Deliveries))
	}

	_, err = tenant.Emit(ctx, uid, "no.such.type", map[string]int{}, nil)
	var apiErr *hookd.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 422 || apiErr.Code != "invalid" {
		t.Fatalf("unknown event type: %v, want a 422 invalid", err)
	}
	keys, err := admin.ListAPIKeys(ctx, uid, hookd.ListParams{})
	if err != nil || len(keys.Data) != 1 || !strings.HasPrefix(key, keys.Data[0].Prefix) {
		t.Fatalf("keys = %+v, %v", keys, err)
	}
	page, err := tenant.ListMessages(ctx, uid, hookd.ListParams{Limit: 10})
	if err != nil || len(page.Data) != 1 || page.NextCursor != "" {
		t.Fatalf("messages = %+v, %v", page, err)
	}
	if err := admin.RevokeAPIKey(ctx, uid, keys.Data[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := tenant.ListMessages(ctx, uid, hookd.ListParams{}); statusOf(err) != 401 {
		t.Fatalf("a revoked key: %v, want 401", err)
	}
}

func TestHookDoesNotEmitWhenFnFails(t *testing.T) {
	rec := &recordingEmitter{}
	boom := errors.New("boom")
	h := hookd.Hook(rec, "x.y", func(context.Context, int) (int, error) { return 0, boom })
	if _, err := h(context.Background(), "acme", 1); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	ok := hookd.Hook(rec, "x.y", func(_ context.Context, n int) (int, error) { return n * 2, nil })
	if v, err := ok(context.Background(), "acme", 21); v != 42 || err != nil {
		t.Fatalf("hook = %d, %v", v, err)
	}
	if len(rec.calls) != 1 || rec.calls[0] != "acme x.y 42" {
		t.Fatalf("emits = %v, want one for acme", rec.calls)
	}
}

type recordingEmitter struct{ calls []string }

func (r *recordingEmitter) Emit(_ context.Context, tenant, eventType string, payload any, _ *hookd.EmitOpts) (*hookd.Message, error) {
	r.calls = append(r.calls, tenant+" "+eventType+" "+jsonString(payload))
	return &hookd.Message{}, nil
}

func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }

func statusOf(err error) int {
	var e *hookd.Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

func TestClientEventTypes(t *testing.T) {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	name := fmt.Sprintf("sdk.types.%d", time.Now().UnixNano())
	if _, err := admin.CreateEventType(ctx, hookd.EventTypeParams{Name: name, Description: "first"}); err != nil {
		t.Fatal(err)
	}
	et, err := admin.UpdateEventType(ctx, name, hookd.EventTypeUpdate{
		Description: hookd.String("second"), Schema: json.RawMessage(`{"type":"object","required":["id"]}`),
	})
	if err != nil || et.Description != "second" || !strings.Contains(string(et.Schema), `"required"`) {
		t.Fatalf("update = %+v, %v", et, err)
	}
	if err := admin.ArchiveEventType(ctx, name); err != nil {
		t.Fatal(err)
	}
	got, err := admin.GetEventType(ctx, name)
	if err != nil || got.ArchivedAt == nil || got.Description != "second" {
		t.Fatalf("get after archive = %+v, %v", got, err)
	}
	got, err = admin.UpdateEventType(ctx, name, hookd.EventTypeUpdate{Archived: hookd.Bool(false), Schema: json.RawMessage("null")})
	if err != nil || got.ArchivedAt != nil || got.Schema != nil && string(got.Schema) != "null" {
		t.Fatalf("unarchive and drop the schema = %+v (schema %s), %v", got, got.Schema, err)
	}
	if _, err := admin.GetEventType(ctx, name+".missing"); !hookd.IsNotFound(err) {
		t.Fatalf("a missing event type: %v, want 404", err)
	}
}

func TestClientOperationalEndpoints(t *testing.T) {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	ep, err := admin.CreateOperationalEndpoint(ctx, hookd.EndpointParams{
		URL: hookd.String("https://ops.example.com/hookd"), EventTypes: []string{hookd.OpDeliveryFailed}, Enabled: hookd.Bool(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.DeleteOperationalEndpoint(ctx, ep.ID) })
	if _, err := admin.CreateOperationalEndpoint(ctx, hookd.EndpointParams{URL: hookd.String("https://ops.example.com/x"), EventTypes: []string{"invoice.paid"}}); statusOf(err) != 422 {
		t.Fatalf("a tenant's event type: %v, want 422", err)
	}
	page, err := admin.ListOperationalEndpoints(ctx, hookd.ListParams{})
	if err != nil || !slices.ContainsFunc(page.Data, func(e hookd.Endpoint) bool { return e.ID == ep.ID }) {
		t.Fatalf("list = %+v, %v", page, err)
	}
	got, err := admin.UpdateOperationalEndpoint(ctx, ep.ID, hookd.EndpointParams{EventTypes: []string{"*"}})
	if err != nil || len(got.EventTypes) != 1 || got.EventTypes[0] != "*" {
		t.Fatalf("update = %+v, %v", got, err)
	}
	if info, err := admin.OperationalEndpointSecretInfo(ctx, ep.ID); err != nil || !strings.HasPrefix(info.Key, "whsec_") {
		t.Fatalf("secret = %+v, %v", info, err)
	}
	rotated, err := admin.RotateOperationalEndpointSecret(ctx, ep.ID, "")
	if err != nil || !strings.HasPrefix(rotated.Key, "whsec_") {
		t.Fatalf("rotate = %+v, %v", rotated, err)
	}
	if info, err := admin.OperationalEndpointSecretInfo(ctx, ep.ID); err != nil || info.Key != rotated.Key {
		t.Fatalf("after the rotation the secret is %+v, %v; want the new one %s", info, err, rotated.Key)
	}
	if err := admin.DeleteOperationalEndpoint(ctx, ep.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.GetOperationalEndpoint(ctx, ep.ID); !hookd.IsNotFound(err) {
		t.Fatalf("after delete: %v", err)
	}
}
