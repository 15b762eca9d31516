package signature

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The table lives here, not in models or dispatcher: both import this
// package (models validates and makes secrets, dispatcher signs), and it
// needs nothing but the standard library. Adding a scheme is one entry.

// Scheme is one way of signing requests.
type Scheme struct {
	// Sign returns webhook-id, webhook-timestamp and the signature of a
	// message. secrets are those in force, newest first; header and prefix
	// are the endpoint's (only schemes with a default Header use them).
	Sign func(secrets []string, msgID string, at time.Time, body []byte, header, prefix string) (http.Header, error)
	// NewSecret makes a random secret in the scheme's form.
	NewSecret func() (string, error)
	// ValidateSecret checks a secret's form; its error is meant for the user.
	ValidateSecret func(secret string) error
	// Header and Prefix are the defaults when the endpoint names none; an
	// empty Header means the Standard Webhooks webhook-signature header.
	Header, Prefix string
	// SecretInHeader says the header carries the secret itself, so recorded
	// attempts redact it (signatures are not secrets).
	SecretInHeader bool
	// OneSignature says a request carries one signature, so a rotation is
	// staged: the previous secret signs alone until the new one takes over.
	OneSignature bool
	// Verify checks a received request's headers and body against a secret
	// (for ed25519 the whpk_ public key), with the endpoint's header and
	// prefix as for Sign; its error is meant for the user. signedAt is the
	// signed webhook-timestamp, zero for schemes that sign no time.
	Verify func(secret string, h http.Header, body []byte, header, prefix string) (signedAt time.Time, err error)
}

var schemes = map[string]Scheme{
	"standard": { // Standard Webhooks v1: HMAC-SHA256 in webhook-signature
		Sign: func(secrets []string, msgID string, at time.Time, body []byte, _, _ string) (http.Header, error) {
			return Headers(secrets, msgID, at, body)
		},
		Verify:    verifyStandard(VerifySignature),
		NewSecret: NewSecret,
		ValidateSecret: func(secret string) error {
			if key, err := DecodeSecret(secret); err != nil || len(key) < 24 || len(key) > 64 {
				return errors.New("secret must be whsec_ followed by base64 of 24 to 64 random bytes")
			}
			return nil
		},
	},
	"ed25519": { // Standard Webhooks v1a: ed25519 in webhook-signature
		Sign:   signEd25519,
		Verify: verifyStandard(VerifyEd25519Signature),
		NewSecret: func() (string, error) {
			secret, _, err := NewEd25519Secret()
			return secret, err
		},
		ValidateSecret: func(secret string) error {
			if _, err := PublicKey(secret); err != nil {
				return errors.New("an ed25519 secret must be whsk_ followed by base64 of a 32-byte seed")
			}
			return nil
		},
	},
	"hmac-sha256": { // GitHub style: hex HMAC-SHA256 of the body
		Sign: signOne(HMACHex),
		Verify: verifyOne(func(secret string, body []byte, got string) error {
			if !VerifyHMACHex(secret, body, got) {
				return errors.New("is not the HMAC-SHA256 of the body with this secret")
			}
			return nil
		}),
		NewSecret:      newTextSecret,
		ValidateSecret: validateText("hmac-sha256"),
		Header:         "X-Hub-Signature-256",
		Prefix:         "sha256=",
		OneSignature:   true,
	},
	"token": { // the secret itself
		Sign: signOne(func(secret string, _ []byte) string { return secret }),
		Verify: verifyOne(func(secret string, _ []byte, got string) error {
			if subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
				return errors.New("does not hold this secret")
			}
			return nil
		}),
		NewSecret:      newTextSecret,
		ValidateSecret: validateText("token"),
		Header:         "Authorization",
		Prefix:         "Bearer ",
		SecretInHeader: true,
		OneSignature:   true,
	},
}

// LookupScheme returns a scheme by name; ok is false for an unknown one.
func LookupScheme(name string) (s Scheme, ok bool) {
	s, ok = schemes[name]
	return s, ok
}

