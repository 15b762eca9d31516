package models

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"

	"hookd.dev/hookd/dispatcher/signature"
)

// EndpointParams creates or changes an endpoint. Nil fields are left as they
// are (on create: URL and EventTypes are required, Enabled defaults to true,
// a missing Secret is generated).
type EndpointParams struct {
	URL            *string
	Description    *string
	EventTypes     []string
	Enabled        *bool
	Secret         *string
	MaxConcurrency *int // attempts in flight across all workers; 0 resets to the worker default
	RateLimit      *int // attempts per second; 0 removes the limit
	// SigningScheme changes how requests are signed; a change without a Secret generates one.
	SigningScheme   *string
	SignatureHeader *string // hmac-sha256 and token: the header (defaults: X-Hub-Signature-256, Authorization)
	SignaturePrefix *string // hmac-sha256 and token: before the value (defaults: "sha256=", "Bearer ")
	// Delivery controls (see Endpoint). Headers and SecretHeaders replace
	// the set they name (empty: none); an empty RetrySchedule or a zero
	// TimeoutSeconds goes back to the default.
	Envelope      *bool
	Headers       map[string]string
	SecretHeaders map[string]string
	Timeout       *int
	RetrySchedule []int
	Filter        *string
	Ordering      *string
}

// schemeList names the valid schemes for error messages: "a, b or c".
var schemeList = func() string {
	names := signature.SchemeNames()
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}()

var headerName = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

// NewSecretFor generates a secret in the form a scheme uses.
func NewSecretFor(scheme string) (string, error) {
	return signature.SchemeFor(scheme).NewSecret()
}

// validateSecretFor checks a secret's form for a scheme.
func validateSecretFor(scheme, secret string) error {
	if err := signature.SchemeFor(scheme).ValidateSecret(secret); err != nil {
		return Errorf(CodeInvalid, "%s", err)
	}
	return nil
}

// ValidateURL accepts absolute http and https URLs with a host.
func ValidateURL(raw string) error {
	if err := checkText("url", raw); err != nil {
		return err
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Errorf(CodeInvalid, "url must be an absolute http or https URL, got %q", raw)
	}
	if len(raw) > 2048 {
		return Errorf(CodeInvalid, "url must be at most 2048 characters")
	}
	if u.User != nil {
		return Errorf(CodeInvalid, "url must not carry credentials; use a signing secret instead")
	}
	return nil
}

// validate checks p against the domain; create says whether required fields must be there.
func (s *Store) validateEndpoint(ctx context.Context, tenantID string, p EndpointParams, create bool) error {
	if create && p.URL == nil {
		return Errorf(CodeInvalid, "url is required")
	}
	if p.URL != nil {
		if err := ValidateURL(*p.URL); err != nil {
			return err
		}
		if s.lookup != nil {
			if err := checkDestination(ctx, *p.URL, s.lookup, s.guard); err != nil {
				return err
			}
		}
	}
	if p.Description != nil {
		if err := checkText("description", *p.Description); err != nil {
			return err
		}
	}
	if create && p.EventTypes == nil {
		return Errorf(CodeInvalid, `event_types is required: a list of event type names, or ["*"] for all`)
	}
	switch {
	case p.EventTypes == nil:
	case tenantID == OperatorTenantID:
		if err := validateOperationalEventTypes(p.EventTypes); err != nil {
			return err
		}
	default:
		if err := s.validateEventTypes(ctx, p.EventTypes); err != nil {
			return err
		}
	}
	if p.Description != nil && len(*p.Description) > 1024 {
		return Errorf(CodeInvalid, "description must be at most 1024 characters")
	}
	if p.RateLimit != nil && (*p.RateLimit < 0 || *p.RateLimit > 100_000) {
		return Errorf(CodeInvalid, "rate_limit must be from 1 to 100000 requests per second (0: none)")
	}
	if p.SigningScheme != nil {
		if _, ok := signature.LookupScheme(*p.SigningScheme); !ok {
			return Errorf(CodeInvalid, "signing_scheme must be %s", schemeList)
		}
	}
	if p.SignatureHeader != nil && *p.SignatureHeader != "" {
		if !headerName.MatchString(*p.SignatureHeader) {
			return Errorf(CodeInvalid, "signature_header must be a header name of up to 64 letters, digits and dashes")
		}
		if refusedHeader(*p.SignatureHeader) {
			return refusedHeaderError("signature_header", *p.SignatureHeader)
		}
	}
	if p.SignaturePrefix != nil && (len(*p.SignaturePrefix) > 64 || !signature.HeaderSafe(*p.SignaturePrefix) ||
		strings.TrimLeft(*p.SignaturePrefix, " ") != *p.SignaturePrefix) {
		return Errorf(CodeInvalid, "signature_prefix must be at most 64 printable ASCII characters (no control characters or line breaks), not starting with a space")
	}
	return s.bounds.validateControls(p)
}

