package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"

	"hookd.dev/hookd/dispatcher/signature"
)

// throughputOpts are the flags of `hookd-bench throughput`.
type throughputOpts struct {
	databaseURL string
	redisURL    string
	embedded    bool
	split       bool
	messages    int
	concurrency int
	endpoints   int
	endpoint    string
	size        int
	rate        int
	ceiling     string
	profileDir  string
	timeout     time.Duration
	env         string
	bin         string
	reps        int
}

// runThroughput starts hookd as a child process, emits messages through its
// API, receives them on a receiver that verifies every signature, and prints
// the end-to-end rate, latencies, peak RSS, CPU per process, lost and
// duplicates; optionally beside the minimal pipeline of ../shared/perf.
func runThroughput(args []string) error {
	var o throughputOpts
	fs := flag.NewFlagSet("hookd-bench throughput", flag.ContinueOnError)
	fs.StringVar(&o.databaseURL, "database-url", "postgres://postgres@127.0.0.1:5432/hookd_bench_tp?sslmode=disable", "PostgreSQL database for hookd, dropped and created anew")
	fs.StringVar(&o.redisURL, "redis-url", "redis://127.0.0.1:6379/11", "Redis for hookd; this database number is FLUSHed first")
	fs.BoolVar(&o.embedded, "embedded", false, "run hookd serve embedded (SQLite + in-process Redis) instead")
	fs.BoolVar(&o.split, "split", false, "run hookd api and hookd worker as two processes instead of hookd serve")
	fs.IntVar(&o.messages, "n", 20000, "messages to emit")
	fs.IntVar(&o.concurrency, "c", 16, "concurrent emitters")
	fs.IntVar(&o.endpoints, "endpoints", 1, "endpoints subscribed to the event type (fan-out)")
	fs.StringVar(&o.endpoint, "endpoint", "", `more fields of each endpoint, as JSON: '{"filter": "data.amount > 100"}', '{"ordering": "fifo"}' (payloads hold id, amount 4200, currency EUR, pad)`)
	fs.IntVar(&o.size, "size", 1024, "payload bytes")
	fs.IntVar(&o.rate, "rate", 0, "emit at this steady rate per second (0: as fast as the emitters go)")
	fs.StringVar(&o.ceiling, "ceiling", "", "directory of the minimal pipeline (../shared/perf): run it too, same n, and print the ratio")
	fs.StringVar(&o.profileDir, "profile", "", "write CPU profiles of hookd (pprof) taken during the run into this directory")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up waiting for deliveries after this")
	fs.StringVar(&o.env, "env", "", "extra hookd settings, comma-separated KEY=VALUE")
	fs.StringVar(&o.bin, "bin", "", "hookd binaries to measure, comma-separated (default: build ./cmd/hookd); several are run in turn, rep after rep")
	fs.IntVar(&o.reps, "reps", 1, "repetitions; with several -bin builds they alternate, so that the machine's drift falls on each alike")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.split && o.embedded {
		return errors.New("-split needs PostgreSQL and Redis: it cannot go with -embedded")
	}
	ctx := context.Background()
	// The minimal pipeline runs at the start and at the end, and hookd is
	// held against their mean: the machine drifts over a run.
	var ceilingRates []float64
	measureCeiling := func() error {
		if o.ceiling == "" {
			return nil
		}
		rate, err := runCeiling(ctx, o)
		if err != nil {
			return fmt.Errorf("minimal pipeline: %w", err)
		}
		ceilingRates = append(ceilingRates, rate)
		return nil
	}
	if err := measureCeiling(); err != nil {
		return err
	}
	bins := strings.Split(o.bin, ",")
	rates := make(map[string][]float64, len(bins))
	for range max(o.reps, 1) {
		for _, bin := range bins {
			run := o
			run.bin = bin
			res, err := benchHookd(ctx, run)
			if err != nil {
				return err
			}
			if bin != "" {
				fmt.Printf("\n[%s]", bin)
			}
			res.print(run)
			rates[bin] = append(rates[bin], res.rate)
		}
	}
	if len(bins) > 1 || o.reps > 1 {
		fmt.Println("\nmedian deliveries/s over the repetitions:")
		for _, bin := range bins {
			fmt.Printf("  %-40s %8.0f  (runs: %.0f)\n", cmp.Or(bin, "this tree"), median(rates[bin]), rates[bin])
		}
	}
	if err := measureCeiling(); err != nil {
		return err
	}
	if len(ceilingRates) > 0 {
		ceilingRate := (ceilingRates[0] + ceilingRates[1]) / 2
		fmt.Printf("minimal pipeline    %8.0f deliveries/s (n=%d, c=50, pgx; %.0f at the start, %.0f at the end)\n",
			ceilingRate, o.messages, ceilingRates[0], ceilingRates[1])
		for _, bin := range bins {
			fmt.Printf("ratio               %8.2f× (%s end to end, median / minimal pipeline)\n", median(rates[bin])/ceilingRate, cmp.Or(bin, "hookd"))
		}
	}
	return nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

type tpResult struct {
	deliveries, lost, dupes, badSigs, refused int
	rate                                      float64
	emitP50, emitP99, e2eP50, e2eP99          time.Duration
	peakRSS                                   int64 // KiB
	cpu                                       map[string]time.Duration
	elapsed                                   time.Duration
	emitRate                                  float64
	stages                                    []stageTime
}

func (r tpResult) print(o throughputOpts) {
	backend := "PostgreSQL + Redis, hookd serve"
	switch {
	case o.embedded:
		backend = "embedded (SQLite + in-process Redis)"
	case o.split:
		backend = "PostgreSQL + Redis, hookd api + hookd worker"
	}
	mode := fmt.Sprintf("c=%d", o.concurrency)
	if o.rate > 0 {
		mode = fmt.Sprintf("steady %d/s", o.rate)
	}
	fmt.Printf("\nhookd %s, %d messages × %d endpoint(s) %s, %d-byte payloads, %s\n", backend, o.messages, o.endpoints, o.endpoint, o.size, mode)
	fmt.Printf("deliveries/s        %8.0f (%d deliveries in %s; emits %0.f/s)\n", r.rate, r.deliveries, r.elapsed.Round(time.Millisecond), r.emitRate)
	fmt.Printf("emit                p50 %s  p99 %s\n", ms(r.emitP50), ms(r.emitP99))
	fmt.Printf("emit→delivered      p50 %s  p99 %s\n", ms(r.e2eP50), ms(r.e2eP99))
	fmt.Printf("peak RSS (hookd)    %d MiB\n", r.peakRSS/1024)
	var parts []string
	for _, name := range []string{"hookd", "postgres", "redis", "bench"} {
		if d, ok := r.cpu[name]; ok {
			parts = append(parts, fmt.Sprintf("%s %.0f%%", name, 100*d.Seconds()/r.elapsed.Seconds()))
		}
	}
	fmt.Printf("CPU (of one core)   %s\n", strings.Join(parts, ", "))
	if len(r.stages) > 0 {
		var parts []string
		for _, st := range r.stages {
			parts = append(parts, fmt.Sprintf("%s %s", st.name, ms(st.mean)))
		}
		fmt.Printf("worker stages       %s (mean per attempt)\n", strings.Join(parts, ", "))
	}
	fmt.Printf("lost=%d duplicates=%d invalid_signatures=%d refused_emits=%d\n", r.lost, r.dupes, r.badSigs, r.refused)
}

// stageTime is the mean time a worker spent on one stage of an attempt.
type stageTime struct {
	name string
	mean time.Duration
}

// attemptStages reads the worker's stage histograms from hookd's /metrics
// (none from a build that has them not).
func attemptStages(ctx context.Context, apiURL string) []stageTime {
	req, _ := http.NewRequestWithContext(ctx, "GET", apiURL+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil
	}
	var out []stageTime
	for _, m := range families["hookd_attempt_stage_seconds"].GetMetric() {
		h := m.GetHistogram()
		if h.GetSampleCount() == 0 {
			continue
		}
		mean := time.Duration(h.GetSampleSum() / float64(h.GetSampleCount()) * float64(time.Second))
		out = append(out, stageTime{name: m.GetLabel()[0].GetValue(), mean: mean})
	}
	order := []string{"claim", "slot", "send", "record"}
	slices.SortFunc(out, func(a, b stageTime) int { return slices.Index(order, a.name) - slices.Index(order, b.name) })
	return out
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// benchHookd runs one measurement of hookd.
func benchHookd(ctx context.Context, o throughputOpts) (tpResult, error) {
	var res tpResult
	bin := o.bin
	if bin == "" {
		var err error
		if bin, err = buildHookd(); err != nil {
			return res, err
		}
	}
	secret, err := signature.NewSecret()
	if err != nil {
		return res, err
	}
	rcv := newBenchReceiver(secret)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	rsrv := &http.Server{Handler: rcv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = rsrv.Serve(ln) }()
	defer rsrv.Close()

	const adminKey = "hk_bench_throughput_admin_key_0123456789"
	dataDir, err := os.MkdirTemp("", "hookd-bench-tp")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dataDir)
	env := []string{
		"HOOKD_LISTEN=127.0.0.1:0", "HOOKD_ADMIN_KEY=" + adminKey, "HOOKD_ALLOW_PRIVATE_NETWORKS=true",
		"HOOKD_DATA_DIR=" + dataDir, "HOOKD_LOG_LEVEL=warn", "HOOKD_PPROF_LISTEN=127.0.0.1:0",
	}
	if !o.embedded {
		if err := recreateDatabase(ctx, o.databaseURL); err != nil {
			return res, err
		}
		ropt, err := redis.ParseURL(o.redisURL)
		if err != nil {
			return res, err
		}
		rdb := redis.NewClient(ropt)
		err = rdb.FlushDB(ctx).Err()
		_ = rdb.Close()
		if err != nil {
			return res, fmt.Errorf("flush bench Redis: %w", err)
		}
		env = append(env, "HOOKD_DATABASE_URL="+o.databaseURL, "HOOKD_REDIS_URL="+o.redisURL)
	}
	if o.env != "" {
		env = append(env, strings.Split(o.env, ",")...)
	}
	procs, apiURL, metricsURL, err := startHookd(bin, o.split, env)
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	if err != nil {
		return res, err
	}

	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * o.concurrency, MaxIdleConnsPerHost: 2 * o.concurrency}}
	call := func(method, path string, body any) error {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(ctx, method, apiURL+path, bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+adminKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			b, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return nil
	}
	if err := call("POST", "/v1/event-types", map[string]any{"name": "invoice.paid"}); err != nil {
		return res, err
	}
	if err := call("POST", "/v1/tenants", map[string]any{"uid": "bench"}); err != nil {
		return res, err
	}
	for i := range o.endpoints {
		ep := map[string]any{}
		if o.endpoint != "" {
			if err := json.Unmarshal([]byte(o.endpoint), &ep); err != nil {
				return res, fmt.Errorf("-endpoint: %w", err)
			}
		}
		ep["url"], ep["event_types"], ep["secret"] = fmt.Sprintf("http://%s/hook/%d", ln.Addr(), i), []string{"invoice.paid"}, secret
		if err := call("POST", "/v1/tenants/bench/endpoints", ep); err != nil {
			return res, err
		}
	}

	want := o.messages * o.endpoints
	rcv.expect(want)
	before := cpuTimes(procs)
	var profiling sync.WaitGroup
	if o.profileDir != "" {
		for _, p := range procs {
			profiling.Go(func() { profile(p, o.profileDir) })
		}
	}
	emitLat := make([]time.Duration, o.messages)
	emitAt := make([]time.Time, o.messages)
	ids := make([]string, o.messages)
	var next atomic.Int64
	var refused atomic.Int64
	start := time.Now()
	var tick <-chan time.Time
	if o.rate > 0 {
		t := time.NewTicker(time.Second / time.Duration(o.rate))
		defer t.Stop()
		tick = t.C
	}
	var wg sync.WaitGroup
	for range o.concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= o.messages {
					return
				}
				if tick != nil {
					<-tick
				}
				body, _ := json.Marshal(map[string]any{"event_type": "invoice.paid", "payload": json.RawMessage(payload(i, o.size))})
				req, _ := http.NewRequestWithContext(ctx, "POST", apiURL+"/v1/tenants/bench/messages", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+adminKey)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					refused.Add(1)
					continue
				}
				var msg struct{ ID string }
				_ = json.NewDecoder(resp.Body).Decode(&msg)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					refused.Add(1)
					continue
				}
				emitLat[i], emitAt[i], ids[i] = time.Since(t0), t0, msg.ID
			}
		})
	}
	wg.Wait()
	emitted := time.Since(start)
	select {
	case <-rcv.done:
	case <-time.After(o.timeout):
	}
	res.elapsed = rcv.lastAt().Sub(start)
	if res.elapsed <= 0 {
		res.elapsed = time.Since(start)
	}
	after := cpuTimes(procs)
	res.stages = attemptStages(ctx, metricsURL)
	profiling.Wait()
	for _, p := range procs {
		res.peakRSS += peakRSS(p.cmd.Process.Pid)
	}
	time.Sleep(500 * time.Millisecond) // late duplicates
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	res.cpu = map[string]time.Duration{}
	for k, v := range after {
		res.cpu[k] = v - before[k]
	}
	res.refused = int(refused.Load())
	res.badSigs = rcv.badSigs
	var e2e, emits []time.Duration
	for i, id := range ids {
		if id == "" {
			continue
		}
		emits = append(emits, emitLat[i])
		arrivals := rcv.seen[id]
		if len(arrivals) < o.endpoints {
			res.lost += o.endpoints - len(arrivals)
		}
		for _, at := range arrivals {
			e2e = append(e2e, at.Sub(emitAt[i]))
		}
	}
	res.deliveries = rcv.total - rcv.dupes
	res.dupes = rcv.dupes
	res.rate = float64(res.deliveries) / res.elapsed.Seconds()
	res.emitRate = float64(len(emits)) / emitted.Seconds()
	res.emitP50, res.emitP99 = pct(emits, 50), pct(emits, 99)
	res.e2eP50, res.e2eP99 = pct(e2e, 50), pct(e2e, 99)
	return res, nil
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, len(d)*p/100)]
}

