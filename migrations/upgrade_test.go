package migrations_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"gorm.io/gorm"

	"hookd.dev/hookd/migrations"
	"hookd.dev/hookd/models"
	"hookd.dev/hookd/models/storetest"
)

// TestUpgradingKeepsEveryRow: a database that holds data loses none of it
// to an upgrade. Before each migration N ≥ 2, with migrations up to N-1
// applied, a realistic row (two attempts: a history) goes into every table
// that exists then, every column filled; once N is applied, every row put
// in so far is still there, with the same value in each column it had.
// On SQLite always, on PostgreSQL when HOOKD_TEST_DATABASE_URL names one.
func TestUpgradingKeepsEveryRow(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			db := emptyDatabase(t, dialect)
			all, err := migrations.List(dialect)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if err := db.Exec(`CREATE TABLE schema_migrations (
				version integer PRIMARY KEY, name text NOT NULL, applied_at text NOT NULL)`).Error; err != nil {
				t.Fatal(err)
			}
			apply(t, db, all[0])
			for i, m := range all[1:] {
				insertGeneration(t, db, dialect, i+1)
				before := snapshot(t, db, dialect)
				apply(t, db, m)
				after := snapshot(t, db, dialect)
				compare(t, m.Name, before, after)
			}
			// Applied one by one as Apply does: it finds nothing left to do.
			if n, err := migrations.Apply(ctx, db); err != nil || n != 0 {
				t.Fatalf("Apply after the last migration: %d applied, %v", n, err)
			}
		})
	}
}