// MaxEndpointEventTypes bounds the event types one endpoint names; more is
// better said with ["*"].
const MaxEndpointEventTypes = 100

// validateEventTypes checks that every name is a live event type, with one query.
func (s *Store) validateEventTypes(ctx context.Context, names []string) error {
	if len(names) == 0 {
		return Errorf(CodeInvalid, `event_types must not be empty: name event types, or ["*"] for all`)
	}
	if len(names) > MaxEndpointEventTypes {
		return Errorf(CodeInvalid, `event_types must name at most %d event types (got %d); subscribe to ["*"] for all`, MaxEndpointEventTypes, len(names))
	}
	var lookup []string
	for _, name := range names {
		if name == AllEventTypes {
			continue
		}
		if !eventTypePattern.MatchString(name) {
			return Errorf(CodeInvalid, "unknown event type %q", name)
		}
		lookup = append(lookup, name)
	}
	if len(lookup) == 0 {
		return nil
	}
	var found []EventType
	if err := s.db.WithContext(ctx).Select("name", "archived_at").Where("name IN ?", lookup).Find(&found).Error; err != nil {
		return fmt.Errorf("look up event types: %w", err)
	}
	byName := make(map[string]EventType, len(found))
	for _, et := range found {
		byName[et.Name] = et
	}
	for _, name := range lookup {
		et, ok := byName[name]
		if !ok {
			return Errorf(CodeInvalid, "unknown event type %q", name)
		}
		if et.ArchivedAt != nil {
			return Errorf(CodeInvalid, "event type %q is archived", name)
		}
	}
	return nil
}

// zeroIsNil turns the "0 = default" of a limit into NULL.
func zeroIsNil(p *int) *int {
	if p == nil || *p == 0 {
		return nil
	}
	return p
}

// CreateEndpoint adds an endpoint to a tenant.
func (s *Store) CreateEndpoint(ctx context.Context, tenantID string, p EndpointParams) (*Endpoint, error) {
	if err := s.validateEndpoint(ctx, tenantID, p, true); err != nil {
		return nil, err
	}
	// Counted before the insert, not with it: concurrent creates may pass
	// the bound by a few, which bounds what one tenant holds all the same.
	var n int64
	if err := s.db.WithContext(ctx).Model(&Endpoint{}).Where("tenant_id = ?", tenantID).Count(&n).Error; err != nil {
		return nil, fmt.Errorf("count the tenant's endpoints: %w", err)
	}
	if int(n) >= s.bounds.MaxPerTenant {
		return nil, Errorf(CodeInvalid, "the tenant has %d endpoints, the most it may have (HOOKD_MAX_ENDPOINTS_PER_TENANT): delete one first", n)
	}
	ep := &Endpoint{ID: NewID(PrefixEndpoint), TenantID: tenantID, URL: *p.URL, EventTypes: p.EventTypes, Enabled: true}
	if p.Description != nil {
		ep.Description = *p.Description
	}
	if p.Enabled != nil {
		ep.Enabled = *p.Enabled
	}
	ep.MaxConcurrency, ep.RateLimit = zeroIsNil(p.MaxConcurrency), zeroIsNil(p.RateLimit)
	ep.SigningScheme = SchemeStandard
	if err := applyScheme(ep, p); err != nil {
		return nil, err
	}
	if err := applyControls(ep, p); err != nil {
		return nil, err
	}
	// Set here, not by gorm: gorm would fill the sealed copy, and the answer
	// must show what a GET shows.
	ep.CreatedAt = s.now()
	ep.UpdatedAt = ep.CreatedAt
	if err := s.db.WithContext(ctx).Create(s.sealedCopy(ep)).Error; err != nil {
		return nil, fmt.Errorf("create endpoint: %w", err)
	}
	s.cache.endpointChanged(ep.ID)
	return ep, nil
}

