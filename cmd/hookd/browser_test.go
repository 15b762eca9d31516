package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// TestAdminUIInABrowser logs in to the admin UI in headless Chromium,
// filters the deliveries, opens a failed one, retries it and sees the new
// attempt. It saves screenshots of the main pages to HOOKD_SCREENSHOTS_DIR
// (web/screenshots in the README) or to a temporary directory.
func TestAdminUIInABrowser(t *testing.T) {
	t.Parallel()
	chromium := chromiumPath(t)
	shots := screenshotsDir(t)
	env := backends(t)
	env["HOOKD_RETRY_SCHEDULE"] = "1s"
	m := start(t, "serve", env)
	c := newClient(t, m, testAdminKey)
	r, heal := newSwitchableReceiver(t, http.StatusServiceUnavailable)
	setupTenant(c, r)
	var failed message
	c.must(201, "POST", "/v1/tenants/acme/messages", `{"event_type":"invoice.paid","payload":{"id":"inv_42","amount":1200,"currency":"EUR"}}`, &failed)
	for i := range 3 {
		c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": map[string]any{"id": i}}, nil)
	}
	id := failed.Deliveries[0].ID
	seen := ""
	eventually(t, 30*time.Second, "the 4 deliveries to fail", func() bool {
		var list struct{ Data []delivery }
		c.must(200, "GET", "/v1/tenants/acme/deliveries", nil, &list)
		var now []string
		for _, d := range list.Data {
			now = append(now, fmt.Sprintf("%s after %d attempts", d.Status, d.AttemptCount))
		}
		if s := strings.Join(now, ", "); s != seen {
			seen = s
			t.Logf("deliveries: %s", s) // shown if they never all fail
		}
		return strings.Count(seen, "failed") == 4
	})
	heal()

	ctx := newBrowser(t, chromium)
	base := "http://" + m.Addr()
	shot := func(name string) chromedp.Action { return screenshot(filepath.Join(shots, name+".png")) }
	var url, attempts, payload string
	// Each step runs on its own, so a failure names the step.
	steps := []struct {
		name    string
		actions []chromedp.Action
	}{
		{"log in", []chromedp.Action{
			chromedp.Navigate(base + "/ui/deliveries"), // no session: the login page
			chromedp.WaitVisible(`#key`, chromedp.ByID),
			shot("login"),
			chromedp.SendKeys(`#key`, testAdminKey, chromedp.ByID),
			chromedp.Submit(`#key`, chromedp.ByID),
			chromedp.WaitVisible(`.cards`),
			chromedp.WaitVisible(`figure.chart svg rect.failed`), // the deliveries chart, drawn by the server
			shot("overview"),
		}},
		{"filter the deliveries", []chromedp.Action{
			chromedp.Navigate(base + "/ui/deliveries"),
			chromedp.WaitVisible(`table.deliveries`),
			chromedp.SetValue(`select[name=status]`, "failed"),
			chromedp.Submit(`select[name=status]`),
			waitURL("status=failed"),
			chromedp.WaitVisible(`table.deliveries`),
			chromedp.Location(&url),
			shot("deliveries"),
		}},
		{"open the failed delivery and retry it", []chromedp.Action{
			chromedp.Click(`a[href="/ui/deliveries/` + id + `"]`),
			chromedp.WaitVisible(`#attempt-2`),
			chromedp.Click(`a.button`), // Retry now…
			chromedp.WaitVisible(`form.confirm button`),
			chromedp.Click(`form.confirm button`),
			chromedp.WaitVisible(`#attempt-3`), // recorded by the worker, shown by the live refresh
			// And its status: the page reads the delivery, then its attempts, so
			// under load it can show attempt #3 beside the status before it
			// (models.GetDelivery); the live refresh then catches up.
			chromedp.WaitVisible(`#delivery .status.succeeded`),
			chromedp.Text(`#delivery`, &attempts),
			shot("delivery"),
		}},
		{"find the message by its id from the header's search", []chromedp.Action{
			chromedp.Navigate(base + "/ui/endpoints"),
			chromedp.SendKeys(`form.search input[name=q]`, failed.ID+"\n"),
			waitURL("/ui/messages/" + failed.ID),
			chromedp.WaitVisible(`pre.payload`),
		}},
		{"see the message and the endpoints", []chromedp.Action{
			chromedp.Navigate(base + "/ui/messages/" + failed.ID),
			chromedp.Text(`pre.payload`, &payload),
			shot("message"),
			chromedp.Navigate(base + "/ui/endpoints"),
			chromedp.WaitVisible(`table`),
			shot("endpoints"),
			chromedp.Click(`table a[href^="/ui/endpoints/ep_"]`),
			chromedp.WaitVisible(`figure.chart svg rect.rate`), // its success hour by hour
			shot("endpoint"),
		}},
	}
	for _, step := range steps {
		// Generous: CI runs this beside the minute-long outage tests, with -race.
		stepCtx, cancelStep := context.WithTimeout(ctx, 45*time.Second)
		err := chromedp.Run(stepCtx, step.actions...)
		cancelStep()
		if err != nil {
			t.Fatalf("%s: %v\n%s", step.name, err, whereTheBrowserIs(ctx, filepath.Join(shots, "failed.png")))
		}
	}
	if !strings.Contains(url, "status=failed") {
		t.Errorf("filtered URL %s", url)
	}
	if !strings.Contains(attempts, "#3") || !strings.Contains(attempts, "manual") || !strings.Contains(attempts, "succeeded") {
		t.Errorf("delivery page after retry:\n%s", attempts)
	}
	if !strings.Contains(payload, `"currency": "EUR"`) {
		t.Errorf("payload not pretty-printed:\n%s", payload)
	}
	if d := c.delivery(id); d.Status != "succeeded" || d.Attempts[2].Trigger != "manual" {
		t.Errorf("delivery after the browser's retry: %s, attempts %+v", d.Status, d.Attempts)
	}
}

