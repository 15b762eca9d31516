package api_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"hookd.dev/hookd/models"
)

// endpointOut is an endpoint as the API answers it, controls included.
type endpointOut struct {
	ID                string            `json:"id"`
	Description       string            `json:"description"`
	EventTypes        []string          `json:"event_types"`
	Enabled           bool              `json:"enabled"`
	Envelope          bool              `json:"envelope"`
	Headers           map[string]string `json:"headers"`
	SecretHeaderNames []string          `json:"secret_header_names"`
	Timeout           *int              `json:"timeout"`
	RetrySchedule     []int             `json:"retry_schedule"`
	Filter            string            `json:"filter"`
	Ordering          string            `json:"ordering"`
	UpdatedAt         time.Time         `json:"updated_at"`
}

// apiErr is the body of an error answer.
type apiErr struct {
	Error struct{ Code, Message string }
}

const secretValue = "Bearer sk_live_do_not_show_0123456789"

// allControls is an endpoint with every delivery control set.
const allControls = `{"url":"https://a.example/hook","event_types":["*"],"description":"billing",
	"envelope":true,"headers":{"X-Team":"billing","X-Env":"prod"},"secret_headers":{"Authorization":"` + secretValue + `"},
	"timeout":10,"retry_schedule":[5,300,3600],"filter":"data.amount > 100","ordering":"fifo"}`

// noSecret fails the test if an answer shows a secret header's value.
func noSecret(t *testing.T, what string, raw []byte) {
	t.Helper()
	if strings.Contains(string(raw), "sk_live_do_not_show") {
		t.Fatalf("%s shows a secret header's value: %s", what, raw)
	}
}

// TestEndpointControlsAreKeptAndShown: an endpoint created with every
// control reads back as created; secret header values are in no answer;
// an endpoint without controls shows {} and [] and nulls for the defaults.
func TestEndpointControlsAreKeptAndShown(t *testing.T) {
	f := setup(t)
	raw := f.call(f.key, "POST", "/v1/tenants/acme/endpoints", allControls, 201)
	noSecret(t, "create", raw)
	var created endpointOut
	f.decode(raw, &created)
	want := endpointOut{
		ID: created.ID, Description: "billing", EventTypes: []string{"*"}, Enabled: true, Envelope: true,
		Headers: map[string]string{"X-Team": "billing", "X-Env": "prod"}, SecretHeaderNames: []string{"Authorization"},
		Timeout: ptr(10), RetrySchedule: []int{5, 300, 3600}, Filter: "data.amount > 100", Ordering: "fifo", UpdatedAt: created.UpdatedAt,
	}
	if !reflect.DeepEqual(created, want) {
		t.Fatalf("created %+v\nwant    %+v", created, want)
	}
	path := "/v1/tenants/acme/endpoints/" + created.ID
	got := f.call(f.key, "GET", path, "", 200)
	noSecret(t, "get", got)
	if !jsonEqual(t, got, raw) {
		t.Fatalf("GET answers %s\ncreate answered %s", got, raw)
	}
	list := f.call(adminKey, "GET", "/v1/tenants/acme/endpoints", "", 200)
	noSecret(t, "list", list)
	var listed struct{ Data []endpointOut }
	f.decode(list, &listed)
	if len(listed.Data) != 1 || !reflect.DeepEqual(listed.Data[0].SecretHeaderNames, []string{"Authorization"}) {
		t.Fatalf("the list names the secret headers as %+v", listed.Data)
	}
	noSecret(t, "the signing secret", f.call(adminKey, "GET", path+"/secret", "", 200))
	noSecret(t, "a change of something else", f.call(adminKey, "PATCH", path, `{"description":"billing (EU)"}`, 200))

	// Without controls: {} and [], and null for the defaults.
	plain := string(f.call(f.key, "POST", "/v1/tenants/acme/endpoints", `{"url":"https://b.example/hook","event_types":["*"]}`, 201))
	for _, want := range []string{`"envelope":false`, `"headers":{}`, `"secret_header_names":[]`, `"timeout":null`, `"retry_schedule":null`, `"filter":""`, `"ordering":"none"`} {
		if !strings.Contains(plain, want) {
			t.Errorf("an endpoint without controls lacks %s: %s", want, plain)
		}
	}
}

