// Command hookd runs the hookd webhook delivery platform.
//
//	hookd serve    API, workers and sweeper in one process (default: SQLite + in-process Redis)
//	hookd api      the REST API only
//	hookd worker   delivery workers and the sweeper only
//	hookd migrate  apply database migrations and exit
//	hookd admin-key create  make a new admin API key in the database and print it
//	hookd config   print the settings in effect, secrets masked
//	hookd version  print the version and the revision it was built from
//
// Settings come from flags, over HOOKD_* environment variables, over an
// optional YAML config file (--config); `hookd serve --help` lists them.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"
	"gorm.io/gorm"

	"hookd.dev/hookd/api"
	"hookd.dev/hookd/authlimit"
	"hookd.dev/hookd/cmd/internal/progress"
	"hookd.dev/hookd/dispatcher"
	"hookd.dev/hookd/dispatcher/embedredis"
	"hookd.dev/hookd/migrations"
	"hookd.dev/hookd/models"
	"hookd.dev/hookd/web"
	"hookd.dev/hookd/web/docs"
)

func main() {
	tuneMemory(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	c := &cli{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr, run: (*Main).Run}
	code := c.execute(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Main is one hookd process. Tests run it in-process on port 0.
type Main struct {
	Config Config
	Mode   string // serve, api, worker, migrate or "admin-key create"
	// Tracing: spans go to the global tracer provider, which the command
	// line set up (startTracing).
	Tracing bool
	Stdout  io.Writer // where the first-start admin key and the address are printed
	Logger  *slog.Logger

	addrOnce sync.Once
	addrCh   chan string
	addr     string
}

// Addr waits until the API listens and returns its address.
func (m *Main) Addr() string {
	m.init()
	if m.addr == "" {
		m.addr = <-m.addrCh
	}
	return m.addr
}

func (m *Main) init() { m.addrOnce.Do(func() { m.addrCh = make(chan string, 1) }) }

// Run starts what the mode needs and blocks until ctx is done and every part
// has stopped.
func (m *Main) Run(ctx context.Context) error {
	m.init()
	cfg, log := m.Config, m.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.RedisURL == "" && (m.Mode == "api" || m.Mode == "worker") {
		return fmt.Errorf("hookd %s needs HOOKD_REDIS_URL: the in-process Redis only serves `hookd serve`, "+
			"since api and worker processes must share one queue", m.Mode)
	}

	db, describeDB, err := m.openDB(ctx)
	if err != nil {
		return err
	}
	defer closeDB(db)
	key, err := m.secretKey(log)
	if err != nil {
		return err
	}
	store, err := models.NewStoreWithKey(db, models.StoreOpts{
		SecretKey: key, AllowPrivateNetworks: cfg.AllowPrivateNetworks, AllowedNetworks: cfg.AllowedNetworks,
		CacheTTL: cfg.CacheTTL, EndpointBounds: cfg.endpointBounds(),
	})
	if err != nil {
		return fmt.Errorf("HOOKD_SECRET_KEY: %w", err)
	}
	if m.Mode != "worker" {
		var report func(string, time.Duration)
		if m.Mode == modeMigrate {
			report = func(name string, took time.Duration) {
				fmt.Fprintf(m.Stdout, "hookd: applied %s in %s\n", name, took.Round(time.Millisecond))
			}
		}
		n, err := migrations.ApplyReporting(ctx, db, report)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if n > 0 {
			log.Info("applied migrations", "count", n)
		}
	}
	if m.Mode == "migrate" {
		fmt.Fprintln(m.Stdout, "hookd: database is up to date")
		return nil
	}
	if m.Mode == modeCreateAdminKey {
		return m.createAdminKey(ctx, store)
	}
	if m.Mode == modePurge {
		return m.purge(ctx, store)
	}

	redisOpt, closeRedis, err := m.openRedis()
	if err != nil {
		return err
	}
	defer closeRedis()
	queue := dispatcher.NewQueue(redisOpt, cfg.Queue)
	defer queue.Close()

	// Each process serves the series it moves: the API's (registered by
	// api.New) in serve and api, the workers' in serve and worker.
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	deps := &deps{store: store, queue: queue, redis: redisOpt, registry: registry, describeDB: describeDB, log: log}
	if m.Mode == "serve" || m.Mode == "worker" {
		metrics := dispatcher.NewMetrics(registry)
		registry.MustRegister(dispatcher.NewBacklogCollector(queue, store, cfg.SweepInterval, log))
		deps.metrics = metrics
		deps.worker = dispatcher.NewWorker(store, queue, dispatcher.Config{
			Queue: cfg.Queue, Concurrency: cfg.Concurrency, EndpointConcurrency: cfg.EndpointConcurrency, TenantConcurrency: cfg.TenantConcurrency,
			Schedule: cfg.RetrySchedule,
			Timeout:  cfg.DeliveryTimeout, AllowPrivateNetworks: cfg.AllowPrivateNetworks, AllowedNetworks: cfg.AllowedNetworks,
			Logger: log, Metrics: metrics,
			DisableAfter: cfg.DisableAfter, Tracing: m.Tracing, Bounds: cfg.endpointBounds(),
		})
	}
	g, ctx := errgroup.WithContext(ctx)
	if cfg.PprofListen != "" {
		if err := m.servePprof(ctx, g); err != nil {
			return err
		}
	}
	if m.Mode == "serve" || m.Mode == "api" {
		if err := m.startHTTP(ctx, g, deps); err != nil {
			return err
		}
	}
	if m.Mode == "serve" || m.Mode == "worker" {
		if err := m.startWorkers(ctx, g, deps); err != nil {
			return err
		}
	}
	err = g.Wait()
	log.Info("hookd stopped")
	return err
}

// deps are what the API and the workers share in one process.
type deps struct {
	store      *models.Store
	queue      *dispatcher.Queue
	redis      asynq.RedisConnOpt
	registry   *prometheus.Registry
	metrics    *dispatcher.Metrics
	worker     *dispatcher.Worker // nil when the process does not deliver (api)
	describeDB string
	log        *slog.Logger
}

// startHTTP serves the API and the admin UI until ctx is done.
func (m *Main) startHTTP(ctx context.Context, g *errgroup.Group, d *deps) error {
	cfg := m.Config
	if err := m.printAdminKey(ctx, d.store); err != nil {
		return err
	}
	var closers []func() error // the Redis clients of the limits below
	closeLimits := func() error {
		var errs []error
		for _, c := range closers {
			errs = append(errs, c())
		}
		return errors.Join(errs...)
	}
	var tenantLimit api.RateLimiter
	if cfg.APIRateLimit > 0 {
		limiter, err := dispatcher.NewAPILimiter(d.redis, cfg.APIRateLimit)
		if err != nil {
			return err
		}
		tenantLimit, closers = limiter, append(closers, limiter.Close)
	}
	var budget dispatcher.ManualBudget
	if cfg.ManualDeliveries > 0 {
		b, err := dispatcher.NewTenantBudget(d.redis, cfg.ManualDeliveries)
		if err != nil {
			_ = closeLimits()
			return err
		}
		budget, closers = b, append(closers, b.Close)
	}
	// A process that also delivers hands its own emits to its worker (nil in api).
	pipeline := dispatcher.NewPipeline(dispatcher.PipelineConfig{
		Store: d.store, Queue: d.queue, Worker: d.worker, Logger: d.log,
		ManualBudget: budget, MaxPayloadDepth: cfg.MaxPayloadDepth,
	})
	// One count of failed keys for the API and the login form.
	failedAuth := authlimit.New(authlimit.Config{})
	srv := api.New(api.Config{
		TenantRateLimit: tenantLimit, FailedAuth: failedAuth, TrustedProxies: cfg.TrustedProxies,
		Store: d.store, Pipeline: pipeline, AdminKey: cfg.AdminKey, Logger: d.log, Metrics: d.registry,
		RotationGrace: cfg.RotationGrace, Tracing: m.Tracing, PublicURL: cfg.PublicURL,
		ReadyFunc: func(ctx context.Context) error {
			return errors.Join(d.store.Ping(ctx), d.queue.Ping(ctx))
		},
	})
	ui, err := web.New(web.Config{
		Store: d.store, Pipeline: pipeline, AdminKey: cfg.AdminKey, Logger: d.log,
		FailedAuth: failedAuth, TrustedProxies: cfg.TrustedProxies,
	})
	if err != nil {
		pipeline.Close()
		return err
	}
	portal, err := web.NewPortal(web.PortalConfig{
		Store: d.store, Pipeline: pipeline, FrameAncestors: cfg.PortalFrameAncestors, RotationGrace: cfg.RotationGrace, Logger: d.log,
	})
	if err != nil {
		pipeline.Close()
		return err
	}
	mux := http.NewServeMux()
	reference := docs.Handler()
	mux.Handle("/docs", reference)
	mux.Handle("/docs/", reference)
	mux.Handle("/ui", ui.Handler())
	mux.Handle("/ui/", ui.Handler())
	mux.Handle("/portal/", portal.Handler())
	mux.Handle("/", srv.Handler())
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		_ = closeLimits()
		pipeline.Close()
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	m.addrCh <- ln.Addr().String()
	fmt.Fprintf(m.Stdout, "hookd %s: API on %s, admin UI on %[2]s/ui (%[3]s)\n", m.Mode, displayURL(ln.Addr()), d.describeDB)
	httpSrv := m.httpServer(mux)
	g.Go(func() error {
		if err := httpSrv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := errors.Join(httpSrv.Shutdown(shutdownCtx), closeLimits())
		pipeline.Close() // after the handlers, which may be waiting on it
		return err
	})
	return nil
}

// startWorkers runs the delivery workers, the sweeper and the purge until ctx is done.
func (m *Main) startWorkers(ctx context.Context, g *errgroup.Group, d *deps) error {
	cfg := m.Config
	purger := dispatcher.NewPurger(d.store, dispatcher.PurgerConfig{Retention: cfg.Retention, Interval: cfg.PurgeInterval, Logger: d.log})
	g.Go(func() error { return purger.Run(ctx) })
	sweeper := dispatcher.NewSweeper(d.store, d.queue, dispatcher.SweeperConfig{
		Interval: cfg.SweepInterval, Logger: d.log, Metrics: d.metrics,
		OrphanAfter: dispatcher.ClaimLock(max(cfg.DeliveryTimeout, cfg.endpointBounds().MaxTimeout)),
	})
	g.Go(func() error { return d.worker.Run(ctx, d.redis) })
	g.Go(func() error { return sweeper.Run(ctx) })
	if m.Mode == "worker" {
		fmt.Fprintf(m.Stdout, "hookd worker: delivering from queue %q (%s)\n", cfg.Queue, d.describeDB)
		if cfg.MetricsListen != "" {
			if err := m.serveMetrics(ctx, g, d.registry); err != nil {
				return err
			}
		}
	}
	return nil
}

// serveMetrics serves a worker's /metrics and /healthz until ctx is done.
func (m *Main) serveMetrics(ctx context.Context, g *errgroup.Group, reg *prometheus.Registry) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"status":"ok"}`)) })
	_, err := serveSide(ctx, g, m.Config.MetricsListen, m.httpServer(mux))
	return err
}

// servePprof serves Go's profiles until ctx is done, and prints where.
func (m *Main) servePprof(ctx context.Context, g *errgroup.Group) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := m.httpServer(mux)
	srv.WriteTimeout = max(srv.WriteTimeout, 2*time.Minute) // /debug/pprof/profile?seconds=N writes for N seconds
	addr, err := serveSide(ctx, g, m.Config.PprofListen, srv)
	if err == nil {
		fmt.Fprintf(m.Stdout, "hookd %s: pprof on %s/debug/pprof/\n", m.Mode, displayURL(addr))
	}
	return err
}

// httpServer is an http.Server with the configured timeouts, so that a
// client that sends slowly, reads slowly or idles cannot hold a connection.
func (m *Main) httpServer(h http.Handler) *http.Server {
	cfg := m.Config
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(10*time.Second, cfg.HTTPReadTimeout),
		ReadTimeout:       cfg.HTTPReadTimeout,
		WriteTimeout:      cfg.HTTPWriteTimeout,
		IdleTimeout:       cfg.HTTPIdleTimeout,
	}
}

// serveSide serves a side listener (metrics, profiles) until ctx is done.
func serveSide(ctx context.Context, g *errgroup.Group, addr string, srv *http.Server) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		return srv.Close()
	})
	return ln.Addr(), nil
}

// openDB opens PostgreSQL when a URL is set, else the embedded SQLite file.
func (m *Main) openDB(ctx context.Context) (*gorm.DB, string, error) {
	if m.Config.DatabaseURL != "" {
		db, err := models.Open(ctx, models.OpenOpts{URL: m.Config.DatabaseURL, Tracing: m.Tracing})
		return db, "PostgreSQL", err
	}
	if err := mkdirData(m.Config.DataDir); err != nil {
		return nil, "", fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(m.Config.DataDir, "hookd.db")
	db, err := models.Open(ctx, models.OpenOpts{SQLitePath: path, Tracing: m.Tracing})
	return db, "SQLite " + path, err
}

// mkdirData makes the data dir, for its owner only: it holds the database and
// the secret key. A dir made looser by an older hookd is tightened.
func mkdirData(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700) //nolint:gosec // a directory needs its x bit; 0700 is its owner's only
}

// secretKey returns the key that encrypts endpoint secrets at rest:
// HOOKD_SECRET_KEY; else, in the embedded mode, a key kept in the data dir
// (made on first start); else none, with a warning, since every process
// sharing a PostgreSQL database must hold the same key.
func (m *Main) secretKey(log *slog.Logger) ([]byte, error) {
	if m.Config.SecretKey != "" {
		key, err := base64.StdEncoding.DecodeString(m.Config.SecretKey)
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("HOOKD_SECRET_KEY must be the base64 of 32 random bytes (openssl rand -base64 32)")
		}
		return key, nil
	}
	if m.Config.DatabaseURL != "" {
		if m.Mode != modeMigrate && m.Mode != modePurge { // which read and write no secret
			log.Warn("HOOKD_SECRET_KEY is not set: endpoint secrets are stored unencrypted; " +
				"set it (openssl rand -base64 32) to the same value in every hookd process")
		}
		return nil, nil
	}
	path := filepath.Join(m.Config.DataDir, "secret.key")
	if b, err := os.ReadFile(path); err == nil { //nolint:gosec // our own data dir
		if err := restrictKeyFile(path); err != nil {
			return nil, err
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("%s is not the base64 of 32 bytes", path)
		}
		return key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := mkdirData(m.Config.DataDir); err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("keep the secret key: %w", err)
	}
	return key, nil
}

// restrictKeyFile takes the group's and others' permissions off a key file
// that a copy or a restore left looser: the key opens every endpoint secret.
// When hookd cannot (the file is another user's, or read-only), it refuses
// to start rather than warn in a log that scrolls by, as it does for the
// data dir and the SQLite files: the fix is one command, named in the error.
func restrictKeyFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("check the secret key file: %w", err)
	}
	perm := st.Mode().Perm()
	if perm&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(path, perm&^0o077); err != nil {
		return fmt.Errorf("%s is readable by other users (mode %04o) and hookd cannot restrict it: %w "+
			"(make it hookd's user's own with mode 0600, or set HOOKD_SECRET_KEY instead)", path, perm, err)
	}
	return nil
}

// openRedis connects to HOOKD_REDIS_URL, or starts the in-process Redis.
func (m *Main) openRedis() (asynq.RedisConnOpt, func(), error) {
	if m.Config.RedisURL != "" {
		opt, err := dispatcher.ParseRedisURL(m.Config.RedisURL)
		if err != nil {
			return nil, nil, fmt.Errorf("HOOKD_REDIS_URL: %w", err)
		}
		return opt, func() {}, nil
	}
	srv, err := embedredis.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("start in-process Redis: %w", err)
	}
	return asynq.RedisClientOpt{Addr: srv.Addr(), Password: srv.Password()}, srv.Close, nil
}

// purge deletes what is past the retention now, showing its progress.
func (m *Main) purge(ctx context.Context, store *models.Store) error {
	meter := progress.New(m.Stdout, "hookd: purging data older than "+m.Config.Retention.String(), "rows deleted", 0)
	p := dispatcher.NewPurger(store, dispatcher.PurgerConfig{
		Retention: m.Config.Retention, Logger: m.Logger,
		Progress: func(messages, attempts int64) { meter.Set(messages + attempts) },
	})
	messages, attempts, err := p.Purge(ctx)
	meter.Done()
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "hookd: purged %d messages (with their deliveries) and %d attempts older than %s\n", messages, attempts, m.Config.Retention)
	return nil
}

// createAdminKey makes a new admin key straight in the database, for when
// the printed one is lost, and prints it once (to Stdout, never to the log).
func (m *Main) createAdminKey(ctx context.Context, store *models.Store) error {
	name := "hookd admin-key create, " + time.Now().UTC().Format(time.RFC3339)
	key, k, err := store.CreateAPIKey(ctx, nil, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "hookd: new admin API key %s (%q); it is shown only this once:\n\n    %s\n\n", k.ID, name, key)
	return nil
}

// printAdminKey makes sure an admin key exists, and prints it when it is new.
func (m *Main) printAdminKey(ctx context.Context, store *models.Store) error {
	if m.Config.AdminKey != "" {
		return nil
	}
	key, err := store.EnsureAdminKey(ctx)
	if err != nil {
		return err
	}
	if key != "" {
		fmt.Fprintf(m.Stdout, "hookd: generated an admin API key; it is shown only this once:\n\n    %s\n\n", key)
	}
	return nil
}

// displayURL is the URL to print for a listener: localhost for "all interfaces".
func displayURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}
