package dispatcher

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestSenderNeverFollowsRedirects(t *testing.T) {
	t.Parallel()
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	defer srv.Close()
	resp := NewSender(SenderOpts{AllowPrivateNetworks: true}).Send(context.Background(), Request{URL: srv.URL, Body: []byte("{}")})
	if resp.StatusCode != http.StatusFound || hits != 1 {
		t.Fatalf("status %d after %d requests, want 302 after 1", resp.StatusCode, hits)
	}
}

func TestSenderReadsAtMostTheLimit(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		chunk := []byte(strings.Repeat("x", 1<<20))
		for range 100 { // 100 MiB, if anyone read it all
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	resp := NewSender(SenderOpts{AllowPrivateNetworks: true, MaxResponseBytes: 64 << 10}).
		Send(context.Background(), Request{URL: srv.URL})
	if resp.StatusCode != 200 || len(resp.Body) != 64<<10 {
		t.Fatalf("status %d, body %d bytes; want 200 and 64 KiB", resp.StatusCode, len(resp.Body))
	}
}

// TestResponseHeadersAreBounded: a receiver that answers megabytes of
// headers fails the attempt instead of filling memory and the attempt's
// row; one within the bound has at most 16 KiB of them recorded, and the
// record says what it left out.
func TestResponseHeadersAreBounded(t *testing.T) {
	t.Parallel()
	headers := func(n int) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			for i := range n {
				w.Header().Set(fmt.Sprintf("X-Pad-%04d", i), strings.Repeat("p", 4000))
			}
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	sender := NewSender(SenderOpts{AllowPrivateNetworks: true})
	resp := sender.Send(context.Background(), Request{URL: headers(1500).URL})
	if resp.Err == nil || resp.StatusCode != 0 || !strings.Contains(resp.Err.Error(), "header") {
		t.Fatalf("6 MB of headers: status %d, error %v; want the attempt failed", resp.StatusCode, resp.Err)
	}
	resp = sender.Send(context.Background(), Request{URL: headers(10).URL})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("40 KB of headers: %d %v", resp.StatusCode, resp.Err)
	}
	recorded := flattenBounded(resp.Headers, maxRecordedHeaderBytes)
	size := 0
	for k, v := range recorded {
		size += len(k) + len(v)
	}
	if size > maxRecordedHeaderBytes+100 || !strings.Contains(recorded[truncatedHeader], "not recorded") {
		t.Fatalf("recorded %d bytes of headers; the marker says %q", size, recorded[truncatedHeader])
	}
	if recorded["content-length"] == "" {
		t.Errorf("a short header sorted before the long ones was left out: %v", slices.Collect(maps.Keys(recorded)))
	}
}

func TestSenderTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	start := time.Now()
	resp := NewSender(SenderOpts{AllowPrivateNetworks: true, Timeout: 300 * time.Millisecond}).
		Send(context.Background(), Request{URL: srv.URL})
	if resp.Err == nil || !strings.Contains(resp.Err.Error(), "timed out") || time.Since(start) > 3*time.Second {
		t.Fatalf("err %v after %s, want a timeout after ~300ms", resp.Err, time.Since(start))
	}
}

func TestSenderTimesOutOnATrickle(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		for {
			if _, err := w.Write([]byte("x")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}))
	defer srv.Close()
	start := time.Now()
	resp := NewSender(SenderOpts{AllowPrivateNetworks: true, Timeout: 500 * time.Millisecond}).
		Send(context.Background(), Request{URL: srv.URL})
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Fatalf("a trickling body held the sender %s", elapsed)
	}
	if !strings.Contains(resp.Body, "reading the body failed") {
		t.Fatalf("body %q does not say it was cut short", resp.Body)
	}
}

func TestSenderRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) }))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	s := NewSender(SenderOpts{})
	for _, host := range []string{"127.0.0.1", "localhost", "[::1]", "0.0.0.0", "[::ffff:127.0.0.1]"} {
		resp := s.Send(context.Background(), Request{URL: "http://" + host + port})
		if resp.StatusCode != 0 || resp.Err == nil || !strings.Contains(resp.Err.Error(), "private or reserved") {
			t.Errorf("%s: status %d, err %v; want refused", host, resp.StatusCode, resp.Err)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		d  time.Duration
		ok bool
	}{
		"":                              {0, false},
		"30":                            {30 * time.Second, true},
		"-5":                            {0, false},
		"soon":                          {0, false},
		"Thu, 01 Jan 2026 00:01:00 GMT": {time.Minute, true},
		"Wed, 31 Dec 2025 00:00:00 GMT": {0, true}, // in the past: now
	}
	for v, want := range cases {
		h := http.Header{}
		if v != "" {
			h.Set("Retry-After", v)
		}
		d, ok := RetryAfter(h, now)
		if d != want.d || ok != want.ok {
			t.Errorf("Retry-After %q = %s, %v; want %s, %v", v, d, ok, want.d, want.ok)
		}
	}
}

