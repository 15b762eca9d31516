package signature

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// Prefixes of Standard Webhooks' asymmetric keys (v1a, ed25519).
const (
	ed25519SecretPrefix = "whsk_"
	ed25519PublicPrefix = "whpk_"
)

// ErrInvalidPublicKey is a public key that is not "whpk_" + base64 of 32 bytes.
var ErrInvalidPublicKey = errors.New("invalid public key: want whpk_ followed by base64 of 32 bytes")

// NewEd25519Secret returns a fresh signing key ("whsk_" + base64 of the
// 32-byte seed) and the public key receivers verify with ("whpk_…").
func NewEd25519Secret() (secret, publicKey string, err error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return "", "", err
	}
	secret = ed25519SecretPrefix + base64.StdEncoding.EncodeToString(seed)
	publicKey, err = PublicKey(secret)
	return secret, publicKey, err
}

func ed25519Key(secret string) (ed25519.PrivateKey, error) {
	raw, ok := strings.CutPrefix(secret, ed25519SecretPrefix)
	seed, err := base64.StdEncoding.DecodeString(raw)
	if !ok || err != nil || len(seed) != ed25519.SeedSize {
		return nil, ErrInvalidSecret
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// PublicKey returns the "whpk_" public key of a "whsk_" signing key.
func PublicKey(secret string) (string, error) {
	key, err := ed25519Key(secret)
	if err != nil {
		return "", err
	}
	pub, _ := key.Public().(ed25519.PublicKey)
	return ed25519PublicPrefix + base64.StdEncoding.EncodeToString(pub), nil
}

// SignEd25519 returns the "v1a,<base64>" signature of a message.
func SignEd25519(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := ed25519Key(secret)
	if err != nil {
		return "", err
	}
	return "v1a," + base64.StdEncoding.EncodeToString(ed25519.Sign(key, content(msgID, ts.Unix(), body))), nil
}

// VerifyEd25519Signature checks a webhook-signature value against a "whpk_"
// public key, ignoring entries of other versions.
func VerifyEd25519Signature(publicKey, msgID string, ts time.Time, body []byte, sigHeader string) error {
	raw, ok := strings.CutPrefix(publicKey, ed25519PublicPrefix)
	pub, err := base64.StdEncoding.DecodeString(raw)
	if !ok || err != nil || len(pub) != ed25519.PublicKeySize {
		return ErrInvalidPublicKey
	}
	signed := content(msgID, ts.Unix(), body)
	for _, entry := range strings.Fields(sigHeader) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1a" {
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(sig); err == nil && ed25519.Verify(pub, signed, b) {
			return nil
		}
	}
	return ErrNoMatchingSignature
}

// HMACHex is the hex HMAC-SHA256 of the body keyed by the secret's bytes, as
// GitHub-style receivers check it (X-Hub-Signature-256: sha256=<hex>).
func HMACHex(secret string, body []byte) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// VerifyHMACHex checks a hex HMAC-SHA256 (without its prefix) in constant time.
func VerifyHMACHex(secret string, body []byte, sig string) bool {
	want, err := hex.DecodeString(sig)
	return err == nil && hmac.Equal(want, mustHex(HMACHex(secret, body)))
}

func mustHex(s string) []byte {
	b, _ := hex.DecodeString(s)
	return b
}

func content(msgID string, unix int64, body []byte) []byte {
	return []byte(msgID + "." + itoa(unix) + "." + string(body))
}
