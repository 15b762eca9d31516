package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"

	"hookd.dev/hookd/dispatcher/signature"
)

// capturingReceiver records what it gets, and answers 503 until healed:
// the portal's endpoints have secrets of their own, which the test reads
// from the portal and checks against what arrived.
type capturingReceiver struct {
	*httptest.Server
	healthy atomic.Bool
	mu      sync.Mutex
	got     []receivedRequest
}

type receivedRequest struct {
	header http.Header
	body   []byte
}

func newCapturingReceiver(t *testing.T) *capturingReceiver {
	r := &capturingReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, receivedRequest{req.Header.Clone(), body})
		r.mu.Unlock()
		if !r.healthy.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *capturingReceiver) requests() []receivedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedRequest(nil), r.got...)
}

// appPage serves the app's own page that embeds a portal link in an iframe.
func appPage(t *testing.T, link *string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Acme settings</title>
<body style="font-family:system-ui;margin:0;background:#eef0f4">
<div style="padding:12px 24px;background:#1c1f2a;color:#fff;font-weight:600">Acme · Settings · Webhooks</div>
<iframe src="%s" style="width:100%%;height:760px;border:0"></iframe></body>`, *link)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestTenantPortalInABrowser goes through the tenant portal in headless
// Chromium as a tenant would: opens the app's link, creates an endpoint,
// sends a test event, sees its attempts, retries it, reads and rotates the
// secret; the link cannot reach another tenant's pages or the admin UI; the
// portal shows inside the app's iframe, and only in the allowed origin's;
// a withdrawn link says it has expired. Screenshots go where the admin UI's go.
func TestTenantPortalInABrowser(t *testing.T) {
	t.Parallel()
	chromium := chromiumPath(t)
	shots := screenshotsDir(t)
	var link string
	allowedApp, otherApp := appPage(t, &link), appPage(t, &link)
	// Other origins than hookd's (ports differ), on the same site, so that
	// Chromium keeps the frames in the page's process where chromedp sees them.
	allowedOrigin, otherOrigin := allowedApp.URL, otherApp.URL
	env := backends(t)
	env["HOOKD_RETRY_SCHEDULE"] = "1s"
	env["HOOKD_PORTAL_FRAME_ANCESTORS"] = allowedOrigin
	m := start(t, "serve", env)
	c := newClient(t, m, testAdminKey)
	c.must(201, "POST", "/v1/event-types", map[string]any{"name": "invoice.paid", "description": "An invoice was paid in full"}, nil)
	c.must(201, "POST", "/v1/event-types", map[string]any{"name": "invoice.voided", "description": "An invoice was voided",
		"schema": map[string]any{"type": "object", "required": []string{"id"}}}, nil)
	c.must(201, "POST", "/v1/tenants", map[string]any{"uid": "acme", "name": "Acme"}, nil)
	c.must(201, "POST", "/v1/tenants", map[string]any{"uid": "globex"}, nil)
	var globexEP struct{ ID string }
	c.must(201, "POST", "/v1/tenants/globex/endpoints", map[string]any{"url": "https://globex.example/hooks", "event_types": []string{"invoice.paid"}}, &globexEP)
	var session struct {
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	c.must(201, "POST", "/v1/tenants/acme/portal-sessions", map[string]any{"title": "Acme webhooks", "primary_color": "#7048e8"}, &session)
	link = session.URL
	base := "http://" + m.Addr()
	if !strings.HasPrefix(link, base+"/portal/") {
		t.Fatalf("portal link %q", link)
	}
	r := newCapturingReceiver(t)

	ctx := newBrowser(t, chromium)
	var logMu sync.Mutex
	var logged []string
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*cdplog.EventEntryAdded); ok {
			logMu.Lock()
			logged = append(logged, e.Entry.Text)
			logMu.Unlock()
		}
	})
	shot := func(name string) chromedp.Action { return screenshot(filepath.Join(shots, name+".png")) }
	var endpointURL, firstSecret, rotatedSecret, attempts, notFound, expired string
	steps := []struct {
		name    string
		actions []chromedp.Action
	}{
		{"open the link", []chromedp.Action{
			cdplog.Enable(),
			chromedp.Navigate(link),
			chromedp.WaitVisible(`a.button[href$="/endpoints/new"]`),
		}},
		{"create an endpoint", []chromedp.Action{
			chromedp.Click(`a.button[href$="/endpoints/new"]`),
			chromedp.WaitVisible(`input[name=url]`),
			chromedp.SendKeys(`input[name=url]`, r.URL+"/hooks"),
			chromedp.SendKeys(`input[name=description]`, "Billing service"),
			chromedp.Click(`input[value="invoice.paid"]`),
			chromedp.Click(`details:has(pre) summary`), // the schema of invoice.voided
			shot("portal-new-endpoint"),
			chromedp.Submit(`input[name=url]`),
			waitURL("/endpoints/ep_"),
			chromedp.WaitVisible(`.cards`),
			chromedp.Location(&endpointURL),
		}},
		{"read the signing secret", []chromedp.Action{
			chromedp.Click(`a[href$="/secret"]`),
			chromedp.WaitVisible(`#secret`),
			chromedp.Text(`#secret`, &firstSecret),
			shot("portal-secret"),
		}},
		{"send a test event", []chromedp.Action{
			navigateLater(func() string { return strings.SplitN(endpointURL, "?", 2)[0] }),
			chromedp.Click(`a[href$="/test"]`),
			chromedp.WaitVisible(`form.confirm button`),
			chromedp.Click(`form.confirm button`),
			waitURL("/messages/msg_"),
			// Failed after two attempts against the 503s, shown by the live refresh.
			chromedp.WaitVisible(`#message-deliveries .status.failed`),
		}},
		{"see the attempts and retry", []chromedp.Action{
			chromedp.ActionFunc(func(context.Context) error { r.healthy.Store(true); return nil }),
			chromedp.Click(`#message-deliveries a[href*="/deliveries/dlv_"]`),
			chromedp.WaitVisible(`#attempt-2`),
			chromedp.Click(`a.button[href$="/retry"]`),
			chromedp.WaitVisible(`form.confirm button`),
			chromedp.Click(`form.confirm button`),
			chromedp.WaitVisible(`#attempt-3`),
			// And its status: the page reads the delivery, then its attempts, so
			// under load it can show attempt #3 beside the status before it
			// (models.GetDelivery); the live refresh then catches up.
			chromedp.WaitVisible(`#delivery .status.succeeded`),
			chromedp.Text(`#delivery`, &attempts),
			shot("portal-delivery"),
		}},
		{"rotate the secret", []chromedp.Action{
			navigateLater(func() string { return strings.SplitN(endpointURL, "?", 2)[0] + "/secret" }),
			chromedp.Click(`a[href$="/rotate"]`),
			chromedp.WaitVisible(`form.confirm button`),
			chromedp.Click(`form.confirm button`),
			waitURL("/secret?notice="),
			chromedp.Text(`#secret`, &rotatedSecret),
		}},
		{"see the endpoints", []chromedp.Action{
			chromedp.Navigate(link),
			chromedp.WaitVisible(`#endpoints table`),
			shot("portal-endpoints"),
		}},
		{"another tenant's endpoint is not found", []chromedp.Action{
			chromedp.Navigate(link + "endpoints/" + globexEP.ID),
			chromedp.Text(`main`, &notFound),
		}},
		{"the admin UI asks for a key", []chromedp.Action{
			chromedp.Navigate(base + "/ui/endpoints"),
			chromedp.WaitVisible(`#key`, chromedp.ByID),
		}},
		{"the portal in the app's iframe", []chromedp.Action{
			chromedp.Navigate(allowedOrigin),
			waitForFrame(),
			shot("portal-embedded"),
		}},
		{"the portal refused in another site's iframe", []chromedp.Action{
			chromedp.Navigate(otherOrigin),
			chromedp.ActionFunc(func(ctx context.Context) error {
				for {
					logMu.Lock()
					all := strings.Join(logged, "\n")
					logMu.Unlock()
					if strings.Contains(all, "frame-ancestors") && strings.Contains(all, allowedOrigin) {
						return nil
					}
					select {
					case <-ctx.Done():
						return fmt.Errorf("no frame-ancestors refusal logged: %v", all)
					case <-time.After(50 * time.Millisecond):
					}
				}
			}),
		}},
	}
	for _, step := range steps {
		stepCtx, cancelStep := context.WithTimeout(ctx, 45*time.Second)
		err := chromedp.Run(stepCtx, step.actions...)
		cancelStep()
		if err != nil {
			t.Fatalf("%s: %v\n%s", step.name, err, whereTheBrowserIs(ctx, filepath.Join(shots, "failed.png")))
		}
	}

	// A withdrawn link says it has expired.
	var revoked struct{ Revoked int }
	c.must(200, "DELETE", "/v1/tenants/acme/portal-sessions", nil, &revoked)
	if err := chromedp.Run(ctx, chromedp.Navigate(link), chromedp.Text(`main`, &expired), shot("portal-expired")); err != nil {
		t.Fatal(err)
	}

	if !strings.Contains(attempts, "#3") || !strings.Contains(attempts, "manual") || !strings.Contains(attempts, "succeeded") {
		t.Errorf("delivery page after the retry:\n%s", attempts)
	}
	if !strings.HasPrefix(firstSecret, "whsec_") || rotatedSecret == firstSecret || !strings.HasPrefix(rotatedSecret, "whsec_") {
		t.Errorf("secret %q, after rotation %q", firstSecret, rotatedSecret)
	}
	// What arrived verifies with the secret the portal showed.
	got := r.requests()
	if len(got) < 3 {
		t.Fatalf("the receiver got %d requests, want at least 3", len(got))
	}
	for i, req := range got[:3] {
		if err := signature.Verify(firstSecret, req.header, req.body, time.Now()); err != nil {
			t.Errorf("request %d does not verify with the portal's secret: %v", i+1, err)
		}
		if !strings.Contains(string(req.body), "hookd.ping") {
			t.Errorf("request %d is not the test event: %s", i+1, req.body)
		}
	}
	if !strings.Contains(notFound, "not found") || strings.Contains(notFound, "globex.example") {
		t.Errorf("another tenant's endpoint through the portal:\n%s", notFound)
	}
	if revoked.Revoked != 1 || !strings.Contains(expired, "This link has expired") {
		t.Errorf("after revoking (%d): %s", revoked.Revoked, expired)
	}
}

// navigateLater goes to a URL known only once the steps before have run.
func navigateLater(url func() string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error { return chromedp.Navigate(url()).Do(ctx) })
}

// waitForFrame waits until the page's iframe has rendered the portal's
// navigation.
func waitForFrame() chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var frames []*cdp.Node
		if err := chromedp.Nodes("iframe", &frames, chromedp.ByQuery).Do(ctx); err != nil {
			return err
		}
		var nav string
		if err := chromedp.Text("header nav", &nav, chromedp.ByQuery, chromedp.FromNode(frames[0])).Do(ctx); err != nil {
			return err
		}
		if !strings.Contains(nav, "Deliveries") {
			return fmt.Errorf("the frame's navigation reads %q", nav)
		}
		return nil
	})
}
