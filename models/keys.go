package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Each kind of secret token starts with its own prefix, so that a leaked
// string says what it is and secret scanners can tell them apart.
const (
	keyPrefix     = "hk_"  // API keys (admin and tenant)
	portalPrefix  = "hkp_" // tenant portal links
	sessionPrefix = "hks_" // admin UI session cookies
)

// NewKey returns a fresh random API key. Only its hash is stored.
func NewKey() string { return newSecretToken(keyPrefix) }

// newSecretToken is prefix and 24 random bytes.
func newSecretToken(prefix string) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashKey is the stored form of a key.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// CreateAPIKey stores a new key for a tenant (tenantID nil: an admin key) and
// returns the key itself, which is shown once and never again.
func (s *Store) CreateAPIKey(ctx context.Context, tenantID *string, name string) (string, *APIKey, error) {
	return s.createAPIKey(ctx, tenantID, name, NewKey())
}

func (s *Store) createAPIKey(ctx context.Context, tenantID *string, name, key string) (string, *APIKey, error) {
	if len(name) > 256 {
		return "", nil, Errorf(CodeInvalid, "name must be at most 256 characters")
	}
	if err := checkText("name", name); err != nil {
		return "", nil, err
	}
	k := &APIKey{
		ID:       NewID(PrefixAPIKey),
		TenantID: tenantID,
		Name:     name,
		Prefix:   key[:min(len(key), 8)],
		Hash:     HashKey(key),
	}
	if err := s.db.WithContext(ctx).Create(k).Error; err != nil {
		return "", nil, fmt.Errorf("create api key: %w", err)
	}
	return key, k, nil
}

// EnsureAdminKey creates an admin key if none exists and returns it; it
// returns "" when one exists already (it was printed when it was made).
func (s *Store) EnsureAdminKey(ctx context.Context) (string, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&APIKey{}).
		Where("tenant_id IS NULL AND revoked_at IS NULL").Count(&n).Error; err != nil {
		return "", fmt.Errorf("count admin keys: %w", err)
	}
	if n > 0 {
		return "", nil
	}
	key, _, err := s.CreateAPIKey(ctx, nil, "generated on first start")
	return key, err
}

// Authenticate returns the live key that matches, or a not_found error.
func (s *Store) Authenticate(ctx context.Context, key string) (*APIKey, error) {
	hash := HashKey(key)
	k, err := s.cachedKey(ctx, hash)
	if err != nil {
		return nil, err
	}
	// Record use at most once a minute, so that reads do not all become writes.
	t := s.now()
	if k.LastUsedAt == nil || t.Sub(*k.LastUsedAt) > time.Minute {
		k.LastUsedAt = &t
		s.db.WithContext(ctx).Model(&APIKey{}).Where("id = ?", k.ID).Update("last_used_at", t)
		s.cache.keys.Add(hash, *k)
	}
	return k, nil
}

// ListAPIKeys lists a tenant's keys, newest first, revoked ones included.
func (s *Store) ListAPIKeys(ctx context.Context, tenantID string, p ListParams) ([]APIKey, string, error) {
	return page(ctx, s.db.Model(&APIKey{}).Where("tenant_id = ?", tenantID), p, func(k *APIKey) string { return k.ID })
}

// RevokeAPIKey stops a tenant's key from working, at once and for good.
func (s *Store) RevokeAPIKey(ctx context.Context, tenantID, id string) error {
	return s.revokeKey(ctx, s.db.Where("tenant_id = ?", tenantID), "api key", id)
}

// ListAdminKeys lists the admin keys stored in the database, newest first,
// revoked ones included. HOOKD_ADMIN_KEY is not stored, so not listed.
func (s *Store) ListAdminKeys(ctx context.Context, p ListParams) ([]APIKey, string, error) {
	return page(ctx, s.db.Model(&APIKey{}).Where("tenant_id IS NULL"), p, func(k *APIKey) string { return k.ID })
}

// RevokeAdminKey stops an admin key from working, at once and for good; the
// UI sessions it opened end with it.
func (s *Store) RevokeAdminKey(ctx context.Context, id string) error {
	return s.revokeKey(ctx, s.db.Where("tenant_id IS NULL"), "admin key", id)
}

// revokeKey revokes the live key id among those scope selects.
func (s *Store) revokeKey(ctx context.Context, scope *gorm.DB, what, id string) error {
	res := scope.WithContext(ctx).Model(&APIKey{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.now())
	s.cache.keys.Purge() // cached by hash, which the id does not give
	if res.Error != nil {
		return fmt.Errorf("revoke %s %s: %w", what, id, res.Error)
	}
	if res.RowsAffected == 0 {
		return Errorf(CodeNotFound, "%s %q not found (or revoked already)", what, id)
	}
	return nil
}

// GetAPIKey returns a key by id, revoked or not, or a not_found error.
func (s *Store) GetAPIKey(ctx context.Context, id string) (*APIKey, error) {
	var k APIKey
	if err := s.db.WithContext(ctx).Take(&k, "id = ?", id).Error; err != nil {
		return nil, notFound(err, "api key %q not found", id)
	}
	return &k, nil
}
