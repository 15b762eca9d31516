package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hookd.dev/hookd/dispatcher/signature"
)

// captured is a raw HTTP request as a receiver got it.
func captured(h http.Header, body string) []byte {
	var b strings.Builder
	b.WriteString("POST /hook HTTP/1.1\r\nHost: receiver.example\r\nContent-Type: application/json\r\n")
	for k, vs := range h {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return []byte(b.String())
}

func TestVerifyChecksEachScheme(t *testing.T) {
	t.Parallel()
	now := time.Now()
	body := `{"id":"inv_1","amount":4200}`
	secret, err := signature.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := signature.NewSecret()
	standard, err := signature.Headers([]string{secret}, "msg_1", now.Add(-time.Hour), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	edSecret, edPublic, err := signature.NewEd25519Secret()
	if err != nil {
		t.Fatal(err)
	}
	edSig, err := signature.SignEd25519(edSecret, "msg_2", now, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	edHeaders := http.Header{"Webhook-Id": {"msg_2"}, "Webhook-Timestamp": {fmt.Sprint(now.Unix())}, "Webhook-Signature": {edSig}}
	hmacHeaders := http.Header{"X-Hub-Signature-256": {"sha256=" + signature.HMACHex("s3cr3t", []byte(body))}}
	tokenHeaders := http.Header{"Authorization": {"Bearer s3cr3t"}}

	cases := []struct {
		name string
		raw  []byte
		opts verifyOpts
		want string // in the verdict, or in the error when bad
		bad  bool
	}{
		{"standard", captured(standard, body), verifyOpts{secret: secret}, "standard signature of msg_1", false},
		{"standard, the time checked", captured(standard, body), verifyOpts{secret: secret, checkTime: true}, "beyond the 5m0s", true},
		{"standard, another secret", captured(standard, body), verifyOpts{secret: other}, "no matching signature", true},
		{"standard, the body changed", captured(standard, strings.Replace(body, "4200", "4201", 1)), verifyOpts{secret: secret}, "no matching signature", true},
		{"standard, no signature", captured(http.Header{}, body), verifyOpts{secret: secret}, "lacks one of", true},
		{"ed25519 by its public key", captured(edHeaders, body), verifyOpts{secret: edPublic}, "ed25519 signature of msg_2", false},
		{"ed25519, another key", captured(edHeaders, body), verifyOpts{secret: edPublic, scheme: "standard"}, "", true},
		{"hmac-sha256", captured(hmacHeaders, body), verifyOpts{secret: "s3cr3t", scheme: "hmac-sha256"}, "hmac-sha256 in X-Hub-Signature-256", false},
		{"hmac-sha256, another secret", captured(hmacHeaders, body), verifyOpts{secret: "other", scheme: "hmac-sha256"}, "not the HMAC-SHA256", true},
		{"hmac-sha256, another header", captured(hmacHeaders, body), verifyOpts{secret: "s3cr3t", scheme: "hmac-sha256", header: "X-Sig"}, "no X-Sig header", true},
		{"token", captured(tokenHeaders, body), verifyOpts{secret: "s3cr3t", scheme: "token"}, "token in Authorization", false},
		{"token, another one", captured(tokenHeaders, body), verifyOpts{secret: "s3cr3", scheme: "token"}, "does not hold this secret", true},
		{"an unknown scheme", captured(tokenHeaders, body), verifyOpts{secret: "x", scheme: "rot13"}, "unknown scheme", true},
		{"no secret", captured(standard, body), verifyOpts{}, "no secret", true},
		{"not a request", []byte("hello"), verifyOpts{secret: secret}, "not an HTTP request", true},
	}
	for _, c := range cases {
		verdict, err := verifyCaptured(c.raw, c.opts, now)
		switch {
		case c.bad && err == nil:
			t.Errorf("%s: valid (%s), want invalid", c.name, verdict)
		case c.bad && !strings.Contains(err.Error(), c.want):
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		case !c.bad && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case !c.bad && !strings.Contains(verdict, c.want):
			t.Errorf("%s: %q, want %q", c.name, verdict, c.want)
		}
	}
}

// A request saved without Content-Length (edited by hand, say) has the rest
// of the file as its body, byte for byte; the exit status tells the verdict.
func TestVerifyReadsACapturedFile(t *testing.T) {
	t.Parallel()
	body := "{\"id\":\"inv_1\"}\n"
	secret, _ := signature.NewSecret()
	h, err := signature.Headers([]string{secret}, "msg_1", time.Now(), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	raw := fmt.Sprintf("POST /hook HTTP/1.1\nHost: r\nwebhook-id: %s\nwebhook-timestamp: %s\nwebhook-signature: %s\n\n%s",
		h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"), body)
	path := filepath.Join(t.TempDir(), "request.txt")
	if err := os.WriteFile(path, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, map[string]string{envWebhookSecret: secret}, "verify", path, "--check-time"); r.code != 0 || !strings.HasPrefix(r.stdout, "valid: ") {
		t.Fatalf("exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	other, _ := signature.NewSecret()
	if r := runCLI(t, nil, "verify", "--secret", other, path); r.code != 1 || !strings.Contains(r.stderr, "invalid: ") {
		t.Fatalf("another secret: exit %d, %q", r.code, r.stderr)
	}
}

// A hostile file (megabytes without a line break) is refused after reading
// the most hookd verify reads, with an error that names the limit and
// quotes none of it.
func TestVerifyRefusesAFileOverItsLimit(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "request.txt")
	if err := os.WriteFile(path, bytes.Repeat([]byte("A"), 8<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "verify", "--secret", "whsec_x", path)
	if r.code != 1 || !strings.Contains(r.stderr, "over 1 MiB") {
		t.Fatalf("exit %d, want 1 and an error naming the 1 MiB limit: %.300q", r.code, r.stderr)
	}
	if len(r.stderr) > 400 {
		t.Errorf("the error is %d bytes long: %.300q", len(r.stderr), r.stderr)
	}
}

// Errors about a bad request quote a short prefix of what was bad, not a
// line that may be a megabyte long, and still say what was wrong.
func TestVerifyErrorsQuoteAShortPrefix(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("A", 900<<10)
	secret, _ := signature.NewSecret()
	cases := []struct {
		name string
		raw  string
		want string
	}{
		{"a request line without a break", long, `not an HTTP request`},
		{"a header line without a colon", "POST /hook HTTP/1.1\r\nHost: r\r\n" + long + "\r\n\r\n{}", `missing colon: "AAAA`},
		{"a timestamp that is no number", "POST /hook HTTP/1.1\r\nwebhook-id: msg_1\r\nwebhook-timestamp: " + long + "\r\nwebhook-signature: v1,x\r\n\r\n{}", "is not a Unix time"},
		{"a long message id", "POST /hook HTTP/1.1\r\nwebhook-id: " + long + "\r\nwebhook-timestamp: 1700000000\r\nwebhook-signature: v1,x\r\n\r\n{}", "the signature of AAAA"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := verifyCaptured([]byte(c.raw), verifyOpts{secret: secret}, time.Now())
			if err == nil {
				t.Fatal("valid, want an error")
			}
			if msg := err.Error(); len(msg) > 400 || !strings.Contains(msg, c.want) {
				t.Errorf("a %d-byte error, want at most 400 holding %q: %.300q", len(msg), c.want, msg)
			}
		})
	}
}
