// Package storetest gives each test its own migrated database: a fresh SQLite
// file by default, or, when HOOKD_TEST_DATABASE_URL names a PostgreSQL server,
// a fresh database cloned from a migrated template. Tests never share rows, so
// they can run in parallel and nothing is flushed.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/oklog/ulid/v2"
	"gorm.io/gorm"

	"hookd.dev/hookd/migrations"
	"hookd.dev/hookd/models"
)

// EnvDatabaseURL names the PostgreSQL server tests use, when set.
const EnvDatabaseURL = "HOOKD_TEST_DATABASE_URL"

// Dialect is "postgres" when the tests run against PostgreSQL, else "sqlite".
func Dialect() string {
	if os.Getenv(EnvDatabaseURL) != "" {
		return "postgres"
	}
	return "sqlite"
}

// DB is a test's own database.
type DB struct {
	Gorm *gorm.DB
	URL  string // the postgres URL, or "" for SQLite
	Path string // the SQLite file, or ""
}

// New returns a migrated database that is dropped when the test ends.
func New(t testing.TB) *DB {
	t.Helper()
	ctx := context.Background()
	base := os.Getenv(EnvDatabaseURL)
	if base == "" {
		path := filepath.Join(t.TempDir(), "hookd.db")
		db, err := models.Open(ctx, models.OpenOpts{SQLitePath: path})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := migrations.Apply(ctx, db); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { closeDB(db) })
		return &DB{Gorm: db, Path: path}
	}

	tpl, err := template(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	name := "hookd_test_" + strings.ToLower(ulid.Make().String())
	if err := admin(ctx, base, fmt.Sprintf(`CREATE DATABASE %q TEMPLATE %q`, name, tpl)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	dbURL := withDatabase(base, name)
	db, err := models.Open(ctx, models.OpenOpts{URL: dbURL, MaxOpenConns: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		closeDB(db)
		if err := admin(context.Background(), base, fmt.Sprintf(`DROP DATABASE IF EXISTS %q WITH (FORCE)`, name)); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	return &DB{Gorm: db, URL: dbURL}
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// template creates, once per schema version, a migrated database to clone.
// Its name carries a hash of the migrations, so a changed schema gets a new
// one, and concurrent test binaries agree on it under an advisory lock.
func template(ctx context.Context, base string) (string, error) {
	templateOnce.Do(func() {
		all, err := migrations.List("postgres")
		if err != nil {
			templateErr = err
			return
		}
		h := sha256.New()
		for _, m := range all {
			h.Write([]byte(m.SQL))
		}
		templateName = "hookd_template_" + hex.EncodeToString(h.Sum(nil))[:12]
		templateErr = withAdmin(ctx, base, func(db *gorm.DB) error {
			return db.Connection(func(conn *gorm.DB) error {
				if err := conn.Exec("SELECT pg_advisory_lock(7320002)").Error; err != nil {
					return err
				}
				defer conn.Exec("SELECT pg_advisory_unlock(7320002)")
				var n int64
				if err := conn.Raw("SELECT count(*) FROM pg_database WHERE datname = ?", templateName).Scan(&n).Error; err != nil {
					return err
				}
				if n > 0 {
					return nil
				}
				building := templateName + "_building"
				if err := conn.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %q`, building)).Error; err != nil {
					return err
				}
				if err := conn.Exec(fmt.Sprintf(`CREATE DATABASE %q`, building)).Error; err != nil {
					return err
				}
				tdb, err := models.Open(ctx, models.OpenOpts{URL: withDatabase(base, building), MaxOpenConns: 1})
				if err != nil {
					return err
				}
				_, err = migrations.Apply(ctx, tdb)
				closeDB(tdb)
				if err != nil {
					return err
				}
				// Renamed only when complete, so a crash never leaves a half-built template.
				return conn.Exec(fmt.Sprintf(`ALTER DATABASE %q RENAME TO %q`, building, templateName)).Error
			})
		})
	})
	return templateName, templateErr
}

func admin(ctx context.Context, base, stmt string) error {
	return withAdmin(ctx, base, func(db *gorm.DB) error { return db.Exec(stmt).Error })
}

func withAdmin(ctx context.Context, base string, fn func(*gorm.DB) error) error {
	db, err := models.Open(ctx, models.OpenOpts{URL: base, MaxOpenConns: 1})
	if err != nil {
		return err
	}
	defer closeDB(db)
	return fn(db.WithContext(ctx))
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		panic(fmt.Sprintf("%s is not a URL: %v", EnvDatabaseURL, err))
	}
	u.Path = "/" + name
	return u.String()
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}