// EndpointsByID loads endpoints by id, whoever owns them (admin UI).
func (s *Store) EndpointsByID(ctx context.Context, ids []string) (map[string]Endpoint, error) {
	out := make(map[string]Endpoint, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var eps []Endpoint
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&eps).Error; err != nil {
		return nil, err
	}
	for _, ep := range eps {
		out[ep.ID] = ep
	}
	return out, nil
}

// DisabledEndpoints lists disabled endpoints, most recently changed first.
func (s *Store) DisabledEndpoints(ctx context.Context, limit int) ([]Endpoint, error) {
	var eps []Endpoint
	err := s.db.WithContext(ctx).Where("NOT enabled").Order("updated_at DESC").Limit(limit).Find(&eps).Error
	return eps, err
}

// EndpointLimits loads an endpoint (any tenant's) for the worker's limiter.
func (s *Store) EndpointLimits(ctx context.Context, id string) (*Endpoint, error) {
	var ep Endpoint
	err := s.db.WithContext(ctx).Select("id", "max_concurrency", "rate_limit").Take(&ep, "id = ?", id).Error
	if err != nil {
		return nil, notFound(err, "endpoint %q not found", id)
	}
	return &ep, nil
}

// GetEndpoint finds a tenant's endpoint.
func (s *Store) GetEndpoint(ctx context.Context, tenantID, id string) (*Endpoint, error) {
	var ep Endpoint
	if err := s.db.WithContext(ctx).Take(&ep, "id = ? AND tenant_id = ?", id, tenantID).Error; err != nil {
		return nil, notFound(err, "endpoint %q not found", id)
	}
	return &ep, s.openEndpoint(&ep)
}

// ListEndpoints pages through a tenant's endpoints ("": every tenant's), newest first.
func (s *Store) ListEndpoints(ctx context.Context, tenantID string, p ListParams) ([]Endpoint, string, error) {
	q := s.db.Model(&Endpoint{})
	if tenantID != "" {
		q = q.Where("tenant_id = ?", tenantID)
	}
	return page(ctx, q, p, func(e *Endpoint) string { return e.ID })
}

// UpdateEndpoint changes an endpoint. Enabling it clears the reason it was disabled.
func (s *Store) UpdateEndpoint(ctx context.Context, tenantID, id string, p EndpointParams) (*Endpoint, error) {
	if err := s.validateEndpoint(ctx, tenantID, p, false); err != nil {
		return nil, err
	}
	ep, err := s.GetEndpoint(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	if p.URL != nil {
		ep.URL = *p.URL
	}
	if p.Description != nil {
		ep.Description = *p.Description
	}
	if p.EventTypes != nil {
		ep.EventTypes = p.EventTypes
	}
	if err := applyScheme(ep, p); err != nil {
		return nil, err
	}
	if err := applyControls(ep, p); err != nil {
		return nil, err
	}
	if p.MaxConcurrency != nil {
		ep.MaxConcurrency = zeroIsNil(p.MaxConcurrency)
	}
	if p.RateLimit != nil {
		ep.RateLimit = zeroIsNil(p.RateLimit)
	}
	resume := false
	if p.Enabled != nil && *p.Enabled != ep.Enabled {
		ep.Enabled = *p.Enabled
		ep.DisabledReason = ""
		ep.FailingSince = nil // a fresh start: failures before the change do not count
		if !ep.Enabled {
			ep.DisabledReason = "disabled through the API"
		}
		resume = ep.Enabled
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		stored := s.sealedCopy(ep)
		err := tx.Select("url", "description", "event_types", "secret", "enabled", "disabled_reason",
			"max_concurrency", "rate_limit", "failing_since", "signing_scheme", "signature_header", "signature_prefix",
			"previous_secret", "previous_secret_expires_at", "envelope", "headers", "secret_headers", "timeout_seconds",
			"retry_schedule", "filter", "filter_error", "filter_error_at", "ordering", "updated_at").Save(stored).Error
		ep.UpdatedAt = stored.UpdatedAt
		if err != nil || !resume {
			return err
		}
		// Deliveries parked while it was disabled are due again; the sweeper enqueues them.
		return tx.Model(&Delivery{}).
			Where("endpoint_id = ? AND status = ? AND next_attempt_at IS NULL", ep.ID, StatusPending).
			Updates(map[string]any{"next_attempt_at": s.now(), "updated_at": s.now()}).Error
	})
	s.cache.endpointChanged(ep.ID)
	if err != nil {
		return nil, fmt.Errorf("update endpoint %s: %w", id, err)
	}
	return ep, nil
}

