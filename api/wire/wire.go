// Package wire turns the stored models into the SDK's types (package
// hookd), which are the JSON that the API answers: the shapes are defined
// once, there, and the models carry no JSON of their own.
package wire

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	"hookd.dev/hookd"
	"hookd.dev/hookd/dispatcher/signature"
	"hookd.dev/hookd/models"
)

// Tenant is t as the API shows it.
func Tenant(t *models.Tenant) hookd.Tenant {
	return hookd.Tenant{ID: t.ID, UID: t.UID, Name: t.Name, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

// APIKey is k without its hash.
func APIKey(k *models.APIKey) hookd.APIKey {
	return hookd.APIKey{
		ID: k.ID, TenantID: k.TenantID, Name: k.Name, Prefix: k.Prefix,
		CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt,
	}
}

// EventType is et with its schema, if any, as JSON.
func EventType(et *models.EventType) hookd.EventType {
	out := hookd.EventType{
		Name: et.Name, Description: et.Description, ArchivedAt: et.ArchivedAt, CreatedAt: et.CreatedAt, UpdatedAt: et.UpdatedAt,
	}
	if et.Schema != nil && *et.Schema != "" {
		out.Schema = json.RawMessage(*et.Schema)
	}
	return out
}

// Endpoint is ep without its secrets (SecretInfo shows those, when asked).
func Endpoint(ep *models.Endpoint) hookd.Endpoint {
	out := hookd.Endpoint{
		ID: ep.ID, TenantID: ep.TenantID, URL: ep.URL, Description: ep.Description, EventTypes: ep.EventTypes,
		Enabled: ep.Enabled, DisabledReason: ep.DisabledReason, MaxConcurrency: ep.MaxConcurrency, RateLimit: ep.RateLimit,
		FailingSince: ep.FailingSince, SigningScheme: ep.SigningScheme,
		SignatureHeader: ep.SignatureHeader, SignaturePrefix: ep.SignaturePrefix,
		Envelope: ep.Envelope, Headers: maps.Clone(ep.Headers), SecretHeaderNames: slices.Sorted(maps.Keys(ep.SecretHeaders)),
		Timeout: ep.TimeoutSeconds, RetrySchedule: ep.RetrySchedule, Filter: ep.Filter, Ordering: ep.Ordering,
		FilterError: ep.FilterError, FilterErrorAt: ep.FilterErrorAt,
		CreatedAt: ep.CreatedAt, UpdatedAt: ep.UpdatedAt,
	}
	// {} and [], never null: an endpoint without custom headers has none.
	if out.Headers == nil {
		out.Headers = map[string]string{}
	}
	if out.SecretHeaderNames == nil {
		out.SecretHeaderNames = []string{}
	}
	// null for the defaults, however they were stored.
	if out.Timeout != nil && *out.Timeout == 0 {
		out.Timeout = nil
	}
	if len(out.RetrySchedule) == 0 {
		out.RetrySchedule = nil
	}
	return out
}

// Secret is what a receiver of ep needs to verify at now: the secret, or
// for ed25519 only the public key (the signing key never leaves hookd), and
// where a rotation stands.
func Secret(ep *models.Endpoint, now time.Time) (hookd.SecretInfo, error) {
	out := hookd.SecretInfo{
		Scheme: ep.SigningScheme, PreviousKeyExpiresAt: ep.PreviousSecretExpiresAt, ActiveFrom: ep.KeyActiveFrom(now),
	}
	if ep.SigningScheme != models.SchemeEd25519 {
		out.Key = ep.Secret
		return out, nil
	}
	pub, err := signature.PublicKey(ep.Secret)
	out.PublicKey = pub
	return out, err
}

// Message is m with the exact bytes of its payload, and its deliveries when
// they are loaded (emit, get); lists leave them out.
func Message(m *models.Message) hookd.Message {
	out := hookd.Message{
		ID: m.ID, TenantID: m.TenantID, EventType: m.EventType, IdempotencyKey: m.IdempotencyKey, CreatedAt: m.CreatedAt,
	}
	if m.Payload != "" {
		out.Payload = json.RawMessage(m.Payload)
	}
	if m.Deliveries != nil {
		out.Deliveries = All(m.Deliveries, Delivery)
	}
	return out
}

// Delivery is d, with its attempts when they are loaded (get, retry).
func Delivery(d *models.Delivery) hookd.Delivery {
	out := hookd.Delivery{
		ID: d.ID, TenantID: d.TenantID, MessageID: d.MessageID, EndpointID: d.EndpointID, EventType: d.EventType,
		Status: d.Status, AttemptCount: d.AttemptCount, NextAttemptAt: d.NextAttemptAt,
		LastStatusCode: d.LastStatusCode, LastError: d.LastError, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
	if d.Attempts != nil {
		out.Attempts = All(d.Attempts, Attempt)
	}
	return out
}

// Attempt is one request of a delivery and its answer, as recorded.
func Attempt(a *models.Attempt) hookd.Attempt {
	return hookd.Attempt{
		ID: a.ID, DeliveryID: a.DeliveryID, Number: a.Number, Trigger: a.Trigger, URL: a.URL,
		RequestHeaders: a.RequestHeaders, ResponseStatusCode: a.ResponseStatusCode, ResponseHeaders: a.ResponseHeaders,
		ResponseBody: a.ResponseBody, DurationMS: a.DurationMS, Error: a.Error, CreatedAt: a.CreatedAt,
	}
}

// All converts each of rows with one of the functions above; never nil, so
// that an empty list is [] in JSON.
func All[M, W any](rows []M, convert func(*M) W) []W {
	out := make([]W, len(rows))
	for i := range rows {
		out[i] = convert(&rows[i])
	}
	return out
}
