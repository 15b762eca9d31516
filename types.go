package hookd

import (
	"encoding/json"
	"time"
)

// Tenant owns endpoints and receives messages: one of your customers.
type Tenant struct {
	ID        string    `json:"id"`
	UID       *string   `json:"uid"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// APIKey describes a key; the key itself is shown only when it is created.
type APIKey struct {
	ID         string     `json:"id"`
	TenantID   *string    `json:"tenant_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"` // the key's first characters, to recognise it
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// EventType is a kind of message, like invoice.paid.
type EventType struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"` // JSON Schema that payloads must match, or null
	ArchivedAt  *time.Time      `json:"archived_at"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// SecretInfo is what an endpoint's receiver verifies with, and where a
// rotation stands.
type SecretInfo struct {
	Scheme    string `json:"scheme"`
	Key       string `json:"key,omitempty"`        // the secret (not for ed25519)
	PublicKey string `json:"public_key,omitempty"` // ed25519: the whpk_ key
	// ActiveFrom is set while Key is staged and does not sign yet: hmac-sha256
	// and token carry one signature, so after a rotation the previous secret
	// signs alone until then. Receivers accept both until that time.
	ActiveFrom *time.Time `json:"active_from,omitempty"`
	// PreviousKeyExpiresAt is when the secret before the last rotation stops
	// signing (beside Key in the standard and ed25519 schemes).
	PreviousKeyExpiresAt *time.Time `json:"previous_key_expires_at,omitempty"`
}

// Endpoint is a tenant's callback URL and the event types it subscribes to.
type Endpoint struct {
	ID             string     `json:"id"`
	TenantID       string     `json:"tenant_id"`
	URL            string     `json:"url"`
	Description    string     `json:"description"`
	EventTypes     []string   `json:"event_types"`
	Enabled        bool       `json:"enabled"`
	DisabledReason string     `json:"disabled_reason"`
	MaxConcurrency *int       `json:"max_concurrency"`
	RateLimit      *int       `json:"rate_limit"`
	FailingSince   *time.Time `json:"failing_since"`
	SigningScheme  string     `json:"signing_scheme"` // standard, ed25519, hmac-sha256 or token
	// SignatureHeader and SignaturePrefix place the signature (hmac-sha256) or the token.
	SignatureHeader string `json:"signature_header,omitempty"`
	SignaturePrefix string `json:"signature_prefix,omitempty"`
	// Envelope: payloads go out as {"type", "timestamp", "data"} (Standard Webhooks).
	Envelope bool `json:"envelope"`
	// Headers are added to every request; SecretHeaderNames are too, but
	// their values are never shown.
	Headers           map[string]string `json:"headers"`
	SecretHeaderNames []string          `json:"secret_header_names"`
	// Timeout (seconds) and RetrySchedule (seconds between attempts) replace
	// hookd's defaults for this endpoint; nil: the defaults.
	Timeout       *int   `json:"timeout"`
	RetrySchedule []int  `json:"retry_schedule"`
	Filter        string `json:"filter"` // a CEL expression messages must match; "": all
	// FilterError is why the filter last failed at run time, at
	// FilterErrorAt: a failed filter does not match.
	FilterError   string     `json:"filter_error,omitempty"`
	FilterErrorAt *time.Time `json:"filter_error_at,omitempty"`
	Ordering      string     `json:"ordering"` // none, or fifo: one at a time, in order
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// Message is one emitted event.
type Message struct {
	ID             string          `json:"id"`
	TenantID       string          `json:"tenant_id"`
	EventType      string          `json:"event_type"`
	Payload        json.RawMessage `json:"payload"`
	IdempotencyKey *string         `json:"idempotency_key"`
	CreatedAt      time.Time       `json:"created_at"`
	Deliveries     []Delivery      `json:"deliveries,omitempty"` // with GetMessage and Emit; lists leave them out
}

// Delivery statuses.
const (
	StatusPending   = "pending"
	StatusInflight  = "inflight"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

// Delivery is a message on its way to one endpoint.
type Delivery struct {
	ID             string     `json:"id"`
	TenantID       string     `json:"tenant_id"`
	MessageID      string     `json:"message_id"`
	EndpointID     string     `json:"endpoint_id"`
	EventType      string     `json:"event_type"`
	Status         string     `json:"status"`
	AttemptCount   int        `json:"attempt_count"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	LastStatusCode *int       `json:"last_status_code"`
	LastError      string     `json:"last_error"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	Attempts       []Attempt  `json:"attempts,omitempty"` // with GetDelivery and RetryDelivery; lists leave them out
}

// Attempt is one HTTP request of a delivery and what came back.
type Attempt struct {
	ID                 string            `json:"id"`
	DeliveryID         string            `json:"delivery_id"`
	Number             int               `json:"number"`
	Trigger            string            `json:"trigger"` // scheduled or manual
	URL                string            `json:"url"`
	RequestHeaders     map[string]string `json:"request_headers"`
	ResponseStatusCode *int              `json:"response_status_code"`
	ResponseHeaders    map[string]string `json:"response_headers"`
	ResponseBody       string            `json:"response_body"`
	DurationMS         int64             `json:"duration_ms"`
	Error              string            `json:"error"`
	CreatedAt          time.Time         `json:"created_at"`
}

// Page is one page of a list; pass NextCursor as ListParams.Cursor for the next.
type Page[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
}

// ListParams pages through a list, newest first.
type ListParams struct {
	Limit  int    // 1 to 250; 0 = 50
	Cursor string // NextCursor of the previous page
}

// TenantParams creates or updates a tenant; nil fields are left alone.
// hookd's API decodes its requests into this type, as into EndpointParams.
type TenantParams struct {
	UID  *string `json:"uid,omitempty"`
	Name *string `json:"name,omitempty"`
}

// EventTypeParams creates an event type.
type EventTypeParams struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"` // optional JSON Schema that payloads must match
}