// payload is a JSON object of about size bytes.
func payload(i, size int) []byte {
	head := fmt.Sprintf(`{"id":"inv_%08d","amount":4200,"currency":"EUR","pad":"`, i)
	pad := max(size-len(head)-2, 0)
	return []byte(head + strings.Repeat("x", pad) + `"}`)
}

// benchReceiver verifies each delivery's signature and records when each
// webhook-id arrived, per endpoint path.
type benchReceiver struct {
	secret string
	mu     sync.Mutex
	seen   map[string][]time.Time
	byPath map[string]bool // webhook-id + path, for duplicates
	total  int
	dupes  int
	last   time.Time
	want   int
	done   chan struct{}

	badSigs int
}

func newBenchReceiver(secret string) *benchReceiver {
	return &benchReceiver{secret: secret, seen: map[string][]time.Time{}, byPath: map[string]bool{}, done: make(chan struct{})}
}

func (r *benchReceiver) expect(n int) { r.mu.Lock(); r.want = n; r.mu.Unlock() }

func (r *benchReceiver) lastAt() time.Time { r.mu.Lock(); defer r.mu.Unlock(); return r.last }

func (r *benchReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	_, err := signature.VerifyRequest(r.secret, req, 1<<20)
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.badSigs++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	id := req.Header.Get(signature.HeaderID)
	key := id + req.URL.Path
	r.total++
	if r.byPath[key] {
		r.dupes++
		return
	}
	r.byPath[key] = true
	r.seen[id] = append(r.seen[id], now)
	r.last = now
	if r.want > 0 && r.total-r.dupes == r.want {
		close(r.done)
	}
}