// SchemeFor returns a scheme by name, standard for a name it does not know:
// endpoints built without one sign as they did before schemes existed.
func SchemeFor(name string) Scheme {
	if s, ok := schemes[name]; ok {
		return s
	}
	return schemes["standard"]
}

// SchemeNames lists the schemes' names, sorted.
func SchemeNames() []string { return slices.Sorted(maps.Keys(schemes)) }

func idHeaders(msgID string, at time.Time) http.Header {
	h := http.Header{}
	h.Set(HeaderID, msgID)
	h.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	return h
}

// signEd25519 signs with every secret, as Headers does for v1.
func signEd25519(secrets []string, msgID string, at time.Time, body []byte, _, _ string) (http.Header, error) {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sig, err := SignEd25519(s, msgID, at, body)
		if err != nil {
			return nil, err
		}
		sigs = append(sigs, sig)
	}
	h := idHeaders(msgID, at)
	h.Set(HeaderSignature, strings.Join(sigs, " "))
	return h, nil
}

// signOne builds the Sign of a scheme with one value in a named header: the
// receiver checks one, so only the first secret signs (rotations are staged).
func signOne(value func(secret string, body []byte) string) func([]string, string, time.Time, []byte, string, string) (http.Header, error) {
	return func(secrets []string, msgID string, at time.Time, body []byte, header, prefix string) (http.Header, error) {
		if len(secrets) == 0 {
			return nil, ErrInvalidSecret
		}
		h := idHeaders(msgID, at)
		h.Set(header, prefix+value(secrets[0], body))
		return h, nil
	}
}

// verifyStandard builds the Verify of a Standard Webhooks scheme from the
// check of its signature header.
func verifyStandard(check func(secret, msgID string, ts time.Time, body []byte, sigHeader string) error) func(string, http.Header, []byte, string, string) (time.Time, error) {
	return func(secret string, h http.Header, body []byte, _, _ string) (time.Time, error) {
		id, rawTS, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
		if id == "" || rawTS == "" || sigs == "" {
			return time.Time{}, fmt.Errorf("it lacks one of the %s, %s and %s headers", HeaderID, HeaderTimestamp, HeaderSignature)
		}
		unix, err := strconv.ParseInt(rawTS, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s %q is not a Unix time", HeaderTimestamp, rawTS)
		}
		ts := time.Unix(unix, 0)
		if err := check(secret, id, ts, body, sigs); err != nil {
			return time.Time{}, fmt.Errorf("the signature of %s: %w", id, err)
		}
		return ts, nil
	}
}

// verifyOne builds the Verify of a scheme with one value in a named header
// from the check of that value; check's error completes "the header …".
func verifyOne(check func(secret string, body []byte, got string) error) func(string, http.Header, []byte, string, string) (time.Time, error) {
	return func(secret string, h http.Header, body []byte, header, prefix string) (time.Time, error) {
		value := h.Get(header)
		if value == "" {
			return time.Time{}, fmt.Errorf("no %s header", header)
		}
		got, ok := strings.CutPrefix(value, prefix)
		if !ok {
			return time.Time{}, fmt.Errorf("the %s header does not start with %q", header, prefix)
		}
		if err := check(secret, body, got); err != nil {
			return time.Time{}, fmt.Errorf("the %s header %w", header, err)
		}
		return time.Time{}, nil
	}
}

// newTextSecret is 24 random bytes in hex: typeable, and safe in a header.
func newTextSecret() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// validateText checks a secret typed into a receiver's configuration or
// sent in a header: either way only printable ASCII survives, and edge
// spaces are trimmed by HTTP or by people.
func validateText(scheme string) func(string) error {
	return func(secret string) error {
		if len(secret) < 16 || len(secret) > 256 {
			return fmt.Errorf("a %s secret must be 16 to 256 characters", scheme)
		}
		if !HeaderSafe(secret) || strings.TrimSpace(secret) != secret {
			return fmt.Errorf("a %s secret must be printable ASCII (no control characters, line breaks or non-ASCII letters) without leading or trailing spaces", scheme)
		}
		return nil
	}
}

// HeaderSafe reports whether s can be sent as (part of) a header value as
// is: printable ASCII and spaces only.
func HeaderSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
