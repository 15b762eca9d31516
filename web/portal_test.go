package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"hookd.dev/hookd/models"
)

// portalLink makes a portal link for the fixture's tenant and returns its
// path prefix and the CSRF token of its forms.
func (f *fixture) portalLink(p models.PortalParams) (base, csrf string) {
	f.t.Helper()
	token, _, err := f.store.CreatePortalSession(f.ctx, f.tenant.ID, p)
	if err != nil {
		f.t.Fatal(err)
	}
	base = "/portal/" + token
	status, page := f.get(base + "/")
	if status != http.StatusOK {
		f.t.Fatalf("GET %s/ = %d\n%s", base, status, page)
	}
	_, page = f.get(base + "/endpoints/new") // a page with a form
	if m := csrfInput.FindStringSubmatch(page); m != nil {
		csrf = m[1]
	}
	return base, csrf
}

// otherTenant gives a second tenant an endpoint and a delivery.
func (f *fixture) otherTenant() (*models.Endpoint, models.Delivery) {
	f.t.Helper()
	other, err := f.store.CreateTenant(f.ctx, models.TenantParams{UID: ptr("globex")})
	if err != nil {
		f.t.Fatal(err)
	}
	ep, err := f.store.CreateEndpoint(f.ctx, other.ID, models.EndpointParams{URL: ptr("https://hooks.globex.example/secret-path"), EventTypes: []string{"*"}})
	if err != nil {
		f.t.Fatal(err)
	}
	msg, _, err := f.pipeline.Emit(f.ctx, models.EmitParams{TenantID: other.ID, EventType: "invoice.paid", Payload: []byte(`{"globex":true}`)})
	if err != nil {
		f.t.Fatal(err)
	}
	d := msg.Deliveries[0]
	for deadline := time.Now().Add(5 * time.Second); !slices.Contains(f.queue.enqueued(), d.ID); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			f.t.Fatal("the emit's delivery was never enqueued")
		}
	}
	f.queue.mu.Lock()
	f.queue.ids = nil
	f.queue.mu.Unlock()
	return ep, d
}

func TestPortalShowsOnlyItsTenant(t *testing.T) {
	f := setup(t)
	otherEP, otherD := f.otherTenant()
	base, csrf := f.portalLink(models.PortalParams{})

	_, home := f.get(base + "/")
	mustContain(t, home, f.endpoint.URL, "Add an endpoint")
	for path, page := range map[string]string{"home": home, "deliveries": f.page(base + "/deliveries"), "messages": f.page(base + "/messages")} {
		if strings.Contains(page, "globex") || strings.Contains(page, otherD.ID) {
			t.Errorf("the portal's %s shows the other tenant's data", path)
		}
	}
	mustContain(t, f.page(base+"/deliveries"), f.delivery.ID)
	mustContain(t, f.page(base+"/deliveries/"+f.delivery.ID), "database on fire", "Retry now")

	// The other tenant's things are not found, whatever the path names.
	for _, path := range []string{
		"/endpoints/" + otherEP.ID, "/endpoints/" + otherEP.ID + "/secret", "/endpoints/" + otherEP.ID + "/edit",
		"/endpoints/" + otherEP.ID + "/disable", "/messages/" + otherD.MessageID,
		"/deliveries/" + otherD.ID, "/deliveries/" + otherD.ID + "/retry",
	} {
		if status, _ := f.get(base + path); status != http.StatusNotFound {
			t.Errorf("GET %s of the other tenant = %d, want 404", path, status)
		}
	}
	if page := f.page(base + "/deliveries?endpoint_id=" + otherEP.ID); strings.Contains(page, otherD.ID) {
		t.Error("filtering on the other tenant's endpoint lists its deliveries")
	}
	for _, path := range []string{"/deliveries/" + otherD.ID + "/retry", "/endpoints/" + otherEP.ID + "/disable", "/endpoints/" + otherEP.ID + "/delete"} {
		if status, _ := f.post(base+path, csrf, nil); status != http.StatusNotFound {
			t.Errorf("POST %s of the other tenant = %d, want 404", path, status)
		}
	}
	if ep, err := f.store.GetEndpoint(f.ctx, otherEP.TenantID, otherEP.ID); err != nil || !ep.Enabled {
		t.Errorf("the other tenant's endpoint changed: %+v %v", ep, err)
	}
	if got := f.queue.enqueued(); len(got) != 0 {
		t.Errorf("refused posts enqueued %v", got)
	}

	// The link opens no admin page, and sets no cookie that could.
	if status, loc := f.get("/ui"); status != http.StatusSeeOther || loc != "/ui/login" {
		t.Errorf("GET /ui after using the portal = %d %s, want the login", status, loc)
	}
	u, _ := url.Parse(f.srv.URL)
	if cookies := f.client.Jar.Cookies(u.JoinPath("/portal/")); len(cookies) != 0 {
		t.Errorf("the portal set cookies: %v", cookies)
	}
}