// TestEndpointControlsPatch: each map replaces its set, {} clears it,
// absent or null leaves it; timeout 0 and retry_schedule [] go back to the
// defaults; what a PATCH does not name is left alone.
func TestEndpointControlsPatch(t *testing.T) {
	f := setup(t)
	var ep endpointOut
	f.decode(f.call(f.key, "POST", "/v1/tenants/acme/endpoints", allControls, 201), &ep)
	path := "/v1/tenants/acme/endpoints/" + ep.ID
	steps := []struct {
		body   string
		change func(e *endpointOut)
	}{
		{`{"headers":{"X-Region":"eu"}}`, func(e *endpointOut) { e.Headers = map[string]string{"X-Region": "eu"} }},
		{`{"headers":null,"secret_headers":null,"retry_schedule":null}`, func(*endpointOut) {}},
		{`{"secret_headers":{"X-Api-Key":"k_1","Authorization":"Bearer other"}}`, func(e *endpointOut) {
			e.SecretHeaderNames = []string{"Authorization", "X-Api-Key"}
		}},
		{`{"headers":{}}`, func(e *endpointOut) { e.Headers = map[string]string{} }},
		{`{"secret_headers":{}}`, func(e *endpointOut) { e.SecretHeaderNames = []string{} }},
		{`{"timeout":0}`, func(e *endpointOut) { e.Timeout = nil }},
		{`{"retry_schedule":[]}`, func(e *endpointOut) { e.RetrySchedule = nil }},
		{`{"timeout":15,"retry_schedule":[1]}`, func(e *endpointOut) { e.Timeout, e.RetrySchedule = ptr(15), []int{1} }},
		{`{"filter":"","ordering":"none","envelope":false}`, func(e *endpointOut) { e.Filter, e.Ordering, e.Envelope = "", "none", false }},
		{`{"description":"only this"}`, func(e *endpointOut) { e.Description = "only this" }},
	}
	want := ep
	for _, s := range steps {
		s.change(&want)
		raw := f.call(f.key, "PATCH", path, s.body, 200)
		noSecret(t, "PATCH "+s.body, raw)
		var got endpointOut
		f.decode(f.call(f.key, "GET", path, "", 200), &got)
		want.UpdatedAt = got.UpdatedAt
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("after PATCH %s:\n got %+v\nwant %+v", s.body, got, want)
		}
	}
}

