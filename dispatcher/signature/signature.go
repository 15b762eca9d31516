// Package signature signs and verifies webhooks the Standard Webhooks way
// (v1, HMAC-SHA256). hookd's workers sign with it and receivers can verify
// with it; it depends on the standard library only.
//
// The signed content is "<webhook-id>.<webhook-timestamp>.<body>"; the key is
// the base64 part of a "whsec_" secret. See https://www.standardwebhooks.com.
package signature

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names, sent with every attempt.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// secretPrefix marks a Standard Webhooks HMAC secret.
const secretPrefix = "whsec_"

// Tolerance is how far a timestamp may be from the receiver's clock.
const Tolerance = 5 * time.Minute

// Errors of verification, for errors.Is.
var (
	ErrInvalidSecret       = errors.New("invalid secret: want whsec_ followed by base64")
	ErrMissingHeaders      = errors.New("missing webhook-id, webhook-timestamp or webhook-signature header")
	ErrInvalidTimestamp    = errors.New("invalid webhook-timestamp")
	ErrTimestampTooOld     = errors.New("webhook-timestamp too old")
	ErrTimestampTooNew     = errors.New("webhook-timestamp too far in the future")
	ErrNoMatchingSignature = errors.New("no matching signature")
)

// NewSecret returns a fresh random secret of 24 bytes, as "whsec_<base64>".
func NewSecret() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// DecodeSecret returns the HMAC key of a secret. The "whsec_" prefix is
// optional, as in the reference libraries.
func DecodeSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || len(key) == 0 {
		return nil, ErrInvalidSecret
	}
	return key, nil
}

// Sign returns the "v1,<base64>" signature of a message.
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := DecodeSecret(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, msgID, ts.Unix(), body)), nil
}

// SignAll signs with each secret and joins the signatures with spaces, as
// during a secret rotation, when receivers may hold either secret.
func SignAll(secrets []string, msgID string, ts time.Time, body []byte) (string, error) {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sig, err := Sign(s, msgID, ts, body)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}

// Headers returns the three Standard Webhooks headers for a message.
func Headers(secrets []string, msgID string, ts time.Time, body []byte) (http.Header, error) {
	if len(secrets) == 0 {
		return nil, ErrInvalidSecret
	}
	sig, err := SignAll(secrets, msgID, ts, body)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set(HeaderID, msgID)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return h, nil
}

// Verify checks a received webhook's headers and body against a secret, with
// the timestamp within Tolerance of now.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	id, rawTS, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || rawTS == "" || sigs == "" {
		return ErrMissingHeaders
	}
	unix, err := strconv.ParseInt(rawTS, 10, 64)
	if err != nil {
		return ErrInvalidTimestamp
	}
	ts := time.Unix(unix, 0)
	switch {
	case now.Sub(ts) > Tolerance:
		return ErrTimestampTooOld
	case ts.Sub(now) > Tolerance:
		return ErrTimestampTooNew
	}
	return VerifySignature(secret, id, ts, body, sigs)
}

// VerifySignature checks a webhook-signature value (space-separated
// "version,signature" entries) without looking at the clock. Entries of
// other versions are ignored; one matching v1 entry suffices.
func VerifySignature(secret, msgID string, ts time.Time, body []byte, sigHeader string) error {
	key, err := DecodeSecret(secret)
	if err != nil {
		return err
	}
	want := mac(key, msgID, ts.Unix(), body)
	for _, entry := range strings.Fields(sigHeader) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" || sig == "" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrNoMatchingSignature
}

// VerifyRequest reads at most maxBody bytes of a request's body and verifies
// it; it returns the body, which the receiver can then decode.
func VerifyRequest(secret string, r *http.Request, maxBody int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > maxBody {
		return nil, fmt.Errorf("body over %d bytes", maxBody)
	}
	return body, Verify(secret, r.Header, body, time.Now())
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func mac(key []byte, msgID string, unix int64, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msgID))
	h.Write([]byte{'.'})
	h.Write([]byte(strconv.FormatInt(unix, 10)))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}
