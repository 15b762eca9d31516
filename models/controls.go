package models

import (
	"maps"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"hookd.dev/hookd/dispatcher/filter"
	"hookd.dev/hookd/dispatcher/signature"
)

// EventTypeHeader carries a message's event type on every request, so that
// a receiver of several types need not guess from the payload. It is
// hookd's own, not one of the Standard Webhooks headers.
const EventTypeHeader = "webhook-event-type"

// EndpointBounds are the operator's bounds on what an endpoint may choose
// for itself, and on how many a tenant may have. Zero fields take the
// defaults noted.
type EndpointBounds struct {
	MaxTimeout     time.Duration // an endpoint's timeout (default 15s, the default delivery timeout)
	MaxRetries     int           // delays in an endpoint's retry schedule (default 20)
	MaxRetryDelay  time.Duration // one delay of it (default 24h)
	MaxConcurrency int           // an endpoint's max_concurrency (default 100, ten times the worker's default)
	MaxPerTenant   int           // endpoints of one tenant (default 100)
}

// WithDefaults fills the zero fields.
func (b EndpointBounds) WithDefaults() EndpointBounds {
	if b.MaxTimeout <= 0 {
		b.MaxTimeout = 15 * time.Second
	}
	if b.MaxRetries <= 0 {
		b.MaxRetries = 20
	}
	if b.MaxRetryDelay <= 0 {
		b.MaxRetryDelay = 24 * time.Hour
	}
	if b.MaxConcurrency <= 0 {
		b.MaxConcurrency = 100
	}
	if b.MaxPerTenant <= 0 {
		b.MaxPerTenant = 100
	}
	return b
}

// Limits on an endpoint's custom headers.
const (
	MaxEndpointHeaders   = 20   // custom headers, secret ones included
	maxHeaderValueLength = 4096 // bytes of one value
)

// refusedHeaders are names an endpoint may not set, as a custom header or
// as its signature_header: what hookd sets itself and what belongs to the
// connection rather than the request. A request carries one value of each,
// so a second writer would replace hookd's (or the signature), and the
// transport drops or rewrites the connection's (Trailer, Expect, …).
var refusedHeaders = map[string]bool{
	"content-type": true, "content-length": true, "user-agent": true, "host": true,
	"transfer-encoding": true, "connection": true, "keep-alive": true, "te": true,
	"trailer": true, "upgrade": true, "content-encoding": true, "expect": true,
}

// refusedHeaderPrefixes extend refusedHeaders to whole families: webhook-*
// belongs to Standard Webhooks and to hookd (EventTypeHeader), proxy-* to
// proxies on the way, which may read and drop them.
var refusedHeaderPrefixes = []string{"webhook-", "proxy-"}

// refusedHeader reports whether an endpoint may not set the header name,
// in any case.
func refusedHeader(name string) bool {
	lower := strings.ToLower(name)
	return refusedHeaders[lower] || slices.ContainsFunc(refusedHeaderPrefixes, func(p string) bool {
		return strings.HasPrefix(lower, p)
	})
}

// refusedHeaderError is the answer to a name refusedHeader refuses, set in field.
func refusedHeaderError(field, name string) error {
	return Errorf(CodeInvalid, "%s: %s is set by hookd or by the connection, and cannot be set per endpoint", field, name)
}

// validateControls checks an endpoint's delivery controls in p against the
// operator's bounds. (Headers are checked once merged with the endpoint's,
// by applyControls.)
func (b EndpointBounds) validateControls(p EndpointParams) error {
	if p.MaxConcurrency != nil && (*p.MaxConcurrency < 0 || *p.MaxConcurrency > b.MaxConcurrency) {
		return Errorf(CodeInvalid, "max_concurrency must be from 1 to %d (0: the default); the operator sets the bound (HOOKD_MAX_ENDPOINT_CONCURRENCY)", b.MaxConcurrency)
	}
	if p.Timeout != nil {
		if max := int(b.MaxTimeout / time.Second); *p.Timeout < 0 || *p.Timeout > max {
			return Errorf(CodeInvalid, "timeout must be from 1 to %d seconds (0: the default); the operator sets the bound (HOOKD_MAX_ENDPOINT_TIMEOUT)", max)
		}
	}
	if p.RetrySchedule != nil {
		if len(p.RetrySchedule) > b.MaxRetries {
			return Errorf(CodeInvalid, "retry_schedule may hold at most %d delays (got %d); the operator sets the bound (HOOKD_MAX_ENDPOINT_RETRIES)", b.MaxRetries, len(p.RetrySchedule))
		}
		max := int(b.MaxRetryDelay / time.Second)
		for i, d := range p.RetrySchedule {
			if d < 1 || d > max {
				return Errorf(CodeInvalid, "retry_schedule[%d] must be from 1 to %d seconds (got %d); the operator sets the bound (HOOKD_MAX_ENDPOINT_RETRY_DELAY)", i, max, d)
			}
		}
	}
	if p.Filter != nil && *p.Filter != "" {
		if _, err := filter.Compile(*p.Filter); err != nil {
			return Errorf(CodeInvalid, "filter does not compile: %s", err)
		}
	}
	if p.Ordering != nil && *p.Ordering != OrderingNone && *p.Ordering != OrderingFIFO {
		return Errorf(CodeInvalid, "ordering must be %q or %q", OrderingNone, OrderingFIFO)
	}
	return nil
}

