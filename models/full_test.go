package models_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"hookd.dev/hookd/models"
)

// sqliteError is the SQLite driver's error, as models sees it.
type sqliteError int

func (e sqliteError) Error() string { return fmt.Sprintf("sqlite error %d", int(e)) }
func (e sqliteError) Code() int     { return int(e) }

// The database's errors that a client should retry are told apart from the
// others, wrapped or not, so that the API answers 503 instead of 500.
func TestDatabaseErrorsAClientShouldRetry(t *testing.T) {
	t.Parallel()
	pg := func(code string) error { return fmt.Errorf("insert messages: %w", &pgconn.PgError{Code: code}) }
	for _, tc := range []struct {
		name                         string
		err                          error
		full, unavailable, transient bool
	}{
		{"SQLITE_FULL", fmt.Errorf("write: %w", sqliteError(13)), true, false, false},
		{"SQLITE_IOERR_WRITE", sqliteError(778), true, false, false},
		{"SQLITE_CONSTRAINT", sqliteError(19), false, false, false},
		{"disk_full", pg("53100"), true, false, false},
		{"admin_shutdown", pg("57P01"), false, true, false},
		{"cannot_connect_now", pg("57P03"), false, true, false},
		{"connection_failure", pg("08006"), false, true, false},
		{"deadlock", pg("40P01"), false, false, true},
		{"serialization", pg("40001"), false, false, true},
		{"unique_violation", pg("23505"), false, false, false},
		{"EOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), false, true, false},
		{"other", errors.New("boom"), false, false, false},
	} {
		if got := models.IsStorageFull(tc.err); got != tc.full {
			t.Errorf("%s: IsStorageFull = %v", tc.name, got)
		}
		if got := models.IsUnavailable(tc.err); got != tc.unavailable {
			t.Errorf("%s: IsUnavailable = %v", tc.name, got)
		}
		if got := models.IsTransient(tc.err); got != tc.transient {
			t.Errorf("%s: IsTransient = %v", tc.name, got)
		}
	}
}
