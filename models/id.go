package models

import (
	"crypto/rand"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// ID prefixes: an ID says what it names.
const (
	PrefixTenant   = "ten_"
	PrefixAPIKey   = "key_"
	PrefixEndpoint = "ep_"
	PrefixMessage  = "msg_"
	PrefixDelivery = "dlv_"
	PrefixAttempt  = "att_"
)

// NewID returns a prefixed ULID: unique, and sorted by creation time, so that
// ordering by id is ordering by age and cursors need no second column.
func NewID(prefix string) string {
	return prefix + strings.ToLower(ulid.Make().String())
}

// NewIDAt returns an ID as if created at t, for importing or seeding history.
func NewIDAt(prefix string, t time.Time) string {
	return prefix + strings.ToLower(ulid.MustNew(ulid.Timestamp(t), rand.Reader).String())
}
