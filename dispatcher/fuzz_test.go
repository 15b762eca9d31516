package dispatcher

import (
	"net/http"
	"testing"
	"time"
)

// FuzzRetryAfter: any Retry-After header gives a delay that is not negative,
// or none.
func FuzzRetryAfter(f *testing.F) {
	for _, seed := range []string{
		"120", "0", "-1", " 5 ", "1.5", "99999999999999999999", "9223372036854775807",
		"Wed, 21 Oct 2015 07:28:00 GMT", "Mon, 02 Jan 2006 15:04:05 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 1994", "soon", "",
	} {
		f.Add(seed)
	}
	now := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := RetryAfter(http.Header{"Retry-After": {v}}, now)
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("RetryAfter(%q) = %s, %v", v, d, ok)
		}
	})
}
