package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// opEvent is an operational event as the operator's endpoint gets it.
type opEvent struct {
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

// events returns the operational events a receiver got, by type.
func (r *receiver) events(t *testing.T) map[string][]opEvent {
	t.Helper()
	out := map[string][]opEvent{}
	for _, d := range r.Deliveries() {
		body := d.Body
		var e opEvent
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			t.Fatalf("an operational event that is not one: %s", body)
		}
		out[e.Type] = append(out[e.Type], e)
	}
	return out
}

// The operator hears, on its own signed and retried endpoint, of a
// delivery that failed for good, an endpoint disabled by a 410 or through
// the API and enabled again, and an endpoint that recovered; and nothing
// of its own endpoints' failures.
func TestOperationalWebhooks(t *testing.T) {
	t.Parallel()
	env := backends(t)
	env["HOOKD_RETRY_SCHEDULE"] = "500ms"
	m := start(t, "serve", env)
	c := newClient(t, m, testAdminKey)

	operator := newReceiver(t, nil)
	failingOperator := newReceiver(t, func(int) int { return http.StatusInternalServerError })
	c.must(201, "POST", "/v1/operational-endpoints", map[string]any{"url": operator.URL + "/ops", "event_types": []string{"*"}, "secret": operator.Secret()}, nil)
	c.must(201, "POST", "/v1/operational-endpoints", map[string]any{"url": failingOperator.URL + "/ops", "event_types": []string{"*"}, "secret": failingOperator.Secret()}, nil)

	flaky, heal := newSwitchableReceiver(t, http.StatusServiceUnavailable)
	tenantID := setupTenant(c, flaky)
	var eps struct{ Data []struct{ ID string } }
	c.must(200, "GET", "/v1/tenants/acme/endpoints", nil, &eps)
	flakyEP := eps.Data[0].ID
	gone := newReceiver(t, func(int) int { return http.StatusGone })
	var goneEP struct{ ID string }
	c.must(201, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": gone.URL + "/hook", "event_types": []string{"invoice.paid"}, "secret": gone.Secret()}, &goneEP)

	var first message
	c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": map[string]any{"n": 1}}, &first)
	eventually(t, 15*time.Second, "delivery.failed for the flaky endpoint, and endpoint.disabled", func() bool {
		ev := operator.events(t)
		flakyFailed := false
		for _, e := range ev["delivery.failed"] {
			flakyFailed = flakyFailed || e.Data["endpoint_id"] == flakyEP
		}
		return flakyFailed && len(ev["endpoint.disabled"]) == 1
	})
	heal()
	c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": map[string]any{"n": 2}}, nil)
	eventually(t, 15*time.Second, "delivery.recovered", func() bool { return len(operator.events(t)["delivery.recovered"]) == 1 })
	c.must(200, "PATCH", "/v1/tenants/acme/endpoints/"+flakyEP, map[string]any{"enabled": false}, nil)
	c.must(200, "PATCH", "/v1/tenants/acme/endpoints/"+flakyEP, map[string]any{"enabled": true}, nil)
	c.must(200, "PATCH", "/v1/tenants/acme/endpoints/"+flakyEP, map[string]any{"enabled": true}, nil) // no change: no event
	eventually(t, 15*time.Second, "endpoint.enabled", func() bool { return len(operator.events(t)["endpoint.enabled"]) == 1 })
	time.Sleep(1500 * time.Millisecond) // the failing operator endpoint's deliveries end failed meanwhile

	ev := operator.events(t)
	byEndpoint := func(typ, ep string) []opEvent {
		var out []opEvent
		for _, e := range ev[typ] {
			if e.Data["endpoint_id"] == ep {
				out = append(out, e)
			}
		}
		return out
	}
	failed := byEndpoint("delivery.failed", flakyEP)
	if len(failed) != 1 || failed[0].Data["delivery_id"] != first.Deliveries[0].ID && failed[0].Data["message_id"] != first.ID ||
		failed[0].Data["tenant_id"] != tenantID || failed[0].Data["attempts"] != float64(2) || failed[0].Data["reason"] != "the endpoint answered 503" {
		t.Errorf("delivery.failed for %s: %+v", flakyEP, failed)
	}
	disabled := ev["endpoint.disabled"]
	if g := byEndpoint("endpoint.disabled", goneEP.ID); len(g) != 1 || g[0].Data["cause"] != "gone" || g[0].Data["by"] != "worker" {
		t.Errorf("endpoint.disabled by the 410: %+v", disabled)
	}
	if a := byEndpoint("endpoint.disabled", flakyEP); len(a) != 1 || a[0].Data["by"] != "api" {
		t.Errorf("endpoint.disabled through the API: %+v", disabled)
	}
	if e := byEndpoint("endpoint.enabled", flakyEP); len(e) != 1 || e[0].Data["by"] != "api" {
		t.Errorf("endpoint.enabled: %+v", ev["endpoint.enabled"])
	}
	if r := byEndpoint("delivery.recovered", flakyEP); len(r) != 1 || r[0].Data["failing_since"] == nil {
		t.Errorf("delivery.recovered: %+v", ev["delivery.recovered"])
	}
	for typ, es := range ev {
		for _, e := range es {
			if e.Data["tenant_id"] == "ten_hookd_operational" || time.Since(e.Timestamp) > time.Minute {
				t.Errorf("%s about the operator's own endpoint, or with a wrong timestamp: %+v", typ, e)
			}
		}
	}
	if _, bad := operator.snapshot(); bad != 0 {
		t.Errorf("%d operational deliveries with a bad signature", bad)
	}
}
