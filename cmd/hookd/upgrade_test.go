package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"hookd.dev/hookd/cmd/internal/pgserver"
)

// upgradedMigrations is how many of the newest migrations the rolling
// upgrade applies under a running older release.
const upgradedMigrations = 2

// TestFaultRollingUpgrade: the release before the newest migrations runs
// as hookd api and hookd worker on PostgreSQL, emitting and delivering.
// The new release's migrations are applied while they run, then the worker
// and the api are replaced by the new release one at a time, the emits
// going on. Nothing accepted is lost, nothing is left unfinished, and the
// duplicates (a worker stopped mid-request sends its delivery again) are
// few. (HOOKD_PREVIOUS_RELEASE names another git revision to upgrade from.)
func TestFaultRollingUpgrade(t *testing.T) {
	t.Parallel()
	if os.Getenv("HOOKD_TEST_DATABASE_URL") == "" {
		t.Skip("runs in the PostgreSQL pass (HOOKD_TEST_DATABASE_URL set): a rolling upgrade is of split processes on PostgreSQL")
	}
	rev, err := previousRelease()
	if err != nil {
		t.Skipf("needs the git history to build the previous release: %v", err)
	}
	pg, err := pgserver.Start()
	if errors.Is(err, pgserver.ErrNoPostgres) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Stop() })
	oldBin := buildRelease(t, rev)
	newBin := hookdBinary(t)

	env := backends(t)
	env["HOOKD_DATABASE_URL"] = pg.URL
	env["HOOKD_LISTEN"] = "127.0.0.1:" + freePort(t)
	env["HOOKD_RETRY_SCHEDULE"] = "1s,2s,4s"
	c := &client{t: t, url: "http://" + env["HOOKD_LISTEN"], key: testAdminKey}
	oldAPI := startBinary(t, oldBin, "api", env)
	c.waitListening(30 * time.Second)
	r := newCountingReceiver(t, 20*time.Millisecond)
	setupLoad(c, r)
	oldWorker := startBinary(t, oldBin, "worker", env)

	load := startLoad(c.url)
	waitAccepted := func(n int, what string) {
		before := load.count()
		eventually(t, 30*time.Second, what, func() bool { return load.count() >= before+n && len(r.Times()) > 0 })
	}
	waitAccepted(50, "the old release to emit and deliver")

	migrate := exec.Command(newBin, "migrate")
	migrate.Env = append(os.Environ(), "HOOKD_DATABASE_URL="+pg.URL)
	out, err := migrate.CombinedOutput()
	if err != nil || strings.Count(string(out), "hookd: applied ") != upgradedMigrations {
		t.Fatalf("hookd migrate (the new release) under the old one, want %d migrations applied: %v\n%s", upgradedMigrations, err, out)
	}
	t.Logf("migrated under the old release:\n%s", out)
	waitAccepted(50, "the old release to go on after the migrations")

	oldWorker.stop()
	startBinary(t, newBin, "worker", env)
	waitAccepted(50, "emits and deliveries with the new worker")
	oldAPI.stop()
	startBinary(t, newBin, "api", env)
	c.waitListening(30 * time.Second)
	waitAccepted(50, "emits through the new api")

	load.strict.Store(true) // the old release answered a deadlock with the migration 500; this one, 503
	waitAccepted(50, "emits through the new api, refusals counted")
	accepted, refused := load.stop()
	t.Logf("%d emits accepted, refused: %v (with the new api: %v)", len(accepted), refused, load.strictRefused)
	onlyTryAgain(t, load.strictRefused, "the new release")
	if duplicates := deliveredOnceOrMore(t, c, r, accepted, 120*time.Second); duplicates > len(accepted)/20 {
		t.Errorf("%d duplicates of %d deliveries: more than a stopped worker's requests in flight", duplicates, len(accepted))
	}
}

// previousRelease is the git revision to upgrade from: HOOKD_PREVIOUS_RELEASE,
// or the one before the newest upgradedMigrations PostgreSQL migrations.
func previousRelease() (string, error) {
	if rev := os.Getenv("HOOKD_PREVIOUS_RELEASE"); rev != "" {
		return rev, nil
	}
	files, err := filepath.Glob("../../migrations/postgres/*.sql")
	if err != nil || len(files) < upgradedMigrations+1 {
		return "", errors.New("no migrations found")
	}
	sort.Strings(files)
	oldest := files[len(files)-upgradedMigrations]
	out, err := exec.Command("git", "log", "--diff-filter=A", "--format=%H", "--", oldest).Output()
	added := strings.Fields(string(out))
	if err != nil || len(added) == 0 {
		return "", errors.Join(errors.New("no commit adds "+filepath.Base(oldest)), err)
	}
	parent := added[len(added)-1] + "^"
	if err := exec.Command("git", "rev-parse", "--verify", "--quiet", parent).Run(); err != nil {
		return "", errors.New("the commit before " + filepath.Base(oldest) + " is not in this clone")
	}
	return parent, nil
}

// buildRelease builds cmd/hookd as it was at a git revision.
func buildRelease(t *testing.T, rev string) string {
	t.Helper()
	src := t.TempDir()
	// From the top of the tree: in a subdirectory, git archives only that.
	extract := exec.Command("sh", "-c", `cd "$(git rev-parse --show-toplevel)" && git archive "$1" | tar -x -C "$2"`, "sh", rev, src)
	if out, err := extract.CombinedOutput(); err != nil {
		t.Fatalf("git archive %s: %v\n%s", rev, err, out)
	}
	bin := filepath.Join(t.TempDir(), "hookd-previous")
	build := exec.Command("go", "build", "-o", bin, "./cmd/hookd")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the release at %s: %v\n%s", rev, err, out)
	}
	return bin
}
