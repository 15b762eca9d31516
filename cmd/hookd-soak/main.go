// Command hookd-soak runs minutes of load through real hookd processes while
// injecting faults at random (worker SIGKILL, Redis flush, Redis restart),
// then checks that nothing was lost:
//
//	go run ./cmd/hookd-soak -messages 10000 -rate 100
//
// It prints emitted, delivered (distinct webhook-ids), duplicates, failed
// and lost; lost must be 0. It uses the embedded SQLite unless
// -database-url names a PostgreSQL database, and a redis-server of its own
// (or an in-process Redis when there is none), since it flushes it.
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
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
	"gorm.io/gorm"

	"hookd.dev/hookd/dispatcher/embedredis"
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
}

func main() {
	var o options
	flag.IntVar(&o.messages, "messages", 10_000, "messages to emit")
	flag.IntVar(&o.workers, "workers", 2, "hookd worker processes")
	flag.IntVar(&o.concurrency, "concurrency", 16, "concurrent emitters")
	flag.Float64Var(&o.failRate, "fail-rate", 0.05, "share of requests the receiver answers 500")
	flag.StringVar(&o.dbURL, "database-url", "", "PostgreSQL URL of an empty database; empty: SQLite in a temporary directory")
	flag.IntVar(&o.faults, "faults", 4, "faults to inject at random while emitting (at least one worker kill and one Redis flush)")
	flag.Float64Var(&o.rate, "rate", 100, "messages per second (0: as fast as possible), so that the load lasts minutes")
	flag.IntVar(&o.endpointMax, "endpoint-concurrency", 0, "the endpoint's max_concurrency (0: hookd's default)")
	flag.BoolVar(&o.preload, "preload", false, "emit everything first, then start the workers, to time delivery alone (no faults)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up waiting for the deliveries after this")
	flag.Parse()
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
	rs, err := startRedis()
	if err != nil {
		return err
	}
	defer rs.stop()

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
		"HOOKD_DATABASE_URL=" + o.dbURL, "HOOKD_DATA_DIR=" + dir, "HOOKD_REDIS_URL=" + rs.url,
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
	workers := make([]*exec.Cmd, o.workers)
	startWorkers := func() error {
		for i := range workers {
			if workers[i], err = procs.startCmd("worker"); err != nil {
				return err
			}
		}
		return nil
	}
	if o.preload {
		o.faults = 0 // there are no workers to kill while emitting
	} else if err := startWorkers(); err != nil {
		return err
	}
	api := &apiClient{base: base}
	if err := api.setup("http://"+recvLn.Addr().String()+"/hook", o.endpointMax); err != nil {
		return err
	}

	// Faults at random moments while emitting; with two or more, at least one kill and one flush.
	var kinds []string
	if o.faults >= 2 {
		kinds = []string{"kill-worker", "flush-redis"}
	}
	for len(kinds) < o.faults {
		kinds = append(kinds, []string{"kill-worker", "flush-redis", "restart-redis"}[rand.IntN(3)]) //nolint:gosec // not security
	}
	faultAt := map[int]string{}
	for _, k := range kinds {
		faultAt[o.messages/10+rand.IntN(o.messages*8/10)] = k //nolint:gosec // not security
	}

	pace := rate.NewLimiter(rate.Inf, 1)
	if o.rate > 0 {
		pace = rate.NewLimiter(rate.Limit(o.rate), 1)
	}
	start := time.Now()
	var next atomic.Int64
	var accepted sync.Map
	var refused atomic.Int64
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
					fmt.Printf("%6.1fs fault: %s (after %d emits)\n", time.Since(start).Seconds(), kind, i)
					switch kind {
					case "kill-worker":
						w := rand.IntN(len(workers)) //nolint:gosec // not security
						_ = workers[w].Process.Signal(syscall.SIGKILL)
						_ = workers[w].Wait()
						if c, err := procs.startCmd("worker"); err == nil {
							workers[w] = c
						}
					case "flush-redis":
						rs.flush()
					case "restart-redis":
						rs.restart()
					}
					faultMu.Unlock()
				}
				id, err := api.emit(i)
				if err != nil {
					refused.Add(1)
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
	fmt.Printf("%6.1fs emitted %d (%d refused) in %s; waiting for the deliveries to end\n", time.Since(start).Seconds(), len(ids), refused.Load(), emitTime.Round(time.Millisecond))
	if o.preload {
		start = time.Now() // time the delivery alone
		if err := startWorkers(); err != nil {
			return err
		}
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

func (a *apiClient) emit(i int) (string, error) {
	var msg struct{ ID string }
	status, err := a.call("POST", "/v1/tenants/soak/messages", map[string]any{"event_type": "soak.test", "payload": map[string]int{"n": i}}, &msg)
	if err != nil {
		return "", fmt.Errorf("emit: %w", err)
	}
	if status != http.StatusCreated {
		return "", fmt.Errorf("emit: status %d", status)
	}
	return msg.ID, nil
}

// processes runs hookd subprocesses.
type processes struct {
	bin, dir string
	env      []string
	mu       sync.Mutex
	cmds     []*exec.Cmd
}

func (p *processes) start(mode string) error { _, err := p.startCmd(mode); return err }

func (p *processes) startCmd(mode string) (*exec.Cmd, error) {
	cmd := exec.Command(p.bin, mode) //nolint:gosec // our own binary
	cmd.Env = append(os.Environ(), p.env...)
	log, err := os.OpenFile(filepath.Join(p.dir, mode+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600) //nolint:gosec // our temp dir
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.cmds = append(p.cmds, cmd)
	p.mu.Unlock()
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

// redisServer is the soak's own Redis, which it flushes and restarts.
type redisServer struct {
	url     string
	flush   func()
	restart func()
	stop    func()
}

func startRedis() (*redisServer, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		r, err := embedredis.Start()
		if err != nil {
			return nil, err
		}
		return &redisServer{url: r.URL(), flush: r.FlushAll, restart: r.FlushAll, stop: r.Close}, nil
	}
	port := freePort()
	var mu sync.Mutex
	var cmd *exec.Cmd
	run := func() {
		cmd = exec.Command(path, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no") //nolint:gosec // fixed binary
		_ = cmd.Start()
	}
	run()
	url := "redis://127.0.0.1:" + port + "/0"
	opt, _ := redis.ParseURL(url)
	rdb := redis.NewClient(opt)
	for range 50 {
		if rdb.Ping(context.Background()).Err() == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return &redisServer{
		url:   url,
		flush: func() { rdb.FlushAll(context.Background()) },
		restart: func() {
			mu.Lock()
			defer mu.Unlock()
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			run()
		},
		stop: func() {
			mu.Lock()
			defer mu.Unlock()
			_ = rdb.Close()
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		},
	}, nil
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