// TestEndpointControlsRefused: each bad control is a 422 that names the
// field, on create (nothing stored) and on update (nothing changed).
func TestEndpointControlsRefused(t *testing.T) {
	f := setup(t)
	var ep endpointOut
	f.decode(f.call(f.key, "POST", "/v1/tenants/acme/endpoints", allControls, 201), &ep)
	path := "/v1/tenants/acme/endpoints/" + ep.ID
	before := f.call(f.key, "GET", path, "", 200)

	many := map[string]string{}
	for i := range models.MaxEndpointHeaders + 1 {
		many[fmt.Sprintf("X-H%d", i)] = "v"
	}
	manyJSON, _ := json.Marshal(many)
	longSchedule, _ := json.Marshal(slices.Repeat([]int{1}, 21))
	type refusal struct{ body, want string }
	cases := []refusal{
		{`{"headers":{"X-A":"one\ntwo"}}`, "headers"},
		{`{"secret_headers":{"X-A":"one\r\nX-B: two"}}`, "secret_headers"},
		{`{"headers":{"X-A":" padded"}}`, "headers"},
		{`{"headers":{"X-Note":"café ☕"}}`, "headers: the value of X-Note"},
		{`{"secret_headers":{"X-Note":"na\u00efve"}}`, "secret_headers: the value of X-Note"},
		{`{"headers":{"Bad Name":"v"}}`, "headers"},
		{`{"headers":{"X-Token":"a"},"secret_headers":{"x-token":"b"}}`, "headers"},
		{`{"headers":` + string(manyJSON) + `}`, "headers"},
		{`{"timeout":16}`, "timeout"},
		{`{"timeout":-1}`, "timeout"},
		{`{"retry_schedule":[5,0]}`, "retry_schedule[1]"},
		{`{"retry_schedule":[86401]}`, "retry_schedule[0]"},
		{`{"retry_schedule":` + string(longSchedule) + `}`, "retry_schedule"},
		{`{"filter":"data.amount >"}`, "filter does not compile"},
		{`{"filter":"event_type + \"!\""}`, "filter"},
		{`{"ordering":"lifo"}`, "ordering"},
		{`{"headers":["X-A"]}`, "headers"},
	}
	// A name refused as a custom header is refused as the signature header.
	for _, name := range []string{"Host", "Content-Length", "Connection", "Transfer-Encoding", "webhook-signature", "webhook-id",
		"webhook-event-type", "Webhook-Foo", "User-Agent", "Expect", "TE", "Upgrade", "Trailer", "Content-Encoding",
		"Proxy-Authorization", "Proxy-Foo"} {
		cases = append(cases, refusal{`{"headers":{"` + name + `":"v"}}`, name}, refusal{`{"secret_headers":{"` + name + `":"v"}}`, name},
			refusal{`{"signing_scheme":"hmac-sha256","signature_header":"` + name + `"}`, name})
	}
	check := func(method, path, body, want string) {
		t.Helper()
		var e apiErr
		f.decode(f.call(f.key, method, path, body, 422), &e)
		if e.Error.Code != "invalid" || !strings.Contains(e.Error.Message, want) {
			t.Errorf("%s %s: %+v; want invalid, naming %s", method, body, e.Error, want)
		}
	}
	for _, c := range cases {
		check("PATCH", path, c.body, c.want)
		create := `{"url":"https://c.example/hook","event_types":["*"],` + strings.TrimPrefix(c.body, "{")
		check("POST", "/v1/tenants/acme/endpoints", create, c.want)
	}
	// A secret header may not take the name of a header already set (and
	// the other way round), whichever the PATCH names.
	check("PATCH", path, `{"secret_headers":{"x-team":"v"}}`, "headers")
	check("PATCH", path, `{"headers":{"AUTHORIZATION":"v"}}`, "headers")
	// A filter that does not compile says why.
	var e apiErr
	f.decode(f.call(f.key, "PATCH", path, `{"filter":"data.amount >"}`, 422), &e)
	if !strings.HasPrefix(e.Error.Message, "filter does not compile: ") || len(e.Error.Message) <= len("filter does not compile: ") {
		t.Errorf("filter refused with %q, want CEL's reason", e.Error.Message)
	}

	if after := f.call(f.key, "GET", path, "", 200); !jsonEqual(t, after, before) {
		t.Fatalf("refused PATCHes changed the endpoint:\n%s\nwas\n%s", after, before)
	}
	if n := f.count("/v1/tenants/acme/endpoints"); n != 1 {
		t.Fatalf("%d endpoints; refused creates stored some", n)
	}
}

// messageOut is a message with its deliveries, as emit and get answer it.
type messageOut struct {
	ID         string        `json:"id"`
	CreatedAt  time.Time     `json:"created_at"`
	Deliveries []deliveryOut `json:"deliveries"`
}

type deliveryOut struct {
	ID         string `json:"id"`
	MessageID  string `json:"message_id"`
	EndpointID string `json:"endpoint_id"`
	Status     string `json:"status"`
}

func (f *fixture) endpoint(key, body string) string {
	f.t.Helper()
	var ep endpointOut
	f.decode(f.call(key, "POST", "/v1/tenants/acme/endpoints", body, 201), &ep)
	return ep.ID
}

func (f *fixture) message(tenant, id string) messageOut {
	f.t.Helper()
	var m messageOut
	f.decode(f.call(adminKey, "GET", "/v1/tenants/"+tenant+"/messages/"+id, "", 200), &m)
	return m
}

// endpointsOf are the endpoints of deliveries, sorted.
func endpointsOf(ds []deliveryOut) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.EndpointID)
	}
	slices.Sort(out)
	return out
}

