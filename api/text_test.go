package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestInvalidTextIsRefused: invalid UTF-8 or NUL anywhere a client can put it
// is refused with 400 or 422 and a message, on both backends (PostgreSQL
// answered 500), and stores nothing.
func TestInvalidTextIsRefused(t *testing.T) {
	f := setup(t)
	var ep struct{ ID string }
	f.decode(f.call(adminKey, "POST", "/v1/tenants/acme/endpoints", `{"url":"https://a.example/hook","event_types":["*"]}`, 201), &ep)
	var msg struct {
		ID         string
		Deliveries []struct{ ID string }
	}
	f.decode(f.call(adminKey, "POST", "/v1/tenants/acme/messages", `{"event_type":"invoice.paid","payload":{}}`, 201), &msg)
	const nul, bad = `\u0000`, "\xe9" // a NUL escape inside JSON; a byte that is not UTF-8
	eps := "/v1/tenants/acme/endpoints"
	cases := []struct {
		name, method, path, body string
		header                   []string
		status                   int
	}{
		{"payload not UTF-8", "POST", "/v1/tenants/acme/messages", `{"event_type":"invoice.paid","payload":{"bad":"caf` + bad + `"}}`, nil, 400},
		{"payload key not UTF-8", "POST", "/v1/tenants/acme/messages", `{"event_type":"invoice.paid","payload":{"caf` + bad + `":1}}`, nil, 400},
		{"event type with NUL", "POST", "/v1/tenants/acme/messages", `{"event_type":"invoice.paid` + nul + `","payload":{}}`, nil, 422},
		{"Idempotency-Key not UTF-8", "POST", "/v1/tenants/acme/messages", `{"event_type":"invoice.paid","payload":{}}`, []string{"Idempotency-Key", "k" + bad}, 400},
		{"cursor NUL", "GET", "/v1/tenants/acme/messages?cursor=%00", "", nil, 400},
		{"cursor not UTF-8", "GET", "/v1/tenants/acme/deliveries?cursor=%FF", "", nil, 400},
		{"event_type filter", "GET", "/v1/tenants/acme/messages?event_type=a%00", "", nil, 400},
		{"endpoint_id filter", "GET", "/v1/tenants/acme/deliveries?endpoint_id=%C3", "", nil, 400},
		{"status filter", "GET", "/v1/tenants/acme/deliveries?status=%00", "", nil, 400},
		{"message_id filter", "GET", "/v1/tenants/acme/deliveries?message_id=msg_%00", "", nil, 400},
		{"query name", "GET", "/v1/tenants/acme/deliveries?%FF=1", "", nil, 400},
		{"malformed escape", "GET", "/v1/tenants/acme/deliveries?cursor=%zz", "", nil, 400},
		{"tenant path", "GET", "/v1/tenants/acme%00/messages", "", nil, 400},
		{"endpoint path", "GET", eps + "/ep_%00", "", nil, 400},
		{"message path", "GET", "/v1/tenants/acme/messages/msg_%FF", "", nil, 400},
		{"delivery path", "POST", "/v1/tenants/acme/deliveries/dlv_%00/retry", "", nil, 400},
		{"event type path", "PATCH", "/v1/event-types/invoice.paid%00", `{"description":"x"}`, nil, 400},
		{"api key path", "DELETE", "/v1/tenants/acme/api-keys/key_%00", "", nil, 400},
		{"tenant uid", "POST", "/v1/tenants", `{"uid":"globex` + nul + `"}`, nil, 422},
		{"tenant name", "POST", "/v1/tenants", `{"uid":"globex","name":"Globex` + nul + `"}`, nil, 422},
		{"tenant name not UTF-8", "POST", "/v1/tenants", `{"uid":"globex","name":"Glob` + bad + `x"}`, nil, 400},
		{"tenant rename", "PATCH", "/v1/tenants/acme", `{"name":"` + nul + `"}`, nil, 422},
		{"event type name", "POST", "/v1/event-types", `{"name":"a` + nul + `"}`, nil, 422},
		{"event type description", "POST", "/v1/event-types", `{"name":"a.b","description":"` + nul + `"}`, nil, 422},
		{"event type description update", "PATCH", "/v1/event-types/invoice.paid", `{"description":"` + nul + `"}`, nil, 422},
		{"api key name", "POST", "/v1/tenants/acme/api-keys", `{"name":"` + nul + `"}`, nil, 422},
		{"endpoint url", "POST", eps, `{"url":"https://a.example/` + nul + `","event_types":["*"]}`, nil, 422},
		{"endpoint url not UTF-8", "POST", eps, `{"url":"https://a.example/` + bad + `","event_types":["*"]}`, nil, 400},
		{"endpoint description", "POST", eps, `{"url":"https://a.example/","event_types":["*"],"description":"` + nul + `"}`, nil, 422},
		{"endpoint event types", "POST", eps, `{"url":"https://a.example/","event_types":["` + nul + `"]}`, nil, 422},
		{"endpoint secret", "POST", eps, `{"url":"https://a.example/","event_types":["*"],"secret":"whsec_` + nul + `"}`, nil, 422},
		{"signature header", "POST", eps, `{"url":"https://a.example/","event_types":["*"],"signing_scheme":"hmac-sha256","signature_header":"X-` + nul + `"}`, nil, 422},
		{"signature prefix", "POST", eps, `{"url":"https://a.example/","event_types":["*"],"signing_scheme":"hmac-sha256","signature_prefix":"` + nul + `"}`, nil, 422},
		{"endpoint update", "PATCH", eps + "/" + ep.ID, `{"description":"` + nul + `"}`, nil, 422},
		{"rotated key", "POST", eps + "/" + ep.ID + "/secret/rotate", `{"key":"whsec_` + nul + `"}`, nil, 422},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, f.srv.URL+c.path, strings.NewReader(c.body))
			req.Header.Set("Authorization", "Bearer "+adminKey)
			for i := 0; i+1 < len(c.header); i += 2 {
				req.Header.Set(c.header[i], c.header[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Error struct{ Code, Message string }
			}
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != c.status || body.Error.Message == "" {
				t.Fatalf("= %d %+v, want %d with a message", resp.StatusCode, body.Error, c.status)
			}
		})
	}
	if n := f.count("/v1/tenants/acme/messages"); n != 1 {
		t.Fatalf("%d messages, want the first one only", n)
	}
	if n := f.count("/v1/tenants/acme/endpoints"); n != 1 {
		t.Fatalf("%d endpoints, want the first one only", n)
	}
	if n := f.count("/v1/tenants"); n != 1 {
		t.Fatalf("%d tenants, want 1", n)
	}
	var et struct{ Description string }
	f.decode(f.call(adminKey, "GET", "/v1/event-types/invoice.paid", "", 200), &et)
	if et.Description != "" {
		t.Fatalf("event type description changed to %q", et.Description)
	}
}

// TestPayloadEscapesAreKept: JSON escapes are ASCII on the wire and valid
// JSON, so "\u0000" and a lone surrogate are accepted and kept as sent.
func TestPayloadEscapesAreKept(t *testing.T) {
	f := setup(t)
	for _, payload := range []string{`{"a":"x\u0000y"}`, `{"a":"\ud800"}`, `{"caf\u00e9":"ü"}`} {
		var msg struct{ ID string }
		f.decode(f.call(adminKey, "POST", "/v1/tenants/acme/messages", `{"event_type":"invoice.paid","payload":`+payload+`}`, 201), &msg)
		raw := f.call(adminKey, "GET", "/v1/tenants/acme/messages/"+msg.ID, "", 200)
		if !strings.Contains(string(raw), `"payload":`+payload) {
			t.Fatalf("payload %s read back as %s", payload, raw)
		}
	}
}
