package api_test

import (
	"strings"
	"testing"
)

// The operator registers endpoints for hookd's operational events with an
// admin key; they take only operational event types, and their tenant is
// out of reach of the tenants' routes and lists.
func TestOperationalEndpoints(t *testing.T) {
	f := setup(t)
	const path = "/v1/operational-endpoints"
	f.call(adminKey, "POST", path, `{"url":"https://ops.example.com/hook","event_types":["invoice.paid"]}`, 422)
	f.call(adminKey, "POST", path, `{"url":"https://ops.example.com/hook","event_types":[]}`, 422)
	f.call(f.key, "POST", path, `{"url":"https://ops.example.com/hook","event_types":["*"]}`, 403)
	var ep struct {
		ID       string `json:"id"`
		TenantID string `json:"tenant_id"`
	}
	f.decode(f.call(adminKey, "POST", path, `{"url":"https://ops.example.com/hook","event_types":["endpoint.disabled","delivery.failed"]}`, 201), &ep)
	if ep.TenantID != "ten_hookd_operational" || !strings.HasPrefix(ep.ID, "ep_") {
		t.Fatalf("created %+v", ep)
	}
	if n := f.count(path); n != 1 {
		t.Fatalf("%d operational endpoints listed, want 1", n)
	}
	f.call(adminKey, "GET", path+"/"+ep.ID, "", 200)
	f.call(adminKey, "GET", path+"/"+ep.ID+"/secret", "", 200)
	body := string(f.call(adminKey, "PATCH", path+"/"+ep.ID, `{"event_types":["*"],"enabled":false}`, 200))
	if !strings.Contains(body, `"enabled":false`) || !strings.Contains(body, `"event_types":["*"]`) {
		t.Fatalf("patched: %s", body)
	}
	f.call(adminKey, "PATCH", path+"/"+ep.ID, `{"event_types":["invoice.paid"]}`, 422)

	// Out of the tenants' reach, by id or as a tenant's endpoint.
	if strings.Contains(string(f.call(adminKey, "GET", "/v1/tenants", "", 200)), "ten_hookd_operational") {
		t.Fatal("the operator's tenant is listed")
	}
	f.call(adminKey, "GET", "/v1/tenants/ten_hookd_operational", "", 404)
	f.call(adminKey, "GET", "/v1/tenants/ten_hookd_operational/endpoints/"+ep.ID, "", 404)
	f.call(adminKey, "GET", "/v1/tenants/acme/endpoints/"+ep.ID, "", 404)
	f.call(adminKey, "DELETE", "/v1/tenants/ten_hookd_operational", "", 404)
	// And a tenant's endpoint is not an operational one.
	var tenantEP struct{ ID string }
	f.decode(f.call(adminKey, "POST", "/v1/tenants/acme/endpoints", `{"url":"https://acme.example.com/hook","event_types":["*"]}`, 201), &tenantEP)
	f.call(adminKey, "GET", path+"/"+tenantEP.ID, "", 404)

	f.call(adminKey, "DELETE", path+"/"+ep.ID, "", 204)
	f.call(adminKey, "GET", path+"/"+ep.ID, "", 404)
}
