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

// TestRotationOfSingleSignatureSchemes rotates hmac-sha256 and token secrets
// with a short grace period. Two receivers per scheme check every delivery:
// one holds only the old secret and must verify every request sent during
// the grace period; one holds only the new secret and must verify every
// request sent after it. Requests are classed by their webhook-timestamp.
func TestRotationOfSingleSignatureSchemes(t *testing.T) {
	t.Parallel()
	env := backends(t)
	env["HOOKD_ROTATION_GRACE"] = "3s"
	m := start(t, "serve", env)
	c := newClient(t, m, testAdminKey)
	c.must(201, "POST", "/v1/event-types", map[string]any{"name": "invoice.paid"}, nil)
	c.must(201, "POST", "/v1/tenants", map[string]any{"uid": "acme"}, nil)

	type check struct {
		sentAt        int64 // webhook-timestamp
		oldOK, newOK  bool
		scheme, msgID string
	}
	var (
		mu     sync.Mutex
		checks []check
		keys   = map[string][2]string{} // scheme -> old, new secret
	)
	verify := func(scheme, key string, r *http.Request, body []byte) bool {
		if scheme == "token" {
			return r.Header.Get("Authorization") == "Bearer "+key
		}
		sig, ok := strings.CutPrefix(r.Header.Get("X-Hub-Signature-256"), "sha256=")
		return ok && signature.VerifyHMACHex(key, body, sig)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		scheme := strings.TrimPrefix(r.URL.Path, "/")
		ts, _ := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64)
		mu.Lock()
		k := keys[scheme]
		ck := check{sentAt: ts, oldOK: verify(scheme, k[0], r, body), newOK: verify(scheme, k[1], r, body), scheme: scheme, msgID: r.Header.Get("webhook-id")}
		checks = append(checks, ck)
		mu.Unlock()
		if !ck.oldOK && !ck.newOK {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)

	type secretAnswer struct {
		Key                  string     `json:"key"`
		ActiveFrom           *time.Time `json:"active_from"`
		PreviousKeyExpiresAt *time.Time `json:"previous_key_expires_at"`
	}
	var expires time.Time
	for _, scheme := range []string{"hmac-sha256", "token"} {
		var ep struct{ ID string }
		c.must(201, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": srv.URL + "/" + scheme, "event_types": []string{"*"}, "signing_scheme": scheme}, &ep)
		path := "/v1/tenants/acme/endpoints/" + ep.ID + "/secret"
		var before, rotated, after secretAnswer
		c.must(200, "GET", path, nil, &before)
		mu.Lock()
		keys[scheme] = [2]string{before.Key, ""}
		mu.Unlock()
		c.must(200, "POST", path+"/rotate", nil, &rotated)
		if rotated.Key == before.Key || rotated.ActiveFrom == nil || rotated.PreviousKeyExpiresAt == nil || !rotated.ActiveFrom.Equal(*rotated.PreviousKeyExpiresAt) {
			t.Fatalf("%s rotation answered %+v: want the new key, active from when the old one expires", scheme, rotated)
		}
		c.must(200, "GET", path, nil, &after)
		if after.Key != rotated.Key || after.ActiveFrom == nil || !after.ActiveFrom.Equal(*rotated.ActiveFrom) {
			t.Fatalf("%s secret after rotation %+v, rotation answered %+v", scheme, after, rotated)
		}
		mu.Lock()
		keys[scheme] = [2]string{before.Key, rotated.Key}
		mu.Unlock()
		if rotated.PreviousKeyExpiresAt.After(expires) {
			expires = *rotated.PreviousKeyExpiresAt
		}
	}

	emitted := 0
	emit := func() {
		var msg message
		c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": map[string]int{"n": emitted}}, &msg)
		emitted++
	}
	for range 5 { // during the grace period
		emit()
	}
	eventually(t, 15*time.Second, "the grace period to end", func() bool { return time.Now().After(expires.Add(time.Second)) })
	for range 5 { // after it
		emit()
	}
	eventually(t, 15*time.Second, "every message to reach both endpoints", func() bool {
		mu.Lock()
		defer mu.Unlock()
		seen := map[string]bool{}
		for _, ck := range checks {
			if ck.oldOK || ck.newOK {
				seen[ck.scheme+ck.msgID] = true
			}
		}
		return len(seen) == 2*emitted
	})

	mu.Lock()
	defer mu.Unlock()
	var during, later int
	for _, ck := range checks {
		switch {
		case ck.sentAt < expires.Unix(): // sent before the second in which the grace period ends
			during++
			if !ck.oldOK {
				t.Errorf("%s request sent during the grace period did not verify with the old secret", ck.scheme)
			}
		case ck.sentAt > expires.Unix():
			later++
			if !ck.newOK {
				t.Errorf("%s request sent after the grace period did not verify with the new secret", ck.scheme)
			}
		}
	}
	if during == 0 || later == 0 {
		t.Fatalf("%d requests during the grace period and %d after; want some of each", during, later)
	}
}
