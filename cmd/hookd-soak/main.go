// Command hookd-soak runs minutes of load through real hookd processes while
// injecting faults at random (worker SIGKILL, Redis flush, Redis restart,
// and on request PostgreSQL or Redis unreachable for a while), then checks
// that nothing was lost:
//
//	go run ./cmd/hookd-soak -messages 10000 -rate 100
//	go run ./cmd/hookd-soak -database-url postgres://… -fault-kinds db-outage,redis-outage -faults 2
//
// It prints emitted, delivered (distinct webhook-ids), duplicates, failed
// and lost; lost must be 0. Emits the API refuses (a 503 while the database
// is unreachable) are counted as refused and not expected to arrive; every
// accepted one must. It uses the embedded SQLite unless -database-url names a
// PostgreSQL database, and a redis-server of its own (or an in-process Redis
// when there is none), since it flushes it. The outages put a TCP proxy
// between hookd and the backend and cut it: every connection is closed and
// new ones are refused until the outage ends; the data stays.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/time/rate"
	"gorm.io/gorm"

	"hookd.dev/hookd/cmd/internal/redisserver"
	"hookd.dev/hookd/cmd/internal/tcpproxy"
	"hookd.dev/hookd/models"
)

const adminKey = "hk_soak_admin_0123456789abcdefghijk"

type options struct {
	messages    int
	workers     int
	concurrency int
	failRate    float64
	dbURL       string
	faults      int
	rate        float64
	endpointMax int
	preload     bool
	timeout     time.Duration
	faultKinds  []string
	dbOutage    time.Duration
	redisOutage time.Duration
}

// allFaultKinds are the faults the soak can inject.
var allFaultKinds = []string{"kill-worker", "flush-redis", "restart-redis", "db-outage", "redis-outage"}

