package api_test

import (
	"strings"
	"testing"
)

func TestEndpointsToPrivateAddressesAnswer422(t *testing.T) {
	f := setup(t)
	for _, u := range []string{"http://127.0.0.1:9000/hook", "http://localhost/", "http://[::1]/", "http://169.254.169.254/", "http://2130706433/",
		"http://127。0。0。1/", "http://:19191/"} {
		raw := f.call(f.key, "POST", "/v1/tenants/acme/endpoints", `{"url":"`+u+`","event_types":["*"]}`, 422)
		if !strings.Contains(string(raw), "hookd delivers only to public addresses") && !strings.Contains(string(raw), "four decimal numbers") {
			t.Errorf("%s: %s", u, raw)
		}
	}
	var ep struct{ ID string }
	f.decode(f.call(f.key, "POST", "/v1/tenants/acme/endpoints", `{"url":"https://a.example/hook","event_types":["*"]}`, 201), &ep)
	f.call(f.key, "PATCH", "/v1/tenants/acme/endpoints/"+ep.ID, `{"url":"http://10.0.0.1/"}`, 422)
	if n := f.count("/v1/tenants/acme/endpoints"); n != 1 {
		t.Fatalf("%d endpoints", n)
	}
}
