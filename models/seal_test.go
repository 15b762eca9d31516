package models_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"hookd.dev/hookd/models"
	"hookd.dev/hookd/models/storetest"
)

func TestSecretsAreEncryptedAtRest(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	key := bytes.Repeat([]byte{7}, 32)
	s, err := models.NewStoreWithKey(db.Gorm, models.StoreOpts{SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	ten, _ := s.CreateTenant(ctx, models.TenantParams{})
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	ep, err := s.CreateEndpoint(ctx, ten.ID, models.EndpointParams{URL: ptr("https://example.com"), EventTypes: []string{"*"}, Secret: &secret})
	if err != nil {
		t.Fatal(err)
	}
	stored := func() (string, *string) {
		var row models.Endpoint
		db.Gorm.Take(&row, "id = ?", ep.ID)
		return row.Secret, row.PreviousSecret
	}
	if raw, _ := stored(); !strings.HasPrefix(raw, "enc:v1:") || strings.Contains(raw, "MfKQ9r8") {
		t.Fatalf("stored secret %q is not encrypted", raw)
	}
	got, err := s.GetEndpoint(ctx, ten.ID, ep.ID)
	if err != nil || got.Secret != secret {
		t.Fatalf("read back %q, %v", got.Secret, err)
	}
	if _, err := s.UpdateEndpoint(ctx, ten.ID, ep.ID, models.EndpointParams{Description: ptr("changed")}); err != nil {
		t.Fatal(err)
	}
	rotated, err := s.RotateSecret(ctx, ten.ID, ep.ID, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	raw, prev := stored()
	if !strings.HasPrefix(raw, "enc:v1:") || prev == nil || !strings.HasPrefix(*prev, "enc:v1:") {
		t.Fatalf("after an update and a rotation: %q, %v", raw, prev)
	}
	got, _ = s.GetEndpoint(ctx, ten.ID, ep.ID)
	if got.Secret != rotated.Secret || *got.PreviousSecret != secret {
		t.Fatalf("after rotation: %q and %q", got.Secret, *got.PreviousSecret)
	}

	// Without the key (or with another) the secret cannot be read, and says why.
	if _, err := models.NewStore(db.Gorm, models.StoreOpts{}).GetEndpoint(ctx, ten.ID, ep.ID); !errors.Is(err, models.ErrNoSecretKey) {
		t.Fatalf("without the key: %v", err)
	}
	other, _ := models.NewStoreWithKey(db.Gorm, models.StoreOpts{SecretKey: bytes.Repeat([]byte{8}, 32)})
	if _, err := other.GetEndpoint(ctx, ten.ID, ep.ID); err == nil {
		t.Fatal("another key decrypted the secret")
	}
	if _, err := models.NewStoreWithKey(db.Gorm, models.StoreOpts{SecretKey: []byte("short")}); err == nil {
		t.Fatal("a 5-byte key was accepted")
	}

	// Secrets written before a key was set stay readable.
	plain := models.NewStore(db.Gorm, models.StoreOpts{})
	ep2, _ := plain.CreateEndpoint(ctx, ten.ID, models.EndpointParams{URL: ptr("https://example.com"), EventTypes: []string{"*"}, Secret: &secret})
	if got, err := s.GetEndpoint(ctx, ten.ID, ep2.ID); err != nil || got.Secret != secret {
		t.Fatalf("a plain-text secret read with a key: %q, %v", got.Secret, err)
	}
}

func TestChangingSchemeDropsThePreviousSecret(t *testing.T) {
	f := setup(t)
	ep := f.endpoint(t, "*")
	if _, err := f.store.RotateSecret(f.ctx, f.tenant.ID, ep.ID, "", time.Hour); err != nil {
		t.Fatal(err)
	}
	scheme := models.SchemeToken
	secret := "a-token-of-twenty-chars"
	got, err := f.store.UpdateEndpoint(f.ctx, f.tenant.ID, ep.ID, models.EndpointParams{SigningScheme: &scheme, Secret: &secret})
	if err != nil {
		t.Fatal(err)
	}
	if got.PreviousSecret != nil || len(got.SigningSecrets(time.Now())) != 1 || got.SignatureHeader != "Authorization" {
		t.Fatalf("after switching to token: %+v", got)
	}
	stored, _ := f.store.GetEndpoint(f.ctx, f.tenant.ID, ep.ID)
	if stored.PreviousSecret != nil || stored.Secret != secret {
		t.Fatalf("stored: previous %v, secret %q", stored.PreviousSecret, stored.Secret)
	}
}

// TestSecretHeadersAreEncryptedAtRest: a secret header's value is sealed
// like the signing secret, its name is not (lists show it without the
// key), and the value reads back whole; an update of other fields keeps it.
func TestSecretHeadersAreEncryptedAtRest(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	s, err := models.NewStoreWithKey(db.Gorm, models.StoreOpts{SecretKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	ten, _ := s.CreateTenant(ctx, models.TenantParams{})
	ep, err := s.CreateEndpoint(ctx, ten.ID, models.EndpointParams{URL: ptr("https://example.com"), EventTypes: []string{"*"},
		SecretHeaders: map[string]string{"Authorization": "Basic c2VjcmV0"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateEndpoint(ctx, ten.ID, ep.ID, models.EndpointParams{Description: ptr("changed")}); err != nil {
		t.Fatal(err)
	}
	var row models.Endpoint
	db.Gorm.Take(&row, "id = ?", ep.ID)
	if v := row.SecretHeaders["Authorization"]; !strings.HasPrefix(v, "enc:v1:") || strings.Contains(v, "c2VjcmV0") {
		t.Fatalf("stored secret header %q is not encrypted", v)
	}
	listed, _, err := s.ListEndpoints(ctx, ten.ID, models.ListParams{Limit: 10})
	if err != nil || len(listed) != 1 || len(listed[0].SecretHeaders) != 1 {
		t.Fatalf("the list names no secret header: %+v, %v", listed, err)
	}
	got, err := s.GetEndpoint(ctx, ten.ID, ep.ID)
	if err != nil || got.SecretHeaders["Authorization"] != "Basic c2VjcmV0" {
		t.Fatalf("read back %v, %v", got.SecretHeaders, err)
	}
}
