package dispatcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"code.dny.dev/ssrf"

	"hookd.dev/hookd/models"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// maxResponseHeaderBytes bounds the response headers a receiver may send;
// past it the attempt fails, as for any malformed answer. Of them, at most
// maxRecordedHeaderBytes are recorded with the attempt.
const (
	maxResponseHeaderBytes = 64 << 10
	maxRecordedHeaderBytes = 16 << 10
)

// userAgent names hookd to receivers.
const userAgent = "hookd/1"

// Request is one signed POST to make.
type Request struct {
	URL     string
	Headers http.Header
	Body    []byte
	Timeout time.Duration // shorter than the Sender's, or 0: the Sender's
}

// Response is what came back from a POST, or why nothing did.
type Response struct {
	StatusCode int // 0 when no response arrived
	Headers    http.Header
	Body       string // at most MaxResponseBytes, valid UTF-8
	Duration   time.Duration
	Err        error // transport error: DNS, refused, timeout, blocked address
}

// SenderOpts configures a Sender.
type SenderOpts struct {
	Timeout              time.Duration  // whole request, body read included (default 15s)
	MaxResponseBytes     int64          // response body kept and read (default 64 KiB)
	AllowPrivateNetworks bool           // allow loopback, private and link-local addresses (default false)
	AllowedNetworks      []netip.Prefix // exceptions to the refusal of private addresses (default none)
	// MaxIdlePerHost is how many idle connections to one host are kept for
	// the next requests (default 20). A worker sets its concurrency: several
	// endpoints often share a host, and a connection closed for want of room
	// costs a new dial (and TLS handshake) on the next request.
	MaxIdlePerHost int
	// Tracing makes each request a client span (OpenTelemetry, the global
	// tracer provider). No trace context goes to the receiver: it is not
	// hookd's to hand out.
	Tracing bool
}

// Sender POSTs webhooks. It never follows redirects, reads at most
// MaxResponseBytes of a response, and by default refuses to connect to
// private, loopback, link-local and cloud metadata addresses, checked at
// dial time so that DNS tricks cannot get around it.
type Sender struct {
	client   *http.Client
	maxBytes int64
}

// NewSender returns a Sender.
func NewSender(opts SenderOpts) *Sender {
	if opts.Timeout <= 0 {
		opts.Timeout = 15 * time.Second
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = 64 << 10
	}
	if opts.MaxIdlePerHost <= 0 {
		opts.MaxIdlePerHost = 20
	}
	dialer := &net.Dialer{Timeout: opts.Timeout, KeepAlive: 30 * time.Second}
	if !opts.AllowPrivateNetworks {
		dialer.Control = models.AddressGuard(opts.AllowedNetworks).Safe
	}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would hide the real destination from the address check
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          max(200, opts.MaxIdlePerHost),
		MaxIdleConnsPerHost:   opts.MaxIdlePerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: opts.Timeout,
		// Go's default is 10 MB: a receiver answering 1,500 headers of 4 KB
		// each made a 6 MB attempt row, again at every retry.
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
	}
	var rt http.RoundTripper = transport
	if opts.Tracing {
		rt = otelhttp.NewTransport(redactedSpanURL{transport}, otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return "POST " + r.URL.Host }))
	}
	return &Sender{
		client: &http.Client{
			Transport: rt,
			Timeout:   opts.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		maxBytes: opts.MaxResponseBytes,
	}
}

// Send POSTs the request and returns what came back.
func (s *Sender) Send(ctx context.Context, r Request) Response {
	start := time.Now()
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return Response{Err: err}
	}
	req.Header = r.Headers.Clone()
	resp, err := s.client.Do(req)
	if err != nil {
		return Response{Err: describe(err, req.URL.Host), Duration: time.Since(start)}
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, s.maxBytes))
	out := Response{
		StatusCode: resp.StatusCode,
		Headers:    resp.Header,
		Body:       printable(body),
		Duration:   time.Since(start),
	}
	if readErr != nil {
		// The status arrived, so the receiver decided; a body cut short is only noted.
		out.Body += fmt.Sprintf("\n[hookd: reading the body failed: %v]", describe(readErr, req.URL.Host))
	}
	return out
}

// attemptError is a transport error as tenants read it in their attempts:
// its message names only what the tenant gave (the URL's host), never the
// address a name resolved to or the resolver's address; the cause stays
// reachable with errors.Is and errors.As.
type attemptError struct {
	msg   string
	cause error
}

func (e *attemptError) Error() string { return e.msg }
func (e *attemptError) Unwrap() error { return e.cause }

// describe turns transport errors into messages a tenant can act on.
func describe(err error, host string) error {
	var (
		dnsErr *net.DNSError
		opErr  *net.OpError
		netErr net.Error
	)
	switch {
	case errors.Is(err, ssrf.ErrProhibitedIP), errors.Is(err, ssrf.ErrProhibitedPort), errors.Is(err, ssrf.ErrProhibitedNetwork):
		return &attemptError{"refused to connect: the address is private or reserved", err}
	case errors.As(err, &dnsErr):
		reason := "the lookup failed"
		switch {
		case dnsErr.IsNotFound:
			reason = "no such host"
		case dnsErr.IsTimeout:
			reason = "the lookup timed out"
		}
		return &attemptError{fmt.Sprintf("could not resolve host %s: %s", dnsErr.Name, reason), err}
	case errors.As(err, &netErr) && netErr.Timeout():
		if errors.As(err, &opErr) && opErr.Op == "dial" {
			return &attemptError{"timed out connecting to " + host, err}
		}
		return &attemptError{"timed out waiting for the response of " + host, err}
	case errors.As(err, &opErr) && opErr.Op == "dial":
		reason := opErr.Err.Error()
		var sysErr *os.SyscallError
		if errors.As(opErr.Err, &sysErr) {
			reason = sysErr.Err.Error()
		}
		return &attemptError{fmt.Sprintf("could not connect to %s: %s", host, reason), err}
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		// Post "https://…?token=…": the endpoint's credential would reach
		// the attempt log line, so the URL is shown without one.
		return &attemptError{fmt.Sprintf("%s %q: %v", urlErr.Op, RedactURL(urlErr.URL), urlErr.Err), err}
	}
	return err
}

// RedactURL is an endpoint URL as logs and traces may show it: without
// userinfo, and with its query, which some receivers use to carry a token,
// replaced by "[redacted]".
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[an unreadable URL]"
	}
	u.User, u.Fragment, u.RawFragment = nil, "", ""
	if u.RawQuery != "" || u.ForceQuery {
		u.RawQuery, u.ForceQuery = "[redacted]", false
	}
	return u.String()
}

// redactedSpanURL runs inside otelhttp's client span and replaces the
// span's url.full, which otelhttp fills with the whole URL, query included.
type redactedSpanURL struct{ next http.RoundTripper }

func (t redactedSpanURL) RoundTrip(r *http.Request) (*http.Response, error) {
	if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
		span.SetAttributes(attribute.String("url.full", RedactURL(r.URL.String())))
	}
	return t.next.RoundTrip(r)
}

// printable makes a response body safe to store as text: valid UTF-8, no NUL.
func printable(b []byte) string {
	s := string(b)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// RetryAfter reads a Retry-After header (seconds or an HTTP date); ok is
// false when it is absent or unreadable.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		// A huge number would overflow the Duration into a negative delay;
		// callers cap the delay anyway.
		return time.Duration(min(int64(secs), math.MaxInt64/int64(time.Second))) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
