package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/oklog/ulid/v2"

	"hookd.dev/hookd/dispatcher/embedredis"
	"hookd.dev/hookd/hookdtest"
	"hookd.dev/hookd/models"
	"hookd.dev/hookd/models/storetest"
)

// End-to-end tests: real hookd processes (in-process Main on port 0), real
// HTTP, receivers that verify signatures. They run on PostgreSQL and Redis
// when HOOKD_TEST_DATABASE_URL and HOOKD_TEST_REDIS_URL are set, else on
// SQLite and an in-process Redis.

// TestMain prints every goroutine when the test binary crashes. A panic in
// a goroutine that an in-process hookd started cannot be recovered by the
// test that started it, and kills the binary; Go's default traceback shows
// only the panicking goroutine, which names no test. With all of them, its
// "created by … in goroutine N" lines lead to the goroutine of the test.
func TestMain(m *testing.M) {
	debug.SetTraceback("all")
	m.Run()
}

// testAdminKey is the HOOKD_ADMIN_KEY of the tests (hookd wants 32 characters or more).
const testAdminKey = "hk_test_admin_0123456789abcdefghijk"

// backends returns the database and Redis settings a test's hookd uses: its
// own database, and its own queue on the shared Redis.
func backends(t *testing.T) map[string]string {
	t.Helper()
	db := storetest.New(t)
	env := map[string]string{
		"HOOKD_DATABASE_URL": db.URL,
		"HOOKD_QUEUE":        "test_" + strings.ToLower(ulid.Make().String()),
		"HOOKD_LISTEN":       "127.0.0.1:0",
		"HOOKD_ADMIN_KEY":    testAdminKey,
		// Private addresses refused, as by default, but for the test
		// receivers' own: the guard is on in every end-to-end test.
		"HOOKD_ALLOW_PRIVATE_NETWORKS": "false",
		"HOOKD_ALLOWED_NETWORKS":       "127.0.0.1/32",
		"HOOKD_SWEEP_INTERVAL":         "200ms",
		"HOOKD_DELIVERY_TIMEOUT":       "5s",
		"HOOKD_LOG_LEVEL":              "warn",
	}
	if db.URL == "" {
		// Split processes share the SQLite file through its directory.
		env["HOOKD_DATA_DIR"] = strings.TrimSuffix(db.Path, "/hookd.db")
	}
	env["HOOKD_REDIS_URL"] = os.Getenv("HOOKD_TEST_REDIS_URL")
	if env["HOOKD_REDIS_URL"] == "" {
		r, err := embedredis.Start()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Close)
		env["HOOKD_REDIS_URL"] = r.URL()
	}
	return env
}

// start runs hookd in the given mode until the test ends.
func start(t *testing.T, mode string, env map[string]string) *Main {
	t.Helper()
	cfg, err := LoadConfig(mode, nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: cfg, Mode: mode, Stdout: io.Discard, Logger: testLogger(t, cfg, mode)}
	runMain(t, m)
	return m
}

// runMain runs m in the background until stop is called or the test ends, and
// returns once m listens (at once for a worker). stop returns what Run
// returned; if the test has not called it, the cleanup reports Run's error
// as the test's failure. A panic in Run is turned into such an error, so
// that it fails the test that started this hookd instead of killing the
// test binary without naming any test.
func runMain(t *testing.T, m *Main) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan struct{})
	var runErr error
	go func() {
		defer close(exited)
		defer func() {
			if p := recover(); p != nil {
				runErr = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			}
		}()
		runErr = m.Run(ctx)
	}()
	stopped := func() error {
		cancel()
		<-exited
		return runErr
	}
	stoppedByTest := false
	stop = func() error {
		stoppedByTest = true
		return stopped()
	}
	t.Cleanup(func() {
		if err := stopped(); err != nil && !stoppedByTest {
			t.Errorf("hookd %s: %v", m.Mode, err)
		}
	})
	if m.Mode != "worker" {
		select {
		case <-readyChan(m):
		case <-exited:
			t.Fatalf("hookd %s exited: %v", m.Mode, runErr)
		}
	}
	return stop
}

