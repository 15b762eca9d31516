package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// cliEndpoint is an endpoint as `-o json` prints it, with its controls.
type cliEndpoint struct {
	ID                string            `json:"id"`
	Envelope          bool              `json:"envelope"`
	Headers           map[string]string `json:"headers"`
	SecretHeaderNames []string          `json:"secret_header_names"`
	Timeout           *int              `json:"timeout"`
	RetrySchedule     []int             `json:"retry_schedule"`
	Filter            string            `json:"filter"`
	Ordering          string            `json:"ordering"`
}

// An operator sets an endpoint's delivery controls from the command line,
// changes and clears them, resends a message and replays a window.
func TestCLIDeliveryControls(t *testing.T) {
	t.Parallel()
	m := start(t, "serve", backends(t))
	rcv := newReceiver(t, nil)
	admin := map[string]string{envURL: "http://" + m.Addr(), envAPIKey: testAdminKey, envTenant: "acme"}
	mustRun(t, admin, "event-types", "create", "invoice.paid")
	mustRun(t, admin, "tenants", "create", "--uid", "acme")

	args := []string{"endpoints", "create", "--url", rcv.URL + "/hook", "--event-type", "invoice.paid", "--secret", rcv.Secret(),
		"--envelope", "--header", "X-Team: billing", "--header", "X-Env:prod", "--secret-header", "Authorization: Bearer tok_do_not_show",
		"--timeout", "3s", "--retry-schedule", "5s, 5m,1h", "--filter", "data.amount > 100", "--ordering", "fifo"}
	r := runCLI(t, admin, append(args, "-o", "json")...)
	if r.code != 0 || strings.Contains(r.stdout, "tok_do_not_show") {
		t.Fatalf("endpoints create: exit %d, %s%s", r.code, r.stdout, r.stderr)
	}
	var ep cliEndpoint
	if err := json.Unmarshal([]byte(r.stdout), &ep); err != nil {
		t.Fatalf("endpoints create printed %q: %v", r.stdout, err)
	}
	if shown := mustRun(t, admin, "endpoints", "show", ep.ID); strings.Contains(shown, "tok_do_not_show") || !strings.Contains(shown, "Authorization") {
		t.Fatalf("endpoints show printed %q", shown)
	}
	want := cliEndpoint{
		ID: ep.ID, Envelope: true, Headers: map[string]string{"X-Team": "billing", "X-Env": "prod"}, SecretHeaderNames: []string{"Authorization"},
		Timeout: ptrTo(3), RetrySchedule: []int{5, 300, 3600}, Filter: "data.amount > 100", Ordering: "fifo",
	}
	checkEndpoint(t, "created", ep, want)

	// Resend: to its subscribers now, or to one endpoint.
	msg := jsonOf[struct {
		ID         string
		Deliveries []struct{ ID string }
	}](t, admin, "emit", "invoice.paid", `{"amount":500}`)
	if len(msg.Deliveries) != 1 {
		t.Fatalf("emit: %+v", msg)
	}
	small := jsonOf[struct{ Deliveries []struct{ ID string } }](t, admin, "emit", "invoice.paid", `{"amount":5}`)
	if len(small.Deliveries) != 0 {
		t.Fatalf("the filter let a small invoice through: %+v", small)
	}
	resent := jsonOf[struct {
		Deliveries []struct {
			ID         string `json:"id"`
			MessageID  string `json:"message_id"`
			EndpointID string `json:"endpoint_id"`
		}
	}](t, admin, "messages", "resend", msg.ID)
	if len(resent.Deliveries) != 1 || resent.Deliveries[0].MessageID != msg.ID || resent.Deliveries[0].EndpointID != ep.ID || resent.Deliveries[0].ID == msg.Deliveries[0].ID {
		t.Fatalf("messages resend -o json = %+v", resent)
	}
	if out := mustRun(t, admin, "messages", "resend", "-t", "acme", msg.ID, "--endpoint", ep.ID); !strings.Contains(out, "ENDPOINT_ID") || !strings.Contains(out, ep.ID) || !strings.Contains(out, msg.ID) {
		t.Fatalf("messages resend --endpoint printed %q", out)
	}
	if r := runCLI(t, admin, "messages", "resend", "msg_nope"); r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Fatalf("messages resend of no message: exit %d, %q", r.code, r.stderr)
	}

	// Changed and cleared; what is not named is kept.
	checkEndpoint(t, "updated", jsonOf[cliEndpoint](t, admin, "endpoints", "update", ep.ID,
		"--clear-headers", "--timeout", "0", "--retry-schedule", "default", "--ordering", "none", "--envelope=false"),
		cliEndpoint{ID: ep.ID, Headers: map[string]string{}, SecretHeaderNames: []string{"Authorization"}, Filter: "data.amount > 100", Ordering: "none"})
	checkEndpoint(t, "updated again", jsonOf[cliEndpoint](t, admin, "endpoints", "update", ep.ID,
		"--clear-secret-headers", "--filter", "", "--header", "X-Region: eu", "--timeout", "5s", "--retry-schedule", "1m"),
		cliEndpoint{ID: ep.ID, Headers: map[string]string{"X-Region": "eu"}, SecretHeaderNames: []string{}, Timeout: ptrTo(5), RetrySchedule: []int{60}, Ordering: "none"})
	if r := runCLI(t, admin, "endpoints", "update", ep.ID, "--timeout", "1h"); r.code != 1 || !strings.Contains(r.stderr, "timeout") {
		t.Fatalf("a timeout over the bound: exit %d, %q", r.code, r.stderr)
	}

	// Replay: both messages now that the filter is gone.
	if got := jsonOf[struct{ Replayed *int }](t, admin, "endpoints", "replay", ep.ID, "--since", "1h"); got.Replayed == nil || *got.Replayed != 2 {
		t.Fatalf("endpoints replay -o json = %v", got.Replayed)
	}
	until := time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	if out := mustRun(t, admin, "endpoints", "replay", ep.ID, "--since", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "--until", until); out != "replaying 2 messages\n" {
		t.Fatalf("endpoints replay printed %q", out)
	}
	if r := runCLI(t, admin, "endpoints", "replay", ep.ID, "--since", "1h", "--until", "2h"); r.code != 1 || !strings.Contains(r.stderr, "until must be after since") {
		t.Fatalf("endpoints replay of an empty window: exit %d, %q", r.code, r.stderr)
	}
	if r := runCLI(t, admin, "endpoints", "replay", "ep_nope", "--since", "1h"); r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Fatalf("endpoints replay of no endpoint: exit %d, %q", r.code, r.stderr)
	}
	shown := jsonOf[struct{ Deliveries []struct{ EndpointID string } }](t, admin, "messages", "show", msg.ID)
	if len(shown.Deliveries) != 5 { // emitted, resent twice, replayed twice
		t.Fatalf("the message has %d deliveries, want 5", len(shown.Deliveries))
	}
}