// validateHeaders checks custom headers: names an HTTP request may carry
// and hookd does not set, each once, with valid values.
func validateHeaders(plain, secret map[string]string) error {
	if len(plain)+len(secret) > MaxEndpointHeaders {
		return Errorf(CodeInvalid, "an endpoint may set at most %d headers, secret ones included", MaxEndpointHeaders)
	}
	seen := map[string]bool{}
	for field, hs := range map[string]map[string]string{"headers": plain, "secret_headers": secret} {
		for _, name := range slices.Sorted(maps.Keys(hs)) {
			lower := strings.ToLower(name)
			switch {
			case !httpguts.ValidHeaderFieldName(name):
				return Errorf(CodeInvalid, "%s: %q is not a valid header name", field, name)
			case refusedHeader(name):
				return refusedHeaderError(field, name)
			case seen[lower]:
				return Errorf(CodeInvalid, "%s: %s is named twice (header names ignore case, and a header is secret or not)", field, name)
			}
			seen[lower] = true
			// A value is what secrets and signature prefixes are (ASCII that
			// every receiver decodes alike: Node reads other bytes as
			// Latin-1), with tabs allowed inside as RFC 9110 does.
			v := hs[name]
			if v == "" || len(v) > maxHeaderValueLength || !signature.HeaderSafe(strings.ReplaceAll(v, "\t", " ")) || strings.TrimSpace(v) != v {
				return Errorf(CodeInvalid, "%s: the value of %s must be 1 to %d bytes of visible ASCII, with spaces and tabs only inside (no line breaks, control characters or non-ASCII letters)", field, name, maxHeaderValueLength)
			}
		}
	}
	return nil
}

// checkSignatureHeaderFree refuses a custom header that the endpoint's
// scheme writes the signature in: known only once the scheme is applied.
func checkSignatureHeaderFree(ep *Endpoint) error {
	if ep.SignatureHeader == "" {
		return nil
	}
	for _, hs := range []map[string]string{ep.Headers, ep.SecretHeaders} {
		for name := range hs {
			if strings.EqualFold(name, ep.SignatureHeader) {
				return Errorf(CodeInvalid, "headers: %s carries the endpoint's signature and cannot be set as well", name)
			}
		}
	}
	return nil
}

// applyControls sets the delivery controls given in p.
func applyControls(ep *Endpoint, p EndpointParams) error {
	if p.Envelope != nil {
		ep.Envelope = *p.Envelope
	}
	if p.Headers != nil {
		ep.Headers = p.Headers
	}
	if p.SecretHeaders != nil {
		ep.SecretHeaders = p.SecretHeaders
	}
	if p.Timeout != nil {
		ep.TimeoutSeconds = zeroIsNil(p.Timeout)
	}
	if p.RetrySchedule != nil {
		ep.RetrySchedule = p.RetrySchedule
		if len(p.RetrySchedule) == 0 {
			ep.RetrySchedule = nil
		}
	}
	if p.Filter != nil {
		if *p.Filter != ep.Filter {
			ep.FilterError, ep.FilterErrorAt = "", nil // the new filter has not failed yet
		}
		ep.Filter = *p.Filter
	}
	if p.Ordering != nil {
		ep.Ordering = *p.Ordering
	}
	if ep.Ordering == "" {
		ep.Ordering = OrderingNone
	}
	if ep.Headers == nil {
		ep.Headers = map[string]string{}
	}
	// Checked as merged: a header of one map may clash with the other's new set.
	if err := validateHeaders(ep.Headers, ep.SecretHeaders); err != nil {
		return err
	}
	return checkSignatureHeaderFree(ep)
}