// emptyDatabase is a database of the dialect with nothing in it, dropped
// when the test ends; the test is skipped for PostgreSQL without one.
func emptyDatabase(t *testing.T, dialect string) *gorm.DB {
	t.Helper()
	ctx := context.Background()
	if dialect == "sqlite" {
		db, err := models.Open(ctx, models.OpenOpts{SQLitePath: filepath.Join(t.TempDir(), "hookd.db")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { closeDB(db) })
		return db
	}
	base := os.Getenv(storetest.EnvDatabaseURL)
	if base == "" {
		t.Skip("set " + storetest.EnvDatabaseURL + " to upgrade a PostgreSQL database")
	}
	admin, err := models.Open(ctx, models.OpenOpts{URL: base, MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeDB(admin) })
	name := "hookd_test_" + strings.ToLower(ulid.Make().String())
	if err := admin.Exec(fmt.Sprintf(`CREATE DATABASE %q`, name)).Error; err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	db, err := models.Open(ctx, models.OpenOpts{URL: u.String(), MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		closeDB(db)
		if err := admin.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %q WITH (FORCE)`, name)).Error; err != nil {
			t.Logf("drop %s: %v", name, err)
		}
	})
	return db
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

// apply applies one migration as migrations.Apply does: in a transaction,
// recorded in schema_migrations.
func apply(t *testing.T, db *gorm.DB, m migrations.Migration) {
	t.Helper()
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(m.SQL).Error; err != nil {
			return err
		}
		return tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			m.Version, m.Name, time.Now().UTC().Format(time.RFC3339)).Error
	})
	if err != nil {
		t.Fatalf("apply %s: %v", m.Name, err)
	}
}

// row is one row to insert: its table, and a value for every column the
// table has had in any version.
type row struct {
	table  string
	values map[string]any
}

// generation is the rows inserted before migration g+1, in an order the
// foreign keys allow: a tenant with everything it can have, an endpoint
// with every option set, a message delivered twice.
func generation(g int) []row {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(g) * time.Minute)
	later := at.Add(time.Hour)
	id := func(prefix string) string { return fmt.Sprintf("%s_g%02d", prefix, g) }
	ten, key, ep, msg, dlv, eventType := id("ten"), id("key"), id("ep"), id("msg"), id("dlv"), fmt.Sprintf("invoice.paid.g%02d", g)
	url := "https://hooks.acme.example/" + id("hook")
	attempt := func(n int, trigger string, created time.Time) row {
		return row{"attempts", map[string]any{
			"id": fmt.Sprintf("%s_%d", id("att"), n), "delivery_id": dlv, "number": n, "trigger_type": trigger, "url": url,
			"request_headers": `{"webhook-id":"` + msg + `"}`, "response_status_code": 500,
			"response_headers": `{"content-type":"text/plain"}`, "response_body": fmt.Sprintf("oops %d", n),
			"duration_ms": 40 + n, "error": "", "created_at": created,
		}}
	}
	return []row{
		{"tenants", map[string]any{"id": ten, "uid": id("acme"), "name": "Acme", "created_at": at, "updated_at": at}},
		{"api_keys", map[string]any{"id": key, "tenant_id": ten, "name": "ci", "prefix": id("hk"), "hash": id("hash"),
			"created_at": at, "last_used_at": later, "revoked_at": nil}},
		{"event_types", map[string]any{"name": eventType, "description": "An invoice was paid", "archived_at": nil,
			"created_at": at, "updated_at": at, "schema": `{"type":"object","required":["id"]}`}},
		{"endpoints", map[string]any{
			"id": ep, "tenant_id": ten, "url": url, "description": "billing", "event_types": `["` + eventType + `"]`,
			"enabled": false, "disabled_reason": "the endpoint answered 410 Gone", "secret": "sealed:" + id("secret"),
			"created_at": at, "updated_at": later,
			"previous_secret": "sealed:" + id("old"), "previous_secret_expires_at": later, // 0002
			"max_concurrency": 5, "rate_limit": 20, "failing_since": at, // 0004
			"signing_scheme": "hmac-sha256", "signature_header": "X-Signature", "signature_prefix": "sha256=", // 0005
			"envelope": true, "headers": `{"x-team":"billing"}`, "secret_headers": `{"authorization":"sealed:x"}`, // 0011
			"timeout_seconds": 7, "retry_schedule": "[1,5,30]", "filter": "data.n > 1", "ordering": "fifo",
			"filter_error": "the filter went over its cost limit", "filter_error_at": later, // 0012
		}},
		{"messages", map[string]any{"id": msg, "tenant_id": ten, "event_type": eventType,
			"payload": fmt.Sprintf(`{"id":"inv_%d","n":2}`, g), "idempotency_key": id("order"), "created_at": at}},
		{"deliveries", map[string]any{
			"id": dlv, "tenant_id": ten, "message_id": msg, "endpoint_id": ep, "event_type": eventType, "status": "pending",
			"attempt_count": 2, "next_attempt_at": later, "next_trigger": "manual", "locked_until": nil, "lock_token": nil,
			"last_status_code": 500, "last_error": "the endpoint answered 500", "created_at": at, "updated_at": later,
			"ordered": true, // 0011
		}},
		attempt(1, "scheduled", at),
		attempt(2, "manual", later),
		{"sessions", map[string]any{"id": id("session-hash"), "api_key_id": key, "created_at": at, "expires_at": later}},
		{"portal_sessions", map[string]any{"id": id("portal-hash"), "tenant_id": ten, "read_only": true, "title": "Acme billing",
			"logo_url": "https://acme.example/logo.png", "primary_color": "#336699", "created_at": at, "expires_at": later}},
	}
}

// insertGeneration inserts generation g into the tables that exist, each
// row with every column its table has now. A table or a column this test
// has no value for fails it: a migration that adds one adds it here too.
func insertGeneration(t *testing.T, db *gorm.DB, dialect string, g int) {
	t.Helper()
	tables := tableNames(t, db, dialect)
	rows := generation(g)
	for _, table := range tables {
		if !slices.ContainsFunc(rows, func(r row) bool { return r.table == table }) {
			t.Errorf("table %s has no row in this test: add one to generation", table)
		}
	}
	for _, r := range rows {
		if !slices.Contains(tables, r.table) {
			continue // made by a later migration
		}
		cols := columnNames(t, db, dialect, r.table)
		var names, marks []string
		var args []any
		for _, c := range cols {
			v, ok := r.values[c]
			if !ok {
				t.Errorf("column %s.%s has no value in this test: add one to generation", r.table, c)
				continue
			}
			names, marks, args = append(names, `"`+c+`"`), append(marks, "?"), append(args, v)
		}
		sql := fmt.Sprintf(`INSERT INTO %q (%s) VALUES (%s)`, r.table, strings.Join(names, ", "), strings.Join(marks, ", "))
		if err := db.Exec(sql, args...).Error; err != nil {
			t.Fatalf("generation %d: insert into %s: %v", g, r.table, err)
		}
	}
}

func tableNames(t *testing.T, db *gorm.DB, dialect string) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name`
	if dialect == "postgres" {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()
			AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations' ORDER BY table_name`
	}
	var names []string
	if err := db.Raw(q).Scan(&names).Error; err != nil {
		t.Fatal(err)
	}
	return names
}

func columnNames(t *testing.T, db *gorm.DB, dialect, table string) []string {
	t.Helper()
	q := `SELECT name FROM pragma_table_info(?) ORDER BY cid`
	if dialect == "postgres" {
		q = `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`
	}
	var names []string
	if err := db.Raw(q, table).Scan(&names).Error; err != nil {
		t.Fatal(err)
	}
	return names
}

// snapshot is every row of every table, by table, in primary key order.
func snapshot(t *testing.T, db *gorm.DB, dialect string) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	for _, table := range tableNames(t, db, dialect) {
		// The columns by name, not *: pgx caches a statement's result
		// type, which a migration that adds a column changes.
		var cols []string
		for _, c := range columnNames(t, db, dialect, table) {
			cols = append(cols, `"`+c+`"`)
		}
		var rows []map[string]any
		if err := db.Raw(fmt.Sprintf(`SELECT %s FROM %q ORDER BY 1`, strings.Join(cols, ", "), table)).Scan(&rows).Error; err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		out[table] = rows
	}
	return out
}

// compare fails the test for each row or value that the migration lost.
// Rows it adds (0009 makes the operator's tenant) are its own business.
func compare(t *testing.T, migration string, before, after map[string][]map[string]any) {
	t.Helper()
	for table, rows := range before {
		got, ok := after[table]
		if !ok {
			t.Errorf("%s: table %s, with %d rows, is gone", migration, table, len(rows))
			continue
		}
		byKey := make(map[string]map[string]any, len(got))
		for _, r := range got {
			byKey[fmt.Sprint(r[primaryKey(r)])] = r
		}
		for _, r := range rows {
			key := fmt.Sprint(r[primaryKey(r)])
			now, ok := byKey[key]
			if !ok {
				t.Errorf("%s: %s row %s is gone", migration, table, key)
				continue
			}
			for col, v := range r {
				w, ok := now[col]
				if !ok {
					t.Errorf("%s: column %s.%s is gone", migration, table, col)
					continue
				}
				if fmt.Sprint(normal(v)) != fmt.Sprint(normal(w)) {
					t.Errorf("%s: %s row %s: %s was %v, is %v", migration, table, key, col, v, w)
				}
			}
		}
		if len(got) < len(rows) {
			t.Errorf("%s: %s holds %d rows, had %d", migration, table, len(got), len(rows))
		}
	}
}

// normal makes a value comparable across reads: times in UTC, bytes as text.
func normal(v any) any {
	switch v := v.(type) {
	case time.Time:
		return v.UTC()
	case []byte:
		return string(v)
	}
	return v
}

// primaryKey is a row's key column: id, or an event type's name.
func primaryKey(r map[string]any) string {
	if _, ok := r["id"]; ok {
		return "id"
	}
	return "name"
}