// page fetches a page that must answer 200.
func (f *fixture) page(path string) string {
	f.t.Helper()
	status, body := f.get(path)
	if status != http.StatusOK {
		f.t.Fatalf("GET %s = %d\n%s", path, status, body)
	}
	return body
}

func TestPortalManagesEndpoints(t *testing.T) {
	f := setup(t)
	if _, err := f.store.CreateEventType(f.ctx, models.EventTypeParams{
		Name: "invoice.voided", Description: ptr("An invoice was voided"), Schema: ptr(`{"type":"object","required":["id"]}`),
	}); err != nil {
		t.Fatal(err)
	}
	base, csrf := f.portalLink(models.PortalParams{})

	// The form offers the catalogue with descriptions and schemas.
	mustContain(t, f.page(base+"/endpoints/new"), "invoice.voided", "An invoice was voided", "&#34;required&#34;")

	// Refused input shows the form again with what was typed and why.
	status, page := f.post(base+"/endpoints", csrf, url.Values{"url": {"ftp://nope.example"}, "event_types": {"invoice.voided"}, "signing_scheme": {"standard"}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("bad URL = %d, want 422\n%s", status, page)
	}
	mustContain(t, page, "ftp://nope.example", `value="invoice.voided" checked`, `class="error"`)

	status, loc := f.post(base+"/endpoints", csrf, url.Values{
		"url": {"https://hooks.acme.example/portal"}, "description": {"made in the portal"},
		"event_types": {"invoice.voided", "invoice.paid"}, "signing_scheme": {"hmac-sha256"},
		"signature_header": {"X-Acme-Signature"}, "signature_prefix": {""},
	})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, base+"/endpoints/ep_") ||
		f.notice(loc) != "Endpoint created. Its signing secret is below, under Signing secret." {
		t.Fatalf("create = %d %s", status, loc)
	}
	id := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], base+"/endpoints/")
	ep, err := f.store.GetEndpoint(f.ctx, f.tenant.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if ep.URL != "https://hooks.acme.example/portal" || ep.Description != "made in the portal" || ep.SigningScheme != "hmac-sha256" ||
		ep.SignatureHeader != "X-Acme-Signature" || !slices.Equal(ep.EventTypes, []string{"invoice.voided", "invoice.paid"}) {
		t.Fatalf("created %+v", ep)
	}
	mustContain(t, f.page(base+"/endpoints/"+id), "made in the portal", "Send a test event")

	// The secret, once asked, with how to verify it for this scheme.
	mustContain(t, f.page(base+"/endpoints/"+id+"/secret"), ep.Secret, "X-Acme-Signature", `signature.LookupScheme(&#34;hmac-sha256&#34;)`)

	// Edit keeps the secret when the scheme stays.
	status, loc = f.post(base+"/endpoints/"+id+"/edit", csrf, url.Values{
		"url": {"https://hooks.acme.example/portal2"}, "event_types": {"invoice.paid"}, "signing_scheme": {"hmac-sha256"},
		"signature_header": {"X-Acme-Signature"}, "signature_prefix": {"sha256="},
	})
	if status != http.StatusSeeOther || f.notice(loc) != "Endpoint saved." {
		t.Fatalf("edit = %d %s", status, loc)
	}
	edited, _ := f.store.GetEndpoint(f.ctx, f.tenant.ID, id)
	if edited.URL != "https://hooks.acme.example/portal2" || edited.Secret != ep.Secret || !slices.Equal(edited.EventTypes, []string{"invoice.paid"}) {
		t.Fatalf("edited %+v", edited)
	}

	// Disable, enable, rotate, test, delete.
	notices := map[string]string{
		"disable": "Endpoint disabled.",
		"enable":  "Endpoint enabled.",
		"rotate":  "Secret rotated. The new secret is below; the old one keeps signing for 24h0m0s.",
		"test":    "Test event sent: its delivery and attempts appear below.",
	}
	for _, action := range []string{"disable", "enable", "rotate", "test"} {
		mustContain(t, f.page(base+"/endpoints/"+id+"/"+action), `action="`+base+"/endpoints/"+id+"/"+action+`"`)
		if status, loc := f.post(base+"/endpoints/"+id+"/"+action, csrf, nil); status != http.StatusSeeOther || f.notice(loc) != notices[action] {
			t.Fatalf("%s = %d %s, notice %q", action, status, loc, f.notice(loc))
		}
		got, _ := f.store.GetEndpoint(f.ctx, f.tenant.ID, id)
		switch action {
		case "disable":
			if got.Enabled {
				t.Error("disable left it enabled")
			}
		case "enable":
			if !got.Enabled {
				t.Error("enable left it disabled")
			}
		case "rotate":
			if got.Secret == ep.Secret || got.PreviousSecret == nil || *got.PreviousSecret != ep.Secret {
				t.Errorf("rotate: secret %q, previous %v", got.Secret, got.PreviousSecret)
			}
		}
	}
	if got := f.queue.enqueued(); len(got) != 1 {
		t.Fatalf("the test event enqueued %v, want one delivery", got)
	}
	ds, _, _ := f.store.ListDeliveries(f.ctx, models.DeliveryParams{TenantID: f.tenant.ID, EndpointID: id})
	if len(ds) != 1 || ds[0].EventType != "hookd.ping" {
		t.Fatalf("the test event's deliveries: %+v", ds)
	}
	if status, loc := f.post(base+"/endpoints/"+id+"/delete", csrf, nil); status != http.StatusSeeOther || !strings.HasPrefix(loc, base+"/") ||
		f.notice(loc) != "Endpoint "+id+" deleted." {
		t.Fatalf("delete = %d %s", status, loc)
	}
	if _, err := f.store.GetEndpoint(f.ctx, f.tenant.ID, id); models.ErrorCode(err) != models.CodeNotFound {
		t.Fatalf("deleted endpoint still found: %v", err)
	}

	// Retry and recover, as in the admin UI.
	if status, loc := f.post(base+"/deliveries/"+f.delivery.ID+"/retry", csrf, nil); status != http.StatusSeeOther ||
		f.notice(loc) != "Retry queued: the new attempt appears below in a moment." {
		t.Fatalf("retry = %d %s", status, loc)
	}
	if status, loc := f.post(base+"/endpoints/"+f.endpoint.ID+"/recover", csrf, url.Values{"since": {"yesterday"}}); status != http.StatusUnprocessableEntity {
		t.Fatalf("recover with a bad time = %d %s", status, loc)
	}
}

