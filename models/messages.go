package models

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// MaxPayloadBytes is the largest payload hookd accepts.
const MaxPayloadBytes = 256 << 10

// EmitParams is one event to send to a tenant's endpoints.
type EmitParams struct {
	TenantID       string // the tenant's id (resolve a uid with GetTenant first)
	EventType      string
	Payload        []byte // a JSON object or array, stored and sent byte for byte
	IdempotencyKey string // optional: the same key again returns the first message
}

// ValidatePayload checks that a payload is a JSON object or array within the size limit.
func ValidatePayload(payload []byte) error {
	if len(payload) > MaxPayloadBytes {
		return Errorf(CodeTooLarge, "payload is %d bytes; the limit is %d", len(payload), MaxPayloadBytes)
	}
	// json.Valid accepts bytes that are not UTF-8 inside strings; receivers
	// that verify or parse the body as text (standardwebhooks-js, svix,
	// Python's json) refuse them, so RFC 8259's UTF-8 is required here.
	// Escapes stay as they are: "\u0000" and lone surrogates like "\ud800"
	// are plain ASCII on the wire, valid JSON, and stored as sent.
	if !utf8.Valid(payload) {
		return Errorf(CodeInvalid, "payload must be UTF-8 encoded JSON (RFC 8259); it contains bytes that are not UTF-8")
	}
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 || (trimmed[0] != '{' && trimmed[0] != '[') || !json.Valid(trimmed) {
		return Errorf(CodeInvalid, "payload must be a JSON object or array")
	}
	return nil
}

// Emit stores a message and one pending delivery per enabled endpoint of the
// tenant that subscribes to its event type, in one transaction. created is
// false when the idempotency key named an earlier message, which is returned.
// The caller enqueues the deliveries after Emit returns.
func (s *Store) Emit(ctx context.Context, p EmitParams) (msg *Message, created bool, err error) {
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		msg, created, err = s.EmitTx(ctx, tx, p)
		return err
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) && p.IdempotencyKey != "" {
		// Lost a race with the same key: the winner's message is the answer.
		msg, err = s.messageByIdempotencyKey(ctx, s.db, p.TenantID, p.IdempotencyKey)
		return msg, false, err
	}
	return msg, created, err
}

// EmitTx is Emit inside the caller's transaction: the message and its
// deliveries commit or roll back with the caller's own writes.
func (s *Store) EmitTx(ctx context.Context, tx *gorm.DB, p EmitParams) (*Message, bool, error) {
	tx = tx.WithContext(ctx)
	if err := ValidatePayload(p.Payload); err != nil {
		return nil, false, err
	}
	if len(p.IdempotencyKey) > 256 {
		return nil, false, Errorf(CodeInvalid, "idempotency key must be at most 256 characters")
	}
	if err := checkText("idempotency key", p.IdempotencyKey); err != nil {
		return nil, false, err
	}
	if err := checkText("event_type", p.EventType); err != nil {
		return nil, false, err
	}
	if p.IdempotencyKey != "" {
		msg, err := s.messageByIdempotencyKey(ctx, tx, p.TenantID, p.IdempotencyKey)
		if err == nil {
			return msg, false, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, false, err
		}
	}
	var et EventType
	if err := tx.Take(&et, "name = ?", p.EventType).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, false, Errorf(CodeInvalid, "unknown event type %q: create it first (POST /v1/event-types)", p.EventType)
		}
		return nil, false, err
	}
	if et.ArchivedAt != nil {
		return nil, false, Errorf(CodeInvalid, "event type %q is archived", p.EventType)
	}
	if err := s.validateAgainst(&et, p.Payload); err != nil {
		return nil, false, err
	}

	t := s.now()
	msg := &Message{
		ID:        NewID(PrefixMessage),
		TenantID:  p.TenantID,
		EventType: p.EventType,
		Payload:   RawJSON(p.Payload),
		CreatedAt: t,
	}
	if p.IdempotencyKey != "" {
		msg.IdempotencyKey = &p.IdempotencyKey
	}
	if err := tx.Create(msg).Error; err != nil {
		return nil, false, fmt.Errorf("insert message: %w", err)
	}

	var endpoints []Endpoint
	if err := tx.Where("tenant_id = ? AND enabled", p.TenantID).Find(&endpoints).Error; err != nil {
		return nil, false, fmt.Errorf("load endpoints: %w", err)
	}
	msg.Deliveries = []Delivery{}
	for _, ep := range endpoints {
		if !ep.Subscribes(p.EventType) {
			continue
		}
		msg.Deliveries = append(msg.Deliveries, Delivery{
			ID:            NewID(PrefixDelivery),
			TenantID:      p.TenantID,
			MessageID:     msg.ID,
			EndpointID:    ep.ID,
			EventType:     p.EventType,
			Status:        StatusPending,
			NextAttemptAt: &t,
			NextTrigger:   TriggerScheduled,
			CreatedAt:     t,
			UpdatedAt:     t,
		})
	}
	// In id order, as GetMessage answers them.
	slices.SortFunc(msg.Deliveries, func(a, b Delivery) int { return strings.Compare(a.ID, b.ID) })
	if len(msg.Deliveries) > 0 {
		if err := tx.Create(&msg.Deliveries).Error; err != nil {
			return nil, false, fmt.Errorf("insert deliveries: %w", err)
		}
	}
	return msg, true, nil
}

