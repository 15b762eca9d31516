package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"hookd.dev/hookd/cmd/internal/redisserver"
	"hookd.dev/hookd/cmd/internal/tcpproxy"
	"hookd.dev/hookd/hookdtest"
)

// Fault injection: each case breaks something while messages flow and then
// checks hookd's promise, the invariant that every accepted message ends
// succeeded or failed and the receiver saw each succeeded one's webhook-id.

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// hookdBinary builds cmd/hookd once, for the cases that kill a process.
func hookdBinary(t *testing.T) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hookd-bin")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "hookd")
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// process is hookd running as a child process.
type process struct {
	cmd     *exec.Cmd
	out     *syncWriter
	done    chan struct{} // closed once it has exited
	waitErr error         // how it exited, once done is closed
}

// wait waits for the process to exit and says how it did. (cmd.Wait may be
// called once only: startBinary's goroutine does.)
func (p *process) wait() error {
	<-p.done
	return p.waitErr
}

// startProcess runs the hookd built from this tree as a child process,
// until the test ends.
func startProcess(t *testing.T, mode string, env map[string]string) *process {
	t.Helper()
	return startBinary(t, hookdBinary(t), mode, env)
}

// startBinary runs a hookd binary as a child process, until the test ends.
func startBinary(t *testing.T, bin, mode string, env map[string]string) *process {
	t.Helper()
	cmd := exec.Command(bin, mode)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := &syncWriter{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, out: out, done: make(chan struct{})}
	go func() { p.waitErr = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s %s output:\n%s", filepath.Base(bin), mode, out.String())
		}
	})
	return p
}

// stop stops the process as an orchestrator does: SIGTERM, then SIGKILL
// after 30 s.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// countingReceiver answers 200 after a delay and counts each webhook-id.
// newCountingReceiver starts a receiver that takes delay to answer each
// request.
func newCountingReceiver(t *testing.T, delay time.Duration) *hookdtest.Receiver {
	r := hookdtest.NewReceiver(t)
	r.Respond(func(int) int {
		time.Sleep(delay)
		return http.StatusOK
	})
	return r
}