// TestResendMessage: a message goes again to its current subscribers that
// its filter lets through, or to one endpoint named; as new deliveries
// with the message's id. Unknown and other tenants' messages are 404s, a
// disabled endpoint or no subscriber a 409.
func TestResendMessage(t *testing.T) {
	f := setup(t)
	a := f.endpoint(f.key, `{"url":"https://a.example/hook","event_types":["*"]}`)
	b := f.endpoint(f.key, `{"url":"https://b.example/hook","event_types":["invoice.paid"],"ordering":"fifo"}`)
	big := f.endpoint(f.key, `{"url":"https://c.example/hook","event_types":["*"],"filter":"data.amount > 100"}`)
	var msg messageOut
	f.decode(f.call(f.key, "POST", "/v1/tenants/acme/messages", `{"event_type":"invoice.paid","payload":{"amount":5}}`, 201), &msg)
	if got, want := endpointsOf(msg.Deliveries), sorted(a, b); !slices.Equal(got, want) {
		t.Fatalf("emit delivered to %v, want %v", got, want)
	}
	resend := "/v1/tenants/acme/messages/" + msg.ID + "/resend"
	seen := map[string]bool{}
	for _, d := range msg.Deliveries {
		seen[d.ID] = true
	}
	fresh := func(raw []byte, endpoints ...string) []deliveryOut {
		t.Helper()
		var out struct{ Deliveries []deliveryOut }
		f.decode(raw, &out)
		if got, want := endpointsOf(out.Deliveries), sorted(endpoints...); !slices.Equal(got, want) {
			t.Fatalf("resent to %v, want %v", got, want)
		}
		for _, d := range out.Deliveries {
			if d.MessageID != msg.ID || seen[d.ID] || d.Status != "pending" {
				t.Fatalf("resent delivery %+v: want a new pending delivery of %s", d, msg.ID)
			}
			seen[d.ID] = true
		}
		return out.Deliveries
	}

	// To all its subscribers that it matches: no body, or an empty one.
	fresh(f.call(f.key, "POST", resend, "", 202), a, b)
	fresh(f.call(adminKey, "POST", "/v1/tenants/"+f.tenant+"/messages/"+msg.ID+"/resend", `{}`, 202), a, b)
	// To one endpoint, whatever its filter.
	one := fresh(f.call(f.key, "POST", resend, `{"endpoint_id":"`+big+`"}`, 202), big)
	if ids := f.queue.settled(len(msg.Deliveries) + 5); !slices.Contains(ids, one[0].ID) {
		t.Errorf("the resent delivery %s was not enqueued: %v", one[0].ID, ids)
	}
	got := f.message("acme", msg.ID)
	if len(got.Deliveries) != 7 {
		t.Fatalf("the message has %d deliveries, want 2 + 2 + 2 + 1", len(got.Deliveries))
	}
	for _, d := range got.Deliveries {
		if !seen[d.ID] || d.MessageID != msg.ID {
			t.Fatalf("the message has a delivery nobody answered: %+v", d)
		}
	}

	// Refused, and nothing written.
	f.call(adminKey, "POST", "/v1/tenants", `{"uid":"other"}`, 201)
	var theirs messageOut
	f.call(adminKey, "POST", "/v1/tenants/other/endpoints", `{"url":"https://o.example/hook","event_types":["*"]}`, 201)
	f.decode(f.call(adminKey, "POST", "/v1/tenants/other/messages", `{"event_type":"invoice.paid","payload":{}}`, 201), &theirs)
	var theirEndpoint struct{ Data []endpointOut }
	f.decode(f.call(adminKey, "GET", "/v1/tenants/other/endpoints", "", 200), &theirEndpoint)
	refusals := []struct {
		key, path, body string
		status          int
	}{
		{f.key, "/v1/tenants/acme/messages/msg_nope/resend", "", 404},
		{f.key, "/v1/tenants/acme/messages/" + theirs.ID + "/resend", "", 404},
		{adminKey, "/v1/tenants/acme/messages/" + theirs.ID + "/resend", "", 404},
		{f.key, "/v1/tenants/other/messages/" + theirs.ID + "/resend", "", 404},
		{f.key, resend, `{"endpoint_id":"ep_nope"}`, 404},
		{f.key, resend, `{"endpoint_id":"` + theirEndpoint.Data[0].ID + `"}`, 404},
		{f.key, resend, `{"endpoint":"` + a + `"}`, 422},
		{f.key, resend, `{"endpoint_id":`, 400},
	}
	for _, r := range refusals {
		f.call(r.key, "POST", r.path, r.body, r.status)
	}
	f.call(f.key, "PATCH", "/v1/tenants/acme/endpoints/"+a, `{"enabled":false}`, 200)
	var e apiErr
	f.decode(f.call(f.key, "POST", resend, `{"endpoint_id":"`+a+`"}`, 409), &e)
	if e.Error.Code != "conflict" || !strings.Contains(e.Error.Message, "disabled") {
		t.Fatalf("resend to a disabled endpoint: %+v", e.Error)
	}
	fresh(f.call(f.key, "POST", resend, "", 202), b) // the disabled one is left out
	f.call(f.key, "PATCH", "/v1/tenants/acme/endpoints/"+b, `{"enabled":false}`, 200)
	f.call(f.key, "POST", resend, "", 409) // nobody left: c's filter refuses it
	if n := len(f.message("acme", msg.ID).Deliveries); n != 8 {
		t.Fatalf("the message has %d deliveries after the refusals, want 8", n)
	}
	if n := len(f.message("other", theirs.ID).Deliveries); n != 1 {
		t.Fatalf("the other tenant's message has %d deliveries, want its 1", n)
	}
}

