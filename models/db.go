package models

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// OpenOpts says which database to open.
type OpenOpts struct {
	// URL is a postgres:// (or postgresql://) URL. Empty opens SQLitePath.
	URL string
	// SQLitePath is the SQLite file of the embedded mode, created if missing.
	SQLitePath string
	// Tracing makes each statement a span (OpenTelemetry, the global tracer
	// provider), with its text and never its arguments.
	Tracing bool
	// MaxOpenConns bounds the pool (default 20 for PostgreSQL, 8 for SQLite).
	MaxOpenConns int
}

// Open connects to PostgreSQL or SQLite and checks the connection. It does not migrate.
func Open(ctx context.Context, opts OpenOpts) (*gorm.DB, error) {
	var dialector gorm.Dialector
	maxConns := opts.MaxOpenConns
	switch {
	case strings.HasPrefix(opts.URL, "postgres://"), strings.HasPrefix(opts.URL, "postgresql://"):
		dialector = postgres.Open(opts.URL)
		if maxConns == 0 {
			maxConns = 20
		}
	case opts.URL != "":
		return nil, fmt.Errorf("database URL must start with postgres://; leave it empty for the embedded SQLite")
	case opts.SQLitePath != "":
		if err := restrictSQLiteFiles(opts.SQLitePath); err != nil {
			return nil, err
		}
		// WAL lets readers run beside the writer; immediate transactions take the
		// write lock up front so busy_timeout applies instead of a deadlock error.
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
		dialector = sqlite.Open("file:" + opts.SQLitePath + "?" + q.Encode())
		if maxConns == 0 {
			maxConns = 8
		}
	default:
		return nil, fmt.Errorf("no database: set a postgres URL or a SQLite path")
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 logger.Discard,
		TranslateError:         true,
		SkipDefaultTransaction: true,
		NowFunc:                now,
		// SQLite parses every statement it is given anew (pgx caches them on
		// PostgreSQL): keep the prepared ones.
		PrepareStmt: dialector.Name() == "sqlite",
	})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if opts.Tracing {
		if err := db.Use(statementSpans{}); err != nil {
			return nil, fmt.Errorf("trace the database: %w", err)
		}
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(maxConns)
	sqlDB.SetMaxIdleConns(maxConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return db, nil
}

// restrictSQLiteFiles makes the database file readable by its owner only: it
// holds API key hashes, sessions and, without HOOKD_SECRET_KEY, endpoint
// secrets. SQLite gives the -wal and -shm files it creates the same mode as
// the database file; files left looser by an older hookd are tightened.
func restrictSQLiteFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600) //nolint:gosec // the configured database file
	if err != nil {
		return fmt.Errorf("open SQLite file: %w", err)
	}
	_ = f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("restrict SQLite file: %w", err)
		}
	}
	return nil
}

// now is the time as both dialects store it: UTC, to the microsecond. UTC
// matters for SQLite, which compares timestamps as text.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
