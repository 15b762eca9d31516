package models

import (
	"time"
)

// Delivery statuses.
const (
	StatusPending   = "pending"   // waiting for its next attempt (next_attempt_at)
	StatusInflight  = "inflight"  // claimed by a worker until locked_until
	StatusSucceeded = "succeeded" // a 2xx was received
	StatusFailed    = "failed"    // the schedule is exhausted, or the endpoint is gone or disabled
)

// Attempt triggers.
const (
	TriggerScheduled = "scheduled"
	TriggerManual    = "manual"
)

// Signing schemes.
const (
	SchemeStandard = "standard"    // Standard Webhooks v1: HMAC-SHA256, webhook-signature
	SchemeEd25519  = "ed25519"     // Standard Webhooks v1a: ed25519, webhook-signature
	SchemeHMAC     = "hmac-sha256" // hex HMAC-SHA256 of the body in a named header (GitHub style)
	SchemeToken    = "token"       // the secret itself in a named header
)

// AllEventTypes subscribes an endpoint to every event type.
const AllEventTypes = "*"

// RawJSON is JSON stored and sent byte for byte as it was received: payloads
// are signed, so they are never decoded and re-encoded.
type RawJSON string

// MarshalJSON writes the stored bytes unchanged.
func (r RawJSON) MarshalJSON() ([]byte, error) {
	if r == "" {
		return []byte("null"), nil
	}
	return []byte(r), nil
}