func main() {
	var o options
	flag.IntVar(&o.messages, "messages", 10_000, "messages to emit")
	flag.IntVar(&o.workers, "workers", 2, "hookd worker processes")
	flag.IntVar(&o.concurrency, "concurrency", 16, "concurrent emitters")
	flag.Float64Var(&o.failRate, "fail-rate", 0.05, "share of requests the receiver answers 500")
	flag.StringVar(&o.dbURL, "database-url", "", "PostgreSQL URL of an empty database; empty: SQLite in a temporary directory")
	flag.IntVar(&o.faults, "faults", 4, "faults to inject at random while emitting (each of -fault-kinds at least once when there are enough, the first ones first)")
	kinds := flag.String("fault-kinds", "kill-worker,flush-redis,restart-redis", "comma-separated faults to draw from: "+strings.Join(allFaultKinds, ", ")+" (db-outage needs a PostgreSQL -database-url)")
	flag.DurationVar(&o.dbOutage, "db-outage", 60*time.Second, "how long a db-outage keeps PostgreSQL unreachable")
	flag.DurationVar(&o.redisOutage, "redis-outage", 60*time.Second, "how long a redis-outage keeps Redis unreachable (stopped, not flushed)")
	flag.Float64Var(&o.rate, "rate", 100, "messages per second (0: as fast as possible), so that the load lasts minutes")
	flag.IntVar(&o.endpointMax, "endpoint-concurrency", 0, "the endpoint's max_concurrency (0: hookd's default)")
	flag.BoolVar(&o.preload, "preload", false, "emit everything first, then start the workers, to time delivery alone (no faults)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up waiting for the deliveries after this")
	flag.Parse()
	for k := range strings.SplitSeq(*kinds, ",") {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		if !slices.Contains(allFaultKinds, k) {
			fmt.Fprintf(os.Stderr, "hookd-soak: unknown fault kind %q (want %s)\n", k, strings.Join(allFaultKinds, ", "))
			os.Exit(2)
		}
		o.faultKinds = append(o.faultKinds, k)
	}
	if o.faults > 0 && len(o.faultKinds) == 0 {
		fmt.Fprintln(os.Stderr, "hookd-soak: -faults needs at least one of -fault-kinds")
		os.Exit(2)
	}
	if slices.Contains(o.faultKinds, "db-outage") && !strings.HasPrefix(o.dbURL, "postgres://") && !strings.HasPrefix(o.dbURL, "postgresql://") {
		fmt.Fprintln(os.Stderr, "hookd-soak: db-outage needs a PostgreSQL -database-url: SQLite is a file, it cannot become unreachable")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "hookd-soak:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	dir, err := os.MkdirTemp("", "hookd-soak")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "hookd")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/hookd").CombinedOutput(); err != nil { //nolint:gosec // our temp dir
		return fmt.Errorf("build hookd (run from the repository root): %w\n%s", err, out)
	}
	rs, err := redisserver.Start()
	if err != nil {
		return err
	}
	defer rs.Close()

	// The outages need a proxy to cut between hookd and the backend; the
	// soak itself reads the database directly.
	hookdDBURL, hookdRedisURL := o.dbURL, rs.URL
	var dbProxy, redisProxy *tcpproxy.Proxy
	if slices.Contains(o.faultKinds, "db-outage") && o.faults > 0 {
		if dbProxy, hookdDBURL, err = tcpproxy.ForURL(o.dbURL, "5432"); err != nil {
			return fmt.Errorf("proxy the database: %w", err)
		}
		defer dbProxy.Close()
	}
	if slices.Contains(o.faultKinds, "redis-outage") && o.faults > 0 {
		if redisProxy, hookdRedisURL, err = tcpproxy.ForURL(rs.URL, "6379"); err != nil {
			return fmt.Errorf("proxy Redis: %w", err)
		}
		defer redisProxy.Close()
	}

	recv := newReceiver(o.failRate)
	recvLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	recvSrv := &http.Server{Handler: recv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = recvSrv.Serve(recvLn) }()
	defer recvSrv.Close()

	apiPort := freePort()
	env := []string{
		"HOOKD_DATABASE_URL=" + hookdDBURL, "HOOKD_DATA_DIR=" + dir, "HOOKD_REDIS_URL=" + hookdRedisURL,
		"HOOKD_ADMIN_KEY=" + adminKey, "HOOKD_LISTEN=127.0.0.1:" + apiPort, "HOOKD_ALLOW_PRIVATE_NETWORKS=true",
		"HOOKD_RETRY_SCHEDULE=1s,2s,4s,8s,8s,8s,8s,8s", "HOOKD_SWEEP_INTERVAL=1s", "HOOKD_DELIVERY_TIMEOUT=5s",
		"HOOKD_LOG_LEVEL=error",
	}
	procs := &processes{bin: bin, env: env, dir: dir}
	defer procs.stopAll()
	if err := procs.start("api"); err != nil {
		return err
	}
	base := "http://127.0.0.1:" + apiPort
	if err := waitHTTP(base + "/healthz"); err != nil {
		return err
	}
	workers := newWorkerPool(procs, o.workers)
	defer workers.stop()
	if o.preload {
		o.faults = 0 // there are no workers to kill while emitting
	} else {
		workers.start()
	}
	api := &apiClient{base: base}
	if err := api.setup("http://"+recvLn.Addr().String()+"/hook", o.endpointMax); err != nil {
		return err
	}

	start := time.Now()
	// Faults at random moments while emitting: each kind once (the first
	// ones first, when there are fewer faults than kinds), then at random.
	var kinds []string
	for len(kinds) < o.faults {
		if len(kinds) < len(o.faultKinds) {
			kinds = append(kinds, o.faultKinds[len(kinds)])
		} else {
			kinds = append(kinds, o.faultKinds[rand.IntN(len(o.faultKinds))]) //nolint:gosec // not security
		}
	}
	faultAt := map[int]string{}
	for _, k := range kinds {
		for range 100 { // a free emit, so that no fault replaces another
			at := o.messages/10 + rand.IntN(max(1, o.messages*8/10)) //nolint:gosec // not security
			if _, taken := faultAt[at]; !taken {
				faultAt[at] = k
				break
			}
		}
	}
	// An outage cuts its proxy and restores it later, while the emits go on.
	var outages sync.WaitGroup
	outage := func(kind string, p *tcpproxy.Proxy, d time.Duration) {
		p.Cut()
		outages.Go(func() {
			time.Sleep(d)
			p.Restore()
			fmt.Printf("%6.1fs fault ended: %s (after %s)\n", time.Since(start).Seconds(), kind, d)
		})
	}

	pace := rate.NewLimiter(rate.Inf, 1)
	if o.rate > 0 {
		pace = rate.NewLimiter(rate.Limit(o.rate), 1)
	}
	var next atomic.Int64
	var accepted sync.Map
	var refused atomic.Int64
	var refusedMu sync.Mutex
	refusedBy := map[string]int{} // status, or "error"
	var wg sync.WaitGroup
	var faultMu sync.Mutex
	for range o.concurrency {
		wg.Go(func() {
			for {
				_ = pace.Wait(context.Background())
				i := int(next.Add(1)) - 1
				if i >= o.messages {
					return
				}
				if kind, ok := faultAt[i]; ok {
					faultMu.Lock()
					switch kind {
					case "db-outage":
						fmt.Printf("%6.1fs fault: %s for %s (after %d emits)\n", time.Since(start).Seconds(), kind, o.dbOutage, i)
					case "redis-outage":
						fmt.Printf("%6.1fs fault: %s for %s (after %d emits)\n", time.Since(start).Seconds(), kind, o.redisOutage, i)
					default:
						fmt.Printf("%6.1fs fault: %s (after %d emits)\n", time.Since(start).Seconds(), kind, i)
					}
					switch kind {
					case "kill-worker":
						workers.kill(rand.IntN(o.workers)) //nolint:gosec // not security
					case "flush-redis":
						rs.Flush()
					case "restart-redis":
						if err := rs.Restart(); err != nil {
							fmt.Printf("%6.1fs fault: restart-redis: %v\n", time.Since(start).Seconds(), err)
						}
					case "db-outage":
						outage(kind, dbProxy, o.dbOutage)
					case "redis-outage":
						outage(kind, redisProxy, o.redisOutage)
					}
					faultMu.Unlock()
				}
				id, status, err := api.emit(i)
				if err != nil {
					refused.Add(1)
					why := "error"
					if status != 0 {
						why = fmt.Sprint(status)
					}
					refusedMu.Lock()
					refusedBy[why]++
					refusedMu.Unlock()
					continue
				}
				accepted.Store(id, true)
			}
		})
	}
	wg.Wait()
	emitTime := time.Since(start)
	ids := []string{}
	accepted.Range(func(k, _ any) bool { ids = append(ids, k.(string)); return true })
	fmt.Printf("%6.1fs emitted %d (%d refused%s) in %s; waiting for the deliveries to end\n", time.Since(start).Seconds(), len(ids), refused.Load(), describe(refusedBy), emitTime.Round(time.Millisecond))
	outages.Wait() // the deliveries cannot end before the backends are back
	if o.preload {
		start = time.Now() // time the delivery alone
		workers.start()
	}

	db, err := openDB(o.dbURL, dir)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(o.timeout)
	var counts map[string]int64
	for {
		if counts, err = statusCounts(db); err != nil {
			return err
		}
		if counts[models.StatusPending]+counts[models.StatusInflight] == 0 {
			break
		}
		if time.Now().After(deadline) {
			fmt.Printf("gave up after %s with %v\n", o.timeout, counts)
			break
		}
		time.Sleep(time.Second)
	}

	var failedIDs []string
	if err := db.Model(&models.Delivery{}).Where("status = ?", models.StatusFailed).Pluck("message_id", &failedIDs).Error; err != nil {
		return err
	}
	failed := map[string]bool{}
	for _, id := range failedIDs {
		failed[id] = true
	}
	delivered, duplicates, lost := 0, 0, 0
	if n := recv.others(&accepted); n > 0 {
		fmt.Printf("%d webhook-ids arrived whose emit was not accepted (a refused emit must store nothing, unless its answer was lost)\n", n)
	}
	for _, id := range ids {
		n := recv.count(id)
		switch {
		case n > 0:
			delivered++
			duplicates += n - 1
		case failed[id]:
		default:
			lost++
		}
	}
	took := time.Since(start)
	fmt.Printf("\nemitted=%d delivered=%d duplicates=%d failed=%d lost=%d (in %s, %d faults, %.0f deliveries/s)\n",
		len(ids), delivered, duplicates, len(failedIDs), lost, took.Round(time.Second), len(kinds), float64(delivered)/took.Seconds())
	if lost > 0 {
		return fmt.Errorf("%d messages lost", lost)
	}
	return nil
}

