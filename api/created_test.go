package api_test

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestCreateAnswersWhatGetAnswers checks that every create (and the test and
// retry actions) answers the resource exactly as a following GET shows it:
// no zero times, nothing the GET would show differently.
func TestCreateAnswersWhatGetAnswers(t *testing.T) {
	f := setup(t)
	same := func(what string, created []byte, got []byte, drop ...string) {
		t.Helper()
		var a, b map[string]any
		f.decode(created, &a)
		f.decode(got, &b)
		for _, k := range drop {
			delete(a, k)
			delete(b, k)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: create answered\n%s\nGET answers\n%s", what, created, got)
		}
		for _, k := range []string{"created_at", "updated_at"} {
			if v, ok := a[k]; ok && v == "0001-01-01T00:00:00Z" {
				t.Errorf("%s: %s is the zero time", what, k)
			}
		}
	}
	var id struct {
		ID         string `json:"id"`
		Deliveries []struct {
			ID string `json:"id"`
		} `json:"deliveries"`
	}

	created := f.call(adminKey, "POST", "/v1/event-types", `{"name":"order.placed","description":"d","schema":{"type":"object"}}`, 201)
	same("event type", created, f.call(adminKey, "GET", "/v1/event-types/order.placed", "", 200))

	created = f.call(adminKey, "POST", "/v1/tenants", `{"uid":"globex","name":"Globex"}`, 201)
	same("tenant", created, f.call(adminKey, "GET", "/v1/tenants/globex", "", 200))

	created = f.call(adminKey, "POST", "/v1/tenants/globex/api-keys", `{"name":"k"}`, 201)
	var keys struct{ Data []json.RawMessage }
	f.decode(f.call(adminKey, "GET", "/v1/tenants/globex/api-keys", "", 200), &keys)
	same("api key", created, keys.Data[0], "key")

	for _, u := range []string{"https://a.example/hook", "https://b.example/hook"} {
		created = f.call(adminKey, "POST", "/v1/tenants/acme/endpoints", `{"url":"`+u+`","event_types":["*"],"rate_limit":5}`, 201)
		f.decode(created, &id)
		same("endpoint", created, f.call(adminKey, "GET", "/v1/tenants/acme/endpoints/"+id.ID, "", 200))
	}

	created = f.call(adminKey, "POST", "/v1/tenants/acme/messages", `{"event_type":"invoice.paid","payload":{"b":1, "a":[true]}}`, 201)
	f.decode(created, &id)
	same("message", created, f.call(adminKey, "GET", "/v1/tenants/acme/messages/"+id.ID, "", 200))

	created = f.call(adminKey, "POST", "/v1/tenants/acme/deliveries/"+id.Deliveries[0].ID+"/retry", "", 202)
	same("retried delivery", created, f.call(adminKey, "GET", "/v1/tenants/acme/deliveries/"+id.Deliveries[0].ID, "", 200))

	var ep struct{ ID string }
	f.decode(f.call(adminKey, "GET", "/v1/tenants/acme/deliveries/"+id.Deliveries[0].ID, "", 200), &struct {
		EndpointID *string `json:"endpoint_id"`
	}{&ep.ID})
	created = f.call(adminKey, "POST", "/v1/tenants/acme/endpoints/"+ep.ID+"/test", "", 201)
	f.decode(created, &id)
	same("test message", created, f.call(adminKey, "GET", "/v1/tenants/acme/messages/"+id.ID, "", 200))
}
