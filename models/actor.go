package models

import "context"

// byTenantKey marks a context whose request a tenant made.
type byTenantKey struct{}

// ByTenant marks ctx as a tenant's own request (its API key, its portal
// link), as opposed to the app's or an admin's: what a tenant does by hand
// is bounded per tenant (see dispatcher.ManualBudget).
func ByTenant(ctx context.Context) context.Context {
	return context.WithValue(ctx, byTenantKey{}, true)
}

// IsByTenant reports whether ByTenant marked ctx.
func IsByTenant(ctx context.Context) bool {
	by, _ := ctx.Value(byTenantKey{}).(bool)
	return by
}
