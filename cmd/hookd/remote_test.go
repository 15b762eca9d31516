package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// jsonOf runs a command with -o json and decodes its answer.
func jsonOf[T any](t *testing.T, env map[string]string, args ...string) T {
	t.Helper()
	r := runCLI(t, env, append(args, "-o", "json")...)
	var v T
	if r.code != 0 {
		t.Fatalf("hookd %v: exit %d: %s", args, r.code, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("hookd %v: %v in %q", args, err, r.stdout)
	}
	return v
}

// mustRun runs a command that must succeed and returns what it printed.
func mustRun(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	r := runCLI(t, env, args...)
	if r.code != 0 {
		t.Fatalf("hookd %v: exit %d: %s", args, r.code, r.stderr)
	}
	return r.stdout
}

// An operator manages hookd from the command line, through its API: the
// catalogue, a tenant, its endpoint and key, an emit, and what became of it.
func TestTheCommandLineTalksToTheAPI(t *testing.T) {
	t.Parallel()
	m := start(t, "serve", backends(t))
	rcv := newReceiver(t, nil)
	admin := map[string]string{envURL: "http://" + m.Addr(), envAPIKey: testAdminKey}

	schema := filepath.Join(t.TempDir(), "schema.json")
	if err := os.WriteFile(schema, []byte(`{"type":"object","required":["id"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, admin, "event-types", "create", "invoice.paid", "--description", "an invoice was paid", "--schema", schema); !strings.Contains(out, "an invoice was paid") {
		t.Fatalf("event-types create printed %q", out)
	}
	if out := mustRun(t, admin, "event-types", "list"); !strings.Contains(out, "NAME") || !strings.Contains(out, "invoice.paid") {
		t.Fatalf("event-types list printed %q", out)
	}
	ten := jsonOf[struct{ ID string }](t, admin, "tenants", "create", "--uid", "acme", "--name", "Acme")
	if out := mustRun(t, admin, "tenants", "update", "acme", "--name", "Acme Inc."); !strings.Contains(out, "Acme Inc.") || !strings.Contains(out, ten.ID) {
		t.Fatalf("tenants update printed %q", out)
	}
	ep := jsonOf[struct {
		ID         string
		EventTypes []string `json:"event_types"`
	}](t, admin, "endpoints", "create", "-t", "acme", "--url", rcv.URL+"/hook", "--event-type", "invoice.paid", "--secret", rcv.Secret())
	if ep.ID == "" || len(ep.EventTypes) != 1 {
		t.Fatalf("endpoints create = %+v", ep)
	}

	// A payload that misses the schema is refused, and nothing is stored.
	if r := runCLI(t, admin, "emit", "-t", "acme", "invoice.paid", `{"amount":1}`); r.code != 1 || !strings.Contains(r.stderr, "id") {
		t.Fatalf("emit against the schema: exit %d, %q", r.code, r.stderr)
	}
	if r := runCLI(t, admin, "emit", "-t", "acme", "invoice.paid", `{"id":`); r.code != 1 || !strings.Contains(r.stderr, "not JSON") {
		t.Fatalf("emit of broken JSON: exit %d, %q", r.code, r.stderr)
	}
	msg := jsonOf[struct {
		ID         string
		Deliveries []struct{ ID string }
	}](t, admin, "emit", "-t", "acme", "invoice.paid", `{"id":"inv_1","amount":4200}`)
	if len(msg.Deliveries) != 1 {
		t.Fatalf("emit = %+v", msg)
	}
	eventually(t, 10*time.Second, "the delivery to succeed", func() bool {
		return strings.Contains(mustRun(t, admin, "deliveries", "list", "-t", "acme", "--status", "succeeded"), msg.Deliveries[0].ID)
	})
	body := rcv.body(msg.ID)
	if body != `{"id":"inv_1","amount":4200}` {
		t.Fatalf("the receiver got %q", body)
	}
	shown := mustRun(t, admin, "deliveries", "show", "-t", "acme", msg.Deliveries[0].ID)
	for _, want := range []string{"status            succeeded", "ATTEMPTS", "answer 200"} {
		if !strings.Contains(shown, want) {
			t.Fatalf("deliveries show lacks %q:\n%s", want, shown)
		}
	}
	if out := mustRun(t, admin, "messages", "show", "-t", "acme", msg.ID); !strings.Contains(out, `"amount":4200`) || !strings.Contains(out, "DELIVERIES") {
		t.Fatalf("messages show printed %q", out)
	}
	mustRun(t, admin, "deliveries", "retry", "-t", "acme", msg.Deliveries[0].ID)
	eventually(t, 10*time.Second, "the manual retry", func() bool {
		received, _ := rcv.snapshot()
		return received[msg.ID] == 2
	})

	// tail prints the deliveries as they change, until interrupted.
	ctx, stop := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer stop()
	tail := runCLIUntil(t, ctx, map[string]string{envURL: admin[envURL], envAPIKey: testAdminKey, envTenant: "acme"}, "deliveries", "tail", "--every", "100ms")
	if tail.code != 0 || !strings.Contains(tail.stdout, msg.Deliveries[0].ID+"  invoice.paid  "+ep.ID+"  attempt 2  succeeded  200") {
		t.Fatalf("deliveries tail: exit %d, %q, %q", tail.code, tail.stdout, tail.stderr)
	}

	// The tenant's own key reaches its own endpoints, and nothing of the admin's.
	key := strings.TrimSpace(mustRun(t, admin, "api-keys", "create", "-t", "acme", "--name", "ci"))
	tenant := map[string]string{envURL: admin[envURL], envAPIKey: key, envTenant: "acme"}
	if out := mustRun(t, tenant, "endpoints", "list"); !strings.Contains(out, ep.ID) {
		t.Fatalf("endpoints list with the tenant's key printed %q", out)
	}
	if r := runCLI(t, tenant, "tenants", "list"); r.code != 1 || !strings.Contains(r.stderr, "403") {
		t.Fatalf("tenants list with a tenant's key: exit %d, %q", r.code, r.stderr)
	}
	secret := jsonOf[struct{ Key string }](t, tenant, "endpoints", "secret", ep.ID)
	if secret.Key != rcv.Secret() {
		t.Fatalf("endpoints secret = %q", secret.Key)
	}
	if out := mustRun(t, admin, "endpoints", "update", "-t", "acme", ep.ID, "--disable"); !regexp.MustCompile(`(?m)^enabled +false$`).MatchString(out) {
		t.Fatalf("endpoints update --disable printed %q", out)
	}
	mustRun(t, admin, "event-types", "archive", "invoice.paid")
	if et := jsonOf[struct {
		ArchivedAt *time.Time `json:"archived_at"`
	}](t, admin, "event-types", "show", "invoice.paid"); et.ArchivedAt == nil {
		t.Fatal("event-types show: not archived after archive")
	}

	// The operator's endpoints, for hookd's own events.
	op := jsonOf[struct{ ID string }](t, admin, "operational-endpoints", "create", "--url", rcv.URL+"/ops", "--event-type", "delivery.failed,endpoint.disabled")
	if out := mustRun(t, admin, "operational-endpoints", "list"); !strings.Contains(out, op.ID) || !strings.Contains(out, "delivery.failed,endpoint.disabled") {
		t.Fatalf("operational-endpoints list printed %q", out)
	}
	if r := runCLI(t, admin, "operational-endpoints", "create", "--url", rcv.URL+"/ops", "--event-type", "invoice.paid"); r.code != 1 || !strings.Contains(r.stderr, "operational event type") {
		t.Fatalf("an operational endpoint for a tenant's event type: exit %d, %q", r.code, r.stderr)
	}
	rotated := jsonOf[struct{ Key string }](t, admin, "operational-endpoints", "rotate-secret", op.ID, "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if shown := jsonOf[struct{ Key string }](t, admin, "operational-endpoints", "secret", op.ID); rotated.Key != "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" || shown.Key != rotated.Key {
		t.Fatalf("rotate-secret gave %q, secret then shows %q", rotated.Key, shown.Key)
	}
	mustRun(t, admin, "operational-endpoints", "delete", op.ID)

	for args, want := range map[string]string{
		"tenants show nope":                      "not found",
		"endpoints show -t acme ep_nope":         "not found",
		"deliveries show -t nope dlv_x":          "not found",
		"endpoints recover -t acme x --since zz": "--since",
	} {
		if r := runCLI(t, admin, strings.Fields(args)...); r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("hookd %s: exit %d, %q; want exit 1 and %q", args, r.code, r.stderr, want)
		}
	}
}

// The app's operator makes a link into a tenant's portal from the command
// line, on hookd's public URL, and ends every link at once.
func TestTheCommandLineMakesPortalLinks(t *testing.T) {
	t.Parallel()
	env := backends(t)
	env["HOOKD_PUBLIC_URL"] = "https://hooks.example.com/"
	m := start(t, "serve", env)
	admin := map[string]string{envURL: "http://" + m.Addr(), envAPIKey: testAdminKey}
	ten := jsonOf[struct{ ID string }](t, admin, "tenants", "create", "--uid", "acme")

	link := strings.TrimSuffix(mustRun(t, admin, "portal", "link", "-t", "acme"), "\n")
	if !regexp.MustCompile(`^https://hooks\.example\.com/portal/hkp_[\w-]+/$`).MatchString(link) {
		t.Fatalf("portal link printed %q, want the link alone on hookd's public URL", link)
	}
	sess := jsonOf[struct {
		URL       string    `json:"url"`
		TenantID  string    `json:"tenant_id"`
		ReadOnly  bool      `json:"read_only"`
		ExpiresAt time.Time `json:"expires_at"`
	}](t, admin, "portal", "link", "--tenant", "acme", "--read-only", "--expires-in", "30m",
		"--title", "Acme Billing", "--logo-url", "https://acme.example/logo.png", "--primary-color", "#1f6feb")
	if d := time.Until(sess.ExpiresAt); sess.TenantID != ten.ID || !sess.ReadOnly || sess.URL == link || d < 29*time.Minute || d > 31*time.Minute {
		t.Fatalf("portal link -o json = %+v (expires in %s)", sess, d)
	}

	for args, want := range map[string]string{
		"portal link -t acme --expires-in 10s":          "expires_in",
		"portal link -t acme --primary-color red":       "primary_color",
		"portal link -t acme --logo-url http://x/y.png": "logo_url",
		"portal link -t nobody":                         "not found",
	} {
		if r := runCLI(t, admin, strings.Fields(args)...); r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("hookd %s: exit %d, %q; want exit 1 and %q", args, r.code, r.stderr, want)
		}
	}
	key := strings.TrimSpace(mustRun(t, admin, "api-keys", "create", "-t", "acme"))
	tenant := map[string]string{envURL: admin[envURL], envAPIKey: key, envTenant: "acme"}
	if r := runCLI(t, tenant, "portal", "link"); r.code != 1 || !strings.Contains(r.stderr, "403") {
		t.Fatalf("portal link with the tenant's key: exit %d, %q", r.code, r.stderr)
	}

	if out := mustRun(t, admin, "portal", "revoke", "-t", "acme"); out != "revoked 2 portal links\n" {
		t.Fatalf("portal revoke printed %q", out)
	}
	if got := jsonOf[struct{ Revoked *int }](t, admin, "portal", "revoke", "-t", "acme"); got.Revoked == nil || *got.Revoked != 0 {
		t.Fatalf("portal revoke again -o json = %+v", got)
	}
}

func TestTheCommandLineSaysWhatTheAPINeeds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"tenants", "list"}, envAPIKey},
		{map[string]string{envAPIKey: "hk_x"}, []string{"endpoints", "list"}, "--tenant"},
		{map[string]string{envAPIKey: "hk_x"}, []string{"endpoints", "create", "-t", "acme", "--url", "https://example.com"}, "event-type"},
		{map[string]string{envAPIKey: "hk_x"}, []string{"tenants", "list", "-o", "yaml"}, "text or json"},
		{map[string]string{envAPIKey: "hk_x"}, []string{"emit", "-t", "acme", "invoice.paid"}, "accepts 2 arg"},
		{map[string]string{envAPIKey: "hk_x"}, []string{"portal", "link"}, "--tenant"},
		{map[string]string{envAPIKey: "hk_x"}, []string{"portal", "revoke"}, "--tenant"},
		{map[string]string{envAPIKey: "hk_x"}, []string{"portal", "link", "-t", "acme", "--expires-in", "soon"}, "--expires-in"},
		{map[string]string{envAPIKey: "hk_x"}, []string{"portal", "link", "-t", "acme", "--expires-in", "90.5s"}, "whole number of seconds"},
		{map[string]string{envAPIKey: "hk_x"}, []string{"portal", "link", "-t", "acme", "--expires-in", "-1h"}, "--expires-in"},
	}
	for _, c := range cases {
		r := runCLI(t, c.env, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("hookd %v: exit %d, %q; want exit 2 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
}
