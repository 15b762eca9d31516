package main

import (
	"errors"
	"os"
	"testing"
	"time"

	"hookd.dev/hookd/cmd/internal/pgserver"
)

// TestFaultPostgresRestartedMidLoad: PostgreSQL restarts (fast mode: every
// connection cut, transactions in flight rolled back) while the split
// deployment emits and delivers. Emits during the restart may be refused;
// every one accepted is delivered. The test runs a PostgreSQL of its own,
// since restarting the shared one would fail the other tests.
func TestFaultPostgresRestartedMidLoad(t *testing.T) {
	t.Parallel()
	if os.Getenv("HOOKD_TEST_DATABASE_URL") == "" {
		t.Skip("runs in the PostgreSQL pass (HOOKD_TEST_DATABASE_URL set); it starts a PostgreSQL of its own to restart")
	}
	pg, err := pgserver.Start()
	if errors.Is(err, pgserver.ErrNoPostgres) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Stop() })
	env := backends(t)
	env["HOOKD_DATABASE_URL"] = pg.URL
	env["HOOKD_RETRY_SCHEDULE"] = "1s,2s,4s"
	apiProc := start(t, "api", env)
	c := newClient(t, apiProc, testAdminKey)
	r := newCountingReceiver(t, 20*time.Millisecond)
	setupLoad(c, r)
	start(t, "worker", env)

	load := startLoad(c.url)
	eventually(t, 20*time.Second, "emits and deliveries under way", func() bool { return load.count() >= 50 && len(r.Times()) >= 20 })
	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	before := load.count()
	eventually(t, 30*time.Second, "emits accepted again after the restart", func() bool { return load.count() >= before+50 })
	accepted, refused := load.stop()
	t.Logf("%d emits accepted, refused: %v; %d delivered when the emits stopped", len(accepted), refused, len(r.Times()))
	onlyTryAgain(t, refused, "the api")
	deliveredOnceOrMore(t, c, r, accepted, 90*time.Second)
}
