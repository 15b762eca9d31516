package models

import (
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsStorageFull reports whether err is the database refusing a write for
// want of space: SQLite's SQLITE_FULL, or an I/O error writing its file
// (the disk filled mid-write), or PostgreSQL's disk_full (53100). Nothing
// was written; the write can succeed once there is room again.
func IsStorageFull(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "53100"
	}
	var coded interface{ Code() int } // the SQLite driver's *Error
	if errors.As(err, &coded) {
		switch coded.Code() & 0xff { // primary result codes
		case 13, 10: // SQLITE_FULL, SQLITE_IOERR
			return true
		}
	}
	return false
}

// IsUnavailable reports whether err is the database going away: a refused
// or cut connection, or PostgreSQL shutting down, starting up or ending
// connections (class 57P, operator intervention, and class 08, connection
// exceptions). The statement then did not run, or its transaction rolled
// back, unless the connection was cut while it committed: a client that
// retries an emit with its Idempotency-Key is safe either way.
func IsUnavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "57P") || strings.HasPrefix(pgErr.Code, "08")
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err)
}

// IsTransient reports whether err is PostgreSQL giving up a transaction
// that can succeed if tried again: a deadlock (40P01, as between an emit
// and a migration taking its locks) or a serialization failure (40001).
// The transaction was rolled back.
func IsTransient(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}
