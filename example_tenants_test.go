package hookd_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"hookd.dev/hookd"
)

// A client speaks for the key it holds: the app's admin key can do
// anything, a tenant's key only that tenant's endpoints and messages. An
// http.Client of your own sets timeouts, proxies or tracing.
func ExampleNewClient() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey, hookd.ClientOpts{
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
	})
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-new-client")})
	defer admin.DeleteTenant(ctx, "ex-new-client")
	key, _ := admin.CreateAPIKey(ctx, "ex-new-client", "acme's integration")

	acme := hookd.NewClient(hookdURL, key)
	_, err := acme.ListEndpoints(ctx, "ex-new-client", hookd.ListParams{})
	fmt.Println("its endpoints:", err)
	_, err = acme.ListTenants(ctx, hookd.ListParams{})
	fmt.Println("all tenants:", err)
	// Output:
	// its endpoints: <nil>
	// all tenants: hookd: this needs an admin key (403 forbidden)
}

// A tenant per customer of yours: its uid is your own id for the customer,
// which every later call accepts in place of hookd's id.
func ExampleClient_CreateTenant() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	t, err := admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-create-tenant"), Name: hookd.String("Acme Corp")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer admin.DeleteTenant(ctx, t.ID)
	fmt.Println(*t.UID, t.Name)

	_, err = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-create-tenant")})
	fmt.Println("the same uid again:", hookd.IsConflict(err))
	// Output:
	// ex-create-tenant Acme Corp
	// the same uid again: true
}

// A tenant by its uid, or by hookd's id (ten_…).
func ExampleClient_GetTenant() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-get-tenant"), Name: hookd.String("Globex")})
	defer admin.DeleteTenant(ctx, "ex-get-tenant")

	t, err := admin.GetTenant(ctx, "ex-get-tenant")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(t.Name)
	byID, err := admin.GetTenant(ctx, t.ID)
	fmt.Println(*byID.UID, err)
	// Output:
	// Globex
	// ex-get-tenant <nil>
}

// All tenants, newest first, a page at a time.
func ExampleClient_ListTenants() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	for _, uid := range []string{"ex-list-tenants-a", "ex-list-tenants-b", "ex-list-tenants-c"} {
		_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: &uid})
		defer admin.DeleteTenant(ctx, uid)
	}

	p := hookd.ListParams{Limit: 2}
	for {
		page, err := admin.ListTenants(ctx, p)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, t := range page.Data {
			if t.UID != nil && strings.HasPrefix(*t.UID, "ex-list-tenants-") { // other examples' tenants aside
				fmt.Println(*t.UID)
			}
		}
		if page.NextCursor == "" {
			break
		}
		p.Cursor = page.NextCursor
	}
	// Output:
	// ex-list-tenants-c
	// ex-list-tenants-b
	// ex-list-tenants-a
}

// The customer renamed itself: only the fields given change.
func ExampleClient_UpdateTenant() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-update-tenant"), Name: hookd.String("Initech")})
	defer admin.DeleteTenant(ctx, "ex-update-tenant")

	t, err := admin.UpdateTenant(ctx, "ex-update-tenant", hookd.TenantParams{Name: hookd.String("Initech Global")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(*t.UID, t.Name)
	// Output:
	// ex-update-tenant Initech Global
}

// The customer left: its endpoints, messages and keys go with it.
func ExampleClient_DeleteTenant() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-delete-tenant")})
	_, _ = admin.CreateEndpoint(ctx, "ex-delete-tenant", hookd.EndpointParams{URL: hookd.String("https://acme.example/hooks"), EventTypes: []string{"*"}})

	fmt.Println("delete:", admin.DeleteTenant(ctx, "ex-delete-tenant"))
	_, err := admin.GetTenant(ctx, "ex-delete-tenant")
	fmt.Println("found:", !hookd.IsNotFound(err))
	// Output:
	// delete: <nil>
	// found: false
}

