package web_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"hookd.dev/hookd/models"
)

// linkFormToken is the form token of a portal link, derived from the
// link's token as the portal derives it; a read-only link's pages show none.
func linkFormToken(base string) string {
	mac := hmac.New(sha256.New, []byte(strings.TrimPrefix(base, "/portal/")))
	mac.Write([]byte("hookd portal form"))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

// rows is what the tables a portal form could change hold, to compare.
func (f *fixture) rows() string {
	f.t.Helper()
	var out strings.Builder
	for _, table := range []string{"tenants", "event_types", "endpoints", "messages", "deliveries", "attempts"} {
		var rows []map[string]any
		if err := f.store.DB().Raw("SELECT * FROM " + table + " ORDER BY 1").Scan(&rows).Error; err != nil {
			f.t.Fatalf("read %s: %v", table, err)
		}
		fmt.Fprintf(&out, "%s: %v\n", table, rows)
	}
	return out.String()
}

// A read-only link's POSTs are refused for being read-only, not for a
// wrong form token: with the link's own, right token, every form that
// changes something answers 403 saying read-only, and nothing changes.
func TestAReadOnlyLinkIsRefusedWithTheRightFormToken(t *testing.T) {
	f := setup(t)
	off, err := f.store.CreateEndpoint(f.ctx, f.tenant.ID, models.EndpointParams{URL: ptr("https://hooks.acme.example/off"), EventTypes: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.UpdateEndpoint(f.ctx, f.tenant.ID, off.ID, models.EndpointParams{Enabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	// The derivation is the portal's: a writable link's forms carry it.
	if base, csrf := f.portalLink(models.PortalParams{}); csrf == "" || linkFormToken(base) != csrf {
		t.Fatalf("a writable link's form token is %q, derived %q", csrf, linkFormToken(base))
	}
	ro, _ := f.portalLink(models.PortalParams{ReadOnly: true})
	csrf := linkFormToken(ro)
	before := f.rows()

	ep, hourAgo := "/endpoints/"+f.endpoint.ID, time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	posts := []struct {
		path string
		form url.Values
	}{
		{"/endpoints", url.Values{"url": {"https://x.example/new"}, "event_types": {"*"}}},
		{ep + "/edit", url.Values{"url": {"https://x.example/changed"}, "event_types": {"*"}}},
		{ep + "/disable", nil},
		{"/endpoints/" + off.ID + "/enable", nil},
		{ep + "/rotate", nil},
		{ep + "/test", nil},
		{ep + "/replay", url.Values{"since": {hourAgo}}},
		{ep + "/recover", url.Values{"since": {hourAgo}}},
		{"/messages/" + f.delivery.MessageID + "/resend", nil},
		{"/messages/" + f.delivery.MessageID + "/resend", url.Values{"endpoint_id": {f.endpoint.ID}}},
		{"/deliveries/" + f.delivery.ID + "/retry", nil},
		{ep + "/delete", nil}, // last: the others name this endpoint
	}
	for _, p := range posts {
		if status, page := f.post(ro+p.path, csrf, p.form); status != http.StatusForbidden || !strings.Contains(page, "read-only") {
			t.Errorf("read-only POST %s with the link's form token = %d, want 403 saying read-only", p.path, status)
		}
	}
	if after := f.rows(); after != before {
		t.Errorf("read-only POSTs changed the database:\nbefore %s\nafter  %s", before, after)
	}
	if got := f.queue.enqueued(); len(got) != 0 {
		t.Errorf("read-only POSTs enqueued %v", got)
	}
	if n := f.budget.total(); n != 0 {
		t.Errorf("read-only POSTs charged the tenant's budget %d", n)
	}
}
