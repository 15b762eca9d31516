package dispatcher

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"hookd.dev/hookd/models"
)

// operational emits hookd's operational events (models.OpEndpointDisabled,
// …) to the operator's endpoints that subscribe to them: a message of the
// operator's tenant, written and enqueued like any other. Nothing is emitted
// about the operator's own endpoints (one that fails would otherwise feed
// itself), and a failure to emit is logged, never the caller's failure.
type operational struct {
	store opsStore // nil: nothing emitted
	queue Enqueuer // nil: the sweeper enqueues what is written
	log   *slog.Logger
}

// opsStore is what operational asks of the database; *models.Store is one.
type opsStore interface {
	Now() time.Time
	Subscribers(ctx context.Context, tx *gorm.DB, tenantID, eventType string) ([]models.Endpoint, error)
	WriteMessages(ctx context.Context, tx *gorm.DB, msgs []*models.Message) (created []bool, err error)
}

// operationalEvent is the payload of an operational message.
type operationalEvent struct {
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

// notify emits an event of type typ about the endpoint ep, with data
// besides the tenant's and endpoint's ids.
func (o operational) notify(ctx context.Context, typ string, ep *models.Endpoint, data map[string]any) {
	if o.store == nil || ep.TenantID == models.OperatorTenantID {
		return
	}
	ctx = context.WithoutCancel(ctx)
	endpoints, err := o.store.Subscribers(ctx, nil, models.OperatorTenantID, typ)
	if err != nil {
		o.log.Warn("operational event: find the operator's endpoints", "type", typ, "error", err)
		return
	}
	if len(endpoints) == 0 {
		return
	}
	event := operationalEvent{Type: typ, Timestamp: o.store.Now().Truncate(time.Millisecond), Data: map[string]any{
		"tenant_id": ep.TenantID, "endpoint_id": ep.ID, "endpoint_url": ep.URL,
	}}
	for k, v := range data {
		event.Data[k] = v
	}
	payload, err := json.Marshal(event)
	if err != nil {
		o.log.Warn("operational event: encode", "type", typ, "error", err)
		return
	}
	msg := newMessage(o.store.Now(), models.OperatorTenantID, typ, payload, models.TriggerScheduled, endpoints)
	if _, err := o.store.WriteMessages(ctx, nil, []*models.Message{msg}); err != nil {
		o.log.Warn("operational event: write", "type", typ, "endpoint_id", ep.ID, "error", err)
		return
	}
	if o.queue != nil {
		if err := o.queue.Enqueue(ctx, msg.Deliveries...); err != nil {
			o.log.Warn("operational event: enqueue; the sweeper will", "type", typ, "error", err)
		}
	}
}
