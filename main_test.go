package hookd_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"hookd.dev/hookd/hookdtest"
)

// hookdURL and adminKey address the hookd that TestMain runs for the tests
// and examples of this package: API, workers and sweeper on SQLite and an
// in-process Redis, as `hookd serve` runs them (see hookdtest).
var (
	hookdURL string
	adminKey = "hk_sdk_test_admin_0123456789abcdefgh"
)

func TestMain(m *testing.M) {
	// One retry, a second after the first attempt: examples show a
	// delivery that failed for good without waiting long.
	h, err := hookdtest.New(hookdtest.Options{AdminKey: adminKey, RetrySchedule: []time.Duration{time.Second}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start hookd:", err)
		os.Exit(1)
	}
	hookdURL = h.URL
	code := m.Run()
	h.Close()
	os.Exit(code)
}