// setupLoad creates a tenant with one endpoint at the receiver.
func setupLoad(c *client, r *hookdtest.Receiver) {
	c.must(201, "POST", "/v1/event-types", map[string]any{"name": "load.test"}, nil)
	c.must(201, "POST", "/v1/tenants", map[string]any{"uid": "acme"}, nil)
	c.must(201, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": r.URL, "event_types": []string{"*"}, "secret": r.Secret()}, nil)
}

// emitN emits n messages and returns their ids. Every emit must be
// accepted (201): an invariant over messages that were silently refused
// would prove nothing.
func emitN(c *client, n int) []string {
	c.t.Helper()
	var ids []string
	for i := range n {
		var msg message
		if status := c.do("POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "load.test", "payload": map[string]int{"n": i}}, &msg); status != 201 {
			c.t.Fatalf("emit %d of %d answered %d, want 201", i+1, n, status)
		}
		ids = append(ids, msg.ID)
	}
	return ids
}

// assertInvariant waits until every accepted message's deliveries are final,
// and checks that the receiver saw each succeeded message.
func assertInvariant(t *testing.T, c *client, seen func(id string) int, ids []string, timeout time.Duration) (succeeded, failed int) {
	t.Helper()
	if len(ids) == 0 {
		t.Fatal("no accepted message to check")
	}
	pending := map[string]bool{}
	for _, id := range ids {
		pending[id] = true
	}
	deadline := time.Now().Add(timeout)
	for len(pending) > 0 {
		for id := range pending {
			var msg message
			c.must(200, "GET", "/v1/tenants/acme/messages/"+id, nil, &msg)
			if len(msg.Deliveries) != 1 {
				t.Fatalf("message %s has %d deliveries", id, len(msg.Deliveries))
			}
			switch msg.Deliveries[0].Status {
			case "succeeded":
				succeeded++
				if seen(id) == 0 {
					t.Errorf("message %s succeeded but the receiver never saw it", id)
				}
				delete(pending, id)
			case "failed":
				failed++
				delete(pending, id)
			}
		}
		if len(pending) > 0 {
			if time.Now().After(deadline) {
				for id := range pending {
					var msg struct{ Deliveries []map[string]any }
					c.must(200, "GET", "/v1/tenants/acme/messages/"+id, nil, &msg)
					t.Logf("not final: %v", msg.Deliveries)
				}
				t.Fatalf("%d of %d accepted messages are still not final after %s", len(pending), len(ids), timeout)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return succeeded, failed
}

func TestFaultWorkerKilledMidLoad(t *testing.T) {
	t.Parallel()
	env := backends(t)
	apiProc := start(t, "api", env)
	c := newClient(t, apiProc, testAdminKey)
	r := newCountingReceiver(t, 20*time.Millisecond)
	setupLoad(c, r)
	victim := startProcess(t, "worker", env)
	startProcess(t, "worker", env)

	ids := emitN(c, 200)
	eventually(t, 20*time.Second, "deliveries to be under way", func() bool { return len(r.Times()) >= 30 })
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Claims of the dead worker expire after the timeout plus 15 s; the sweeper takes them back.
	ok, failed := assertInvariant(t, c, r.TimesFor, ids, 60*time.Second)
	if ok != len(ids) || failed != 0 {
		t.Fatalf("%d succeeded, %d failed of %d", ok, failed, len(ids))
	}
}

// TestFaultServeKilledHoldingItsOwnDeliveries: hookd serve hands its emits
// to its own worker, not through Redis; killed while it holds hundreds of
// them (in flight and waiting), it loses none: the next serve delivers them
// all from the database.
func TestFaultServeKilledHoldingItsOwnDeliveries(t *testing.T) {
	t.Parallel()
	env := backends(t)
	env["HOOKD_ENDPOINT_CONCURRENCY"] = "1000" // no turning away: every delivery stays local
	env["HOOKD_TENANT_CONCURRENCY"] = "1000"   // nor for the tenant's share of the workers
	// The sweeper enqueues what has waited longer than its interval, local
	// or not; none of these should have, when the queue is looked at.
	env["HOOKD_SWEEP_INTERVAL"] = "10s"
	env["HOOKD_LISTEN"] = "127.0.0.1:" + freePort(t)
	r := newCountingReceiver(t, 2*time.Second)
	victim := startProcess(t, "serve", env)
	c := &client{t: t, url: "http://" + env["HOOKD_LISTEN"], key: testAdminKey}
	c.waitListening(20 * time.Second)
	setupLoad(c, r)
	ids := emitN(c, 300)
	opt, err := asynq.ParseRedisURI(env["HOOKD_REDIS_URL"])
	if err != nil {
		t.Fatal(err)
	}
	inspector := asynq.NewInspector(opt)
	t.Cleanup(func() { _ = inspector.Close() })
	if info, err := inspector.GetQueueInfo(env["HOOKD_QUEUE"]); err == nil && info.Size > 0 {
		t.Fatalf("serve put %d of its own deliveries on the queue", info.Size)
	}
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = victim.wait()
	if got := len(r.Times()); got >= len(ids) {
		t.Fatalf("all %d delivered before the kill: nothing was held", got)
	}
	startProcess(t, "serve", env)
	c.waitListening(20 * time.Second)
	ok, failed := assertInvariant(t, c, r.TimesFor, ids, 90*time.Second)
	if ok != len(ids) || failed != 0 {
		t.Fatalf("%d succeeded, %d failed of %d", ok, failed, len(ids))
	}
}

// newRedisServer starts a Redis that the test may flush and restart
// (redisserver), stopped when the test ends.
func newRedisServer(t *testing.T) *redisserver.Server {
	t.Helper()
	rs, err := redisserver.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rs.Close)
	return rs
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

func TestFaultRedisFlushedAndRestartedMidLoad(t *testing.T) {
	t.Parallel()
	env := backends(t)
	rs := newRedisServer(t) // its own server: flushing the shared one would break other tests
	env["HOOKD_REDIS_URL"] = rs.URL
	m := start(t, "serve", env)
	c := newClient(t, m, testAdminKey)
	r := newCountingReceiver(t, 10*time.Millisecond)
	setupLoad(c, r)

	ids := emitN(c, 150)
	eventually(t, 20*time.Second, "deliveries to be under way", func() bool { return len(r.Times()) >= 20 })
	rs.Flush()
	ids = append(ids, emitN(c, 50)...)
	if err := rs.Restart(); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, emitN(c, 50)...)
	ok, failed := assertInvariant(t, c, r.TimesFor, ids, 60*time.Second)
	if ok != len(ids) || failed != 0 {
		t.Fatalf("%d succeeded, %d failed of %d", ok, failed, len(ids))
	}
}

func TestFaultEnqueueLostAfterCommit(t *testing.T) {
	t.Parallel()
	env := backends(t)
	// The API's Redis is unreachable: every emit commits but its enqueue
	// fails, as if the API died between the two. The worker's sweeper finds them.
	apiEnv := map[string]string{}
	for k, v := range env {
		apiEnv[k] = v
	}
	apiEnv["HOOKD_REDIS_URL"] = "redis://127.0.0.1:" + freePort(t) + "/0"
	apiProc := start(t, "api", apiEnv)
	c := newClient(t, apiProc, testAdminKey)
	r := newCountingReceiver(t, 0)
	setupLoad(c, r)
	ids := emitN(c, 30)
	if len(ids) != 30 {
		t.Fatalf("only %d of 30 emits accepted without Redis", len(ids))
	}
	start(t, "worker", env)
	ok, _ := assertInvariant(t, c, r.TimesFor, ids, 30*time.Second)
	if ok != 30 {
		t.Fatalf("%d of 30 delivered", ok)
	}
}

// newTCPProxy forwards to target until the test ends; cutting it makes
// target unreachable.
func newTCPProxy(t *testing.T, target string) *tcpproxy.Proxy {
	p, err := tcpproxy.Start(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func TestFaultDatabaseUnreachable(t *testing.T) {
	t.Parallel()
	env := backends(t)
	if env["HOOKD_DATABASE_URL"] == "" {
		t.Skip("needs PostgreSQL (HOOKD_TEST_DATABASE_URL): SQLite is a file, it cannot become unreachable")
	}
	u := env["HOOKD_DATABASE_URL"]
	hostStart := strings.Index(u, "@") + 1
	hostEnd := hostStart + strings.IndexAny(u[hostStart:], "/")
	proxy := newTCPProxy(t, u[hostStart:hostEnd])
	env["HOOKD_DATABASE_URL"] = u[:hostStart] + proxy.Addr() + u[hostEnd:]
	m := start(t, "serve", env)
	c := newClient(t, m, testAdminKey)
	r := newCountingReceiver(t, 0)
	setupLoad(c, r)
	ids := emitN(c, 20)

	proxy.Cut()
	var refused, accepted atomic.Int64
	for range 10 {
		var body struct{ Error struct{ Code string } }
		switch c.do("POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "load.test", "payload": map[string]int{}}, &body) {
		case 503:
			refused.Add(1)
		case 201:
			accepted.Add(1)
		}
	}
	if refused.Load() != 10 {
		t.Fatalf("with the database down: %d refused with 503, %d accepted; want all 10 refused", refused.Load(), accepted.Load())
	}
	time.Sleep(2 * time.Second) // the worker and sweeper meet errors and back off
	proxy.Restore()

	ids = append(ids, emitN(c, 20)...)
	ok, _ := assertInvariant(t, c, r.TimesFor, ids, 60*time.Second)
	if ok != len(ids) {
		t.Fatalf("%d of %d delivered after the outage", ok, len(ids))
	}
	var list struct{ Data []map[string]any }
	c.must(200, "GET", "/v1/tenants/acme/messages?limit=250", nil, &list)
	if len(list.Data) != len(ids) {
		t.Fatalf("%d messages stored, want the %d accepted (a 503 must store nothing)", len(list.Data), len(ids))
	}
}

// TestFaultBadReceivers: receivers that hang, trickle, flood, redirect in a
// loop, or throttle. Each attempt ends within the timeout and is recorded.
func TestFaultBadReceivers(t *testing.T) {
	t.Parallel()
	env := backends(t)
	env["HOOKD_DELIVERY_TIMEOUT"] = "1s"
	env["HOOKD_RETRY_SCHEDULE"] = "1s"
	m := start(t, "serve", env)
	c := newClient(t, m, testAdminKey)
	release := make(chan struct{})
	var redirects, throttled atomic.Int64
	var throttleTimes []time.Time
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hang":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/trickle":
			w.WriteHeader(200)
			for {
				if _, err := w.Write([]byte("x")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		case "/huge": // a 1 GB answer, if anyone read it all
			w.WriteHeader(500)
			chunk := bytes.Repeat([]byte("x"), 1<<20)
			for range 1024 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "/loop":
			redirects.Add(1)
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/throttle":
			mu.Lock()
			throttleTimes = append(throttleTimes, time.Now())
			n := len(throttleTimes)
			mu.Unlock()
			throttled.Add(1)
			if n == 1 {
				w.Header().Set("Retry-After", "3")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			w.WriteHeader(204)
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	c.must(201, "POST", "/v1/event-types", map[string]any{"name": "load.test"}, nil)
	c.must(201, "POST", "/v1/tenants", map[string]any{"uid": "acme"}, nil)
	paths := []string{"/hang", "/trickle", "/huge", "/loop", "/throttle"}
	pathOf := map[string]string{}
	for _, p := range paths {
		var ep struct{ ID string }
		c.must(201, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": srv.URL + p, "event_types": []string{"*"}}, &ep)
		pathOf[ep.ID] = p
	}
	var msg message
	start := time.Now()
	c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "load.test", "payload": map[string]int{}}, &msg)
	final := map[string]delivery{}
	var throttledRetry time.Duration // as recorded after the 429
	eventually(t, 30*time.Second, "every delivery to end", func() bool {
		for _, d := range msg.Deliveries {
			got := c.delivery(d.ID)
			if got.Status == "succeeded" || got.Status == "failed" {
				final[pathOf[got.EndpointID]] = got
			}
			if pathOf[got.EndpointID] == "/throttle" && got.Status == "pending" && len(got.Attempts) == 1 && got.NextAttemptAt != nil {
				throttledRetry = got.NextAttemptAt.Sub(got.Attempts[0].CreatedAt)
			}
		}
		return len(final) == len(paths)
	})
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("bad receivers held deliveries for %s", took)
	}
	want := map[string]struct {
		status   string
		attempts int
		check    func(a attempt) bool
	}{
		"/hang":     {"failed", 2, func(a attempt) bool { return a.ResponseStatusCode == nil && strings.Contains(a.Error, "timed out") }},
		"/trickle":  {"succeeded", 1, func(a attempt) bool { return strings.Contains(a.ResponseBody, "reading the body failed") }},
		"/huge":     {"failed", 2, func(a attempt) bool { return *a.ResponseStatusCode == 500 && len(a.ResponseBody) <= 64<<10 }},
		"/loop":     {"failed", 2, func(a attempt) bool { return *a.ResponseStatusCode == 302 }},
		"/throttle": {"succeeded", 2, func(a attempt) bool { return a.ResponseStatusCode != nil }},
	}
	for path, w := range want {
		d := final[path]
		if d.Status != w.status || len(d.Attempts) != w.attempts || !w.check(d.Attempts[0]) {
			t.Errorf("%s: %s with %d attempts %+v; want %s with %d", path, d.Status, len(d.Attempts), d.Attempts, w.status, w.attempts)
		}
	}
	if n := redirects.Load(); n != 2 { // one per attempt: never followed
		t.Errorf("the redirect loop was requested %d times, want 2 (one per attempt)", n)
	}
	// Retry-After: 3 sets the next attempt 3 s after the 429, as recorded
	// (asynq runs tasks to the whole second, so the wall clock would not
	// tell; the attempt's time is when it was recorded, a moment later).
	if throttledRetry < 2500*time.Millisecond || throttledRetry > 3500*time.Millisecond {
		t.Errorf("after a 429 with Retry-After: 3 the next attempt was due %s later, want 3 s", throttledRetry)
	}
	mu.Lock()
	if len(throttleTimes) != 2 {
		t.Errorf("the throttling receiver was asked %d times, want 2", len(throttleTimes))
	}
	mu.Unlock()
}

// TestGracefulShutdown: on SIGTERM a worker stops taking work, lets the POST
// in flight finish, records it, and exits within its shutdown bound.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	env := backends(t)
	env["HOOKD_DELIVERY_TIMEOUT"] = "5s"
	apiProc := start(t, "api", env)
	c := newClient(t, apiProc, testAdminKey)
	inFlight := make(chan struct{}, 10)
	r := hookdtest.NewReceiver(t)
	r.Respond(func(int) int {
		inFlight <- struct{}{}
		time.Sleep(2 * time.Second)
		return http.StatusOK
	})
	setupLoad(c, r)
	worker := startProcess(t, "worker", env)
	ids := emitN(c, 1)
	select {
	case <-inFlight:
	case <-time.After(15 * time.Second):
		t.Fatal("the POST never started")
	}
	stopped := time.Now()
	if err := worker.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- worker.wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("worker exited with %v", err)
		}
	case <-time.After(5*time.Second + 5*time.Second + 5*time.Second): // timeout + shutdown margin + slack
		t.Fatal("the worker did not stop within its shutdown bound")
	}
	t.Logf("worker stopped %s after SIGTERM", time.Since(stopped).Round(time.Millisecond))
	var msg message
	c.must(200, "GET", "/v1/tenants/acme/messages/"+ids[0], nil, &msg)
	if d := msg.Deliveries[0]; d.Status != "succeeded" || d.AttemptCount != 1 {
		t.Fatalf("after a graceful stop the delivery is %s with %d attempts; want the in-flight one recorded", d.Status, d.AttemptCount)
	}
}

// databaseBehindProxy points env's PostgreSQL URL at a proxy the test can
// cut; it skips on SQLite, a file that cannot become unreachable.
func databaseBehindProxy(t *testing.T, env map[string]string) *tcpproxy.Proxy {
	t.Helper()
	u := env["HOOKD_DATABASE_URL"]
	if u == "" {
		t.Skip("needs PostgreSQL (HOOKD_TEST_DATABASE_URL): SQLite is a file, it cannot become unreachable")
	}
	hostStart := strings.Index(u, "@") + 1
	hostEnd := hostStart + strings.IndexAny(u[hostStart:], "/")
	proxy := newTCPProxy(t, u[hostStart:hostEnd])
	env["HOOKD_DATABASE_URL"] = u[:hostStart] + proxy.Addr() + u[hostEnd:]
	return proxy
}

// outage is how long the long-outage cases keep a dependency away: longer
// than asynq's own retries of a task (1+2+4+8+16 s), which then archives it.
const outage = 60 * time.Second

// TestFaultDatabaseDownOneMinute: PostgreSQL is unreachable for a minute
// while deliveries are queued and in flight, through the split processes
// of production. Tasks whose handler kept failing would be archived by
// asynq meanwhile; every accepted message must still be delivered
// afterwards, within the sweep interval plus the claim lock plus the retry
// schedule.
func TestFaultDatabaseDownOneMinute(t *testing.T) {
	t.Parallel()
	env := backends(t)
	proxy := databaseBehindProxy(t, env)
	outageCase(t, env, proxy, 0)
}

// TestFaultRedisDownOneMinute: Redis stops answering for a minute (its data
// kept) while deliveries are queued and in flight, and messages are emitted
// meanwhile. Every accepted message is delivered afterwards.
func TestFaultRedisDownOneMinute(t *testing.T) {
	t.Parallel()
	env := backends(t)
	rs := newRedisServer(t)
	u, err := url.Parse(rs.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.Addr()
	env["HOOKD_REDIS_URL"] = u.String()
	outageCase(t, env, proxy, 20) // accepted during the outage: the database has them
}

// outageCase runs an api and a worker on env, emits, cuts proxy for a
// minute once deliveries are under way (emitting duringOutage messages
// then), and checks that every accepted message was delivered afterwards.
func outageCase(t *testing.T, env map[string]string, proxy *tcpproxy.Proxy, duringOutage int) {
	t.Helper()
	env["HOOKD_RETRY_SCHEDULE"] = "1s,2s,4s"
	apiProc := start(t, "api", env)
	c := newClient(t, apiProc, testAdminKey)
	r := newCountingReceiver(t, 100*time.Millisecond)
	setupLoad(c, r)
	start(t, "worker", env)

	ids := emitN(c, 150)
	eventually(t, 20*time.Second, "deliveries to be under way", func() bool { return len(r.Times()) >= 10 })
	proxy.Cut()
	t.Logf("cut with %d of %d delivered", len(r.Times()), len(ids))
	if duringOutage > 0 {
		ids = append(ids, emitN(c, duringOutage)...)
	}
	time.Sleep(outage)
	proxy.Restore()
	ok, failed := assertInvariant(t, c, r.TimesFor, ids, 90*time.Second)
	if ok != len(ids) || failed != 0 {
		t.Fatalf("%d succeeded, %d failed of %d", ok, failed, len(ids))
	}
}
