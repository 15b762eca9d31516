package models_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"hookd.dev/hookd/dispatcher"
	"hookd.dev/hookd/models"
)

// A purge keeps every message past the retention that is still owed to an
// endpoint: one whose delivery is in flight (a worker is sending it right
// now, or died holding it), as well as one still pending, even beside a
// finished delivery of the same message. Only messages whose deliveries
// have all finished go, through the Purger as through PurgeBatch.
func TestPurgeKeepsMessagesWithADeliveryInFlight(t *testing.T) {
	f := setup(t)
	ep := f.endpoint(t, "*")
	other := f.endpoint(t, "*")
	db := f.store.DB()
	old := time.Now().Add(-40 * 24 * time.Hour)
	lockedUntil := time.Now().Add(time.Minute)
	mk := func(statuses ...string) models.Message {
		t.Helper()
		m := models.Message{ID: models.NewIDAt(models.PrefixMessage, old), TenantID: f.tenant.ID, EventType: "invoice.paid", Payload: "{}", CreatedAt: old}
		if err := db.Create(&m).Error; err != nil {
			t.Fatal(err)
		}
		for i, status := range statuses {
			d := models.Delivery{ID: models.NewIDAt(models.PrefixDelivery, old), TenantID: f.tenant.ID, MessageID: m.ID,
				EndpointID: []string{ep.ID, other.ID}[i], EventType: "invoice.paid", Status: status, NextTrigger: "scheduled",
				CreatedAt: old, UpdatedAt: old}
			if status == models.StatusInflight {
				token := "tok_" + d.ID
				d.LockedUntil, d.LockToken = &lockedUntil, &token
			}
			if err := db.Create(&d).Error; err != nil {
				t.Fatal(err)
			}
		}
		return m
	}
	inflight := mk(models.StatusInflight)
	inflightBesideDone := mk(models.StatusSucceeded, models.StatusInflight)
	pending := mk(models.StatusPending)
	done := mk(models.StatusSucceeded, models.StatusFailed)

	purger := dispatcher.NewPurger(f.store, dispatcher.PurgerConfig{
		Retention: 30 * 24 * time.Hour, Batch: 1, Pause: time.Nanosecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	msgs, _, err := purger.Purge(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if msgs != 1 {
		t.Errorf("purged %d messages, want only the one whose deliveries have all finished", msgs)
	}
	if _, err := f.store.GetMessage(f.ctx, "", done.ID); err == nil {
		t.Errorf("the old finished message %s survived", done.ID)
	}
	for name, m := range map[string]models.Message{"in flight": inflight, "in flight beside a finished one": inflightBesideDone, "pending": pending} {
		got, err := f.store.GetMessage(f.ctx, "", m.ID)
		if err != nil {
			t.Errorf("the message with a delivery %s was purged: %v", name, err)
			continue
		}
		var open int64
		if err := db.Model(&models.Delivery{}).Where("message_id = ? AND status IN ?", got.ID,
			[]string{models.StatusPending, models.StatusInflight}).Count(&open).Error; err != nil {
			t.Fatal(err)
		}
		if open != 1 {
			t.Errorf("the message with a delivery %s kept %d open deliveries, want 1", name, open)
		}
	}
}
