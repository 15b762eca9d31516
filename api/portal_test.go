package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hookd.dev/hookd"
	"hookd.dev/hookd/api"
	"hookd.dev/hookd/models"
)

// portalToken is the token of a portal link: the path's segment after /portal/.
func portalToken(t *testing.T, base, link string) string {
	t.Helper()
	token, ok := strings.CutPrefix(link, base+"/portal/")
	if !ok || !strings.HasSuffix(token, "/") || strings.Count(token, "/") != 1 || len(token) < 20 {
		t.Fatalf("link %q, want %s/portal/<token>/", link, base)
	}
	return strings.TrimSuffix(token, "/")
}

// The app makes portal links for a tenant: the link's token finds the
// tenant, what the link may do and the app's branding, and nothing else
// is needed to open it.
func TestPortalLinks(t *testing.T) {
	f := setup(t)
	ctx := context.Background()

	// An empty body: an hour, read-write, hookd's own look.
	var link hookd.PortalSession
	f.decode(f.call(adminKey, "POST", "/v1/tenants/acme/portal-sessions", "", 201), &link)
	sess, err := f.store.GetPortalSession(ctx, portalToken(t, f.srv.URL, link.URL))
	if err != nil {
		t.Fatal(err)
	}
	if link.TenantID != f.tenant || sess.TenantID != f.tenant || link.ReadOnly || sess.ReadOnly || sess.Title != "" {
		t.Fatalf("link %+v, session %+v; want acme's, read-write, unbranded", link, sess)
	}
	if d := time.Until(link.ExpiresAt); d < 59*time.Minute || d > 61*time.Minute || !link.ExpiresAt.Equal(sess.ExpiresAt) {
		t.Fatalf("expires_at %s (in %s), stored %s; want in an hour", link.ExpiresAt, d, sess.ExpiresAt)
	}
	var stored []string
	if err := f.db.Gorm.Raw("SELECT id FROM portal_sessions").Scan(&stored).Error; err != nil ||
		len(stored) != 1 || stored[0] != models.HashKey(portalToken(t, f.srv.URL, link.URL)) {
		t.Fatalf("stored ids %v, %v; want the token's hash only", stored, err)
	}

	// Everything asked for, by the tenant's uid or its id.
	body := `{"read_only":true,"expires_in":600,"title":"Acme Billing","logo_url":"https://acme.example/logo.png","primary_color":"#1f6feb"}`
	f.decode(f.call(adminKey, "POST", "/v1/tenants/"+f.tenant+"/portal-sessions", body, 201), &link)
	sess, err = f.store.GetPortalSession(ctx, portalToken(t, f.srv.URL, link.URL))
	if err != nil {
		t.Fatal(err)
	}
	if !link.ReadOnly || sess.TenantID != f.tenant || !sess.ReadOnly || sess.Title != "Acme Billing" ||
		sess.LogoURL != "https://acme.example/logo.png" || sess.PrimaryColor != "#1f6feb" {
		t.Fatalf("link %+v, session %+v", link, sess)
	}
	if d := time.Until(link.ExpiresAt); d < 9*time.Minute || d > 11*time.Minute {
		t.Fatalf("expires_in 600: expires_at in %s", d)
	}

	// Revoking ends every live link of the tenant at once, and no other's.
	f.call(adminKey, "POST", "/v1/tenants", `{"uid":"globex"}`, 201)
	var other hookd.PortalSession
	f.decode(f.call(adminKey, "POST", "/v1/tenants/globex/portal-sessions", `{}`, 201), &other)
	var revoked struct{ Revoked int }
	f.decode(f.call(adminKey, "DELETE", "/v1/tenants/acme/portal-sessions", "", 200), &revoked)
	if revoked.Revoked != 2 {
		t.Fatalf("revoked %d links, want 2", revoked.Revoked)
	}
	if sess, err = f.store.GetPortalSession(ctx, portalToken(t, f.srv.URL, link.URL)); err != nil || !sess.Expired(time.Now()) {
		t.Fatalf("after revoking: %+v, %v; want expired", sess, err)
	}
	if sess, err = f.store.GetPortalSession(ctx, portalToken(t, f.srv.URL, other.URL)); err != nil || sess.Expired(time.Now()) {
		t.Fatalf("another tenant's link after revoking acme's: %+v, %v; want live", sess, err)
	}
	f.decode(f.call(adminKey, "DELETE", "/v1/tenants/acme/portal-sessions", "", 200), &revoked)
	if revoked.Revoked != 0 {
		t.Fatalf("revoking again revoked %d", revoked.Revoked)
	}
}

func TestPortalLinksAreRefused(t *testing.T) {
	f := setup(t)
	for body, want := range map[string]string{
		`{"expires_in":10}`:                            "expires_in",
		`{"expires_in":10000000}`:                      "expires_in",
		`{"expires_in":18446747674}`:                   "expires_in", // in nanoseconds, wraps around to about an hour
		`{"expires_in":-3600}`:                         "expires_in",
		`{"primary_color":"red"}`:                      "primary_color",
		`{"logo_url":"http://x/y.png"}`:                "logo_url",
		`{"logo_url":"javascript:alert(1)"}`:           "logo_url",
		`{"title":"` + strings.Repeat("t", 200) + `"}`: "title",
		`{"read_only":"yes"}`:                          "read_only",
		`{"tenant_id":"ten_x"}`:                        `unknown field "tenant_id"`,
	} {
		var refused struct {
			Error struct{ Code, Message string }
		}
		f.decode(f.call(adminKey, "POST", "/v1/tenants/acme/portal-sessions", body, 422), &refused)
		if refused.Error.Code != "invalid" || !strings.Contains(refused.Error.Message, want) {
			t.Errorf("%s: %+v, want invalid naming %s", body, refused.Error, want)
		}
	}
	f.call(adminKey, "POST", "/v1/tenants/acme/portal-sessions", `{"expires_in":`, 400)
	// A tenant's own key cannot make links: the app decides who opens the portal.
	f.call(f.key, "POST", "/v1/tenants/acme/portal-sessions", "", 403)
	f.call(f.key, "DELETE", "/v1/tenants/acme/portal-sessions", "", 403)
	f.call(adminKey, "POST", "/v1/tenants/nobody/portal-sessions", "", 404)
	f.call(adminKey, "DELETE", "/v1/tenants/nobody/portal-sessions", "", 404)
	f.call("", "POST", "/v1/tenants/acme/portal-sessions", "", 401)
}

// Behind a proxy, links name hookd's public URL, not the address the
// request reached.
func TestPortalLinksUseThePublicURL(t *testing.T) {
	f := setup(t)
	srv := httptest.NewServer(checkedAgainstSpec(t, api.New(api.Config{
		Store: f.store, AdminKey: adminKey, PublicURL: "https://hooks.example.com",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}).Handler()))
	t.Cleanup(srv.Close)
	f.srv = srv
	var link hookd.PortalSession
	f.decode(f.call(adminKey, "POST", "/v1/tenants/acme/portal-sessions", `{"expires_in":60}`, 201), &link)
	sess, err := f.store.GetPortalSession(context.Background(), portalToken(t, "https://hooks.example.com", link.URL))
	if err != nil || sess.TenantID != f.tenant {
		t.Fatalf("session %+v, %v", sess, err)
	}
}
