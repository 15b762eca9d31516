package models_test

import (
	"strings"
	"testing"
	"time"

	"hookd.dev/hookd/models"
	"hookd.dev/hookd/models/storetest"
)

// A claim looks its deliveries up by id, however many are pending and
// whatever the statistics say: here 20,000 pending deliveries (a backlog
// after an outage) in a table never analyzed, which the planner takes for
// nearly empty. Scanning the pending ones instead costs the whole backlog
// for every batch of claims.
func TestClaimLooksDeliveriesUpByID(t *testing.T) {
	if storetest.Dialect() != "postgres" {
		t.Skip("plans are PostgreSQL's: set HOOKD_TEST_DATABASE_URL")
	}
	f := setup(t)
	ep := f.endpoint(t, "invoice.paid")
	now := time.Now().UTC()
	var ps []models.ClaimParams
	for range 40 {
		msgs := make([]*models.Message, 500)
		for i := range msgs {
			m := &models.Message{ID: models.NewID(models.PrefixMessage), TenantID: f.tenant.ID, EventType: "invoice.paid",
				Payload: models.RawJSON(`{}`), CreatedAt: now}
			m.Deliveries = []models.Delivery{{
				ID: models.NewID(models.PrefixDelivery), TenantID: f.tenant.ID, MessageID: m.ID, EndpointID: ep.ID,
				EventType: "invoice.paid", Status: models.StatusPending, NextAttemptAt: &now,
				NextTrigger: models.TriggerScheduled, CreatedAt: now, UpdatedAt: now,
			}}
			msgs[i] = m
		}
		if _, err := f.store.WriteMessages(f.ctx, nil, msgs); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, models.ClaimParams{DeliveryID: msgs[0].Deliveries[0].ID})
	}
	plan, err := models.ExplainClaim(f.ctx, f.store, ps[:20])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "deliveries_pkey") || strings.Contains(plan, "deliveries_pending_due") || strings.Contains(plan, "Seq Scan on deliveries") {
		t.Fatalf("the claim of 20 deliveries does not look them up by id:\n%s", plan)
	}
}