func TestPortalLinkRefused(t *testing.T) {
	f := setup(t)
	if status, page := f.get("/portal/hkp_not_a_link/"); status != http.StatusNotFound || !strings.Contains(page, "not valid") {
		t.Errorf("unknown link = %d\n%s", status, page)
	}
	base, _ := f.portalLink(models.PortalParams{})
	if n, err := f.store.RevokePortalSessions(f.ctx, f.tenant.ID); err != nil || n != 1 {
		t.Fatalf("revoke = %d %v", n, err)
	}
	time.Sleep(10 * time.Millisecond)
	for _, path := range []string{"/", "/deliveries/" + f.delivery.ID, "/endpoints/" + f.endpoint.ID + "/secret"} {
		status, page := f.get(base + path)
		if status != http.StatusGone || !strings.Contains(page, "expired") || strings.Contains(page, f.endpoint.URL) {
			t.Errorf("expired link %s = %d\n%s", path, status, page)
		}
	}
}

func TestPortalReadOnly(t *testing.T) {
	f := setup(t)
	base, csrf := f.portalLink(models.PortalParams{ReadOnly: true})
	home := f.page(base + "/")
	mustContain(t, home, "read-only", f.endpoint.URL)
	if strings.Contains(home, "Add an endpoint") || strings.Contains(f.page(base+"/deliveries/"+f.delivery.ID), "Retry now") {
		t.Error("a read-only link offers changes")
	}
	if csrf != "" {
		t.Error("a read-only link shows a form")
	}
	// Refused as read-only (the message says so), before the form's token is read.
	for _, path := range []string{"/deliveries/" + f.delivery.ID + "/retry", "/endpoints/" + f.endpoint.ID + "/disable", "/endpoints"} {
		if status, page := f.post(base+path, "0123456789abcdef0123456789abcdef", url.Values{"url": {"https://x.example"}}); status != http.StatusForbidden || !strings.Contains(page, "read-only") {
			t.Errorf("read-only POST %s = %d, want 403 saying read-only", path, status)
		}
	}
	for _, path := range []string{"/endpoints/new", "/endpoints/" + f.endpoint.ID + "/edit", "/endpoints/" + f.endpoint.ID + "/disable", "/deliveries/" + f.delivery.ID + "/retry"} {
		if status, page := f.get(base + path); status != http.StatusForbidden || strings.Contains(page, `name="csrf"`) {
			t.Errorf("read-only GET %s = %d, want 403 without a form", path, status)
		}
	}
	if status, page := f.get(base + "/endpoints/" + f.endpoint.ID + "/secret"); status != http.StatusForbidden || strings.Contains(page, f.endpoint.Secret) {
		t.Errorf("read-only secret page = %d", status)
	}
	if got := f.queue.enqueued(); len(got) != 0 {
		t.Errorf("read-only link enqueued %v", got)
	}
	if ep, _ := f.store.GetEndpoint(f.ctx, f.tenant.ID, f.endpoint.ID); !ep.Enabled {
		t.Error("read-only link disabled the endpoint")
	}
}