// receiver counts webhook-ids and fails a share of requests.
type receiver struct {
	failRate float64
	mu       sync.Mutex
	seen     map[string]int
}

func newReceiver(failRate float64) *receiver {
	return &receiver{failRate: failRate, seen: map[string]int{}}
}

// others counts the webhook-ids seen that are not in accepted.
func (r *receiver) others(accepted *sync.Map) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for id := range r.seen {
		if _, ok := accepted.Load(id); !ok {
			n++
		}
	}
	return n
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	_, _ = io.Copy(io.Discard, req.Body)
	if rand.Float64() < r.failRate { //nolint:gosec // not security
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	r.mu.Lock()
	r.seen[req.Header.Get("webhook-id")]++
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[id]
}

// apiClient speaks just enough of the API for the soak.
type apiClient struct{ base string }

func (a *apiClient) call(method, path string, body any, out any) (int, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, a.base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+adminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode, nil
}

func (a *apiClient) setup(url string, maxConcurrency int) error {
	for _, step := range []struct {
		path string
		body any
	}{
		{"/v1/event-types", map[string]any{"name": "soak.test"}},
		{"/v1/tenants", map[string]any{"uid": "soak"}},
		{"/v1/tenants/soak/endpoints", map[string]any{"url": url, "event_types": []string{"*"}, "max_concurrency": maxConcurrency}},
	} {
		status, err := a.call("POST", step.path, step.body, nil)
		if err != nil {
			return fmt.Errorf("POST %s: %w", step.path, err)
		}
		if status != http.StatusCreated {
			return fmt.Errorf("POST %s: status %d", step.path, status)
		}
	}
	return nil
}

