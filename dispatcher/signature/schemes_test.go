package signature_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"hookd.dev/hookd/dispatcher/signature"
)

func TestEd25519(t *testing.T) {
	t.Parallel()
	secret, pub, err := signature.NewEd25519Secret()
	if err != nil || !strings.HasPrefix(secret, "whsk_") || !strings.HasPrefix(pub, "whpk_") {
		t.Fatalf("NewEd25519Secret = %q, %q, %v", secret, pub, err)
	}
	ts := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)
	sig, err := signature.SignEd25519(secret, "msg_1", ts, body)
	if err != nil || !strings.HasPrefix(sig, "v1a,") {
		t.Fatalf("SignEd25519 = %q, %v", sig, err)
	}
	if err := signature.VerifyEd25519Signature(pub, "msg_1", ts, body, "v1,abc "+sig); err != nil {
		t.Fatalf("verify: %v", err)
	}
	for name, tamper := range map[string]func() error{
		"other body": func() error { return signature.VerifyEd25519Signature(pub, "msg_1", ts, []byte("{}"), sig) },
		"other id":   func() error { return signature.VerifyEd25519Signature(pub, "msg_2", ts, body, sig) },
		"other time": func() error { return signature.VerifyEd25519Signature(pub, "msg_1", ts.Add(time.Second), body, sig) },
		"bare v1a,":  func() error { return signature.VerifyEd25519Signature(pub, "msg_1", ts, body, "v1a,") },
	} {
		if err := tamper(); !errors.Is(err, signature.ErrNoMatchingSignature) {
			t.Errorf("%s: %v, want ErrNoMatchingSignature", name, err)
		}
	}
	if err := signature.VerifyEd25519Signature("whpk_short", "msg_1", ts, body, sig); !errors.Is(err, signature.ErrInvalidPublicKey) {
		t.Errorf("bad public key: %v", err)
	}
	if _, err := signature.SignEd25519("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "m", ts, body); !errors.Is(err, signature.ErrInvalidSecret) {
		t.Errorf("an HMAC secret signed ed25519: %v", err)
	}
	again, _ := signature.PublicKey(secret)
	if again != pub {
		t.Errorf("PublicKey = %q, want %q", again, pub)
	}
}

// GitHub's documented example for X-Hub-Signature-256.
func TestHMACHexGitHubVector(t *testing.T) {
	t.Parallel()
	const want = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got := signature.HMACHex("It's a Secret to Everybody", []byte("Hello, World!")); got != want {
		t.Fatalf("HMACHex = %s, want %s", got, want)
	}
	if !signature.VerifyHMACHex("It's a Secret to Everybody", []byte("Hello, World!"), want) {
		t.Fatal("the vector does not verify")
	}
	if signature.VerifyHMACHex("It's a Secret to Everybody", []byte("Hello, World?"), want) {
		t.Fatal("another body verified")
	}
}
