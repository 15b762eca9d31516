package models_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"hookd.dev/hookd/models"
)

// The SQLite file holds key hashes, sessions and perhaps endpoint secrets:
// other local users must not read it, nor its WAL.
func TestSQLiteFilesAreTheOwnersOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh.db")
	loose := filepath.Join(dir, "loose.db") // as an older hookd left it
	if err := os.WriteFile(loose, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fresh, loose} {
		db, err := models.Open(context.Background(), models.OpenOpts{SQLitePath: path})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('secret')").Error; err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if mode := st.Mode().Perm(); mode != 0o600 {
				t.Errorf("%s has mode %o, want 600", filepath.Base(p), mode)
			}
		}
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	}
}
