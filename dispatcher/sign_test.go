package dispatcher

import (
	"strings"
	"testing"
	"time"

	"hookd.dev/hookd/dispatcher/signature"
	"hookd.dev/hookd/models"
)

// TestSignedAndRecordedHeadersPerScheme: every scheme signs in the
// endpoint's header, and only a secret in it (token) is redacted on record.
func TestSignedAndRecordedHeadersPerScheme(t *testing.T) {
	t.Parallel()
	for _, name := range signature.SchemeNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			secret, err := models.NewSecretFor(name)
			if err != nil {
				t.Fatal(err)
			}
			ep := &models.Endpoint{SigningScheme: name, Secret: secret}
			header := signature.HeaderSignature
			if sch := signature.SchemeFor(name); sch.Header != "" {
				ep.SignatureHeader, ep.SignaturePrefix, header = "X-Custom", sch.Prefix, "X-Custom"
			}
			h, err := signedHeaders(ep, "msg_1", time.Unix(1614265330, 0), []byte(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			sent := h.Get(header)
			if !strings.HasPrefix(sent, ep.SignaturePrefix) || sent == ep.SignaturePrefix {
				t.Fatalf("headers %v: want %s with prefix %q", h, header, ep.SignaturePrefix)
			}
			rec := recordedHeaders(ep, h)
			got := rec[strings.ToLower(header)]
			if name == models.SchemeToken {
				if got != redacted {
					t.Errorf("recorded %s = %q, want %q", header, got, redacted)
				}
			} else if got != sent {
				t.Errorf("recorded %s = %q, want the signature %q", header, got, sent)
			}
			for k, v := range rec {
				if strings.Contains(v, secret) {
					t.Errorf("recorded %s carries the secret", k)
				}
			}
		})
	}
}