// testLogger is the logger of a hookd that a test runs in process. Its
// lines go to the test binary's stderr as they are written (not to t.Log,
// which holds them until the test ends and loses them if the binary
// dies), each prefixed with the test's name: a run in which many tests
// run in parallel, some cutting Redis on purpose, must say whose hookd
// logged a Redis EOF.
func testLogger(t *testing.T, cfg Config, mode string) *slog.Logger {
	return newLogger(cfg, prefixWriter{w: os.Stderr, prefix: t.Name() + ": hookd " + mode + ": "})
}

// prefixWriter prefixes each write, one log record from slog, with prefix.
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p prefixWriter) Write(b []byte) (int, error) {
	if _, err := p.w.Write(append([]byte(p.prefix), b...)); err != nil {
		return 0, err
	}
	return len(b), nil
}

func readyChan(m *Main) <-chan struct{} {
	ch := make(chan struct{})
	go func() { m.Addr(); close(ch) }()
	return ch
}

// client talks to a hookd API as one key.
type client struct {
	t   *testing.T
	url string
	key string
}

func newClient(t *testing.T, m *Main, key string) *client {
	return &client{t: t, url: "http://" + m.Addr(), key: key}
}

// waitListening waits until the hookd behind c answers /healthz, for a
// child process just started.
func (c *client) waitListening(timeout time.Duration) {
	c.t.Helper()
	eventually(c.t, timeout, "hookd to listen at "+c.url, func() bool {
		resp, err := http.Get(c.url + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
}

// do sends a request and decodes the answer into out; it returns the status.
func (c *client) do(method, path string, body any, out any) int {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string: // sent as it is, spacing and all
		r = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		r = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, c.url+path, r)
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

func (c *client) must(status int, method, path string, body any, out any) {
	c.t.Helper()
	if got := c.do(method, path, body, out); got != status {
		c.t.Fatalf("%s %s = %d, want %d", method, path, got, status)
	}
}

// receiver is a webhook endpoint that verifies every request's signature.
type receiver struct{ *hookdtest.Receiver }

// newReceiver starts a receiver that answers answer(n) to its n-th
// verified request (nil: 200).
func newReceiver(t *testing.T, answer func(n int) int) *receiver {
	r := hookdtest.NewReceiver(t)
	if answer != nil {
		r.Respond(answer)
	}
	return &receiver{r}
}

// newSwitchableReceiver answers failStatus until heal is called, then 200.
func newSwitchableReceiver(t *testing.T, failStatus int) (r *receiver, heal func()) {
	var healthy atomic.Bool
	r = newReceiver(t, func(int) int {
		if healthy.Load() {
			return http.StatusOK
		}
		return failStatus
	})
	return r, func() { healthy.Store(true) }
}

// snapshot returns the verified requests per message id, and the requests
// refused.
func (r *receiver) snapshot() (received map[string]int, badSigs int) {
	return r.Times(), r.Rejected()
}

// body is the last body received for a message.
func (r *receiver) body(id string) string {
	var body string
	for _, d := range r.Deliveries() {
		if d.MessageID == id {
			body = string(d.Body)
		}
	}
	return body
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type delivery struct {
	ID             string     `json:"id"`
	EndpointID     string     `json:"endpoint_id"`
	MessageID      string     `json:"message_id"`
	Status         string     `json:"status"`
	AttemptCount   int        `json:"attempt_count"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	LastStatusCode *int       `json:"last_status_code"`
	Attempts       []attempt  `json:"attempts"`
}

type attempt struct {
	Number             int               `json:"number"`
	Trigger            string            `json:"trigger"`
	ResponseStatusCode *int              `json:"response_status_code"`
	RequestHeaders     map[string]string `json:"request_headers"`
	ResponseBody       string            `json:"response_body"`
	Error              string            `json:"error"`
	CreatedAt          time.Time         `json:"created_at"`
}

type message struct {
	ID         string     `json:"id"`
	Deliveries []delivery `json:"deliveries"`
}

// setupTenant creates an event type, a tenant and an endpoint at the receiver.
func setupTenant(c *client, r *receiver) (tenant string) {
	c.must(201, "POST", "/v1/event-types", map[string]any{"name": "invoice.paid"}, nil)
	var ten struct{ ID string }
	c.must(201, "POST", "/v1/tenants", map[string]any{"uid": "acme", "name": "Acme"}, &ten)
	c.must(201, "POST", "/v1/tenants/acme/endpoints", map[string]any{
		"url": r.URL + "/hook", "event_types": []string{"invoice.paid"}, "secret": r.Secret(),
	}, nil)
	return ten.ID
}

func (c *client) deliveryError(id string) string {
	var d struct {
		LastError string `json:"last_error"`
	}
	c.must(200, "GET", "/v1/tenants/acme/deliveries/"+id, nil, &d)
	return d.LastError
}

func (c *client) delivery(id string) delivery {
	var d delivery
	c.must(200, "GET", "/v1/tenants/acme/deliveries/"+id, nil, &d)
	return d
}

func TestServeDeliversEachMessageWithValidSignatures(t *testing.T) {
	t.Parallel()
	m := start(t, "serve", backends(t))
	c := newClient(t, m, testAdminKey)
	r := newReceiver(t, nil)
	setupTenant(c, r)

	const n = 25
	sent := map[string]string{}
	for i := range n {
		var msg message
		payload := fmt.Sprintf(`{"invoice": %d,  "note": "kept byte for byte"}`, i)
		c.must(201, "POST", "/v1/tenants/acme/messages",
			`{"event_type": "invoice.paid", "payload": `+payload+`}`, &msg)
		if len(msg.Deliveries) != 1 {
			t.Fatalf("message has %d deliveries, want 1", len(msg.Deliveries))
		}
		sent[msg.ID] = payload
	}
	eventually(t, 20*time.Second, "every message received", func() bool {
		got, _ := r.snapshot()
		return len(got) == n
	})
	got, bad := r.snapshot()
	if bad != 0 {
		t.Fatalf("%d requests had bad signatures", bad)
	}
	for id, payload := range sent {
		if got[id] != 1 || r.body(id) != payload {
			t.Errorf("message %s: received %d times, body %q, want once with %q", id, got[id], r.body(id), payload)
		}
	}
	var list struct {
		Data []delivery `json:"data"`
	}
	eventually(t, 5*time.Second, "all deliveries succeeded", func() bool {
		c.must(200, "GET", "/v1/tenants/acme/deliveries?status=succeeded&limit=250", nil, &list)
		return len(list.Data) == n
	})
	d := c.delivery(list.Data[0].ID)
	if len(d.Attempts) != 1 || *d.Attempts[0].ResponseStatusCode != 200 || d.Attempts[0].ResponseBody != "answer 200" {
		t.Fatalf("attempts = %+v", d.Attempts)
	}
	if d.Attempts[0].RequestHeaders["webhook-id"] != d.MessageID {
		t.Fatalf("webhook-id %q, want the message id %s", d.Attempts[0].RequestHeaders["webhook-id"], d.MessageID)
	}

	resp, err := http.Get(c.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		fmt.Sprintf("hookd_messages_emitted_total %d", n),
		fmt.Sprintf(`hookd_attempts_total{result="success"} %d`, n),
		fmt.Sprintf(`hookd_deliveries_finished_total{status="succeeded"} %d`, n),
		"hookd_attempt_duration_seconds_count",
		fmt.Sprintf(`hookd_http_requests_total{code="201",method="POST",route="/v1/tenants/:tenant/messages"} %d`, n),
		`hookd_queue_tasks{state="pending"} 0`,
		"hookd_queue_latency_seconds 0",
		"hookd_deliveries_inflight 0",
		"hookd_deliveries_overdue 0",
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestRetriesUntilTheReceiverRecovers(t *testing.T) {
	t.Parallel()
	env := backends(t)
	env["HOOKD_RETRY_SCHEDULE"] = "1s,1s,1s"
	m := start(t, "serve", env)
	c := newClient(t, m, testAdminKey)
	r := newReceiver(t, func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	setupTenant(c, r)
	var msg message
	c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": map[string]int{"n": 1}}, &msg)
	id := msg.Deliveries[0].ID
	var d delivery
	eventually(t, 20*time.Second, "the third attempt to succeed", func() bool {
		d = c.delivery(id)
		return d.Status == "succeeded"
	})
	codes := []int{}
	for _, a := range d.Attempts {
		codes = append(codes, *a.ResponseStatusCode)
	}
	if fmt.Sprint(codes) != "[500 500 200]" || d.AttemptCount != 3 {
		t.Fatalf("attempt statuses %v (count %d), want [500 500 200]", codes, d.AttemptCount)
	}
	got, _ := r.snapshot()
	if got[msg.ID] != 3 {
		t.Fatalf("receiver saw webhook-id %s %d times, want 3 (same id on every retry)", msg.ID, got[msg.ID])
	}
}

func TestExhaustedScheduleFailsAndManualRetrySucceeds(t *testing.T) {
	t.Parallel()
	env := backends(t)
	env["HOOKD_RETRY_SCHEDULE"] = "1s"
	m := start(t, "serve", env)
	c := newClient(t, m, testAdminKey)
	r, heal := newSwitchableReceiver(t, http.StatusServiceUnavailable)
	setupTenant(c, r)
	var msg message
	c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": []int{1}}, &msg)
	id := msg.Deliveries[0].ID
	eventually(t, 15*time.Second, "the delivery to fail", func() bool { return c.delivery(id).Status == "failed" })
	if d := c.delivery(id); len(d.Attempts) != 2 {
		t.Fatalf("%d attempts, want 2 (first try and one retry)", len(d.Attempts))
	}
	heal()
	c.must(202, "POST", "/v1/tenants/acme/deliveries/"+id+"/retry", nil, nil)
	var d delivery
	eventually(t, 10*time.Second, "the manual retry to succeed", func() bool {
		d = c.delivery(id)
		return d.Status == "succeeded"
	})
	if last := d.Attempts[len(d.Attempts)-1]; last.Trigger != "manual" || *last.ResponseStatusCode != 200 {
		t.Fatalf("last attempt = %+v, want a manual 200", last)
	}
}

func TestSplitAPIAndWorkerProcesses(t *testing.T) {
	t.Parallel()
	env := backends(t)
	apiProc := start(t, "api", env)
	workerEnv := maps.Clone(env)
	workerEnv["HOOKD_METRICS_LISTEN"] = "127.0.0.1:" + freePort(t)
	start(t, "worker", workerEnv)
	start(t, "worker", env)
	c := newClient(t, apiProc, testAdminKey)
	r := newReceiver(t, nil)
	setupTenant(c, r)
	for range 10 {
		c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": map[string]any{}}, nil)
	}
	eventually(t, 20*time.Second, "ten messages through two workers", func() bool {
		got, _ := r.snapshot()
		return len(got) == 10
	})
	got, _ := r.snapshot()
	for id, n := range got {
		if n != 1 {
			t.Errorf("message %s received %d times, want once", id, n)
		}
	}

	// Each process serves the series it moves.
	apiMetrics, workerMetrics := scrape(t, c.url), scrape(t, "http://"+workerEnv["HOOKD_METRICS_LISTEN"])
	for _, want := range []string{"hookd_messages_emitted_total 10", "hookd_http_requests_total{"} {
		if !strings.Contains(apiMetrics, want) || strings.Contains(workerMetrics, want) {
			t.Errorf("%q: want it from the API only", want)
		}
	}
	for _, want := range []string{"hookd_attempts_total{", "hookd_queue_tasks{", "hookd_deliveries_inflight ", "hookd_sweeper_requeued_total "} {
		if !strings.Contains(workerMetrics, want) || strings.Contains(apiMetrics, want) {
			t.Errorf("%q: want it from the worker only", want)
		}
	}
}

// scrape returns the /metrics text at base.
func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestLostQueueIsRecoveredBySweeper(t *testing.T) {
	t.Parallel()
	env := backends(t)
	env["HOOKD_RETRY_SCHEDULE"] = "2s"
	m := start(t, "serve", env)
	c := newClient(t, m, testAdminKey)
	r := newReceiver(t, func(n int) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	setupTenant(c, r)
	var msg message
	c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": map[string]any{}}, &msg)
	id := msg.Deliveries[0].ID
	eventually(t, 10*time.Second, "the first attempt", func() bool { return c.delivery(id).AttemptCount == 1 })

	// Lose the scheduled retry, as a Redis restart without persistence would.
	opt, err := asynq.ParseRedisURI(env["HOOKD_REDIS_URL"])
	if err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	// The retry is enqueued after its attempt is recorded: wait for it.
	eventually(t, 10*time.Second, "the retry to be scheduled", func() bool {
		tasks, err := insp.ListScheduledTasks(env["HOOKD_QUEUE"])
		return err == nil && len(tasks) == 1
	})
	n, err := insp.DeleteAllScheduledTasks(env["HOOKD_QUEUE"])
	if err != nil || n != 1 {
		t.Fatalf("deleted %d scheduled tasks, %v; want the one retry", n, err)
	}
	eventually(t, 15*time.Second, "the sweeper to bring the retry back", func() bool {
		return c.delivery(id).Status == "succeeded"
	})
}

func TestEmbeddedDefaultSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{
		"HOOKD_DATA_DIR": dir, "HOOKD_LISTEN": "127.0.0.1:0", "HOOKD_ALLOW_PRIVATE_NETWORKS": "true",
		"HOOKD_RETRY_SCHEDULE": "2s", "HOOKD_SWEEP_INTERVAL": "200ms", "HOOKD_LOG_LEVEL": "warn",
	}
	// No admin key configured: the first start generates and prints one.
	cfg, err := LoadConfig("serve", nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	out := &syncWriter{}
	first := &Main{Config: cfg, Mode: "serve", Stdout: out, Logger: testLogger(t, cfg, "serve")}
	stopFirst := runMain(t, first)
	key := ""
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "hk_") {
			key = strings.TrimSpace(line)
		}
	}
	if key == "" {
		t.Fatalf("no admin key printed on first start:\n%s", out.String())
	}
	c := newClient(t, first, key)
	r := newReceiver(t, func(n int) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	setupTenant(c, r)
	var msg message
	c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": map[string]any{}}, &msg)
	id := msg.Deliveries[0].ID
	eventually(t, 10*time.Second, "the first attempt", func() bool { return c.delivery(id).AttemptCount == 1 })
	// The retry was only in the in-process Redis, which is now gone.
	if err := stopFirst(); err != nil {
		t.Fatal(err)
	}

	second := start(t, "serve", env)
	c2 := newClient(t, second, key)
	eventually(t, 15*time.Second, "the retry after the restart", func() bool {
		return c2.delivery(id).Status == "succeeded"
	})

	// The embedded mode made a key and encrypts endpoint secrets with it.
	if fi, err := os.Stat(filepath.Join(dir, "secret.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret.key: %v, %v", fi, err)
	}
	db, err := models.Open(context.Background(), models.OpenOpts{SQLitePath: filepath.Join(dir, "hookd.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB(db)
	var stored string
	db.Raw("SELECT secret FROM endpoints").Scan(&stored)
	if !strings.HasPrefix(stored, "enc:v1:") || strings.Contains(stored, r.Secret()[6:]) {
		t.Fatalf("the endpoint secret is stored as %q", stored)
	}
}

// syncWriter lets a test read what hookd prints while it runs.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func TestGoneDisablesTheEndpoint(t *testing.T) {
	t.Parallel()
	m := start(t, "serve", backends(t))
	c := newClient(t, m, testAdminKey)
	r := newReceiver(t, func(int) int { return http.StatusGone })
	setupTenant(c, r)
	var msg message
	c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": map[string]any{}}, &msg)
	eventually(t, 10*time.Second, "the delivery to fail", func() bool { return c.delivery(msg.Deliveries[0].ID).Status == "failed" })
	var eps struct {
		Data []struct {
			Enabled        bool   `json:"enabled"`
			DisabledReason string `json:"disabled_reason"`
		} `json:"data"`
	}
	c.must(200, "GET", "/v1/tenants/acme/endpoints", nil, &eps)
	if eps.Data[0].Enabled || !strings.Contains(eps.Data[0].DisabledReason, "410") {
		t.Fatalf("endpoint after a 410: %+v", eps.Data[0])
	}
	// A disabled endpoint gets no new deliveries.
	c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": map[string]any{}}, &msg)
	if len(msg.Deliveries) != 0 {
		t.Fatalf("a disabled endpoint got %d deliveries", len(msg.Deliveries))
	}
}

func TestRotateTestAndRecover(t *testing.T) {
	t.Parallel()
	env := backends(t)
	env["HOOKD_RETRY_SCHEDULE"] = "1s"
	m := start(t, "serve", env)
	c := newClient(t, m, testAdminKey)
	r, heal := newSwitchableReceiver(t, http.StatusInternalServerError)
	setupTenant(c, r)
	var eps struct{ Data []struct{ ID string } }
	c.must(200, "GET", "/v1/tenants/acme/endpoints", nil, &eps)
	ep := "/v1/tenants/acme/endpoints/" + eps.Data[0].ID

	// Two messages fail for good while the receiver is down.
	since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	var ids []string
	for range 2 {
		var msg message
		c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": map[string]any{}}, &msg)
		ids = append(ids, msg.Deliveries[0].ID)
	}
	for _, id := range ids {
		eventually(t, 15*time.Second, "the delivery to fail", func() bool { return c.delivery(id).Status == "failed" })
	}
	heal()

	// Rotate: the receiver still holds the old secret, which keeps signing during the grace period.
	var rotated struct {
		Key                  string     `json:"key"`
		PreviousKeyExpiresAt *time.Time `json:"previous_key_expires_at"`
	}
	c.must(200, "POST", ep+"/secret/rotate", nil, &rotated)
	if rotated.Key == r.Secret() || rotated.PreviousKeyExpiresAt == nil {
		t.Fatalf("rotation = %+v", rotated)
	}
	c.must(422, "POST", ep+"/recover", map[string]any{"since": "last week"}, nil)
	var recovered struct{ Recovered int }
	c.must(202, "POST", ep+"/recover", map[string]any{"since": since}, &recovered)
	if recovered.Recovered != 2 {
		t.Fatalf("recovered %d, want 2", recovered.Recovered)
	}
	for _, id := range ids {
		eventually(t, 10*time.Second, "the recovered delivery to succeed", func() bool { return c.delivery(id).Status == "succeeded" })
	}
	d := c.delivery(ids[0])
	if sig := d.Attempts[len(d.Attempts)-1].RequestHeaders["webhook-signature"]; len(strings.Fields(sig)) != 2 {
		t.Fatalf("signature after rotation %q, want the new and the old secret's", sig)
	}

	// The receiver switches to the new secret; a test ping verifies with it.
	r.SetSecret(rotated.Key)
	var ping message
	c.must(201, "POST", ep+"/test", nil, &ping)
	eventually(t, 10*time.Second, "the ping", func() bool {
		got, _ := r.snapshot()
		return got[ping.ID] == 1
	})
	if _, bad := r.snapshot(); bad != 0 {
		t.Fatalf("%d requests failed verification", bad)
	}
}
