package models

import (
	"time"

	"hookd.dev/hookd/dispatcher/signature"
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

// RawJSON is JSON stored byte for byte as it was received: payloads are
// signed, so they are never decoded and re-encoded (api/wire hands the same
// bytes to the API's answers).
type RawJSON string

// Tenant owns endpoints and receives messages: one of the app's customers.
type Tenant struct {
	ID        string  `gorm:"primaryKey"`
	UID       *string `gorm:"column:uid"` // the app's own key for this tenant
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// APIKey authenticates a caller. The key itself is never stored, only its hash.
type APIKey struct {
	ID         string  `gorm:"primaryKey"`
	TenantID   *string // nil: an admin key
	Name       string
	Prefix     string
	Hash       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// IsAdmin reports whether the key may act on every tenant.
func (k *APIKey) IsAdmin() bool { return k.TenantID == nil }

// EventType is a kind of message (invoice.paid) that endpoints subscribe to.
type EventType struct {
	Name        string `gorm:"primaryKey"`
	Description string
	Schema      *RawJSON // a JSON Schema that payloads must match, or nil
	ArchivedAt  *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Endpoint is a tenant's callback URL and what it subscribes to.
type Endpoint struct {
	ID             string `gorm:"primaryKey"`
	TenantID       string
	URL            string `gorm:"column:url"`
	Description    string
	EventTypes     []string `gorm:"serializer:json"`
	Enabled        bool
	DisabledReason string
	Secret         string
	// SigningScheme is how requests are signed: standard, ed25519, hmac-sha256 or token.
	SigningScheme string
	// SignatureHeader and SignaturePrefix place the signature (hmac-sha256) or
	// the secret (token) in a header of the tenant's choice.
	SignatureHeader string
	SignaturePrefix string
	// PreviousSecret is the secret before the last rotation. It signs until
	// PreviousSecretExpiresAt: beside Secret in the Standard Webhooks schemes,
	// instead of it in hmac-sha256 and token (see SigningSecrets).
	PreviousSecret          *string
	PreviousSecretExpiresAt *time.Time
	// MaxConcurrency bounds attempts in flight to this endpoint across all workers (nil: the worker default).
	MaxConcurrency *int
	// RateLimit bounds attempts per second to this endpoint across all workers (nil: none).
	RateLimit *int
	// FailingSince is when the current run of failed attempts began (nil: the last attempt succeeded).
	FailingSince *time.Time
	// Envelope sends each payload wrapped as Standard Webhooks describe:
	// {"type": …, "timestamp": …, "data": <payload>}.
	Envelope bool
	// Headers are added to every request. SecretHeaders too, but their
	// values are sealed at rest (their names are not: answers list them),
	// never shown, and redacted in attempts.
	Headers       map[string]string `gorm:"serializer:json"`
	SecretHeaders map[string]string `gorm:"serializer:json"`
	// TimeoutSeconds and RetrySchedule (seconds between attempts) replace
	// the worker's defaults for this endpoint (nil: the defaults).
	TimeoutSeconds *int
	RetrySchedule  []int `gorm:"serializer:json"`
	// Filter is a CEL expression (package dispatcher/filter) a message must
	// match to be delivered here; empty: every message of its event types.
	Filter string
	// FilterError is why the filter last failed at run time (a payload it
	// cannot read, its cost limit, its deadline), at FilterErrorAt; a
	// failed filter does not match. Cleared when the filter changes.
	FilterError   string
	FilterErrorAt *time.Time
	// Ordering is OrderingNone or OrderingFIFO.
	Ordering  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Endpoint orderings.
const (
	OrderingNone = "none" // deliveries go out concurrently, as workers take them
	OrderingFIFO = "fifo" // one at a time, in the order their messages were accepted
)

// FIFO reports whether the endpoint's deliveries go one at a time, in order.
func (e *Endpoint) FIFO() bool { return e.Ordering == OrderingFIFO }

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
// signature, so that rotations are staged (the scheme table says which).
func (e *Endpoint) SingleSignature() bool {
	return signature.SchemeFor(e.SigningScheme).OneSignature
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
	ID             string `gorm:"primaryKey"`
	TenantID       string
	EventType      string
	Payload        RawJSON
	IdempotencyKey *string
	CreatedAt      time.Time
	Deliveries     []Delivery `gorm:"-"` // loaded by GetMessage and Emit
}

// Delivery is a message on its way to one endpoint.
type Delivery struct {
	ID             string `gorm:"primaryKey"`
	TenantID       string
	MessageID      string
	EndpointID     string
	EventType      string
	Status         string
	AttemptCount   int
	NextAttemptAt  *time.Time
	NextTrigger    string // what the next attempt is: scheduled or manual
	LockedUntil    *time.Time
	LockToken      *string
	LastStatusCode *int
	LastError      string
	// Ordered deliveries wait for the earlier open deliveries of their
	// endpoint (a FIFO endpoint's, since it became one).
	Ordered   bool
	CreatedAt time.Time
	UpdatedAt time.Time
	Attempts  []Attempt `gorm:"-"` // loaded by GetDelivery
}

// Attempt is one HTTP request of a delivery and what came back.
type Attempt struct {
	ID                 string `gorm:"primaryKey"`
	DeliveryID         string
	Number             int
	Trigger            string            `gorm:"column:trigger_type"`
	URL                string            `gorm:"column:url"`
	RequestHeaders     map[string]string `gorm:"serializer:json"`
	ResponseStatusCode *int
	ResponseHeaders    map[string]string `gorm:"serializer:json"`
	ResponseBody       string
	DurationMS         int64 `gorm:"column:duration_ms"`
	Error              string
	CreatedAt          time.Time
}