// PingEventType is the event type of test messages. It needs no registration.
const PingEventType = "hookd.ping"

// SendTest stores a ping message with one delivery to one endpoint, whatever
// it subscribes to, so a tenant can check its receiver. The caller enqueues it.
func (s *Store) SendTest(ctx context.Context, tenantID, endpointID string) (*Message, error) {
	ep, err := s.GetEndpoint(ctx, tenantID, endpointID)
	if err != nil {
		return nil, err
	}
	if !ep.Enabled {
		return nil, Errorf(CodeConflict, "endpoint %s is disabled; enable it before testing it", ep.ID)
	}
	t := s.now()
	msg := &Message{ID: NewID(PrefixMessage), TenantID: tenantID, EventType: PingEventType, CreatedAt: t}
	payload, err := json.Marshal(map[string]string{"type": PingEventType, "endpoint_id": ep.ID, "sent_at": t.Format(time.RFC3339)})
	if err != nil {
		return nil, err
	}
	msg.Payload = RawJSON(payload)
	msg.Deliveries = []Delivery{{
		ID: NewID(PrefixDelivery), TenantID: tenantID, MessageID: msg.ID, EndpointID: ep.ID, EventType: PingEventType,
		Status: StatusPending, NextAttemptAt: &t, NextTrigger: TriggerManual, CreatedAt: t, UpdatedAt: t,
	}}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(msg).Error; err != nil {
			return err
		}
		return tx.Create(&msg.Deliveries).Error
	})
	if err != nil {
		return nil, fmt.Errorf("send test to %s: %w", ep.ID, err)
	}
	return msg, nil
}

func (s *Store) messageByIdempotencyKey(ctx context.Context, db *gorm.DB, tenantID, key string) (*Message, error) {
	var msg Message
	err := db.WithContext(ctx).Take(&msg, "tenant_id = ? AND idempotency_key = ?", tenantID, key).Error
	if err != nil {
		return nil, notFound(err, "no message with idempotency key %q", key)
	}
	return &msg, s.loadDeliveries(ctx, db, &msg)
}

func (s *Store) loadDeliveries(ctx context.Context, db *gorm.DB, msg *Message) error {
	msg.Deliveries = []Delivery{}
	return db.WithContext(ctx).Where("message_id = ?", msg.ID).Order("id").Find(&msg.Deliveries).Error
}

// GetMessage finds a tenant's message, with its deliveries. tenantID ""
// finds any tenant's, for the admin UI.
func (s *Store) GetMessage(ctx context.Context, tenantID, id string) (*Message, error) {
	var msg Message
	q := s.db.WithContext(ctx).Where("id = ?", id)
	if tenantID != "" {
		q = q.Where("tenant_id = ?", tenantID)
	}
	if err := q.Take(&msg).Error; err != nil {
		return nil, notFound(err, "message %q not found", id)
	}
	return &msg, s.loadDeliveries(ctx, s.db, &msg)
}

// MessageParams filters a list of messages.
type MessageParams struct {
	ListParams
	TenantID  string // "" lists every tenant's (admin UI)
	EventType string
	Since     time.Time // zero: no bound
	Until     time.Time
}

// ListMessages pages through a tenant's messages, newest first.
func (s *Store) ListMessages(ctx context.Context, p MessageParams) ([]Message, string, error) {
	q := s.db.Model(&Message{})
	if p.TenantID != "" {
		q = q.Where("tenant_id = ?", p.TenantID)
	}
	if p.EventType != "" {
		q = q.Where("event_type = ?", p.EventType)
	}
	q = timeRange(q, p.Since, p.Until)
	return page(ctx, q, p.ListParams, func(m *Message) string { return m.ID })
}

func timeRange(q *gorm.DB, since, until time.Time) *gorm.DB {
	if !since.IsZero() {
		q = q.Where("created_at >= ?", since.UTC())
	}
	if !until.IsZero() {
		q = q.Where("created_at < ?", until.UTC())
	}
	return q
}
