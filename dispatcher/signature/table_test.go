package signature_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"hookd.dev/hookd/dispatcher/signature"
)

// TestSchemeTable walks every scheme: its new secrets validate, bad ones are
// refused, and it signs in its default header in a form its receivers check.
func TestSchemeTable(t *testing.T) {
	t.Parallel()
	names := signature.SchemeNames()
	if !slices.IsSorted(names) || len(names) < 4 {
		t.Fatalf("SchemeNames = %v, want the schemes sorted", names)
	}
	at, body := time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sch, ok := signature.LookupScheme(name)
			if !ok {
				t.Fatal("LookupScheme refuses a listed scheme")
			}
			secret, err := sch.NewSecret()
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.ValidateSecret(secret); err != nil {
				t.Fatalf("new secret %q refused: %v", secret, err)
			}
			for _, bad := range []string{"", "short", " " + secret, secret + "\x00", strings.Repeat("a", 300)} {
				if err := sch.ValidateSecret(bad); err == nil {
					t.Errorf("secret %q accepted", bad)
				}
			}
			if (sch.Header == "") != (sch.Prefix == "") {
				t.Errorf("default header %q with prefix %q", sch.Header, sch.Prefix)
			}
			if sch.SecretInHeader && sch.Header == "" {
				t.Error("a secret in the header needs a header")
			}

			h, err := sch.Sign([]string{secret}, "msg_1", at, body, sch.Header, sch.Prefix)
			if err != nil {
				t.Fatal(err)
			}
			if h.Get(signature.HeaderID) != "msg_1" || h.Get(signature.HeaderTimestamp) != "1614265330" {
				t.Errorf("id headers %v", h)
			}
			header := sch.Header
			if header == "" {
				header = signature.HeaderSignature
			}
			value, ok := strings.CutPrefix(h.Get(header), sch.Prefix)
			if !ok || value == "" || len(h) != 3 {
				t.Fatalf("headers %v: want %s with prefix %q", h, header, sch.Prefix)
			}
			switch name {
			case "standard":
				err = signature.VerifySignature(secret, "msg_1", at, body, value)
			case "ed25519":
				pub, _ := signature.PublicKey(secret)
				err = signature.VerifyEd25519Signature(pub, "msg_1", at, body, value)
			case "hmac-sha256":
				if !signature.VerifyHMACHex(secret, body, value) {
					t.Errorf("%s: %q does not verify", header, value)
				}
			case "token":
				if value != secret {
					t.Errorf("%s: %q, want the secret", header, value)
				}
			default:
				t.Fatal("a new scheme: say here how its receivers check it")
			}
			if err != nil {
				t.Errorf("%s %q does not verify: %v", header, value, err)
			}
			if sch.SecretInHeader != (name == "token") {
				t.Errorf("SecretInHeader = %v", sch.SecretInHeader)
			}
			if sch.OneSignature != (sch.Header != "") {
				t.Errorf("OneSignature = %v: the schemes with a header of their own carry one value", sch.OneSignature)
			}

			// Verify, as hookd verify runs it, accepts what Sign made and
			// refuses another secret.
			verifier, other := secret, must(sch.NewSecret())
			if name == "ed25519" {
				verifier, other = must(signature.PublicKey(secret)), must(signature.PublicKey(other))
			}
			signedAt, err := sch.Verify(verifier, h, body, sch.Header, sch.Prefix)
			if err != nil {
				t.Errorf("Verify refuses what Sign made: %v", err)
			}
			if signsTime := sch.Header == ""; signedAt.Equal(at) != signsTime {
				t.Errorf("Verify says it was signed at %v", signedAt)
			}
			if _, err := sch.Verify(other, h, body, sch.Header, sch.Prefix); err == nil {
				t.Error("Verify accepts another secret")
			}
		})
	}
}

func TestSchemeForFallsBackToStandard(t *testing.T) {
	t.Parallel()
	if _, ok := signature.LookupScheme("rot13"); ok {
		t.Fatal("LookupScheme accepts rot13")
	}
	h, err := signature.SchemeFor("").Sign([]string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "msg_1", time.Unix(1, 0), nil, "X-Ignored", "p=")
	if err != nil || !strings.HasPrefix(h.Get(signature.HeaderSignature), "v1,") || h.Get("X-Ignored") != "" {
		t.Fatalf("SchemeFor(\"\") signed %v, %v: want standard", h, err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