// TestAttemptErrorsRevealNoInternalAddress: tenants read attempt errors, so
// they name the URL's host, not the address it resolved to nor the resolver.
func TestAttemptErrorsRevealNoInternalAddress(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
	safe := NewSender(SenderOpts{Timeout: 5 * time.Second})
	cases := []struct{ url, want string }{
		{"http://localhost:" + port + "/", "refused to connect: the address is private or reserved"},
		{"http://127.0.0.1:" + port + "/", "refused to connect: the address is private or reserved"},
		// "no such host" where a resolver answers; another reason where none does.
		{"http://example.invalid/", "could not resolve host example.invalid: "},
	}
	for _, c := range cases {
		resp := safe.Send(context.Background(), Request{URL: c.url, Body: []byte("{}")})
		if resp.Err == nil || !strings.HasPrefix(resp.Err.Error(), c.want) || strings.Contains(resp.Err.Error(), ":53") ||
			(!strings.HasSuffix(c.want, " ") && resp.Err.Error() != c.want) {
			t.Errorf("%s: error %v, want %q", c.url, resp.Err, c.want)
		}
	}
	// A port nobody listens on: the message names the host the tenant gave.
	srv2 := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	port2 := srv2.URL[strings.LastIndexByte(srv2.URL, ':')+1:]
	srv2.Close()
	resp := NewSender(SenderOpts{AllowPrivateNetworks: true}).Send(context.Background(), Request{URL: "http://localhost:" + port2 + "/"})
	if resp.Err == nil || !strings.HasPrefix(resp.Err.Error(), "could not connect to localhost:"+port2+": ") ||
		strings.Contains(resp.Err.Error(), "127.0.0.1") || strings.Contains(resp.Err.Error(), "[::1]") {
		t.Errorf("closed port: error %v", resp.Err)
	}
}

// TestSenderAllowsOnlyTheAllowedNetworks: with private addresses refused,
// the allowed prefixes are the only exceptions, checked when connecting.
func TestSenderAllowsOnlyTheAllowedNetworks(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	allowed := NewSender(SenderOpts{AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if resp := allowed.Send(context.Background(), Request{URL: srv.URL}); resp.StatusCode != 204 {
		t.Fatalf("to an allowed address: %d, %v", resp.StatusCode, resp.Err)
	}
	other := NewSender(SenderOpts{AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if resp := other.Send(context.Background(), Request{URL: srv.URL}); resp.Err == nil || !strings.Contains(resp.Err.Error(), "refused to connect") {
		t.Fatalf("to loopback with only 10/8 allowed: %d, %v", resp.StatusCode, resp.Err)
	}
}

// Many endpoints on one host share its connections: a second round of as
// many concurrent requests as the sender keeps idle dials nothing new.
func TestSenderKeepsAsManyConnectionsAsItsConcurrency(t *testing.T) {
	t.Parallel()
	const concurrent = 60
	var mu sync.Mutex
	dialed := 0
	arrived := make(chan struct{}, concurrent)
	proceed := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		arrived <- struct{}{}
		<-proceed
	}))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			mu.Lock()
			dialed++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	sender := NewSender(SenderOpts{AllowPrivateNetworks: true, MaxIdlePerHost: concurrent})
	round := func() {
		var wg sync.WaitGroup
		for i := range concurrent {
			wg.Go(func() {
				sender.Send(context.Background(), Request{URL: fmt.Sprintf("%s/endpoint/%d", srv.URL, i), Body: []byte("{}")})
			})
		}
		for range concurrent { // all in flight at once, each on a connection of its own
			<-arrived
		}
		for range concurrent {
			proceed <- struct{}{}
		}
		wg.Wait()
	}
	round()
	round()
	mu.Lock()
	defer mu.Unlock()
	if dialed != concurrent {
		t.Fatalf("%d connections dialed over two rounds of %d concurrent requests, want %d", dialed, concurrent, concurrent)
	}
}

// TestTracesAndErrorsShowNoURLCredentials: an endpoint URL may carry a
// credential (a query token, userinfo); the POST's span and the attempt's
// error, which reach the trace collector and the logs, show the URL
// without it.
func TestTracesAndErrorsShowNoURLCredentials(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	otel.SetTracerProvider(tp)
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	sender := NewSender(SenderOpts{AllowPrivateNetworks: true, Tracing: true})

	if resp := sender.Send(context.Background(), Request{URL: srv.URL + "/hook?token=s3cret-token"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("POST: %d %v", resp.StatusCode, resp.Err)
	}
	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want the POST's", len(spans))
	}
	for _, a := range spans[0].Attributes() {
		if strings.Contains(a.Value.String(), "s3cret") {
			t.Errorf("span attribute %s = %q", a.Key, a.Value.String())
		}
		if a.Key == "url.full" && a.Value.AsString() != srv.URL+"/hook?[redacted]" {
			t.Errorf("url.full = %q", a.Value.AsString())
		}
	}
	// A request that fails at the transport (the server hangs up) names the URL.
	hangUp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	t.Cleanup(hangUp.Close)
	u, _ := url.Parse(hangUp.URL)
	u.User = url.UserPassword("user", "s3cret-password")
	u.RawQuery = "token=s3cret-token"
	resp := sender.Send(context.Background(), Request{URL: u.String()})
	if resp.Err == nil || strings.Contains(resp.Err.Error(), "s3cret") || !strings.Contains(resp.Err.Error(), "[redacted]") {
		t.Errorf("the attempt's error: %v", resp.Err)
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://example.com/hook":                  "https://example.com/hook",
		"https://example.com/hook?token=x&b=2":      "https://example.com/hook?[redacted]",
		"https://u:p@example.com/hook?token=x#frag": "https://example.com/hook?[redacted]",
		"https://example.com:8443/a/b?":             "https://example.com:8443/a/b?[redacted]",
		"http://[::1]:80/%zz":                       "[an unreadable URL]",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