// hookdProc is one hookd process of a run.
type hookdProc struct {
	mode     string // serve, api or worker
	cmd      *exec.Cmd
	pprofURL string
}

// startHookd starts hookd serve, or with split hookd api and hookd worker,
// and returns them once they are ready, with the API's URL and the URL
// whose /metrics has the worker's series. Stop what it returns even when it
// fails.
func startHookd(bin string, split bool, env []string) (procs []*hookdProc, apiURL, metricsURL string, err error) {
	if !split {
		p, url, err := startProc(bin, "serve", env, addrLine)
		if p != nil {
			procs = append(procs, p)
		}
		return procs, url, url, err
	}
	api, apiURL, err := startProc(bin, "api", env, addrLine)
	if api != nil {
		procs = append(procs, api)
	}
	if err != nil {
		return procs, "", "", err
	}
	metricsAddr, err := freeAddr()
	if err != nil {
		return procs, "", "", err
	}
	worker, _, err := startProc(bin, "worker", append(env, "HOOKD_METRICS_LISTEN="+metricsAddr), workerLine)
	if worker != nil {
		procs = append(procs, worker)
	}
	return procs, apiURL, "http://" + metricsAddr, err
}

// startProc starts hookd <mode> and waits for the line ready matches; it
// returns that line's first group.
func startProc(bin, mode string, env []string, ready *regexp.Regexp) (*hookdProc, string, error) {
	cmd := exec.Command(bin, mode)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	p := &hookdProc{mode: mode, cmd: cmd}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if m := pprofLine.FindStringSubmatch(line); m != nil {
			p.pprofURL = m[1]
		}
		if m := ready.FindStringSubmatch(line); m != nil {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return p, m[1], nil
		}
	}
	return p, "", fmt.Errorf("hookd %s exited before it was ready\n%s", mode, stderr.String())
}

