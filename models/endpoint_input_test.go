package models_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"hookd.dev/hookd/models"
	"hookd.dev/hookd/models/storetest"
)

func TestEndpointEventTypesAreBoundedAndLookedUpInOneQuery(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	s := models.NewStore(db.Gorm, models.StoreOpts{})
	f := &fixture{store: s, ctx: t.Context()}
	ten, err := s.CreateTenant(f.ctx, models.TenantParams{UID: ptr("acme")})
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, models.MaxEndpointEventTypes+1)
	for i := range names {
		names[i] = fmt.Sprintf("type.%03d", i)
		if _, err := s.CreateEventType(f.ctx, models.EventTypeParams{Name: names[i]}); err != nil {
			t.Fatal(err)
		}
	}
	var queries atomic.Int64
	if err := db.Gorm.Callback().Query().Before("gorm:query").Register("test:count", func(*gorm.DB) { queries.Add(1) }); err != nil {
		t.Fatal(err)
	}
	url := ptr("https://example.com/hook")

	_, err = s.CreateEndpoint(f.ctx, ten.ID, models.EndpointParams{URL: url, EventTypes: names})
	wantCode(t, err, models.CodeInvalid)
	if !strings.Contains(err.Error(), "at most 100") {
		t.Fatalf("error %q does not say the limit", err)
	}

	queries.Store(0)
	ep, err := s.CreateEndpoint(f.ctx, ten.ID, models.EndpointParams{URL: url, EventTypes: names[:models.MaxEndpointEventTypes]})
	if err != nil {
		t.Fatal(err)
	}
	if n := queries.Load(); n != 2 { // the event types, and the tenant's endpoints counted
		t.Fatalf("creating an endpoint with 100 event types ran %d queries, want 2", n)
	}
	_, err = s.UpdateEndpoint(f.ctx, ten.ID, ep.ID, models.EndpointParams{EventTypes: names})
	wantCode(t, err, models.CodeInvalid)
	_, err = s.UpdateEndpoint(f.ctx, ten.ID, ep.ID, models.EndpointParams{EventTypes: []string{"type.000", "nope"}})
	wantCode(t, err, models.CodeInvalid)
	got, err := s.GetEndpoint(f.ctx, ten.ID, ep.ID)
	if err != nil || len(got.EventTypes) != models.MaxEndpointEventTypes {
		t.Fatalf("after refused updates: %v, %v", got, err)
	}
}

func TestSecretsThatCannotTravelInAHeaderAreRefused(t *testing.T) {
	f := setup(t)
	bad := map[string]string{
		"CR LF":          "abcdefgh\r\nijklmnop",
		"LF":             "abcdefghijklmnop\n",
		"NUL":            "abcdefgh\x00ijklmnop",
		"tab":            "abcdefgh\tijklmnop",
		"DEL":            "abcdefgh\x7fijklmnop",
		"leading space":  " abcdefghijklmnop",
		"trailing space": "abcdefghijklmnop ",
		"non-ASCII":      "abcdefgh-naïve-ijklmnop",
		"invalid UTF-8":  "abcdefgh\xe9ijklmnop",
	}
	for _, scheme := range []string{models.SchemeHMAC, models.SchemeToken} {
		ep, err := f.store.CreateEndpoint(f.ctx, f.tenant.ID, models.EndpointParams{
			URL: ptr("https://example.com/hook"), EventTypes: []string{"*"}, SigningScheme: ptr(scheme),
		})
		if err != nil {
			t.Fatal(err)
		}
		before := ep.Secret
		for name, secret := range bad {
			t.Run(scheme+"/"+name, func(t *testing.T) {
				_, err := f.store.CreateEndpoint(f.ctx, f.tenant.ID, models.EndpointParams{
					URL: ptr("https://example.com/hook"), EventTypes: []string{"*"}, SigningScheme: ptr(scheme), Secret: ptr(secret),
				})
				wantCode(t, err, models.CodeInvalid)
				_, err = f.store.UpdateEndpoint(f.ctx, f.tenant.ID, ep.ID, models.EndpointParams{Secret: ptr(secret)})
				wantCode(t, err, models.CodeInvalid)
				_, err = f.store.RotateSecret(f.ctx, f.tenant.ID, ep.ID, secret, 0)
				wantCode(t, err, models.CodeInvalid)
			})
		}
		for _, prefix := range []string{"sha256=\r\nX-Evil: 1", "a\x00", " Bearer ", "caf\xe9", "naïve "} {
			_, err := f.store.UpdateEndpoint(f.ctx, f.tenant.ID, ep.ID, models.EndpointParams{SignaturePrefix: ptr(prefix)})
			wantCode(t, err, models.CodeInvalid)
		}
		// Secrets with inner spaces and punctuation are fine.
		if _, err := f.store.UpdateEndpoint(f.ctx, f.tenant.ID, ep.ID, models.EndpointParams{
			Secret: ptr("correct horse battery staple!"), SignaturePrefix: ptr("Token "),
		}); err != nil {
			t.Fatal(err)
		}
		got, _ := f.store.GetEndpoint(f.ctx, f.tenant.ID, ep.ID)
		if got.Secret == before || got.Secret != "correct horse battery staple!" {
			t.Fatalf("secret = %q", got.Secret)
		}
	}
}