// emit returns the message id, or the status (0: no answer) and an error.
func (a *apiClient) emit(i int) (string, int, error) {
	var msg struct{ ID string }
	status, err := a.call("POST", "/v1/tenants/soak/messages", map[string]any{"event_type": "soak.test", "payload": map[string]int{"n": i}}, &msg)
	if err != nil {
		return "", 0, fmt.Errorf("emit: %w", err)
	}
	if status != http.StatusCreated || msg.ID == "" {
		return "", status, fmt.Errorf("emit: status %d", status)
	}
	return msg.ID, status, nil
}

// describe lists the refusals by cause: ": 503×12, error×1".
func describe(by map[string]int) string {
	var parts []string
	for k, n := range by {
		parts = append(parts, fmt.Sprintf("%s×%d", k, n))
	}
	if len(parts) == 0 {
		return ""
	}
	sort.Strings(parts)
	return ": " + strings.Join(parts, ", ")
}

// processes runs hookd subprocesses.
type processes struct {
	bin, dir string
	env      []string
	mu       sync.Mutex
	cmds     []*exec.Cmd
}

// start runs a process that stopAll stops.
func (p *processes) start(mode string) error {
	cmd, err := p.startCmd(mode)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.cmds = append(p.cmds, cmd)
	p.mu.Unlock()
	return nil
}

// startCmd runs a process that the caller waits for and stops.
func (p *processes) startCmd(mode string) (*exec.Cmd, error) {
	cmd := exec.Command(p.bin, mode) //nolint:gosec // our own binary
	cmd.Env = append(os.Environ(), p.env...)
	log, err := os.OpenFile(filepath.Join(p.dir, mode+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600) //nolint:gosec // our temp dir
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = log, log
	err = cmd.Start()
	_ = log.Close() // the child holds its own copy
	if err != nil {
		return nil, err
	}
	return cmd, nil
}

func (p *processes) stopAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.cmds {
		_ = c.Process.Signal(syscall.SIGTERM)
	}
	for _, c := range p.cmds {
		_ = c.Wait()
	}
}

// workerPool keeps n worker processes running: one that exits, killed or on
// its own (a worker started while the database is unreachable exits at once),
// is started again, after a second when it was not killed.
type workerPool struct {
	procs    *processes
	mu       sync.Mutex
	cmds     []*exec.Cmd
	killed   []bool
	stopping bool
	wg       sync.WaitGroup
}

func newWorkerPool(procs *processes, n int) *workerPool {
	return &workerPool{procs: procs, cmds: make([]*exec.Cmd, n), killed: make([]bool, n)}
}

func (w *workerPool) start() {
	for i := range w.cmds {
		w.wg.Go(func() {
			for {
				w.mu.Lock()
				if w.stopping {
					w.mu.Unlock()
					return
				}
				cmd, err := w.procs.startCmd("worker")
				w.cmds[i] = cmd
				w.mu.Unlock()
				if err == nil {
					_ = cmd.Wait()
				}
				w.mu.Lock()
				killed := w.killed[i]
				w.killed[i] = false
				w.mu.Unlock()
				if !killed {
					time.Sleep(time.Second)
				}
			}
		})
	}
}

// kill SIGKILLs worker i, which is then started again.
func (w *workerPool) kill(i int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c := w.cmds[i]; c != nil && c.Process != nil {
		w.killed[i] = true
		_ = c.Process.Signal(syscall.SIGKILL)
	}
}

func (w *workerPool) stop() {
	w.mu.Lock()
	w.stopping = true
	for _, c := range w.cmds {
		if c != nil && c.Process != nil {
			_ = c.Process.Signal(syscall.SIGTERM)
		}
	}
	w.mu.Unlock()
	w.wg.Wait()
}

func openDB(url, dir string) (*gorm.DB, error) {
	return models.Open(context.Background(), models.OpenOpts{URL: url, SQLitePath: filepath.Join(dir, "hookd.db")})
}

func statusCounts(db *gorm.DB) (map[string]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	err := db.Model(&models.Delivery{}).Select("status, count(*) AS n").Group("status").Scan(&rows).Error
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, err
}

func waitHTTP(url string) error {
	for range 100 {
		if resp, err := http.Get(url); err == nil { //nolint:gosec // our own address
			resp.Body.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer", url)
}

func freePort() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}