func (p *hookdProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.cmd.Wait()
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

var (
	addrLine   = regexp.MustCompile(`API on (http://\S+),`)
	workerLine = regexp.MustCompile(`hookd worker: (delivering) from queue`)
	pprofLine  = regexp.MustCompile(`pprof on (http://[^/\s]+)`)
)

// profile takes a CPU profile of a hookd process while the run goes on, into
// <mode>.cpu.pprof.
func profile(p *hookdProc, dir string) {
	if p.pprofURL == "" {
		fmt.Fprintf(os.Stderr, "hookd-bench: hookd %s printed no pprof address\n", p.mode)
		return
	}
	_ = os.MkdirAll(dir, 0o750)
	resp, err := http.Get(p.pprofURL + "/debug/pprof/profile?seconds=5") //nolint:noctx // a bench
	if err != nil {
		fmt.Fprintln(os.Stderr, "hookd-bench: profile:", err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(filepath.Join(dir, p.mode+".cpu.pprof"))
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = io.Copy(f, resp.Body)
}

var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "hookd-bench-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "hookd")
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/hookd").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/hookd (run hookd-bench from the repository root): %w\n%s", err, out)
	}
	return bin, nil
})

func buildHookd() (string, error) { return buildOnce() }

// recreateDatabase drops and creates the database named by dbURL.
func recreateDatabase(ctx context.Context, dbURL string) error {
	u, err := url.Parse(dbURL)
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	for _, stmt := range []string{
		fmt.Sprintf(`DROP DATABASE IF EXISTS %q WITH (FORCE)`, name),
		fmt.Sprintf(`CREATE DATABASE %q`, name),
	} {
		if out, err := exec.CommandContext(ctx, "psql", u.String(), "-qc", stmt).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", stmt, err, out)
		}
	}
	return nil
}