// applyScheme sets an endpoint's scheme, header, prefix and secret from p:
// a new scheme without a secret gets a generated one of its form, since
// secrets of one scheme do not fit another.
func applyScheme(ep *Endpoint, p EndpointParams) error {
	changed := p.SigningScheme != nil && *p.SigningScheme != ep.SigningScheme
	if p.SigningScheme != nil {
		ep.SigningScheme = *p.SigningScheme
	}
	defaults := signature.SchemeFor(ep.SigningScheme)
	if changed || ep.SignatureHeader == "" && defaults.Header != "" {
		ep.SignatureHeader, ep.SignaturePrefix = defaults.Header, defaults.Prefix
	}
	if p.SignatureHeader != nil && *p.SignatureHeader != "" {
		ep.SignatureHeader = *p.SignatureHeader
	}
	if p.SignaturePrefix != nil {
		ep.SignaturePrefix = *p.SignaturePrefix
	}
	if defaults.Header == "" { // the Standard Webhooks schemes use their own headers
		ep.SignatureHeader, ep.SignaturePrefix = "", ""
	}
	if changed { // a secret of the old scheme cannot sign in the new one
		ep.PreviousSecret, ep.PreviousSecretExpiresAt = nil, nil
	}
	switch {
	case p.Secret != nil:
		if err := validateSecretFor(ep.SigningScheme, *p.Secret); err != nil {
			return err
		}
		ep.Secret = *p.Secret
		if ep.SingleSignature() {
			// A secret set outright signs at once (use rotate for a grace
			// period): no previous one may keep signing instead of it.
			ep.PreviousSecret, ep.PreviousSecretExpiresAt = nil, nil
		}
	case changed || ep.Secret == "":
		secret, err := NewSecretFor(ep.SigningScheme)
		if err != nil {
			return err
		}
		ep.Secret = secret
	}
	return nil
}

// RotateSecret makes newSecret (generated when empty) the endpoint's secret.
// The old one keeps signing for grace, so receivers can switch without
// refusing a webhook: beside the new one in the Standard Webhooks schemes,
// alone (the new one is staged) in hmac-sha256 and token; see SigningSecrets.
func (s *Store) RotateSecret(ctx context.Context, tenantID, id, newSecret string, grace time.Duration) (*Endpoint, error) {
	ep, err := s.GetEndpoint(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	if newSecret == "" {
		if newSecret, err = NewSecretFor(ep.SigningScheme); err != nil {
			return nil, err
		}
	} else if err := validateSecretFor(ep.SigningScheme, newSecret); err != nil {
		return nil, err
	}
	expires := s.now().Add(grace)
	previous := ep.Secret
	if ep.KeyActiveFrom(s.now()) != nil {
		// A staged secret never signed: the secret that signs now, which
		// receivers hold, stays the previous one for a new grace period.
		previous = *ep.PreviousSecret
	}
	ep.PreviousSecret, ep.PreviousSecretExpiresAt, ep.Secret = &previous, &expires, newSecret
	stored := s.sealedCopy(ep)
	err = s.db.WithContext(ctx).Select("secret", "previous_secret", "previous_secret_expires_at", "updated_at").Save(stored).Error
	s.cache.endpointChanged(ep.ID)
	if err != nil {
		return nil, fmt.Errorf("rotate secret of %s: %w", id, err)
	}
	ep.UpdatedAt = stored.UpdatedAt
	return ep, nil
}

// DeleteEndpoint removes an endpoint with its deliveries and their attempts.
func (s *Store) DeleteEndpoint(ctx context.Context, tenantID, id string) error {
	res := s.db.WithContext(ctx).Delete(&Endpoint{}, "id = ? AND tenant_id = ?", id, tenantID)
	s.cache.endpointChanged(id)
	if res.Error != nil {
		return fmt.Errorf("delete endpoint %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return Errorf(CodeNotFound, "endpoint %q not found", id)
	}
	return nil
}
