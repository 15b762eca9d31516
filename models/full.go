package models

import (
	"errors"

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
