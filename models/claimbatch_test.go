package models_test

import (
	"fmt"
	"testing"
	"time"

	"hookd.dev/hookd/models"
)

// In one batch of claims, tasks that find nothing to claim (a delivery held
// by another worker, a stale attempt count, an unknown id, a duplicate)
// come before and between live ones: each live task gets its own delivery,
// with its own message's payload, and the others get nothing.
func TestEachClaimOfABatchGetsItsOwnDeliveryAndPayload(t *testing.T) {
	f := setup(t)
	f.endpoint(t, "*")
	ds := make([]models.Delivery, 5)
	for i := range ds {
		msg, _, err := f.pipeline(t).Emit(f.ctx, models.EmitParams{
			TenantID: f.tenant.ID, EventType: "invoice.paid", Payload: []byte(fmt.Sprintf(`{"n":%d}`, i)),
		})
		if err != nil || len(msg.Deliveries) != 1 {
			t.Fatalf("emit %d: %v", i, err)
		}
		ds[i] = msg.Deliveries[0]
	}
	if _, err := f.claim(claimArgs{DeliveryID: ds[0].ID, LockFor: time.Minute}); err != nil {
		t.Fatal(err)
	}
	batch := []models.ClaimParams{
		{DeliveryID: ds[0].ID},                  // held by another worker
		{DeliveryID: ds[4].ID, AttemptCount: 3}, // stale: made for a later attempt
		{DeliveryID: "dlv_unknown"},             // no such delivery
		{DeliveryID: ds[3].ID},                  // live
		{DeliveryID: ds[3].ID},                  // duplicate of the one before
		{DeliveryID: ds[1].ID},                  // live
		{DeliveryID: ds[4].ID},                  // live, after its stale twin
		{DeliveryID: ds[2].ID},                  // live
	}
	want := []int{-1, -1, -1, 3, -1, 1, 4, 2} // index into ds of the claim, -1 for none
	claims, err := f.store.ClaimDeliveries(f.ctx, batch, models.ClaimOpts{LockFor: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) != len(batch) {
		t.Fatalf("%d claims for %d tasks", len(claims), len(batch))
	}
	for i, c := range claims {
		if want[i] < 0 {
			if c != nil {
				t.Errorf("task %d (%s): claimed %s, want nothing", i, batch[i].DeliveryID, c.Delivery.ID)
			}
			continue
		}
		d := ds[want[i]]
		switch {
		case c == nil:
			t.Errorf("task %d (%s): nothing claimed", i, d.ID)
		case c.Delivery.ID != d.ID || c.Delivery.MessageID != d.MessageID:
			t.Errorf("task %d: claimed %s of %s, want %s of %s", i, c.Delivery.ID, c.Delivery.MessageID, d.ID, d.MessageID)
		case string(c.Payload) != fmt.Sprintf(`{"n":%d}`, want[i]):
			t.Errorf("task %d (%s): payload %s, want its own message's {\"n\":%d}", i, d.ID, c.Payload, want[i])
		case c.Delivery.Status != models.StatusInflight:
			t.Errorf("task %d (%s): status %s, want inflight", i, d.ID, c.Delivery.Status)
		}
	}
}
