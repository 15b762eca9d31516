package hookd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls hookd's REST API. It is safe for concurrent use.
type Client struct {
	baseURL string
	apiKey  string
	http    *http.Client
}

// ClientOpts are the optional settings of a Client.
type ClientOpts struct {
	HTTPClient *http.Client // default: a client with a 30 s timeout
}

// NewClient returns a Client for the hookd at baseURL (like
// "http://localhost:8080"), authenticated by an admin or tenant API key.
func NewClient(baseURL, apiKey string, opts ...ClientOpts) *Client {
	c := &Client{baseURL: strings.TrimRight(baseURL, "/"), apiKey: apiKey, http: &http.Client{Timeout: 30 * time.Second}}
	for _, o := range opts {
		if o.HTTPClient != nil {
			c.http = o.HTTPClient
		}
	}
	return c
}

// Error is an error answered by hookd.
type Error struct {
	StatusCode int    // the HTTP status
	Code       string // not_found, invalid, conflict, unauthorized, …
	Message    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("hookd: %s (%d %s)", e.Message, e.StatusCode, e.Code)
}

// IsNotFound reports whether err is hookd's 404.
func IsNotFound(err error) bool { return statusOf(err) == http.StatusNotFound }

// IsConflict reports whether err is hookd's 409.
func IsConflict(err error) bool { return statusOf(err) == http.StatusConflict }

func statusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// do sends a request and decodes a JSON answer into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, header http.Header, body, out any) (int, error) {
	var r io.Reader
	if raw, ok := body.(json.RawMessage); ok {
		r = bytes.NewReader(raw) // already encoded, and must stay byte for byte
	} else if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, fmt.Errorf("hookd: encode request: %w", err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, r)
	if err != nil {
		return 0, fmt.Errorf("hookd: %w", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("hookd: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("hookd: read response: %w", err)
	}
	if resp.StatusCode >= 300 {
		var eb struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(raw, &eb)
		if eb.Error.Message == "" {
			eb.Error.Message = http.StatusText(resp.StatusCode)
		}
		return resp.StatusCode, &Error{StatusCode: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("hookd: decode response: %w", err)
		}
	}
	return resp.StatusCode, nil
}

func get[T any](ctx context.Context, c *Client, path string) (*T, error) {
	var out T
	if _, err := c.do(ctx, http.MethodGet, path, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func send[T any](ctx context.Context, c *Client, method, path string, body any) (*T, error) {
	var out T
	if _, err := c.do(ctx, method, path, nil, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func query(p ListParams, extra map[string]string) string {
	q := url.Values{}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	for k, v := range extra {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

func tenantPath(tenant string, parts ...string) string {
	p := "/v1/tenants/" + url.PathEscape(tenant)
	for _, part := range parts {
		p += "/" + url.PathEscape(part)
	}
	return p
}

// ---- messages

// Emit sends an event to every endpoint of the tenant (its id or uid) that
// subscribes to eventType. payload is encoded with encoding/json, unless it
// is a json.RawMessage or []byte, which is sent byte for byte.
func (c *Client) Emit(ctx context.Context, tenant, eventType string, payload any, opts *EmitOpts) (*Message, error) {
	raw, err := EncodePayload(payload)
	if err != nil {
		return nil, err
	}
	header := http.Header{}
	if opts != nil && opts.IdempotencyKey != "" {
		header.Set("Idempotency-Key", opts.IdempotencyKey)
	}
	// Built by hand: json.Marshal would compact the payload, and the
	// receiver must get exactly the bytes the app emitted.
	typ, _ := json.Marshal(eventType)
	body := json.RawMessage(`{"event_type":` + string(typ) + `,"payload":` + string(raw) + `}`)
	var msg Message
	if _, err := c.do(ctx, http.MethodPost, tenantPath(tenant, "messages"), header, body, &msg); err != nil {
		return nil, err
	}
	return &msg, nil
}

// EncodePayload is the JSON an emit sends for payload: a json.RawMessage or
// []byte as it is (the receiver gets exactly those bytes), anything else as
// json.Marshal encodes it.
func EncodePayload(payload any) (json.RawMessage, error) {
	switch p := payload.(type) {
	case json.RawMessage:
		return p, nil
	case []byte:
		return json.RawMessage(p), nil
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("hookd: encode payload: %w", err)
	}
	return b, nil
}

// GetMessage returns a message with its deliveries.
func (c *Client) GetMessage(ctx context.Context, tenant, id string) (*Message, error) {
	return get[Message](ctx, c, tenantPath(tenant, "messages", id))
}

// ListMessages lists a tenant's messages, newest first.
func (c *Client) ListMessages(ctx context.Context, tenant string, p ListParams) (*Page[Message], error) {
	return get[Page[Message]](ctx, c, tenantPath(tenant, "messages")+query(p, nil))
}

// ---- deliveries

// ListDeliveries lists a tenant's deliveries, newest first.
func (c *Client) ListDeliveries(ctx context.Context, tenant string, p DeliveryParams) (*Page[Delivery], error) {
	q := query(p.ListParams, map[string]string{
		"status": p.Status, "endpoint_id": p.EndpointID, "event_type": p.EventType, "message_id": p.MessageID,
	})
	return get[Page[Delivery]](ctx, c, tenantPath(tenant, "deliveries")+q)
}

// GetDelivery returns a delivery with its attempts.
func (c *Client) GetDelivery(ctx context.Context, tenant, id string) (*Delivery, error) {
	return get[Delivery](ctx, c, tenantPath(tenant, "deliveries", id))
}

// RetryDelivery asks for a new attempt now, whatever the delivery's status.
func (c *Client) RetryDelivery(ctx context.Context, tenant, id string) (*Delivery, error) {
	return send[Delivery](ctx, c, http.MethodPost, tenantPath(tenant, "deliveries", id, "retry"), nil)
}

// ResendMessage sends a stored message again, as new deliveries that keep
// the message's id (webhook-id), so that receivers can tell a repeat: to
// the endpoint p names, whatever it subscribes to, or without one to every
// enabled endpoint that subscribes to the message's event type now and
// whose filter it matches. It returns the new deliveries; a disabled
// endpoint, or none to send to, is a conflict (IsConflict).
func (c *Client) ResendMessage(ctx context.Context, tenant, messageID string, p ResendParams) ([]Delivery, error) {
	out, err := send[struct{ Deliveries []Delivery }](ctx, c, http.MethodPost, tenantPath(tenant, "messages", messageID, "resend"), p)
	if err != nil {
		return nil, err
	}
	return out.Deliveries, nil
}

// ---- endpoints

// CreateEndpoint adds an endpoint to a tenant. URL and EventTypes are required.
func (c *Client) CreateEndpoint(ctx context.Context, tenant string, p EndpointParams) (*Endpoint, error) {
	return send[Endpoint](ctx, c, http.MethodPost, tenantPath(tenant, "endpoints"), p)
}

// GetEndpoint returns one endpoint.
func (c *Client) GetEndpoint(ctx context.Context, tenant, id string) (*Endpoint, error) {
	return get[Endpoint](ctx, c, tenantPath(tenant, "endpoints", id))
}

// ListEndpoints lists a tenant's endpoints, newest first.
func (c *Client) ListEndpoints(ctx context.Context, tenant string, p ListParams) (*Page[Endpoint], error) {
	return get[Page[Endpoint]](ctx, c, tenantPath(tenant, "endpoints")+query(p, nil))
}

// UpdateEndpoint changes the given fields of an endpoint.
func (c *Client) UpdateEndpoint(ctx context.Context, tenant, id string, p EndpointParams) (*Endpoint, error) {
	return send[Endpoint](ctx, c, http.MethodPatch, tenantPath(tenant, "endpoints", id), p)
}

// DeleteEndpoint removes an endpoint and its delivery history.
func (c *Client) DeleteEndpoint(ctx context.Context, tenant, id string) error {
	_, err := c.do(ctx, http.MethodDelete, tenantPath(tenant, "endpoints", id), nil, nil, nil)
	return err
}

// EndpointSecret returns what the endpoint's receiver verifies with: its
// secret (whsec_… for the standard scheme), or for ed25519 its public key (whpk_…).
func (c *Client) EndpointSecret(ctx context.Context, tenant, id string) (string, error) {
	out, err := c.EndpointSecretInfo(ctx, tenant, id)
	if err != nil {
		return "", err
	}
	if out.PublicKey != "" {
		return out.PublicKey, nil
	}
	return out.Key, nil
}

// ---- tenants, keys and event types (admin key)

// CreateTenant adds a tenant.
func (c *Client) CreateTenant(ctx context.Context, p TenantParams) (*Tenant, error) {
	return send[Tenant](ctx, c, http.MethodPost, "/v1/tenants", p)
}

// GetTenant returns a tenant by id or uid.
func (c *Client) GetTenant(ctx context.Context, tenant string) (*Tenant, error) {
	return get[Tenant](ctx, c, tenantPath(tenant))
}

// ListTenants lists tenants, newest first.
func (c *Client) ListTenants(ctx context.Context, p ListParams) (*Page[Tenant], error) {
	return get[Page[Tenant]](ctx, c, "/v1/tenants"+query(p, nil))
}

// UpdateTenant changes the given fields of a tenant.
func (c *Client) UpdateTenant(ctx context.Context, tenant string, p TenantParams) (*Tenant, error) {
	return send[Tenant](ctx, c, http.MethodPatch, tenantPath(tenant), p)
}

// DeleteTenant removes a tenant and everything it owns.
func (c *Client) DeleteTenant(ctx context.Context, tenant string) error {
	_, err := c.do(ctx, http.MethodDelete, tenantPath(tenant), nil, nil, nil)
	return err
}

// CreateAPIKey makes a key for a tenant and returns it; hookd shows it only once.
func (c *Client) CreateAPIKey(ctx context.Context, tenant, name string) (string, error) {
	out, err := send[struct{ Key string }](ctx, c, http.MethodPost, tenantPath(tenant, "api-keys"), map[string]string{"name": name})
	if err != nil {
		return "", err
	}
	return out.Key, nil
}

// ListAPIKeys lists a tenant's keys (never the keys themselves), newest first.
func (c *Client) ListAPIKeys(ctx context.Context, tenant string, p ListParams) (*Page[APIKey], error) {
	return get[Page[APIKey]](ctx, c, tenantPath(tenant, "api-keys")+query(p, nil))
}

// RevokeAPIKey stops a tenant's key from working, at once.
func (c *Client) RevokeAPIKey(ctx context.Context, tenant, id string) error {
	_, err := c.do(ctx, http.MethodDelete, tenantPath(tenant, "api-keys", id), nil, nil, nil)
	return err
}

// CreatePortalSession makes a link into the tenant portal, where the tenant
// manages its own endpoints: open it in the tenant's browser, or in an
// iframe of your app. The URL is shown only in this answer; anyone who has
// it reaches the tenant's portal until it expires.
func (c *Client) CreatePortalSession(ctx context.Context, tenant string, p PortalSessionParams) (*PortalSession, error) {
	return send[PortalSession](ctx, c, http.MethodPost, tenantPath(tenant, "portal-sessions"), p)
}

// RevokePortalSessions ends every live portal link of a tenant, at once, and
// returns how many there were.
func (c *Client) RevokePortalSessions(ctx context.Context, tenant string) (int, error) {
	out, err := send[struct{ Revoked int }](ctx, c, http.MethodDelete, tenantPath(tenant, "portal-sessions"), nil)
	if err != nil {
		return 0, err
	}
	return out.Revoked, nil
}

// CreateAdminKey makes an admin key and returns it; hookd shows it only once.
func (c *Client) CreateAdminKey(ctx context.Context, name string) (string, error) {
	out, err := send[struct{ Key string }](ctx, c, http.MethodPost, "/v1/admin-keys", map[string]string{"name": name})
	if err != nil {
		return "", err
	}
	return out.Key, nil
}

// ListAdminKeys lists the admin keys stored in hookd (never the keys
// themselves, nor HOOKD_ADMIN_KEY), newest first, revoked ones included.
func (c *Client) ListAdminKeys(ctx context.Context, p ListParams) (*Page[APIKey], error) {
	return get[Page[APIKey]](ctx, c, "/v1/admin-keys"+query(p, nil))
}

// RevokeAdminKey stops an admin key from working, at once, and ends the UI
// sessions it opened. It may be the client's own key.
func (c *Client) RevokeAdminKey(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodDelete, "/v1/admin-keys/"+url.PathEscape(id), nil, nil, nil)
	return err
}

// CreateEventType registers an event type.
func (c *Client) CreateEventType(ctx context.Context, p EventTypeParams) (*EventType, error) {
	return send[EventType](ctx, c, http.MethodPost, "/v1/event-types", p)
}

// ListEventTypes lists the live event types by name.
func (c *Client) ListEventTypes(ctx context.Context, p ListParams) (*Page[EventType], error) {
	return get[Page[EventType]](ctx, c, "/v1/event-types"+query(p, nil))
}

// GetEventType returns an event type by name, archived or not.
func (c *Client) GetEventType(ctx context.Context, name string) (*EventType, error) {
	return get[EventType](ctx, c, "/v1/event-types/"+url.PathEscape(name))
}

// UpdateEventType changes the given fields of an event type.
func (c *Client) UpdateEventType(ctx context.Context, name string, p EventTypeUpdate) (*EventType, error) {
	return send[EventType](ctx, c, http.MethodPatch, "/v1/event-types/"+url.PathEscape(name), p)
}

// ArchiveEventType stops new messages of an event type; history stays.
func (c *Client) ArchiveEventType(ctx context.Context, name string) error {
	_, err := c.do(ctx, http.MethodDelete, "/v1/event-types/"+url.PathEscape(name), nil, nil, nil)
	return err
}

// RotateEndpointSecret replaces the endpoint's secret with newSecret (or a
// generated one when empty) and returns it. The old secret keeps signing for
// the rotation grace period (24 h by default): beside the new one in the
// standard and ed25519 schemes; alone in hmac-sha256 and token, whose new
// secret starts signing when the grace period ends (see RotateEndpointSecretInfo).
func (c *Client) RotateEndpointSecret(ctx context.Context, tenant, id, newSecret string) (string, error) {
	out, err := c.RotateEndpointSecretInfo(ctx, tenant, id, newSecret)
	if err != nil {
		return "", err
	}
	return out.Key, nil
}

// RotateEndpointSecretInfo is RotateEndpointSecret answering the whole
// rotation: the new key, when it starts signing, when the old one stops.
func (c *Client) RotateEndpointSecretInfo(ctx context.Context, tenant, id, newSecret string) (*SecretInfo, error) {
	var body any
	if newSecret != "" {
		body = map[string]string{"key": newSecret}
	}
	return send[SecretInfo](ctx, c, http.MethodPost, tenantPath(tenant, "endpoints", id, "secret", "rotate"), body)
}

// EndpointSecretInfo returns the endpoint's secret (or public key) with the
// state of its last rotation.
func (c *Client) EndpointSecretInfo(ctx context.Context, tenant, id string) (*SecretInfo, error) {
	return get[SecretInfo](ctx, c, tenantPath(tenant, "endpoints", id, "secret"))
}

// TestEndpoint sends a signed hookd.ping message to one endpoint.
func (c *Client) TestEndpoint(ctx context.Context, tenant, id string) (*Message, error) {
	return send[Message](ctx, c, http.MethodPost, tenantPath(tenant, "endpoints", id, "test"), nil)
}

// RecoverEndpoint resends the endpoint's failed deliveries created since a
// time and returns how many it resends (at most 10,000 per call).
func (c *Client) RecoverEndpoint(ctx context.Context, tenant, id string, since time.Time) (int, error) {
	out, err := send[struct{ Recovered int }](ctx, c, http.MethodPost, tenantPath(tenant, "endpoints", id, "recover"),
		map[string]time.Time{"since": since})
	if err != nil {
		return 0, err
	}
	return out.Recovered, nil
}

// ReplayEndpoint sends an endpoint again every message of its tenant
// accepted in a window, of the event types it subscribes to and matching
// its filter, as new deliveries in the messages' order: for a receiver that
// was down, or has just been registered. It returns how many messages it
// sends; a window of more than 10,000 is refused, to replay in shorter ones.
func (c *Client) ReplayEndpoint(ctx context.Context, tenant, endpointID string, p ReplayParams) (int, error) {
	out, err := send[struct{ Replayed int }](ctx, c, http.MethodPost, tenantPath(tenant, "endpoints", endpointID, "replay"), p)
	if err != nil {
		return 0, err
	}
	return out.Replayed, nil
}

// ---- operational endpoints (admin key)

func opPath(parts ...string) string {
	p := "/v1/operational-endpoints"
	for _, part := range parts {
		p += "/" + url.PathEscape(part)
	}
	return p
}

// CreateOperationalEndpoint registers an endpoint of the operator's for
// hookd's operational events (OpEndpointDisabled, …, or "*" for all),
// which it receives as an OperationalEvent, signed like any webhook.
func (c *Client) CreateOperationalEndpoint(ctx context.Context, p EndpointParams) (*Endpoint, error) {
	return send[Endpoint](ctx, c, http.MethodPost, opPath(), p)
}

// ListOperationalEndpoints lists the operator's endpoints, newest first.
func (c *Client) ListOperationalEndpoints(ctx context.Context, p ListParams) (*Page[Endpoint], error) {
	return get[Page[Endpoint]](ctx, c, opPath()+query(p, nil))
}

// GetOperationalEndpoint returns one of the operator's endpoints.
func (c *Client) GetOperationalEndpoint(ctx context.Context, id string) (*Endpoint, error) {
	return get[Endpoint](ctx, c, opPath(id))
}

// UpdateOperationalEndpoint changes the given fields of an operator's endpoint.
func (c *Client) UpdateOperationalEndpoint(ctx context.Context, id string, p EndpointParams) (*Endpoint, error) {
	return send[Endpoint](ctx, c, http.MethodPatch, opPath(id), p)
}

// DeleteOperationalEndpoint removes an operator's endpoint.
func (c *Client) DeleteOperationalEndpoint(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodDelete, opPath(id), nil, nil, nil)
	return err
}

// OperationalEndpointSecretInfo returns what an operator's endpoint verifies with.
func (c *Client) OperationalEndpointSecretInfo(ctx context.Context, id string) (*SecretInfo, error) {
	return get[SecretInfo](ctx, c, opPath(id, "secret"))
}

// RotateOperationalEndpointSecret replaces an operator's endpoint's secret
// with newSecret (or a generated one when empty), as RotateEndpointSecretInfo
// does for a tenant's.
func (c *Client) RotateOperationalEndpointSecret(ctx context.Context, id, newSecret string) (*SecretInfo, error) {
	var body any
	if newSecret != "" {
		body = map[string]string{"key": newSecret}
	}
	return send[SecretInfo](ctx, c, http.MethodPost, opPath(id, "secret", "rotate"), body)
}

// TestOperationalEndpoint sends a signed hookd.ping to an operator's endpoint.
func (c *Client) TestOperationalEndpoint(ctx context.Context, id string) (*Message, error) {
	return send[Message](ctx, c, http.MethodPost, opPath(id, "test"), nil)
}