// cpuTimes returns the CPU time used so far by hookd's processes, every
// postgres and redis-server process, and this process.
func cpuTimes(procs []*hookdProc) map[string]time.Duration {
	out := map[string]time.Duration{"bench": procCPU(os.Getpid())}
	for _, p := range procs {
		out["hookd"] += procCPU(p.cmd.Process.Pid)
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p))
		switch name := strings.TrimSpace(string(comm)); {
		case strings.HasPrefix(name, "postgres"):
			out["postgres"] += procCPU(p)
		case strings.HasPrefix(name, "redis-server"):
			out["redis"] += procCPU(p)
		}
	}
	return out
}

// procCPU reads a process's user + system time from /proc/<pid>/stat.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}

// peakRSS reads VmHWM (KiB) from /proc/<pid>/status.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

var ceilingLine = regexp.MustCompile(`deliveries/s=(\d+)`)

// runCeiling builds and runs the minimal pipeline with its own receiver, as
// its README does, and returns its rate.
func runCeiling(ctx context.Context, o throughputOpts) (float64, error) {
	dir, err := os.MkdirTemp("", "hookd-bench-ceiling")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	for _, b := range []struct{ out, pkg string }{{"ceiling", "./ceiling"}, {"sink", "./receiver"}} {
		build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, b.out), b.pkg)
		build.Dir = o.ceiling
		if out, err := build.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("build %s: %w\n%s", b.pkg, err, out)
		}
	}
	sinkLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	sinkAddr := sinkLn.Addr().String()
	_ = sinkLn.Close()
	sink := exec.CommandContext(ctx, filepath.Join(dir, "sink"), "-addr", sinkAddr)
	if err := sink.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = sink.Process.Kill(); _ = sink.Wait() }()
	time.Sleep(300 * time.Millisecond)
	dsn := "postgres://postgres@127.0.0.1:5432/ceiling?sslmode=disable"
	if err := recreateDatabase(ctx, dsn); err != nil {
		return 0, err
	}
	out, err := exec.CommandContext(ctx, filepath.Join(dir, "ceiling"), "-n", strconv.Itoa(o.messages*o.endpoints), "-c", "50",
		"-store", "pgx", "-pgconns", "20", "-db", "12", "-dsn", dsn, "-url", "http://"+sinkAddr+"/hook").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%w\n%s", err, out)
	}
	m := ceilingLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no rate in its output:\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
