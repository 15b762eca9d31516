package api_test

import (
	"strings"
	"testing"
)

func TestAdminKeysCanBeListedAndRevoked(t *testing.T) {
	f := setup(t)
	// Tenant keys may not touch admin keys.
	f.call(f.key, "GET", "/v1/admin-keys", "", 403)
	f.call(f.key, "POST", "/v1/admin-keys", `{"name":"x"}`, 403)

	var made struct{ ID, Key, Name string }
	f.decode(f.call(adminKey, "POST", "/v1/admin-keys", `{"name":"ops"}`, 201), &made)
	if !strings.HasPrefix(made.Key, "hk_") || made.Name != "ops" {
		t.Fatalf("created %+v", made)
	}
	f.call(adminKey, "POST", "/v1/admin-keys", `{"name":`, 400)
	f.call(adminKey, "POST", "/v1/admin-keys", `{"name":"`+strings.Repeat("n", 300)+`"}`, 422)

	// The list shows admin keys only, never a key itself.
	raw := string(f.call(made.Key, "GET", "/v1/admin-keys", "", 200))
	if !strings.Contains(raw, made.ID) || strings.Contains(raw, made.Key) || strings.Contains(raw, `"ci"`) {
		t.Fatalf("list = %s", raw)
	}
	if n := f.count("/v1/admin-keys"); n != 1 {
		t.Fatalf("listed %d admin keys, want 1", n)
	}

	// A tenant key cannot be revoked as an admin key; unknown ids are 404.
	var tenantKeys struct{ Data []struct{ ID string } }
	f.decode(f.call(adminKey, "GET", "/v1/tenants/acme/api-keys", "", 200), &tenantKeys)
	f.call(adminKey, "DELETE", "/v1/admin-keys/"+tenantKeys.Data[0].ID, "", 404)
	f.call(f.key, "GET", "/v1/tenants/acme/endpoints", "", 200)
	f.call(adminKey, "DELETE", "/v1/admin-keys/key_missing", "", 404)

	// A key may revoke itself; it stops working at once.
	f.call(made.Key, "DELETE", "/v1/admin-keys/"+made.ID, "", 204)
	f.call(made.Key, "GET", "/v1/tenants", "", 401)
	f.call(adminKey, "DELETE", "/v1/admin-keys/"+made.ID, "", 404)
	if raw := string(f.call(adminKey, "GET", "/v1/admin-keys", "", 200)); !strings.Contains(raw, `"revoked_at":"`) {
		t.Fatalf("the revoked key is not shown as revoked: %s", raw)
	}
}
