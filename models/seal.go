package models

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// sealedPrefix marks a secret encrypted at rest (AES-256-GCM). Values
// without it are plain text, from before a key was set.
const sealedPrefix = "enc:v1:"

// ErrNoSecretKey means a stored secret is encrypted but no key was given.
var ErrNoSecretKey = errors.New("an endpoint secret is encrypted, but hookd has no secret key: set HOOKD_SECRET_KEY to the key it was written with")

// sealer encrypts endpoint secrets at rest; a nil sealer stores them as they are.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if key == nil {
		return nil, nil
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("the secret key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(plain string) string {
	if s == nil || plain == "" {
		return plain
	}
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return sealedPrefix + base64.StdEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(plain), nil))
}

func (s *sealer) open(stored string) (string, error) {
	raw, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return stored, nil
	}
	if s == nil {
		return "", ErrNoSecretKey
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(b) < s.aead.NonceSize() {
		return "", fmt.Errorf("endpoint secret: corrupt ciphertext")
	}
	plain, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], nil)
	if err != nil {
		return "", fmt.Errorf("endpoint secret: cannot decrypt with this HOOKD_SECRET_KEY: %w", err)
	}
	return string(plain), nil
}

// openEndpoint decrypts an endpoint's secrets in place.
func (s *Store) openEndpoint(ep *Endpoint) error {
	var err error
	if ep.Secret, err = s.sealer.open(ep.Secret); err != nil {
		return err
	}
	if ep.PreviousSecret != nil {
		prev, err := s.sealer.open(*ep.PreviousSecret)
		if err != nil {
			return err
		}
		ep.PreviousSecret = &prev
	}
	opened := make(map[string]string, len(ep.SecretHeaders))
	for name, sealed := range ep.SecretHeaders {
		if opened[name], err = s.sealer.open(sealed); err != nil {
			return err
		}
	}
	ep.SecretHeaders = opened
	return nil
}

// sealedCopy is the endpoint as it is stored: its secrets encrypted.
func (s *Store) sealedCopy(ep *Endpoint) *Endpoint {
	c := *ep
	c.Secret = s.sealer.seal(ep.Secret)
	if ep.PreviousSecret != nil {
		prev := s.sealer.seal(*ep.PreviousSecret)
		c.PreviousSecret = &prev
	}
	c.SecretHeaders = make(map[string]string, len(ep.SecretHeaders))
	for name, value := range ep.SecretHeaders {
		c.SecretHeaders[name] = s.sealer.seal(value)
	}
	return &c
}