func TestPortalFormsNeedTheirToken(t *testing.T) {
	f := setup(t)
	base, csrf := f.portalLink(models.PortalParams{})
	path := base + "/endpoints/" + f.endpoint.ID + "/disable"
	if status, _ := f.post(path, "", nil); status != http.StatusForbidden {
		t.Errorf("no token = %d, want 403", status)
	}
	if status, _ := f.post(path, strings.Repeat("0", 32), nil); status != http.StatusForbidden {
		t.Errorf("wrong token = %d, want 403", status)
	}
	if status := f.postRaw(path, url.Values{"csrf": {csrf}}, "Sec-Fetch-Site", "cross-site"); status != http.StatusForbidden {
		t.Errorf("cross-site post = %d, want 403", status)
	}
	// Another link's token does not fit this link's forms.
	_, otherCSRF := f.portalLink(models.PortalParams{})
	if status, _ := f.post(path, otherCSRF, nil); status != http.StatusForbidden {
		t.Errorf("another link's token = %d, want 403", status)
	}
	if ep, _ := f.store.GetEndpoint(f.ctx, f.tenant.ID, f.endpoint.ID); !ep.Enabled {
		t.Fatal("a refused form disabled the endpoint")
	}
	if status, _ := f.post(path, csrf, nil); status != http.StatusSeeOther {
		t.Errorf("the right token = %d, want 303", status)
	}
}

