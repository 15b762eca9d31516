package models_test

import (
	"slices"
	"testing"
	"time"

	"hookd.dev/hookd/models"
	"hookd.dev/hookd/models/storetest"
)

// TestRotationOfSingleSignatureSchemesIsStaged: hmac-sha256 and token carry
// one signature, so the old secret signs alone until the grace period ends
// and the new one alone after; Standard Webhooks schemes sign with both.
func TestRotationOfSingleSignatureSchemesIsStaged(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	clock := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)
	s := models.NewStore(db.Gorm, models.StoreOpts{NowFunc: func() time.Time { return clock }})
	ctx := t.Context()
	ten, err := s.CreateTenant(ctx, models.TenantParams{})
	if err != nil {
		t.Fatal(err)
	}
	const grace = time.Hour
	for _, scheme := range []string{models.SchemeHMAC, models.SchemeToken, models.SchemeStandard, models.SchemeEd25519} {
		ep, err := s.CreateEndpoint(ctx, ten.ID, models.EndpointParams{
			URL: ptr("https://example.com/hook"), EventTypes: []string{"*"}, SigningScheme: ptr(scheme),
		})
		if err != nil {
			t.Fatal(err)
		}
		old := ep.Secret
		rotated, err := s.RotateSecret(ctx, ten.ID, ep.ID, "", grace)
		if err != nil {
			t.Fatal(err)
		}
		next := rotated.Secret
		got, _ := s.GetEndpoint(ctx, ten.ID, ep.ID)
		during, after := clock.Add(grace-time.Second), clock.Add(grace)
		single := scheme == models.SchemeHMAC || scheme == models.SchemeToken
		if single {
			if sig := got.SigningSecrets(during); !slices.Equal(sig, []string{old}) {
				t.Errorf("%s during the grace period signs with %q, want the old secret alone", scheme, sig)
			}
			if from := got.KeyActiveFrom(during); from == nil || !from.Equal(after) {
				t.Errorf("%s: the new key is active from %v, want %v", scheme, from, after)
			}
		} else {
			if sig := got.SigningSecrets(during); !slices.Equal(sig, []string{next, old}) {
				t.Errorf("%s during the grace period signs with %q, want both", scheme, sig)
			}
			if got.KeyActiveFrom(during) != nil {
				t.Errorf("%s: the new key should sign at once", scheme)
			}
		}
		if sig := got.SigningSecrets(after); !slices.Equal(sig, []string{next}) {
			t.Errorf("%s after the grace period signs with %q, want the new secret alone", scheme, sig)
		}
		if single {
			// Rotating again while staged: the secret receivers hold (the old
			// one, which still signs) keeps signing; the staged one never did.
			clock = clock.Add(time.Minute)
			again, err := s.RotateSecret(ctx, ten.ID, ep.ID, "", grace)
			if err != nil {
				t.Fatal(err)
			}
			if sig := again.SigningSecrets(clock.Add(grace - time.Second)); !slices.Equal(sig, []string{old}) {
				t.Errorf("%s after a second rotation signs with %q, want the old secret", scheme, sig)
			}
			// A secret set outright with PATCH signs at once.
			set := "a-secret-set-outright-1234"
			patched, err := s.UpdateEndpoint(ctx, ten.ID, ep.ID, models.EndpointParams{Secret: &set})
			if err != nil {
				t.Fatal(err)
			}
			if sig := patched.SigningSecrets(clock); !slices.Equal(sig, []string{set}) || patched.KeyActiveFrom(clock) != nil {
				t.Errorf("%s after PATCH of the secret signs with %q", scheme, sig)
			}
		}
	}
}