func sorted(s ...string) []string { return slices.Sorted(slices.Values(s)) }

// TestReplayEndpoint: an endpoint gets the messages of a window again, of
// its event types and matching its filter; since is required, until after
// it, and a window of more than models.MaxReplay messages is refused.
func TestReplayEndpoint(t *testing.T) {
	f := setup(t)
	f.call(adminKey, "POST", "/v1/event-types", `{"name":"order.placed"}`, 201)
	var msgs []messageOut
	for _, body := range []string{
		`{"event_type":"invoice.paid","payload":{"n":1}}`,
		`{"event_type":"invoice.paid","payload":{"n":2}}`,
		`{"event_type":"order.placed","payload":{"n":3}}`,
		`{"event_type":"invoice.paid","payload":{"n":4}}`,
	} {
		var m messageOut
		f.decode(f.call(f.key, "POST", "/v1/tenants/acme/messages", body, 201), &m)
		msgs = append(msgs, f.message("acme", m.ID)) // the time as stored
		time.Sleep(2 * time.Millisecond)
	}
	// Registered after the messages, for invoice.paid but n = 2.
	ep := f.endpoint(f.key, `{"url":"https://a.example/hook","event_types":["invoice.paid"],"filter":"data.n != 2"}`)
	replay := "/v1/tenants/acme/endpoints/" + ep + "/replay"
	replayed := func(key, body string, want int) {
		t.Helper()
		var out struct{ Replayed *int }
		f.decode(f.call(key, "POST", replay, body, 202), &out)
		if out.Replayed == nil || *out.Replayed != want {
			t.Fatalf("replay %s = %v, want %d", body, out.Replayed, want)
		}
	}
	at := func(t time.Time) string { return t.Format(time.RFC3339Nano) }
	hourAgo := at(time.Now().Add(-time.Hour))

	replayed(f.key, `{"since":"`+at(msgs[3].CreatedAt)+`"}`, 1)                                     // n = 4 alone
	replayed(f.key, `{"since":"`+hourAgo+`","until":"`+at(msgs[3].CreatedAt)+`"}`, 1)               // n = 1 (2 filtered, 3 another type)
	replayed(adminKey, `{"since":"`+hourAgo+`"}`, 2)                                                // n = 1 and 4
	replayed(f.key, `{"since":"`+at(time.Now().Add(time.Hour))+`"}`, 0)                             // nothing yet
	replayed(f.key, `{"since":"`+at(msgs[1].CreatedAt)+`","until":"`+at(msgs[2].CreatedAt)+`"}`, 0) // n = 2, filtered
	for i, want := range []int{2, 0, 0, 2} {
		if got := f.message("acme", msgs[i].ID).Deliveries; len(got) != want {
			t.Fatalf("message %d has %d deliveries, want %d: %+v", i+1, len(got), want, got)
		} else {
			for _, d := range got {
				if d.EndpointID != ep || d.MessageID != msgs[i].ID {
					t.Fatalf("message %d has the delivery %+v", i+1, d)
				}
			}
		}
	}

	// Refused.
	for body, want := range map[string]string{
		`{}`:                          "since",
		`{"until":"` + hourAgo + `"}`: "since",
		`{"since":"` + at(msgs[1].CreatedAt) + `","until":"` + at(msgs[0].CreatedAt) + `"}`: "until",
		`{"since":"` + at(msgs[1].CreatedAt) + `","until":"` + at(msgs[1].CreatedAt) + `"}`: "until",
		`{"since":"yesterday"}`:                "RFC 3339",
		`{"since":"` + hourAgo + `","to":"x"}`: "unknown field",
	} {
		var e apiErr
		f.decode(f.call(f.key, "POST", replay, body, 422), &e)
		if e.Error.Code != "invalid" || !strings.Contains(e.Error.Message, want) {
			t.Errorf("replay %s: %+v, want invalid naming %s", body, e.Error, want)
		}
	}
	f.call(f.key, "POST", replay, ``, 400)
	f.call(f.key, "POST", "/v1/tenants/acme/endpoints/ep_nope/replay", `{"since":"`+hourAgo+`"}`, 404)
	f.call(adminKey, "POST", "/v1/tenants", `{"uid":"other"}`, 201)
	var theirs endpointOut
	f.decode(f.call(adminKey, "POST", "/v1/tenants/other/endpoints", `{"url":"https://o.example/hook","event_types":["*"]}`, 201), &theirs)
	f.call(f.key, "POST", "/v1/tenants/acme/endpoints/"+theirs.ID+"/replay", `{"since":"`+hourAgo+`"}`, 404)
	f.call(f.key, "POST", "/v1/tenants/other/endpoints/"+theirs.ID+"/replay", `{"since":"`+hourAgo+`"}`, 404)
	f.call(adminKey, "POST", "/v1/tenants/other/endpoints/"+theirs.ID+"/replay", `{"since":"`+hourAgo+`"}`, 202)
	f.call(f.key, "PATCH", "/v1/tenants/acme/endpoints/"+ep, `{"enabled":false}`, 200)
	var e apiErr
	f.decode(f.call(f.key, "POST", replay, `{"since":"`+hourAgo+`"}`, 409), &e)
	if e.Error.Code != "conflict" || !strings.Contains(e.Error.Message, "disabled") {
		t.Fatalf("replay to a disabled endpoint: %+v", e.Error)
	}
	if n := f.count("/v1/tenants/acme/deliveries?endpoint_id=" + ep); n != 4 {
		t.Fatalf("%d deliveries to the endpoint after the refusals, want the 4 replayed", n)
	}
}