func checkEndpoint(t *testing.T, what string, got, want cliEndpoint) {
	t.Helper()
	same := got.ID == want.ID && got.Envelope == want.Envelope && equalMaps(got.Headers, want.Headers) && got.Headers != nil &&
		slices.Equal(got.SecretHeaderNames, want.SecretHeaderNames) && got.SecretHeaderNames != nil &&
		(got.Timeout == nil) == (want.Timeout == nil) && (got.Timeout == nil || *got.Timeout == *want.Timeout) &&
		slices.Equal(got.RetrySchedule, want.RetrySchedule) && got.Filter == want.Filter && got.Ordering == want.Ordering
	if !same {
		t.Fatalf("%s endpoint %+v\nwant %+v", what, got, want)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func ptrTo(n int) *int { return &n }

// Bad control flags are usage errors (exit 2), before any request: no
// hookd listens at the URL, so a request would fail with exit 1.
func TestCLIControlsFlagsAreCheckedFirst(t *testing.T) {
	t.Parallel()
	env := map[string]string{envAPIKey: "hk_x", envURL: "http://127.0.0.1:1", envTenant: "acme"}
	create := []string{"endpoints", "create", "--url", "https://example.com", "--event-type", "*"}
	cases := []struct {
		args []string
		want string
	}{
		{append(create, "--header", "X-Team"), "--header"},
		{append(create, "--header", ": v"), "--header"},
		{append(create, "--header", "Bad Name: v"), "--header"},
		{append(create, "--secret-header", "Authorization:"), "--secret-header"},
		{append(create, "--header", "X-A: 1", "--header", "x-a: 2"), "given twice"},
		{append(create, "--header", "X-A: 1", "--clear-headers"), "clear-headers"},
		{append(create, "--secret-header", "X-A: 1", "--clear-secret-headers"), "clear-secret-headers"},
		{append(create, "--timeout", "1.5s"), "--timeout"},
		{append(create, "--timeout", "-1s"), "--timeout"},
		{append(create, "--timeout", "soon"), "--timeout"},
		{append(create, "--retry-schedule", "5s,x"), "--retry-schedule"},
		{append(create, "--retry-schedule", ""), "--retry-schedule"},
		{append(create, "--retry-schedule", "0s"), "positive"},
		{append(create, "--retry-schedule", "5s,500ms"), "whole number of seconds"},
		{append(create, "--ordering", "lifo"), "--ordering"},
		{[]string{"endpoints", "update", "ep_x", "--ordering", "lifo"}, "--ordering"},
		{[]string{"endpoints", "update", "ep_x", "--timeout", "2.5s"}, "--timeout"},
		{[]string{"operational-endpoints", "update", "ep_x", "--retry-schedule", "soon"}, "--retry-schedule"},
		{[]string{"endpoints", "replay", "ep_x"}, "since"},
		{[]string{"endpoints", "replay", "ep_x", "--since", "zz"}, "--since"},
		{[]string{"endpoints", "replay", "ep_x", "--since", "2h", "--until", "later"}, "--until"},
		{[]string{"endpoints", "replay"}, "accepts 1 arg"},
		{[]string{"messages", "resend"}, "accepts 1 arg"},
	}
	for _, c := range cases {
		if r := runCLI(t, env, c.args...); r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("hookd %q: exit %d, %q; want exit 2 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
	for args, flags := range map[string][]string{
		"endpoints create --help":             {"--envelope", "--header", "--secret-header", "--clear-headers", "--clear-secret-headers", "--timeout", "--retry-schedule", "--filter", "--ordering"},
		"endpoints update --help":             {"--envelope", "--header", "--secret-header", "--clear-headers", "--clear-secret-headers", "--timeout", "--retry-schedule", "--filter", "--ordering", "--enable"},
		"endpoints replay --help":             {"--since", "--until", "--tenant"},
		"messages resend --help":              {"--endpoint", "--tenant"},
		"endpoints --help":                    {"replay"},
		"messages --help":                     {"resend"},
		"operational-endpoints update --help": {"--filter", "--header"},
	} {
		r := runCLI(t, nil, strings.Fields(args)...)
		for _, f := range flags {
			if r.code != 0 || !strings.Contains(r.stdout, f) {
				t.Errorf("hookd %s: exit %d, lacks %s:\n%s", args, r.code, f, r.stdout)
			}
		}
	}
}