// screenshotsDir is where the browser tests save their screenshots:
// HOOKD_SCREENSHOTS_DIR (web/screenshots for the README), else a temporary directory.
func screenshotsDir(t *testing.T) string {
	if dir := os.Getenv("HOOKD_SCREENSHOTS_DIR"); dir != "" {
		return dir
	}
	return t.TempDir()
}

// whereTheBrowserIs describes the page a failed step left the browser on,
// its URL and the start of its text, and saves its screenshot to path: what
// CI's log needs to tell a slow pipeline from a broken page.
func whereTheBrowserIs(ctx context.Context, path string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var url, text string
	if err := chromedp.Run(ctx, chromedp.Location(&url), chromedp.Text("body", &text, chromedp.ByQuery), screenshot(path)); err != nil {
		return fmt.Sprintf("(the page could not be read: %v)", err)
	}
	if len(text) > 2000 {
		text = text[:2000] + "…"
	}
	return fmt.Sprintf("the browser was on %s (screenshot %s):\n%s", url, path, text)
}

// screenshot saves the whole page as a PNG.
func screenshot(path string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var png []byte
		if err := chromedp.FullScreenshot(&png, 100).Do(ctx); err != nil {
			return err
		}
		return os.WriteFile(path, png, 0o600)
	})
}

// TestAPIReferenceInABrowser opens /docs in headless Chromium: the
// reference renders /openapi.json, asks nothing of any other origin, and
// neither its CSP nor its scripts report an error.
func TestAPIReferenceInABrowser(t *testing.T) {
	t.Parallel()
	chromium := chromiumPath(t)
	shots := screenshotsDir(t)
	m := start(t, "serve", backends(t))
	ctx := newBrowser(t, chromium)
	base := "http://" + m.Addr()
	var mu sync.Mutex
	var elsewhere, problems []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			if u := e.Request.URL; !strings.HasPrefix(u, base+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") {
				elsewhere = append(elsewhere, u)
			}
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.LevelError {
				problems = append(problems, string(e.Entry.Source)+": "+e.Entry.Text)
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError {
				problems = append(problems, "console.error")
			}
		}
	})
	var title string
	runCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := chromedp.Run(runCtx,
		network.Enable(), cdplog.Enable(), runtime.Enable(),
		chromedp.Navigate(base+"/docs"),
		chromedp.WaitVisible(`//*[contains(text(), "/v1/event-types/{name}")]`, chromedp.BySearch),
		chromedp.Title(&title),
		chromedp.ActionFunc(func(ctx context.Context) error {
			var png []byte
			if err := chromedp.CaptureScreenshot(&png).Do(ctx); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, "docs.png"), png, 0o600)
		}),
	)
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		t.Fatalf("the reference did not render: %v (errors: %v; other origins: %v)", err, problems, elsewhere)
	}
	if len(elsewhere) > 0 {
		t.Errorf("/docs asked other origins: %v", elsewhere)
	}
	if len(problems) > 0 {
		t.Errorf("/docs reported errors: %v", problems)
	}
	if !strings.Contains(title, "hookd") {
		t.Errorf("title %q", title)
	}
}

// waitURL waits until the page's URL contains s: a form submitted by a click
// is a navigation, and the old page's elements must not be mistaken for the new.
func waitURL(s string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		for {
			var u string
			if err := chromedp.Location(&u).Do(ctx); err != nil {
				return err
			}
			if strings.Contains(u, s) {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}
