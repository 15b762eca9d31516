package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
)

// TestWrongKeysAreThrottled: 40 wrong keys in a row from one address end in
// 429s, whatever X-Forwarded-For says; right keys, before them and after,
// always get through.
func TestWrongKeysAreThrottled(t *testing.T) {
	f := setup(t)
	send := func(key string, i int) (int, string, string) {
		req, _ := http.NewRequest("GET", f.srv.URL+"/v1/tenants", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("X-Forwarded-For", "203.0.113."+strconv.Itoa(i%250)) // not trusted
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var body struct{ Error struct{ Code string } }
		_ = json.Unmarshal(raw, &body)
		return resp.StatusCode, body.Error.Code, resp.Header.Get("Retry-After")
	}
	for i := range 50 {
		if status, _, _ := send(adminKey, i); status != http.StatusOK {
			t.Fatalf("right key #%d = %d", i+1, status)
		}
	}
	limited := 0
	for i := range 40 {
		status, code, retry := send("hk_wrong_"+strconv.Itoa(i), i)
		switch {
		case i < 10 && status != http.StatusUnauthorized:
			t.Fatalf("wrong key #%d = %d, want 401", i+1, status)
		case i >= 10 && (status != http.StatusTooManyRequests || code != "rate_limited"):
			t.Fatalf("wrong key #%d = %d %q, want 429 rate_limited", i+1, status, code)
		case status == http.StatusTooManyRequests:
			if secs, err := strconv.Atoi(retry); err != nil || secs < 1 {
				t.Fatalf("Retry-After = %q", retry)
			}
			limited++
		}
	}
	if limited != 30 {
		t.Fatalf("%d of 40 wrong keys were refused, want 30", limited)
	}
	// The address may be shared with the app: its right key still works,
	// and does not reset the count of wrong ones.
	if status, _, _ := send(adminKey, 0); status != http.StatusOK {
		t.Fatalf("right key from a throttled address = %d, want 200", status)
	}
	if status, _, _ := send(f.key, 0); status != http.StatusForbidden { // authenticated, then refused an admin route
		t.Fatalf("a tenant's right key from a throttled address = %d, want 403", status)
	}
	if status, code, _ := send("hk_wrong_again", 0); status != http.StatusTooManyRequests || code != "rate_limited" {
		t.Fatalf("a wrong key after the right ones = %d %q, want 429", status, code)
	}
}