// A key for the customer's own integration, to manage its endpoints and
// read its messages (see NewClient). hookd shows it once: hand it over now.
func ExampleClient_CreateAPIKey() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-create-api-key")})
	defer admin.DeleteTenant(ctx, "ex-create-api-key")

	key, err := admin.CreateAPIKey(ctx, "ex-create-api-key", "acme's dashboard")
	if err != nil {
		fmt.Println(err)
		return
	}
	acme := hookd.NewClient(hookdURL, key)
	ep, err := acme.CreateEndpoint(ctx, "ex-create-api-key", hookd.EndpointParams{
		URL: hookd.String("https://acme.example/hooks"), EventTypes: []string{"*"},
	})
	fmt.Println(ep.URL, err)
	// Output:
	// https://acme.example/hooks <nil>
}

// A tenant's keys: names and prefixes to recognise them by, never the keys.
func ExampleClient_ListAPIKeys() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-list-api-keys")})
	defer admin.DeleteTenant(ctx, "ex-list-api-keys")
	ci, _ := admin.CreateAPIKey(ctx, "ex-list-api-keys", "ci")
	_, _ = admin.CreateAPIKey(ctx, "ex-list-api-keys", "dashboard")

	keys, err := admin.ListAPIKeys(ctx, "ex-list-api-keys", hookd.ListParams{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, k := range keys.Data {
		fmt.Println(k.Name, "is ci's key:", strings.HasPrefix(ci, k.Prefix), "revoked:", k.RevokedAt != nil)
	}
	// Output:
	// dashboard is ci's key: false revoked: false
	// ci is ci's key: true revoked: false
}

// Revoking a tenant's key that leaked: it stops working at once (401), and
// the list shows it revoked.
func ExampleClient_RevokeAPIKey() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-revoke-api-key")})
	defer admin.DeleteTenant(ctx, "ex-revoke-api-key")
	_, _ = admin.CreateAPIKey(ctx, "ex-revoke-api-key", "leaked")

	keys, _ := admin.ListAPIKeys(ctx, "ex-revoke-api-key", hookd.ListParams{})
	for _, k := range keys.Data {
		if k.Name == "leaked" {
			fmt.Println("revoke:", admin.RevokeAPIKey(ctx, "ex-revoke-api-key", k.ID))
		}
	}
	keys, _ = admin.ListAPIKeys(ctx, "ex-revoke-api-key", hookd.ListParams{})
	fmt.Println(keys.Data[0].Name, "revoked:", keys.Data[0].RevokedAt != nil)
	// Output:
	// revoke: <nil>
	// leaked revoked: true
}

// A link into the tenant portal, where the customer manages its own
// endpoints: open it in the customer's browser, or in an iframe of your
// app, branded as your app. Anyone who has the link reaches the portal until
// it expires: hand it to that customer only.
func ExampleClient_CreatePortalSession() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-create-portal-session")})
	defer admin.DeleteTenant(ctx, "ex-create-portal-session")

	link, err := admin.CreatePortalSession(ctx, "ex-create-portal-session", hookd.PortalSessionParams{
		ExpiresIn: 15 * 60, // seconds
		Title:     "Acme Billing", LogoURL: "https://acme.example/logo.png", PrimaryColor: "#1f6feb",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("on hookd's portal:", strings.HasPrefix(link.URL, hookdURL+"/portal/"))
	fmt.Println("expires in:", time.Until(link.ExpiresAt).Round(time.Minute))

	_, err = admin.CreatePortalSession(ctx, "ex-create-portal-session", hookd.PortalSessionParams{PrimaryColor: "blue"})
	fmt.Println(err)
	// Output:
	// on hookd's portal: true
	// expires in: 15m0s
	// hookd: primary_color must be a colour like #1f6feb (422 invalid)
}

// The customer's admin left, or a link leaked: every link into the tenant's
// portal stops working at once.
func ExampleClient_RevokePortalSessions() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-revoke-portal-sessions")})
	defer admin.DeleteTenant(ctx, "ex-revoke-portal-sessions")
	_, _ = admin.CreatePortalSession(ctx, "ex-revoke-portal-sessions", hookd.PortalSessionParams{})
	_, _ = admin.CreatePortalSession(ctx, "ex-revoke-portal-sessions", hookd.PortalSessionParams{ReadOnly: true})

	n, err := admin.RevokePortalSessions(ctx, "ex-revoke-portal-sessions")
	fmt.Println("revoked:", n, err)
	n, err = admin.RevokePortalSessions(ctx, "ex-revoke-portal-sessions")
	fmt.Println("again:", n, err)
	// Output:
	// revoked: 2 <nil>
	// again: 0 <nil>
}