// TestReplayRefusesTooLargeAWindow: more than models.MaxReplay messages in
// the window is a 422 that says to shorten it; a shorter one is replayed.
func TestReplayRefusesTooLargeAWindow(t *testing.T) {
	f := setup(t)
	t0 := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Second)
	msgs := make([]models.Message, models.MaxReplay+1)
	for i := range msgs {
		msgs[i] = models.Message{
			ID: models.NewID(models.PrefixMessage), TenantID: f.tenant, EventType: "invoice.paid",
			Payload: models.RawJSON(`{}`), CreatedAt: t0.Add(time.Duration(i) * time.Second),
		}
	}
	if err := f.db.Gorm.CreateInBatches(msgs, 500).Error; err != nil {
		t.Fatal(err)
	}
	ep := f.endpoint(f.key, `{"url":"https://a.example/hook","event_types":["*"]}`)
	replay := "/v1/tenants/acme/endpoints/" + ep + "/replay"
	var e apiErr
	f.decode(f.call(f.key, "POST", replay, `{"since":"`+t0.Format(time.RFC3339)+`"}`, 422), &e)
	if want := fmt.Sprintf("%d messages were accepted in that window", models.MaxReplay+1); !strings.Contains(e.Error.Message, want) || !strings.Contains(e.Error.Message, "until") {
		t.Fatalf("a window too large: %+v", e.Error)
	}
	var out struct{ Replayed int }
	f.decode(f.call(f.key, "POST", replay, `{"since":"`+t0.Format(time.RFC3339)+`","until":"`+t0.Add(3*time.Second).Format(time.RFC3339)+`"}`, 202), &out)
	if out.Replayed != 3 {
		t.Fatalf("replayed %d of a window of 3", out.Replayed)
	}
}

func ptr[T any](v T) *T { return &v }

// jsonEqual compares two JSON documents, not their bytes.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y map[string]any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		t.Fatalf("not JSON objects: %s, %s", a, b)
	}
	return maps.EqualFunc(x, y, func(v, w any) bool { return reflect.DeepEqual(v, w) })
}
