package web_test

import (
	"testing"

	"hookd.dev/hookd/models"
)

// TestAFailingFilterIsShownToTheEndpointsOwner: why an endpoint's filter
// failed is on its page, in the admin UI and in its tenant's portal.
func TestAFailingFilterIsShownToTheEndpointsOwner(t *testing.T) {
	f := setup(t)
	expr := "data.amount > 1000"
	if _, err := f.store.UpdateEndpoint(f.ctx, f.tenant.ID, f.endpoint.ID, models.EndpointParams{Filter: &expr}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.RecordFilterError(f.ctx, f.endpoint.ID, expr, "no such key: amount"); err != nil {
		t.Fatal(err)
	}
	f.login()
	mustContain(t, f.page("/ui/endpoints/"+f.endpoint.ID), "Filter failed", "no such key: amount")
	base, _ := f.portalLink(models.PortalParams{})
	mustContain(t, f.page(base+"/endpoints/"+f.endpoint.ID), "Filter failed", "no such key: amount")
}
