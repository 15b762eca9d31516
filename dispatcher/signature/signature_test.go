package signature_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"hookd.dev/hookd/dispatcher/signature"
)

// vector is one case of testdata/vectors.json, shared with other implementations.
type vector struct {
	Name      string `json:"name"`
	Secret    string `json:"secret"`
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	Body      string `json:"body"`
	Signature string `json:"signature"`
	Valid     bool   `json:"valid"`
}

func loadVectors(t *testing.T) []vector {
	raw, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestVectors(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			err := signature.VerifySignature(v.Secret, v.ID, time.Unix(v.Timestamp, 0), []byte(v.Body), v.Signature)
			if v.Valid && err != nil {
				t.Fatalf("want valid, got %v", err)
			}
			if !v.Valid && !errors.Is(err, signature.ErrNoMatchingSignature) {
				t.Fatalf("want ErrNoMatchingSignature, got %v", err)
			}
		})
	}
}

func TestSignOfficialVector(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)[0]
	got, err := signature.Sign(v.Secret, v.ID, time.Unix(v.Timestamp, 0), []byte(v.Body))
	if err != nil || got != v.Signature {
		t.Fatalf("Sign = %q, %v; want %q", got, err, v.Signature)
	}
}

func TestInvalidSecrets(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "whsec_", "whsec_not base64!"} {
		if _, err := signature.Sign(s, "msg_1", time.Now(), nil); !errors.Is(err, signature.ErrInvalidSecret) {
			t.Errorf("Sign with secret %q: %v, want ErrInvalidSecret", s, err)
		}
		if err := signature.VerifySignature(s, "msg_1", time.Now(), nil, "v1,abc"); !errors.Is(err, signature.ErrInvalidSecret) {
			t.Errorf("Verify with secret %q: %v, want ErrInvalidSecret", s, err)
		}
	}
	if _, err := signature.Headers(nil, "msg_1", time.Now(), nil); !errors.Is(err, signature.ErrInvalidSecret) {
		t.Errorf("Headers without secrets: %v", err)
	}
}

func TestVerifyHeaders(t *testing.T) {
	t.Parallel()
	secret, err := signature.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"a":1}`)
	signed := func(ts time.Time) http.Header {
		h, err := signature.Headers([]string{secret}, "msg_1", ts, body)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	cases := []struct {
		name   string
		header http.Header
		body   []byte
		want   error
	}{
		{"valid", signed(now), body, nil},
		{"4 minutes old", signed(now.Add(-4 * time.Minute)), body, nil},
		{"too old", signed(now.Add(-6 * time.Minute)), body, signature.ErrTimestampTooOld},
		{"too new", signed(now.Add(6 * time.Minute)), body, signature.ErrTimestampTooNew},
		{"missing headers", http.Header{}, body, signature.ErrMissingHeaders},
		{"bad timestamp", func() http.Header { h := signed(now); h.Set("webhook-timestamp", "soon"); return h }(), body, signature.ErrInvalidTimestamp},
		{"other body", signed(now), []byte(`{"a":2}`), signature.ErrNoMatchingSignature},
	}
	for _, c := range cases {
		if err := signature.Verify(secret, c.header, c.body, now); !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestRotationSignsWithBothSecrets(t *testing.T) {
	t.Parallel()
	oldSecret, _ := signature.NewSecret()
	newSecret, _ := signature.NewSecret()
	now := time.Now()
	h, err := signature.Headers([]string{newSecret, oldSecret}, "msg_1", now, []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{oldSecret, newSecret} {
		if err := signature.Verify(s, h, []byte("{}"), now); err != nil {
			t.Errorf("a receiver holding one of the secrets: %v", err)
		}
	}
	stranger, _ := signature.NewSecret()
	if err := signature.Verify(stranger, h, []byte("{}"), now); err == nil {
		t.Error("a third secret verified")
	}
	if h.Get("webhook-timestamp") != strconv.FormatInt(now.Unix(), 10) {
		t.Errorf("timestamp header %q", h.Get("webhook-timestamp"))
	}
}
