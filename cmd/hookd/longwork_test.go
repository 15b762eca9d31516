package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// runMode runs one hookd command to its end, as the command line would.
func runMode(t *testing.T, mode string, env map[string]string) string {
	t.Helper()
	cfg, err := LoadConfig(mode, nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := (&Main{Config: cfg, Mode: mode, Stdout: &out}).Run(context.Background()); err != nil {
		t.Fatalf("hookd %s: %v\n%s", mode, err, out.String())
	}
	return out.String()
}

// hookd migrate names each migration as it applies it.
func TestMigrateNamesEachMigration(t *testing.T) {
	t.Parallel()
	env := map[string]string{"HOOKD_DATA_DIR": t.TempDir()}
	first := runMode(t, modeMigrate, env)
	for _, want := range []string{"hookd: applied 0001_", "hookd: applied 0009_operator_tenant.sql in ", "hookd: database is up to date"} {
		if !strings.Contains(first, want) {
			t.Errorf("first migrate lacks %q:\n%s", want, first)
		}
	}
	if again := runMode(t, modeMigrate, env); strings.Contains(again, "applied") {
		t.Errorf("a second migrate applied something:\n%s", again)
	}
}

// hookd purge deletes now what is past the retention, and says how much.
func TestPurgeNow(t *testing.T) {
	t.Parallel()
	env := backends(t)
	m := start(t, "serve", env)
	c := newClient(t, m, testAdminKey)
	r := newReceiver(t, nil)
	setupTenant(c, r)
	var msg message
	c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": map[string]any{}}, &msg)
	eventually(t, 10*time.Second, "the delivery", func() bool { got, _ := r.snapshot(); return len(got) == 1 })
	eventually(t, 10*time.Second, "the delivery to be recorded", func() bool { return c.delivery(msg.Deliveries[0].ID).Status == "succeeded" })
	time.Sleep(10 * time.Millisecond)

	env["HOOKD_RETENTION"] = "5ms"
	out := runMode(t, modePurge, env)
	if !strings.Contains(out, "hookd: purged 1 messages (with their deliveries) and ") {
		t.Fatalf("hookd purge said:\n%s", out)
	}
	if status := c.do("GET", "/v1/tenants/acme/messages/"+msg.ID, nil, nil); status != 404 {
		t.Fatalf("the purged message: %d, want 404", status)
	}
}