// EventTypeUpdate changes an event type; nil fields are left alone.
type EventTypeUpdate struct {
	Description *string `json:"description,omitempty"`
	Archived    *bool   `json:"archived,omitempty"` // false brings an archived type back
	// Schema replaces the JSON Schema; json.RawMessage("null") removes it.
	Schema json.RawMessage `json:"schema,omitempty"`
}

// EndpointParams creates or updates an endpoint; nil fields are left alone.
type EndpointParams struct {
	URL         *string  `json:"url,omitempty"`
	Description *string  `json:"description,omitempty"`
	EventTypes  []string `json:"event_types,omitempty"` // names, or ["*"] for all
	Enabled     *bool    `json:"enabled,omitempty"`
	Secret      *string  `json:"secret,omitempty"` // whsec_…; generated when absent
	// MaxConcurrency bounds attempts in flight to the endpoint (0: hookd's default).
	MaxConcurrency *int `json:"max_concurrency,omitempty"`
	// RateLimit bounds attempts per second to the endpoint (0: none).
	RateLimit *int `json:"rate_limit,omitempty"`
	// SigningScheme is standard (default), ed25519, hmac-sha256 or token.
	SigningScheme   *string `json:"signing_scheme,omitempty"`
	SignatureHeader *string `json:"signature_header,omitempty"`
	SignaturePrefix *string `json:"signature_prefix,omitempty"`
	// Envelope sends payloads wrapped as {"type", "timestamp", "data"}
	// (the Standard Webhooks envelope) instead of as emitted.
	Envelope *bool `json:"envelope,omitempty"`
	// Headers are added to every request, SecretHeaders too but never shown
	// again and redacted in attempts. Each replaces its set; an empty map
	// clears it.
	Headers       map[string]string `json:"headers,omitzero"`
	SecretHeaders map[string]string `json:"secret_headers,omitzero"`
	// Timeout is the endpoint's timeout in seconds (0: hookd's default).
	Timeout *int `json:"timeout,omitempty"`
	// RetrySchedule is the seconds between attempts (empty: hookd's default).
	RetrySchedule []int `json:"retry_schedule,omitzero"`
	// Filter is a CEL expression over data (the payload) and event_type
	// that a message must match to be delivered here ("": none).
	Filter *string `json:"filter,omitempty"`
	// Ordering is "none" or "fifo": one delivery at a time, in order.
	Ordering *string `json:"ordering,omitempty"`
}

// PortalSessionParams asks for a link into the tenant portal, where a
// tenant manages its own endpoints. hookd's API decodes its requests into
// this type. Every field is optional.
type PortalSessionParams struct {
	// ReadOnly makes a link that shows but changes nothing.
	ReadOnly bool `json:"read_only,omitempty"`
	// ExpiresIn is the link's life in seconds: 60 to 604800 (7 days); 0: an hour.
	ExpiresIn int `json:"expires_in,omitempty"`
	// Title, LogoURL (https) and PrimaryColor (#rrggbb) brand the portal
	// as your app; empty: a plain "Webhooks" heading and the default colours.
	Title        string `json:"title,omitempty"`
	LogoURL      string `json:"logo_url,omitempty"`
	PrimaryColor string `json:"primary_color,omitempty"`
}

// PortalSession is a link into the tenant portal. Its URL carries the
// link's token and is shown only once: anyone who has it reaches the
// tenant's portal until ExpiresAt, so hand it to the tenant's browser only.
type PortalSession struct {
	URL       string    `json:"url"`
	TenantID  string    `json:"tenant_id"`
	ReadOnly  bool      `json:"read_only"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ResendParams chooses where ResendMessage sends a message again.
type ResendParams struct {
	// EndpointID is the one endpoint to send it to, whatever event types it
	// subscribes to and its filter; "": every enabled endpoint that
	// subscribes to the message's event type now and whose filter it matches.
	EndpointID string `json:"endpoint_id,omitempty"`
}

// ReplayParams is the window of messages ReplayEndpoint sends again.
type ReplayParams struct {
	Since time.Time `json:"since"`          // accepted at or after (required)
	Until time.Time `json:"until,omitzero"` // accepted before (zero: now)
}

// DeliveryParams filters a list of deliveries.
type DeliveryParams struct {
	ListParams
	Status     string
	EndpointID string
	EventType  string
	MessageID  string
}

// EmitOpts are the optional settings of an emit.
type EmitOpts struct {
	// IdempotencyKey makes retries of the same emit safe: the same key again
	// returns the first message instead of creating another.
	IdempotencyKey string
}

// Int returns a pointer to n, for the optional fields of params.
func Int(n int) *int { return &n }

// String returns a pointer to s, for the optional fields of params.
func String(s string) *string { return &s }

// Bool returns a pointer to b, for the optional fields of params.
func Bool(b bool) *bool { return &b }

// The operational event types: hookd's news about itself, for the
// operator's endpoints (CreateOperationalEndpoint).
const (
	OpEndpointDisabled  = "endpoint.disabled"  // a worker (410, or failing too long), the API or the admin UI disabled it
	OpEndpointEnabled   = "endpoint.enabled"   // the API or the admin UI enabled it
	OpDeliveryFailed    = "delivery.failed"    // a delivery ended failed, its attempts exhausted
	OpDeliveryRecovered = "delivery.recovered" // an endpoint that was failing succeeded again
)

// OperationalEvent is the body of an operational webhook. Data holds
// tenant_id, endpoint_id and endpoint_url, and what the type adds (by,
// cause, reason, delivery_id, message_id, …).
type OperationalEvent struct {
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Data      map[string]any `json:"data"`
}