func TestPortalHeadersAndBranding(t *testing.T) {
	f := setup(t)
	base, _ := f.portalLink(models.PortalParams{
		Title: `Acme <script>alert(1)</script>`, LogoURL: "https://cdn.acme.example/logo.png", PrimaryColor: "#aa3300",
	})
	resp, err := f.client.Get(f.srv.URL + base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors https://app.example;", "img-src 'self' data: https://cdn.acme.example;", "default-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy = %q", got)
	}
	if resp.Header.Get("X-Frame-Options") != "" {
		t.Error("X-Frame-Options would forbid the allowed origins")
	}
	home := f.page(base + "/")
	mustContain(t, home, "Acme &lt;script&gt;alert(1)&lt;/script&gt;", `src="https://cdn.acme.example/logo.png"`, base+"/brand.css")
	if strings.Contains(home, "<script>alert") {
		t.Error("the title is not escaped")
	}
	mustContain(t, f.page(base+"/brand.css"), "--accent: #aa3300;")

	// Links without a logo allow no image origin but this one.
	plain, _ := f.portalLink(models.PortalParams{})
	resp, err = f.client.Get(f.srv.URL + plain + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data:;") {
		t.Errorf("CSP without a logo = %q", csp)
	}
}

func TestPortalEditKeepsAWildcardSubscription(t *testing.T) {
	f := setup(t) // the fixture's endpoint subscribes to "*"
	base, csrf := f.portalLink(models.PortalParams{})
	mustContain(t, f.page(base+"/endpoints/"+f.endpoint.ID+"/edit"), `value="*" checked`)
	form := url.Values{"url": {f.endpoint.URL}, "event_types": {"*"}, "signing_scheme": {f.endpoint.SigningScheme}, "description": {"renamed"}}
	if status, loc := f.post(base+"/endpoints/"+f.endpoint.ID+"/edit", csrf, form); status != http.StatusSeeOther {
		t.Fatalf("edit = %d %s", status, loc)
	}
	ep, _ := f.store.GetEndpoint(f.ctx, f.tenant.ID, f.endpoint.ID)
	if !slices.Equal(ep.EventTypes, []string{"*"}) || ep.Description != "renamed" || ep.Secret != f.endpoint.Secret {
		t.Fatalf("after the edit: %+v", ep)
	}
}

// noticeLine is the notice a page shows after a form.
var noticeLine = regexp.MustCompile(`<p class="notice" role="status">([^<]*)</p>`)

