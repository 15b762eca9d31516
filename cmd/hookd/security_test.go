package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"hookd.dev/hookd/models"
)

// The embedded mode's data dir holds the database and the secret key: it is
// the owner's only.
func TestEmbeddedDataIsTheOwnersOnly(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"HOOKD_DATA_DIR": dir}
	cfg, err := LoadConfig("migrate", nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: cfg, Mode: "migrate", Stdout: io.Discard}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{"": 0o700, "hookd.db": 0o600, "secret.key": 0o600}
	for name, mode := range want {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%q has mode %o, want %o", filepath.Join("data", name), st.Mode().Perm(), mode)
		}
	}
}

func TestShortAdminKeyIsRefused(t *testing.T) {
	t.Parallel()
	env := map[string]string{"HOOKD_ADMIN_KEY": "hk_test_admin"}
	_, err := LoadConfig("serve", nil, func(k string) string { return env[k] }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "HOOKD_ADMIN_KEY") || !strings.Contains(err.Error(), "32") {
		t.Fatalf("a 13-character HOOKD_ADMIN_KEY: %v, want an error that says it needs 32", err)
	}
	if strings.Contains(err.Error(), "hk_test_admin") {
		t.Fatalf("the error shows the key: %v", err)
	}
	env["HOOKD_ADMIN_KEY"] = testAdminKey
	if _, err := LoadConfig("serve", nil, func(k string) string { return env[k] }, io.Discard); err != nil {
		t.Fatal(err)
	}
}

// A lost admin key is replaced from the command line, straight on the
// database, while hookd runs.
func TestAdminKeyCreate(t *testing.T) {
	t.Parallel()
	env := backends(t)
	m := start(t, "serve", env)
	cfg, err := LoadConfig(modeCreateAdminKey, nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := (&Main{Config: cfg, Mode: modeCreateAdminKey, Stdout: &out}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	key := regexp.MustCompile(`(?m)^\s+(hk_\S+)$`).FindStringSubmatch(out.String())
	if key == nil {
		t.Fatalf("no key in %q", out.String())
	}
	var keys struct{ Data []models.APIKey }
	if status := newClient(t, m, key[1]).do("GET", "/v1/admin-keys", nil, &keys); status != 200 {
		t.Fatalf("the new key: GET /v1/admin-keys = %d", status)
	}
	if len(keys.Data) != 1 || !strings.HasPrefix(key[1], keys.Data[0].Prefix) {
		t.Fatalf("admin keys = %+v", keys.Data)
	}
}
