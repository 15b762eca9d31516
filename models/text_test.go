package models_test

import (
	"testing"

	"hookd.dev/hookd/models"
)

// TestStoreRefusesInvalidText: callers of the store (the SDK's Emitter, the
// UI) get the same refusals as the API, on both backends.
func TestStoreRefusesInvalidText(t *testing.T) {
	f := setup(t)
	emit := func(p models.EmitParams) error {
		p.TenantID = f.tenant.ID
		if p.EventType == "" {
			p.EventType = "invoice.paid"
		}
		if p.Payload == nil {
			p.Payload = []byte(`{}`)
		}
		_, _, err := f.pipeline(t).Emit(f.ctx, p)
		return err
	}
	wantCode(t, emit(models.EmitParams{Payload: []byte("{\"bad\":\"caf\xe9\"}")}), models.CodeInvalid)
	wantCode(t, emit(models.EmitParams{Payload: []byte("{\"a\":\"\x00\"}")}), models.CodeInvalid)
	wantCode(t, emit(models.EmitParams{IdempotencyKey: "k\x00"}), models.CodeInvalid)
	wantCode(t, emit(models.EmitParams{IdempotencyKey: "k\xff"}), models.CodeInvalid)
	wantCode(t, emit(models.EmitParams{EventType: "invoice.paid\x00"}), models.CodeInvalid)
	_, err := f.store.GetTenant(f.ctx, "acme\x00")
	wantCode(t, err, models.CodeNotFound)
	_, err = f.store.GetEventType(f.ctx, "invoice\xff")
	wantCode(t, err, models.CodeNotFound)
	_, err = f.store.CreateTenant(f.ctx, models.TenantParams{Name: ptr("caf\xe9")})
	wantCode(t, err, models.CodeInvalid)
	_, _, err = f.store.CreateAPIKey(f.ctx, &f.tenant.ID, "k\x00")
	wantCode(t, err, models.CodeInvalid)
	_, err = f.store.CreateEndpoint(f.ctx, f.tenant.ID, models.EndpointParams{
		URL: ptr("https://example.com/hook"), EventTypes: []string{"*"}, Description: ptr("\x00"),
	})
	wantCode(t, err, models.CodeInvalid)
	if err := emit(models.EmitParams{}); err != nil {
		t.Fatalf("a good emit after the bad ones: %v", err)
	}
	msgs, _, err := f.store.ListMessages(f.ctx, models.MessageParams{TenantID: f.tenant.ID})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("%d messages stored (%v), want the good one only", len(msgs), err)
	}
}
