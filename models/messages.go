package models

import (
	"bytes"
	"context"
	"encoding/json"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// MaxPayloadBytes is the largest payload hookd accepts.
const MaxPayloadBytes = 256 << 10

// DefaultMaxPayloadDepth is how deeply a payload's objects and arrays may
// nest unless the operator says otherwise. Receivers' parsers have limits of
// their own: Ruby's JSON.parse refuses more than 100 levels by default, and
// Python's json.loads fails past about 1,000 (RecursionError), so a payload
// hookd accepts must be one every common receiver can read.
const DefaultMaxPayloadDepth = 100

// CheckPayloadDepth refuses a payload whose objects and arrays nest deeper
// than maxDepth. The payload must be valid JSON (ValidatePayload).
func CheckPayloadDepth(payload []byte, maxDepth int) error {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, b := range payload {
		switch {
		case escaped:
			escaped = false
		case inString:
			switch b {
			case '\\':
				escaped = true
			case '"':
				inString = false
			}
		case b == '"':
			inString = true
		case b == '{' || b == '[':
			depth++
			deepest = max(deepest, depth)
		case b == '}' || b == ']':
			depth--
		}
	}
	if deepest > maxDepth {
		return Errorf(CodeInvalid, "payload nests objects and arrays %d levels deep; at most %d are allowed, so that every receiver can parse it", deepest, maxDepth)
	}
	return nil
}

// EmitParams is one event to send to a tenant's endpoints.
type EmitParams struct {
	TenantID       string // the tenant's id (resolve a uid with GetTenant first)
	EventType      string
	Payload        []byte // a JSON object or array, stored and sent byte for byte
	IdempotencyKey string // optional: the same key again returns the first message
}

// Validate checks an emit's fields before anything is looked up or stored.
func (p EmitParams) Validate() error {
	if err := ValidatePayload(p.Payload); err != nil {
		return err
	}
	if len(p.IdempotencyKey) > 256 {
		return Errorf(CodeInvalid, "idempotency key must be at most 256 characters")
	}
	if err := checkText("idempotency key", p.IdempotencyKey); err != nil {
		return err
	}
	return checkText("event_type", p.EventType)
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

// PingEventType is the event type of test messages. It needs no registration.
const PingEventType = "hookd.ping"

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