// Tenant owns endpoints and receives messages: one of the app's customers.
type Tenant struct {
	ID        string    `json:"id" gorm:"primaryKey"`
	UID       *string   `json:"uid" gorm:"column:uid"` // the app's own key for this tenant
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// APIKey authenticates a caller. The key itself is never stored, only its hash.
type APIKey struct {
	ID         string     `json:"id" gorm:"primaryKey"`
	TenantID   *string    `json:"tenant_id"` // nil: an admin key
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Hash       string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// IsAdmin reports whether the key may act on every tenant.
func (k *APIKey) IsAdmin() bool { return k.TenantID == nil }

// EventType is a kind of message (invoice.paid) that endpoints subscribe to.
type EventType struct {
	Name        string     `json:"name" gorm:"primaryKey"`
	Description string     `json:"description"`
	Schema      *RawJSON   `json:"schema"` // a JSON Schema that payloads must match, or nil
	ArchivedAt  *time.Time `json:"archived_at"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// Endpoint is a tenant's callback URL and what it subscribes to.
type Endpoint struct {
	ID             string   `json:"id" gorm:"primaryKey"`
	TenantID       string   `json:"tenant_id"`
	URL            string   `json:"url" gorm:"column:url"`
	Description    string   `json:"description"`
	EventTypes     []string `json:"event_types" gorm:"serializer:json"`
	Enabled        bool     `json:"enabled"`
	DisabledReason string   `json:"disabled_reason"`
	Secret         string   `json:"-"`
	// SigningScheme is how requests are signed: standard, ed25519, hmac-sha256 or token.
	SigningScheme string `json:"signing_scheme"`
	// SignatureHeader and SignaturePrefix place the signature (hmac-sha256) or
	// the secret (token) in a header of the tenant's choice.
	SignatureHeader string `json:"signature_header,omitempty"`
	SignaturePrefix string `json:"signature_prefix,omitempty"`
	// PreviousSecret is the secret before the last rotation. It signs until
	// PreviousSecretExpiresAt: beside Secret in the Standard Webhooks schemes,
	// instead of it in hmac-sha256 and token (see SigningSecrets).
	PreviousSecret          *string    `json:"-"`
	PreviousSecretExpiresAt *time.Time `json:"-"`
	// MaxConcurrency bounds attempts in flight to this endpoint across all workers (nil: the worker default).
	MaxConcurrency *int `json:"max_concurrency"`
	// RateLimit bounds attempts per second to this endpoint across all workers (nil: none).
	RateLimit *int `json:"rate_limit"`
	// FailingSince is when the current run of failed attempts began (nil: the last attempt succeeded).
	FailingSince *time.Time `json:"failing_since"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

// SigningSecrets returns the secrets to sign with at a moment. The Standard
// Webhooks schemes send a list of signatures: the current secret's, and the
// previous one's while its grace period lasts, so that receivers holding
// either verify. hmac-sha256 and token send one value, which a receiver
// compares with the one secret it holds: there a rotation stages the new
// secret, the previous one keeps signing alone until the grace period ends,
// and then the new one takes over. Receivers switch at any time in between
// by accepting both.
func (e *Endpoint) SigningSecrets(at time.Time) []string {
	inGrace := e.PreviousSecret != nil && e.PreviousSecretExpiresAt != nil && at.Before(*e.PreviousSecretExpiresAt)
	switch {
	case e.SingleSignature() && inGrace:
		return []string{*e.PreviousSecret}
	case inGrace:
		return []string{e.Secret, *e.PreviousSecret}
	}
	return []string{e.Secret}
}

// SingleSignature reports whether the endpoint's scheme carries one
// signature (hmac-sha256, token), so that rotations are staged.
func (e *Endpoint) SingleSignature() bool {
	return e.SigningScheme == SchemeHMAC || e.SigningScheme == SchemeToken
}

// KeyActiveFrom returns when Secret starts signing, if it does not yet at
// the moment given: a staged rotation of a single-signature scheme.
func (e *Endpoint) KeyActiveFrom(at time.Time) *time.Time {
	if e.SingleSignature() && e.PreviousSecret != nil && e.PreviousSecretExpiresAt != nil && at.Before(*e.PreviousSecretExpiresAt) {
		return e.PreviousSecretExpiresAt
	}
	return nil
}

// Subscribes reports whether the endpoint wants messages of this event type.
func (e *Endpoint) Subscribes(eventType string) bool {
	for _, t := range e.EventTypes {
		if t == AllEventTypes || t == eventType {
			return true
		}
	}
	return false
}

// Message is one emitted event, with its payload exactly as emitted.
type Message struct {
	ID             string     `json:"id" gorm:"primaryKey"`
	TenantID       string     `json:"tenant_id"`
	EventType      string     `json:"event_type"`
	Payload        RawJSON    `json:"payload"`
	IdempotencyKey *string    `json:"idempotency_key"`
	CreatedAt      time.Time  `json:"created_at"`
	Deliveries     []Delivery `json:"-" gorm:"-"` // loaded by GetMessage and Emit
}

// Delivery is a message on its way to one endpoint.
type Delivery struct {
	ID             string     `json:"id" gorm:"primaryKey"`
	TenantID       string     `json:"tenant_id"`
	MessageID      string     `json:"message_id"`
	EndpointID     string     `json:"endpoint_id"`
	EventType      string     `json:"event_type"`
	Status         string     `json:"status"`
	AttemptCount   int        `json:"attempt_count"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	NextTrigger    string     `json:"-"` // what the next attempt is: scheduled or manual
	LockedUntil    *time.Time `json:"-"`
	LockToken      *string    `json:"-"`
	LastStatusCode *int       `json:"last_status_code"`
	LastError      string     `json:"last_error"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	Attempts       []Attempt  `json:"-" gorm:"-"` // loaded by GetDelivery
}

// Attempt is one HTTP request of a delivery and what came back.
type Attempt struct {
	ID                 string            `json:"id" gorm:"primaryKey"`
	DeliveryID         string            `json:"delivery_id"`
	Number             int               `json:"number"`
	Trigger            string            `json:"trigger" gorm:"column:trigger_type"`
	URL                string            `json:"url" gorm:"column:url"`
	RequestHeaders     map[string]string `json:"request_headers" gorm:"serializer:json"`
	ResponseStatusCode *int              `json:"response_status_code"`
	ResponseHeaders    map[string]string `json:"response_headers" gorm:"serializer:json"`
	ResponseBody       string            `json:"response_body"`
	DurationMS         int64             `json:"duration_ms" gorm:"column:duration_ms"`
	Error              string            `json:"error"`
	CreatedAt          time.Time         `json:"created_at"`
}
