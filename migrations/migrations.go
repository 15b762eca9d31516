// Package migrations holds hookd's versioned, forward-only schema migrations for
// PostgreSQL and SQLite, embedded in the binary, and applies them.
//
// Each dialect has its own folder of files named NNNN_description.sql. A file is
// applied once, in one transaction, and recorded in schema_migrations; applied
// files are never edited, a change is a new file.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// lockID is the PostgreSQL advisory lock that serialises concurrent migrators
// (several `hookd api` processes starting at once).
const lockID = 7_320_001

// Migration is one schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// List returns the migrations of a dialect ("postgres" or "sqlite"), in order.
func List(dialect string) ([]Migration, error) {
	entries, err := fs.ReadDir(files, dialect)
	if err != nil {
		return nil, fmt.Errorf("unknown dialect %q: %w", dialect, err)
	}
	var out []Migration
	for _, e := range entries {
		version, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", e.Name())
		}
		body, err := fs.ReadFile(files, path.Join(dialect, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: version, Name: e.Name(), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Apply brings the database up to date and returns how many migrations it applied.
func Apply(ctx context.Context, db *gorm.DB) (int, error) { return ApplyReporting(ctx, db, nil) }

// ApplyReporting is Apply telling report (when not nil) of each migration
// as it is applied, with how long it took.
func ApplyReporting(ctx context.Context, db *gorm.DB, report func(name string, took time.Duration)) (int, error) {
	dialect := db.Name()
	all, err := List(dialect)
	if err != nil {
		return 0, err
	}
	applied := 0
	// One connection for the whole run, so the advisory lock and the work share a session.
	err = db.WithContext(ctx).Connection(func(conn *gorm.DB) error {
		if dialect == "postgres" {
			if err := conn.Exec("SELECT pg_advisory_lock(?)", lockID).Error; err != nil {
				return fmt.Errorf("lock migrations: %w", err)
			}
			defer conn.Exec("SELECT pg_advisory_unlock(?)", lockID)
		}
		if err := conn.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
			version integer PRIMARY KEY, name text NOT NULL, applied_at text NOT NULL)`).Error; err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var done []int
		if err := conn.Raw("SELECT version FROM schema_migrations").Scan(&done).Error; err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		isDone := make(map[int]bool, len(done))
		for _, v := range done {
			isDone[v] = true
		}
		for _, m := range all {
			if isDone[m.Version] {
				continue
			}
			began := time.Now()
			err := apply(ctx, conn, m)
			if err != nil {
				return fmt.Errorf("apply migration %s: %w", m.Name, err)
			}
			applied++
			if report != nil {
				report(m.Name, time.Since(began))
			}
		}
		return nil
	})
	return applied, err
}

// apply applies one migration in its transaction. Applied while an older
// hookd runs, a migration that locks two tables may deadlock with an emit
// that locks them the other way round, and PostgreSQL may give up the
// migration rather than the emit: the migration, rolled back whole, is
// tried again (seen in TestFaultRollingUpgrade).
func apply(ctx context.Context, conn *gorm.DB, m Migration) error {
	var err error
	for try := 1; ; try++ {
		err = conn.Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec(m.SQL).Error; err != nil {
				return err
			}
			return tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.Version, m.Name, time.Now().UTC().Format(time.RFC3339)).Error
		})
		if err == nil || !givenUp(err) || try == 5 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(try) * 200 * time.Millisecond):
		}
	}
}

// givenUp reports whether PostgreSQL gave up the transaction to resolve a
// deadlock (40P01) or a serialization failure (40001).
func givenUp(err error) bool {
	var state interface{ SQLState() string } // *pgconn.PgError
	return errors.As(err, &state) && (state.SQLState() == "40P01" || state.SQLState() == "40001")
}
