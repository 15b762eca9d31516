package main

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	collector "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	common "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"
)

// span is what the test collector keeps of a span.
type span struct {
	name, traceID, spanID, parentID string
	attrs                           map[string]string
}

// otlpCollector receives spans over OTLP/HTTP (protobuf), as an
// OpenTelemetry Collector would.
type otlpCollector struct {
	*httptest.Server
	mu    sync.Mutex
	spans []span
}

func newOTLPCollector(t *testing.T) *otlpCollector {
	c := &otlpCollector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req collector.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "not an OTLP trace export", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					attrs := map[string]string{}
					for _, a := range s.Attributes {
						attrs[a.Key] = a.Value.GetStringValue()
						if _, isInt := a.Value.Value.(*common.AnyValue_IntValue); isInt {
							attrs[a.Key] = strconv.FormatInt(a.Value.GetIntValue(), 10)
						}
					}
					c.spans = append(c.spans, span{name: s.Name, traceID: hex.EncodeToString(s.TraceId),
						spanID: hex.EncodeToString(s.SpanId), parentID: hex.EncodeToString(s.ParentSpanId), attrs: attrs})
				}
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&collector.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	t.Cleanup(c.Close)
	return c
}

// inTrace returns the spans of one trace.
func (c *otlpCollector) inTrace(traceID string) []span {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []span
	for _, s := range c.spans {
		if s.traceID == traceID {
			out = append(out, s)
		}
	}
	return out
}

func (c *otlpCollector) all() []span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]span(nil), c.spans...)
}

// With the standard OTLP variables set, one trace holds an emit (continuing
// the caller's traceparent), the API request, and every attempt it caused
// with its POST, a retry as the child of the attempt before; the database
// statements are spans too, without their arguments.
func TestTracesFollowAnEmitToEveryAttempt(t *testing.T) {
	t.Parallel()
	col := newOTLPCollector(t)
	env := backends(t)
	env["HOOKD_LISTEN"] = "127.0.0.1:" + freePort(t)
	env["HOOKD_RETRY_SCHEDULE"] = "1s"
	env["OTEL_EXPORTER_OTLP_ENDPOINT"] = col.URL
	env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf"
	env["OTEL_BSP_SCHEDULE_DELAY"] = "100"
	startProcess(t, "serve", env)
	c := &client{t: t, url: "http://" + env["HOOKD_LISTEN"], key: testAdminKey}
	c.waitListening(20 * time.Second)
	r, heal := newSwitchableReceiver(t, http.StatusServiceUnavailable)
	setupTenant(c, r)

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest("POST", c.url+"/v1/tenants/acme/messages", strings.NewReader(`{"event_type":"invoice.paid","payload":{"id":"inv_1","card":"4242"}}`))
	req.Header.Set("Authorization", "Bearer "+testAdminKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("emit: %v %v", err, resp)
	}
	resp.Body.Close()
	eventually(t, 10*time.Second, "the first attempt to fail", func() bool { return len(spansNamed(col.inTrace(traceID), "hookd.attempt")) >= 1 })
	heal()
	eventually(t, 15*time.Second, "the retry to succeed", func() bool {
		for _, s := range spansNamed(col.inTrace(traceID), "hookd.attempt") {
			if s.attrs["hookd.outcome"] == "succeeded" {
				return true
			}
		}
		return false
	})

	spans := col.inTrace(traceID)
	byID := map[string]span{}
	for _, s := range spans {
		byID[s.spanID] = s
	}
	server := spansNamed(spans, "POST /v1/tenants/:tenant/messages")
	emit := spansNamed(spans, "hookd.emit")
	attempts := spansNamed(spans, "hookd.attempt")
	if len(server) != 1 || server[0].parentID != "00f067aa0ba902b7" || len(emit) != 1 || emit[0].parentID != server[0].spanID {
		t.Fatalf("want the request's span under the caller's, and the emit under it: %+v", spans)
	}
	if len(attempts) != 2 || attempts[0].parentID != emit[0].spanID && attempts[1].parentID != emit[0].spanID {
		t.Fatalf("want two attempts, the first under the emit: %+v", attempts)
	}
	first, retry := attempts[0], attempts[1]
	if first.parentID != emit[0].spanID {
		first, retry = retry, first
	}
	if retry.parentID != first.spanID || first.attrs["hookd.outcome"] != "pending" || retry.attrs["hookd.outcome"] != "succeeded" {
		t.Fatalf("want the retry under the failed attempt: %+v, %+v", first, retry)
	}
	for _, a := range attempts {
		posts := 0
		for _, s := range spans {
			if s.parentID == a.spanID && strings.HasPrefix(s.name, "POST ") {
				posts++
			}
		}
		if posts != 1 {
			t.Errorf("attempt %s has %d POST spans, want 1", a.spanID, posts)
		}
	}

	var statements int
	for _, s := range col.all() {
		if !strings.HasPrefix(s.name, "db.") {
			continue
		}
		statements++
		if s.attrs["db.query.text"] == "" || strings.Contains(s.attrs["db.query.text"], "4242") {
			t.Fatalf("statement span %+v: want its text and never its arguments", s)
		}
	}
	if statements == 0 {
		t.Fatal("no database spans")
	}
}

func spansNamed(spans []span, name string) []span {
	var out []span
	for _, s := range spans {
		if s.name == name {
			out = append(out, s)
		}
	}
	return out
}