// TestHeaderNamesAreRefusedAlikeForCustomHeadersAndTheSignatureHeader: a
// name hookd or the connection owns is refused as a custom header, plain or
// secret, and as the signature_header, on create and on update; a name
// refused for one is refused for the other.
func TestHeaderNamesAreRefusedAlikeForCustomHeadersAndTheSignatureHeader(t *testing.T) {
	f := setup(t)
	ep, err := f.store.CreateEndpoint(f.ctx, f.tenant.ID, models.EndpointParams{
		URL: ptr("https://example.com/hook"), EventTypes: []string{"*"}, SigningScheme: ptr(models.SchemeToken),
	})
	if err != nil {
		t.Fatal(err)
	}
	refused := []string{
		"Host", "Content-Length", "Content-Type", "User-Agent", "Connection", "Transfer-Encoding", "Keep-Alive",
		"Expect", "TE", "Upgrade", "Trailer", "Content-Encoding",
		"Proxy-Authorization", "Proxy-Connection", "Proxy-Foo", "PROXY-AUTHENTICATE",
		"webhook-id", "webhook-signature", "webhook-event-type", "Webhook-Foo", "WEBHOOK-TIMESTAMP",
	}
	fields := map[string]func(name string) models.EndpointParams{
		"headers": func(name string) models.EndpointParams {
			return models.EndpointParams{Headers: map[string]string{name: "v"}}
		},
		"secret_headers": func(name string) models.EndpointParams {
			return models.EndpointParams{SecretHeaders: map[string]string{name: "v"}}
		},
		"signature_header": func(name string) models.EndpointParams { return models.EndpointParams{SignatureHeader: ptr(name)} },
	}
	for field, params := range fields {
		for _, name := range refused {
			t.Run(field+"/"+name, func(t *testing.T) {
				_, err := f.store.UpdateEndpoint(f.ctx, f.tenant.ID, ep.ID, params(name))
				wantCode(t, err, models.CodeInvalid)
				if !strings.Contains(err.Error(), field) || !strings.Contains(err.Error(), name) {
					t.Errorf("message %q does not name the field and the header", err)
				}
				p := params(name)
				p.URL, p.EventTypes, p.SigningScheme = ptr("https://example.com/hook"), []string{"*"}, ptr(models.SchemeHMAC)
				_, err = f.store.CreateEndpoint(f.ctx, f.tenant.ID, p)
				wantCode(t, err, models.CodeInvalid)
			})
		}
	}
	got, err := f.store.GetEndpoint(f.ctx, f.tenant.ID, ep.ID)
	if err != nil || got.SignatureHeader != "Authorization" || len(got.Headers)+len(got.SecretHeaders) != 0 {
		t.Fatalf("refused updates changed the endpoint: %+v, %v", got, err)
	}

	// Authorization is the token scheme's default, and a custom header's
	// when the signature is elsewhere.
	if _, err := f.store.UpdateEndpoint(f.ctx, f.tenant.ID, ep.ID, models.EndpointParams{SignatureHeader: ptr("X-Token")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.UpdateEndpoint(f.ctx, f.tenant.ID, ep.ID, models.EndpointParams{
		SecretHeaders: map[string]string{"Authorization": "Basic c2VjcmV0"}, Headers: map[string]string{"X-Webhook-Foo": "v"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.UpdateEndpoint(f.ctx, f.tenant.ID, ep.ID, models.EndpointParams{
		SecretHeaders: map[string]string{}, SignatureHeader: ptr("authorization"),
	}); err != nil {
		t.Fatal(err)
	}
}

// TestHeaderValuesMustBeVisibleASCII: custom header values are visible
// ASCII with spaces and tabs inside (RFC 9110), since receivers decode
// other bytes differently (Node reads Latin-1); a refusal names the header.
func TestHeaderValuesMustBeVisibleASCII(t *testing.T) {
	f := setup(t)
	ep := f.endpoint(t, "*")
	tests := []struct {
		name, value string
		ok          bool
	}{
		{"accented letter", "café", false},
		{"emoji", "café ☕", false},
		{"Latin-1 byte", "caf\xe9", false},
		{"DEL", "a\x7fb", false},
		{"line break", "a\nb", false},
		{"leading space", " a", false},
		{"trailing tab", "a\t", false},
		{"visible ASCII", "!\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~", true},
		{"inner space and tab", "a b\tc", true},
	}
	for _, tt := range tests {
		for _, field := range []string{"headers", "secret_headers"} {
			t.Run(field+"/"+tt.name, func(t *testing.T) {
				// Both sets given, so that the other field's X-Note goes.
				p := models.EndpointParams{Headers: map[string]string{"X-Note": tt.value}, SecretHeaders: map[string]string{}}
				if field == "secret_headers" {
					p.Headers, p.SecretHeaders = p.SecretHeaders, p.Headers
				}
				_, err := f.store.UpdateEndpoint(f.ctx, f.tenant.ID, ep.ID, p)
				if tt.ok {
					if err != nil {
						t.Fatalf("%q refused: %v", tt.value, err)
					}
					return
				}
				wantCode(t, err, models.CodeInvalid)
				if !strings.Contains(err.Error(), field+": ") || !strings.Contains(err.Error(), "X-Note") {
					t.Errorf("message %q does not name the field and the header", err)
				}
			})
		}
	}
}

// The operator bounds how many endpoints a tenant may have and the
// concurrency one may ask for; each refusal names its setting.
func TestEndpointsAreBoundedPerTenant(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	s := models.NewStore(db.Gorm, models.StoreOpts{EndpointBounds: models.EndpointBounds{MaxPerTenant: 2, MaxConcurrency: 20}})
	ctx := t.Context()
	acme, err := s.CreateTenant(ctx, models.TenantParams{UID: ptr("acme")})
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateTenant(ctx, models.TenantParams{UID: ptr("other")})
	if err != nil {
		t.Fatal(err)
	}
	create := func(tenantID string, maxConcurrency int) (*models.Endpoint, error) {
		return s.CreateEndpoint(ctx, tenantID, models.EndpointParams{URL: ptr("https://example.com/hook"),
			EventTypes: []string{"*"}, MaxConcurrency: &maxConcurrency})
	}
	_, err = create(acme.ID, 21)
	wantCode(t, err, models.CodeInvalid)
	if !strings.Contains(err.Error(), "from 1 to 20") || !strings.Contains(err.Error(), "HOOKD_MAX_ENDPOINT_CONCURRENCY") {
		t.Errorf("max_concurrency over the bound: %v", err)
	}
	first, err := create(acme.ID, 20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateEndpoint(ctx, acme.ID, first.ID, models.EndpointParams{MaxConcurrency: ptr(1000)}); models.ErrorCode(err) != models.CodeInvalid {
		t.Errorf("an update over the bound: %v", err)
	}
	if _, err := create(acme.ID, 0); err != nil {
		t.Fatal(err)
	}
	_, err = create(acme.ID, 0)
	wantCode(t, err, models.CodeInvalid)
	if !strings.Contains(err.Error(), "has 2 endpoints") || !strings.Contains(err.Error(), "HOOKD_MAX_ENDPOINTS_PER_TENANT") {
		t.Errorf("a third endpoint: %v", err)
	}
	if _, err := create(other.ID, 0); err != nil {
		t.Fatalf("another tenant's first endpoint: %v", err)
	}
}
