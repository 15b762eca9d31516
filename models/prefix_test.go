package models_test

import (
	"strings"
	"testing"
	"time"

	"hookd.dev/hookd/models"
)

// Each kind of secret token has a prefix of its own, so that a leaked
// string says what it is: API keys hk_, portal links hkp_, UI sessions hks_.
func TestEachKindOfTokenHasItsOwnPrefix(t *testing.T) {
	f := setup(t)
	key, _, err := f.store.CreateAPIKey(f.ctx, &f.tenant.ID, "ci")
	if err != nil {
		t.Fatal(err)
	}
	link, _, err := f.store.CreatePortalSession(f.ctx, f.tenant.ID, models.PortalParams{})
	if err != nil {
		t.Fatal(err)
	}
	admin, stored, err := f.store.CreateAPIKey(f.ctx, nil, "admin")
	if err != nil {
		t.Fatal(err)
	}
	session, err := f.store.CreateSession(f.ctx, stored.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for token, prefix := range map[string]string{key: "hk_", admin: "hk_", link: "hkp_", session: "hks_"} {
		if !strings.HasPrefix(token, prefix) {
			t.Errorf("%.6s… does not start with %s", token, prefix)
		}
	}
}