// notice is the notice that the page at loc (where a form redirected)
// shows, as people read it; "" for none.
func (f *fixture) notice(loc string) string {
	f.t.Helper()
	m := noticeLine.FindStringSubmatch(f.page(loc))
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// A link cannot make hookd's own pages say what its author likes: the login
// page and the portal show only the notices hookd wrote, whatever ?notice=
// and its parameters hold.
func TestNoticesShowOnlyHookdsOwnTexts(t *testing.T) {
	f := setup(t)
	base, _ := f.portalLink(models.PortalParams{})
	for _, query := range []string{
		"notice=hookd+has+moved",
		"notice=hookd+has+moved,+log+in+at+https://hookd.example",
		"notice=replayed&n=hookd+has+moved",
		"notice=endpoint-deleted&ep=hookd+has+moved",
		"notice=endpoint-deleted&ep=ep_hookd+has+moved",
	} {
		for _, path := range []string{"/ui/login", base + "/", base + "/endpoints/" + f.endpoint.ID} {
			page := f.page(path + "?" + query)
			if strings.Contains(page, "moved") || noticeLine.MatchString(page) {
				t.Errorf("%s?%s shows a notice: %q", path, query, noticeLine.FindString(page))
			}
		}
	}
}

func TestPortalEndpointDeliveryControls(t *testing.T) {
	f := setup(t)
	base, csrf := f.portalLink(models.PortalParams{})
	const secret = "Bearer s3cr3t-never-shown-42"
	mustContain(t, f.page(base+"/endpoints/new"), "Delivery options", `name="envelope"`, `name="headers"`, `name="secret_headers"`,
		`name="timeout"`, `name="retry_schedule"`, `name="filter"`, `<option value="fifo"`)

	form := url.Values{
		"url": {"https://hooks.acme.example/controls"}, "event_types": {"invoice.paid"}, "signing_scheme": {"standard"},
		"envelope": {"1"}, "headers": {"X-Team: billing\r\n\r\nX-Env:prod\r\n"}, "secret_headers": {"Authorization: " + secret},
		"timeout": {"10"}, "retry_schedule": {"5s, 5m, 1h"}, "filter": {"data.amount > 1000"}, "ordering": {"fifo"},
	}
	status, loc := f.post(base+"/endpoints", csrf, form)
	if status != http.StatusSeeOther {
		t.Fatalf("create = %d %s", status, loc)
	}
	id := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], base+"/endpoints/")
	ep, err := f.store.GetEndpoint(f.ctx, f.tenant.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if !ep.Envelope || len(ep.Headers) != 2 || ep.Headers["X-Team"] != "billing" || ep.Headers["X-Env"] != "prod" ||
		len(ep.SecretHeaders) != 1 || ep.SecretHeaders["Authorization"] != secret ||
		ep.TimeoutSeconds == nil || *ep.TimeoutSeconds != 10 || !slices.Equal(ep.RetrySchedule, []int{5, 300, 3600}) ||
		ep.Filter != "data.amount > 1000" || ep.Ordering != models.OrderingFIFO {
		t.Fatalf("created %+v", ep)
	}

	// The pages show the controls, and secret headers by name only.
	show := f.page(base + "/endpoints/" + id)
	mustContain(t, show, "Envelope", "yes", "<code>X-Env: prod</code>", "<code>X-Team: billing</code>", "<code>Authorization</code>",
		"10 s", "5s, 5m, 1h", "<code>data.amount &gt; 1000</code>", "fifo", "Replay…")
	edit := f.page(base + "/endpoints/" + id + "/edit")
	mustContain(t, edit, "X-Env: prod\nX-Team: billing\n", `value="5s, 5m, 1h"`, `value="10"`, "<code>Authorization</code>",
		`name="remove_secret_headers"`, `<option value="fifo" selected>`, `name="envelope" value="1" checked`)
	f.login()
	admin := f.page("/ui/endpoints/" + id)
	mustContain(t, admin, "<code>X-Team: billing</code>", "<code>Authorization</code>", "5s, 5m, 1h", "<code>data.amount &gt; 1000</code>", "Replay…")
	for name, page := range map[string]string{"portal endpoint": show, "portal edit": edit, "admin endpoint": admin,
		"portal list": f.page(base + "/"), "admin list": f.page("/ui/endpoints")} {
		if strings.Contains(page, "s3cr3t") {
			t.Errorf("the %s page shows a secret header's value", name)
		}
	}

	// Refused input: the form again, with what was typed and why; nothing changes.
	edited := url.Values{}
	for k, v := range form {
		edited[k] = v
	}
	edited.Set("secret_headers", "")
	for _, c := range []struct{ field, value, want string }{
		{"headers", "X-Team billing", "Headers, line 1: write each header as Name: value"},
		{"secret_headers", "X-Key: 1\nno colon here", "Secret headers, line 2: write each header as Name: value"},
		{"retry_schedule", "5s, soon", "retry schedule: write delays like 5s, 5m, 1h"},
		{"timeout", "ten", "timeout must be a whole number of seconds"},
		{"filter", "data.amount >", "filter does not compile"},
		{"headers", "Host: evil.example", "cannot be set per endpoint"},
	} {
		bad := url.Values{}
		for k, v := range edited {
			bad[k] = v
		}
		bad.Set(c.field, c.value)
		bad.Set("description", "changed")
		for _, path := range []string{base + "/endpoints/" + id + "/edit", base + "/endpoints"} {
			status, page := f.post(path, csrf, bad)
			if status != http.StatusUnprocessableEntity {
				t.Errorf("%s %q at %s = %d, want 422", c.field, c.value, path, status)
				continue
			}
			mustContain(t, page, `class="error"`, html.EscapeString(c.want), html.EscapeString(c.value), `value="changed"`)
		}
	}
	if got, _ := f.store.GetEndpoint(f.ctx, f.tenant.ID, id); got.Description != "" || got.Filter != ep.Filter || len(got.Headers) != 2 {
		t.Fatalf("a refused form changed the endpoint: %+v", got)
	}
	if eps, _, _ := f.store.ListEndpoints(f.ctx, f.tenant.ID, models.ListParams{Limit: 10}); len(eps) != 2 {
		t.Fatalf("refused forms created endpoints: %d endpoints", len(eps))
	}

	// An edit with an empty secret box keeps the secrets; the rest is as posted.
	edited.Set("headers", "X-Team: payments")
	edited.Set("timeout", "")
	edited.Set("retry_schedule", "")
	edited.Set("filter", "")
	edited.Set("ordering", "none")
	edited.Del("envelope")
	if status, loc := f.post(base+"/endpoints/"+id+"/edit", csrf, edited); status != http.StatusSeeOther {
		t.Fatalf("edit = %d %s", status, loc)
	}
	got, _ := f.store.GetEndpoint(f.ctx, f.tenant.ID, id)
	if got.Envelope || len(got.Headers) != 1 || got.Headers["X-Team"] != "payments" || got.SecretHeaders["Authorization"] != secret ||
		got.TimeoutSeconds != nil || got.RetrySchedule != nil || got.Filter != "" || got.Ordering != models.OrderingNone {
		t.Fatalf("after the edit: %+v", got)
	}
	mustContain(t, f.page(base+"/endpoints/"+id), "default", "none: every message of its event types", "<code>Authorization</code>")

	// The checkbox removes them.
	edited.Set("remove_secret_headers", "1")
	if status, loc := f.post(base+"/endpoints/"+id+"/edit", csrf, edited); status != http.StatusSeeOther {
		t.Fatalf("edit = %d %s", status, loc)
	}
	if got, _ := f.store.GetEndpoint(f.ctx, f.tenant.ID, id); len(got.SecretHeaders) != 0 || got.Headers["X-Team"] != "payments" {
		t.Fatalf("after removing the secret headers: %+v", got)
	}
	if page := f.page(base + "/endpoints/" + id + "/edit"); strings.Contains(page, `name="remove_secret_headers"`) {
		t.Error("the form offers to remove secret headers that are gone")
	}
}

