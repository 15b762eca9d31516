package models_test

import (
	"testing"

	"hookd.dev/hookd/dispatcher/signature"
	"hookd.dev/hookd/models"
	"hookd.dev/hookd/models/storetest"
)

// TestSchemesAreInTheTable: the scheme constants name table entries, and the
// error for an unknown scheme lists the table.
func TestSchemesAreInTheTable(t *testing.T) {
	t.Parallel()
	for _, name := range []string{models.SchemeStandard, models.SchemeEd25519, models.SchemeHMAC, models.SchemeToken} {
		if _, ok := signature.LookupScheme(name); !ok {
			t.Errorf("scheme %q is not in the table", name)
		}
	}
	s := models.NewStore(storetest.New(t).Gorm, models.StoreOpts{})
	ten, err := s.CreateTenant(t.Context(), models.TenantParams{UID: ptr("acme")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateEndpoint(t.Context(), ten.ID, models.EndpointParams{URL: ptr("https://example.com/"), EventTypes: []string{"*"}, SigningScheme: ptr("rot13")})
	wantCode(t, err, models.CodeInvalid)
	if want := "signing_scheme must be ed25519, hmac-sha256, standard or token"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	_, err = s.CreateEndpoint(t.Context(), ten.ID, models.EndpointParams{URL: ptr("https://example.com/"), EventTypes: []string{"*"}, SigningScheme: ptr(models.SchemeToken), Secret: ptr("short")})
	if want := "a token secret must be 16 to 256 characters"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}
