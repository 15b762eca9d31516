package models_test

import (
	"testing"
	"time"

	"hookd.dev/hookd/models"
)

// The store writes the health changes the pipeline decides (its policy is
// tested in the dispatcher): a run of failures starts once, ends, and an
// endpoint is disabled with a reason.
func TestRecordWritesHealthChanges(t *testing.T) {
	f := setup(t)
	ep := f.endpoint(t, "*")
	record := func(h *models.HealthChange) *models.Endpoint {
		t.Helper()
		d := f.emit(t)
		c, err := f.claim(claimArgs{DeliveryID: d.ID, LockFor: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.record(c, &models.Attempt{Number: 1, Trigger: "scheduled", URL: "u"}, outcome{Status: models.StatusFailed, Health: h}); err != nil {
			t.Fatal(err)
		}
		got, err := f.store.GetEndpoint(f.ctx, f.tenant.ID, ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	first := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	later := first.Add(time.Hour)
	if got := record(&models.HealthChange{EndpointID: ep.ID, FailingSince: &first}); got.FailingSince == nil || !got.FailingSince.Equal(first) {
		t.Fatalf("after the first failure: failing since %v, want %v", got.FailingSince, first)
	}
	// Another writer that saw no run yet cannot move its start.
	if got := record(&models.HealthChange{EndpointID: ep.ID, FailingSince: &later}); !got.FailingSince.Equal(first) {
		t.Fatalf("the run's start moved to %v", got.FailingSince)
	}
	if got := record(&models.HealthChange{EndpointID: ep.ID}); got.FailingSince != nil || !got.Enabled {
		t.Fatalf("after a success: %+v", got)
	}
	if got := record(&models.HealthChange{EndpointID: ep.ID, Disable: "failing for long"}); got.Enabled || got.DisabledReason != "failing for long" {
		t.Fatalf("disabled: %+v", got)
	}
}

func TestParkedDeliveriesResumeWhenEnabled(t *testing.T) {
	f := setup(t)
	ep := f.endpoint(t, "*")
	d := f.emit(t)
	if _, err := f.store.UpdateEndpoint(f.ctx, f.tenant.ID, ep.ID, models.EndpointParams{Enabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	c, err := f.claim(claimArgs{DeliveryID: d.ID, LockFor: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.ParkClaim(f.ctx, c, "endpoint disabled"); err != nil {
		t.Fatal(err)
	}
	due := func() int {
		ds, err := f.store.DueDeliveries(f.ctx, models.DueParams{Before: time.Now().Add(time.Hour), Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return len(ds)
	}
	if n := due(); n != 0 {
		t.Fatalf("a parked delivery is due: %d", n)
	}
	if _, err := f.store.UpdateEndpoint(f.ctx, f.tenant.ID, ep.ID, models.EndpointParams{Enabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if n := due(); n != 1 {
		t.Fatalf("%d due after enabling, want the parked one", n)
	}
	got, _ := f.store.GetDelivery(f.ctx, f.tenant.ID, d.ID)
	if got.Status != models.StatusPending || got.AttemptCount != 0 {
		t.Fatalf("parked delivery %+v: no attempt may be used up", got)
	}
}

func TestPurge(t *testing.T) {
	f := setup(t)
	ep := f.endpoint(t, "*")
	old := time.Now().Add(-40 * 24 * time.Hour)
	db := f.store.DB()
	mk := func(at time.Time, status string) models.Message {
		t.Helper()
		m := models.Message{ID: models.NewIDAt(models.PrefixMessage, at), TenantID: f.tenant.ID, EventType: "invoice.paid", Payload: "{}", CreatedAt: at}
		d := models.Delivery{ID: models.NewIDAt(models.PrefixDelivery, at), TenantID: f.tenant.ID, MessageID: m.ID, EndpointID: ep.ID,
			EventType: "invoice.paid", Status: status, NextTrigger: "scheduled", CreatedAt: at, UpdatedAt: at}
		a := models.Attempt{ID: models.NewIDAt(models.PrefixAttempt, at), DeliveryID: d.ID, Number: 1, Trigger: "scheduled", URL: "u",
			RequestHeaders: map[string]string{}, ResponseHeaders: map[string]string{}, CreatedAt: at}
		for _, row := range []any{&m, &d, &a} {
			if err := db.Create(row).Error; err != nil {
				t.Fatal(err)
			}
		}
		return m
	}
	var oldDone []models.Message
	for range 3 {
		oldDone = append(oldDone, mk(old, models.StatusSucceeded))
	}
	oldPending := mk(old, models.StatusPending) // still owed to its endpoint: kept
	recent := mk(time.Now(), models.StatusSucceeded)

	var msgs, atts int64
	for {
		m, a, err := f.store.PurgeBatch(f.ctx, time.Now().Add(-30*24*time.Hour), 2)
		if err != nil {
			t.Fatal(err)
		}
		msgs, atts = msgs+m, atts+a
		if m == 0 && a == 0 {
			break
		}
	}
	if msgs != 3 {
		t.Fatalf("purged %d messages, want the 3 old finished ones", msgs)
	}
	for _, m := range oldDone {
		if _, err := f.store.GetMessage(f.ctx, "", m.ID); err == nil {
			t.Fatalf("old message %s survived", m.ID)
		}
	}
	for _, m := range []models.Message{oldPending, recent} {
		if _, err := f.store.GetMessage(f.ctx, "", m.ID); err != nil {
			t.Fatalf("message %s was purged: %v", m.ID, err)
		}
	}
	var left int64
	db.Model(&models.Attempt{}).Count(&left)
	if left != 1 { // the recent one; the pending message's old attempt is past retention too
		t.Fatalf("%d attempts left, want 1", left)
	}
}