func TestPortalReplayAndResend(t *testing.T) {
	f := setup(t)
	otherEP, otherD := f.otherTenant()
	base, csrf := f.portalLink(models.PortalParams{})
	msgID, ep := f.delivery.MessageID, base+"/endpoints/"+f.endpoint.ID
	deliveries := func() int {
		t.Helper()
		msg, err := f.store.GetMessage(f.ctx, f.tenant.ID, msgID)
		if err != nil {
			t.Fatal(err)
		}
		return len(msg.Deliveries)
	}

	// Replay: since, and until, on the confirmation page.
	mustContain(t, f.page(ep+"/replay"), `action="`+ep+`/replay"`, `name="since"`, `name="until"`)
	if status, page := f.post(ep+"/replay", csrf, url.Values{"since": {""}}); status != http.StatusUnprocessableEntity || !strings.Contains(page, "since is required") {
		t.Fatalf("replay without since = %d\n%s", status, page)
	}
	hourAgo := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	if status, page := f.post(ep+"/replay", csrf, url.Values{"since": {hourAgo}, "until": {"2000-01-01T00:00:00Z"}}); status != http.StatusUnprocessableEntity || !strings.Contains(page, "until must be after since") {
		t.Fatalf("replay with until before since = %d\n%s", status, page)
	}
	if n := deliveries(); n != 1 {
		t.Fatalf("refused replays made deliveries: %d", n)
	}
	status, loc := f.post(ep+"/replay", csrf, url.Values{"since": {hourAgo}, "until": {""}})
	if status != http.StatusSeeOther || f.notice(loc) != "1 message replayed." {
		t.Fatalf("replay = %d %s", status, loc)
	}
	if n := deliveries(); n != 2 {
		t.Fatalf("after the replay the message has %d deliveries, want 2", n)
	}

	// Resend: from the message page, to all subscribers or to one endpoint.
	mustContain(t, f.page(base+"/messages/"+msgID), `href="`+base+"/messages/"+msgID+`/resend"`)
	mustContain(t, f.page(base+"/messages/"+msgID+"/resend"), `action="`+base+"/messages/"+msgID+`/resend"`,
		"all subscribed endpoints", `<option value="`+f.endpoint.ID+`"`)
	status, loc = f.post(base+"/messages/"+msgID+"/resend", csrf, url.Values{"endpoint_id": {""}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, base+"/messages/"+msgID+"?") || f.notice(loc) != "Resent to 1 endpoint." {
		t.Fatalf("resend = %d %s", status, loc)
	}
	status, loc = f.post(base+"/messages/"+msgID+"/resend", csrf, url.Values{"endpoint_id": {f.endpoint.ID}})
	if status != http.StatusSeeOther || f.notice(loc) != "Resent to 1 endpoint." {
		t.Fatalf("resend to one endpoint = %d %s", status, loc)
	}
	if n := deliveries(); n != 4 {
		t.Fatalf("after two resends the message has %d deliveries, want 4", n)
	}
	if got := f.queue.enqueued(); len(got) != 3 {
		t.Fatalf("enqueued %v, want the replay's and the resends' deliveries", got)
	}

	// The other tenant's message and endpoint are not found.
	for _, path := range []string{"/messages/" + otherD.MessageID + "/resend", "/endpoints/" + otherEP.ID + "/replay"} {
		if status, _ := f.get(base + path); status != http.StatusNotFound {
			t.Errorf("GET %s of the other tenant = %d, want 404", path, status)
		}
		if status, _ := f.post(base+path, csrf, url.Values{"since": {hourAgo}}); status != http.StatusNotFound {
			t.Errorf("POST %s of the other tenant = %d, want 404", path, status)
		}
	}
	if status, _ := f.post(base+"/messages/"+msgID+"/resend", csrf, url.Values{"endpoint_id": {otherEP.ID}}); status != http.StatusNotFound {
		t.Errorf("resend to the other tenant's endpoint = %d, want 404", status)
	}
	if n := deliveries(); n != 4 {
		t.Fatalf("refused resends made deliveries: %d", n)
	}
	if other, _ := f.store.GetMessage(f.ctx, otherEP.TenantID, otherD.MessageID); len(other.Deliveries) != 1 {
		t.Fatalf("the other tenant's message got deliveries: %d", len(other.Deliveries))
	}

	// A read-only link neither shows nor takes these forms.
	ro, _ := f.portalLink(models.PortalParams{ReadOnly: true})
	if page := f.page(ro + "/messages/" + msgID); strings.Contains(page, "/resend") {
		t.Error("a read-only link offers to resend")
	}
	if page := f.page(ro + "/endpoints/" + f.endpoint.ID); strings.Contains(page, "/replay") {
		t.Error("a read-only link offers to replay")
	}
	for _, path := range []string{"/messages/" + msgID + "/resend", "/endpoints/" + f.endpoint.ID + "/replay"} {
		if status, page := f.get(ro + path); status != http.StatusForbidden || strings.Contains(page, `name="csrf"`) {
			t.Errorf("read-only GET %s = %d, want 403 without a form", path, status)
		}
		if status, page := f.post(ro+path, csrf, url.Values{"since": {hourAgo}}); status != http.StatusForbidden || !strings.Contains(page, "read-only") {
			t.Errorf("read-only POST %s = %d, want 403", path, status)
		}
	}
	if n := deliveries(); n != 4 {
		t.Fatalf("a read-only link made deliveries: %d", n)
	}
}
