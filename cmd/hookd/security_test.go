package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
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
