package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hookd.dev/hookd/dispatcher/signature"
)

// TestSigningSchemes delivers to one receiver per scheme, each checking the
// signature as a real receiver of that kind would.
func TestSigningSchemes(t *testing.T) {
	t.Parallel()
	m := start(t, "serve", backends(t))
	c := newClient(t, m, testAdminKey)
	c.must(201, "POST", "/v1/event-types", map[string]any{"name": "invoice.paid"}, nil)
	c.must(201, "POST", "/v1/tenants", map[string]any{"uid": "acme"}, nil)

	var mu sync.Mutex
	verified := map[string]bool{}
	keys := map[string]string{} // scheme -> what the receiver verifies with
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		scheme := strings.TrimPrefix(r.URL.Path, "/")
		mu.Lock()
		key := keys[scheme]
		mu.Unlock()
		ts, _ := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64)
		ok := false
		switch scheme {
		case "ed25519":
			ok = signature.VerifyEd25519Signature(key, r.Header.Get("webhook-id"), time.Unix(ts, 0), body, r.Header.Get("webhook-signature")) == nil
		case "hmac-sha256":
			sig, found := strings.CutPrefix(r.Header.Get("X-Hub-Signature-256"), "sha256=")
			ok = found && signature.VerifyHMACHex(key, body, sig)
		case "token":
			ok = r.Header.Get("X-Token") == key
		}
		if !ok || r.Header.Get("webhook-id") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		verified[scheme] = true
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)

	create := func(body map[string]any) string {
		var ep struct{ ID string }
		c.must(201, "POST", "/v1/tenants/acme/endpoints", body, &ep)
		var sec struct {
			Scheme    string `json:"scheme"`
			Key       string `json:"key"`
			PublicKey string `json:"public_key"`
		}
		c.must(200, "GET", "/v1/tenants/acme/endpoints/"+ep.ID+"/secret", nil, &sec)
		mu.Lock()
		keys[sec.Scheme] = sec.Key + sec.PublicKey
		mu.Unlock()
		if sec.Scheme == "ed25519" && (sec.Key != "" || !strings.HasPrefix(sec.PublicKey, "whpk_")) {
			t.Errorf("ed25519 secret answer %+v: want only the public key", sec)
		}
		return ep.ID
	}
	create(map[string]any{"url": srv.URL + "/ed25519", "event_types": []string{"*"}, "signing_scheme": "ed25519"})
	create(map[string]any{"url": srv.URL + "/hmac-sha256", "event_types": []string{"*"}, "signing_scheme": "hmac-sha256"})
	tokenEP := create(map[string]any{"url": srv.URL + "/token", "event_types": []string{"*"}, "signing_scheme": "token",
		"signature_header": "X-Token", "signature_prefix": "", "secret": "a-token-of-twenty-chars"})

	for _, bad := range []map[string]any{
		{"url": srv.URL, "event_types": []string{"*"}, "signing_scheme": "rot13"},
		{"url": srv.URL, "event_types": []string{"*"}, "signing_scheme": "token", "signature_header": "webhook-id"},
		{"url": srv.URL, "event_types": []string{"*"}, "signing_scheme": "token", "secret": "short"},
		{"url": srv.URL, "event_types": []string{"*"}, "signing_scheme": "ed25519", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
	} {
		c.must(422, "POST", "/v1/tenants/acme/endpoints", bad, nil)
	}

	var msg message
	c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": map[string]int{"amount": 1}}, &msg)
	eventually(t, 10*time.Second, "all three schemes verified", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(verified) == 3
	})
	for _, d := range msg.Deliveries {
		if d.EndpointID != tokenEP {
			continue
		}
		// The receiver answers before the attempt is recorded: wait for the record.
		var got delivery
		eventually(t, 10*time.Second, "the token attempt to be recorded", func() bool {
			got = c.delivery(d.ID)
			return len(got.Attempts) > 0
		})
		if got.Attempts[0].RequestHeaders["x-token"] != "[redacted]" {
			t.Fatalf("the token was recorded: %+v", got.Attempts)
		}
	}

	// A new scheme brings a new secret of its form.
	var sec struct{ Key string }
	c.must(200, "PATCH", "/v1/tenants/acme/endpoints/"+tokenEP, map[string]any{"signing_scheme": "standard"}, nil)
	c.must(200, "GET", "/v1/tenants/acme/endpoints/"+tokenEP+"/secret", nil, &sec)
	if !strings.HasPrefix(sec.Key, "whsec_") {
		t.Fatalf("after switching to standard the secret is %q", sec.Key)
	}
}
