package models_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"hookd.dev/hookd/models"
	"hookd.dev/hookd/models/storetest"
)

// BenchmarkWriteMessages writes emit batches of several sizes, one message
// with one delivery each, one batch at a time: the cost of the emit
// statement by batch size (on PostgreSQL with HOOKD_TEST_DATABASE_URL).
func BenchmarkWriteMessages(b *testing.B) {
	db := storetest.New(b)
	s := models.NewStore(db.Gorm, models.StoreOpts{})
	ctx := context.Background()
	ten, err := s.CreateTenant(ctx, models.TenantParams{UID: ptr("acme"), Name: ptr("Acme")})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.CreateEventType(ctx, models.EventTypeParams{Name: "invoice.paid"}); err != nil {
		b.Fatal(err)
	}
	ep, err := s.CreateEndpoint(ctx, ten.ID, models.EndpointParams{URL: ptr("https://example.com/hook"), EventTypes: []string{"invoice.paid"}})
	if err != nil {
		b.Fatal(err)
	}
	payload := models.RawJSON(fmt.Sprintf(`{"pad":"%0900d"}`, 0))
	for _, size := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			for b.Loop() {
				msgs := make([]*models.Message, size)
				for i := range msgs {
					now := time.Now().UTC()
					m := &models.Message{ID: models.NewID(models.PrefixMessage), TenantID: ten.ID, EventType: "invoice.paid", Payload: payload, CreatedAt: now}
					m.Deliveries = []models.Delivery{{
						ID: models.NewID(models.PrefixDelivery), TenantID: ten.ID, MessageID: m.ID, EndpointID: ep.ID,
						EventType: "invoice.paid", Status: models.StatusPending, NextAttemptAt: &now,
						NextTrigger: models.TriggerScheduled, CreatedAt: now, UpdatedAt: now,
					}}
					msgs[i] = m
				}
				if _, err := s.WriteMessages(ctx, nil, msgs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*size), "µs/message")
		})
	}
}
