// Command hookd runs the hookd webhook delivery platform.
//
//	hookd serve    API, workers and sweeper in one process (default: SQLite + in-process Redis)
//	hookd api      the REST API only
//	hookd worker   delivery workers and the sweeper only
//	hookd migrate  apply database migrations and exit
//
// Settings come from HOOKD_* environment variables, overridden by flags
// (`hookd serve -h` lists them).
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
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
	"hookd.dev/hookd/dispatcher"
	"hookd.dev/hookd/dispatcher/embedredis"
	"hookd.dev/hookd/migrations"
	"hookd.dev/hookd/models"
	"hookd.dev/hookd/web"
)

const usage = `usage: hookd <command> [flags]

commands:
  serve    API, workers and sweeper in one process (the default set-up needs nothing else)
  api      the REST API only (needs HOOKD_REDIS_URL)
  worker   delivery workers and the sweeper only (needs HOOKD_REDIS_URL)
  migrate  apply database migrations and exit

Run "hookd <command> -h" for the settings.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	mode := os.Args[1]
	if !validMode(mode) {
		fmt.Fprintf(os.Stderr, "hookd: unknown command %q\n\n%s", mode, usage)
		os.Exit(2)
	}
	cfg, err := LoadConfig(mode, os.Args[2:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hookd:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Config: cfg, Mode: mode, Stdout: os.Stdout, Logger: newLogger(cfg, os.Stderr)}
	if err := m.Run(ctx); err != nil {
		m.Logger.Error("hookd stopped", "error", err)
		os.Exit(1)
	}
}

func validMode(m string) bool {
	switch m {
	case "serve", "api", "worker", "migrate":
		return true
	}
	return false
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
	Mode   string    // serve, api, worker or migrate
	Stdout io.Writer // where the first-start admin key and the address are printed
	Logger *slog.Logger

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
	store, err := models.NewStoreWithKey(db, models.StoreOpts{SecretKey: key, AllowPrivateNetworks: cfg.AllowPrivateNetworks})
	if err != nil {
		return fmt.Errorf("HOOKD_SECRET_KEY: %w", err)
	}
	if m.Mode != "worker" {
		n, err := migrations.Apply(ctx, db)
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

	redisOpt, closeRedis, err := m.openRedis()
	if err != nil {
		return err
	}
	defer closeRedis()
	queue := dispatcher.NewQueue(redisOpt, cfg.Queue)
	defer queue.Close()

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := dispatcher.NewMetrics(registry)

	deps := &deps{store: store, queue: queue, redis: redisOpt, registry: registry, metrics: metrics, describeDB: describeDB, log: log}
	g, ctx := errgroup.WithContext(ctx)
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
	describeDB string
	log        *slog.Logger
}

// startHTTP serves the API and the admin UI until ctx is done.
func (m *Main) startHTTP(ctx context.Context, g *errgroup.Group, d *deps) error {
	cfg := m.Config
	if err := m.printAdminKey(ctx, d.store); err != nil {
		return err
	}
	var tenantLimit api.RateLimiter
	closeLimiter := func() error { return nil }
	if cfg.APIRateLimit > 0 {
		limiter, err := dispatcher.NewAPILimiter(d.redis, cfg.APIRateLimit)
		if err != nil {
			return err
		}
		tenantLimit, closeLimiter = limiter, limiter.Close
	}
	srv := api.New(api.Config{
		TenantRateLimit: tenantLimit,
		Store:           d.store, Queue: d.queue, AdminKey: cfg.AdminKey, Logger: d.log, Metrics: d.registry,
		RotationGrace: cfg.RotationGrace,
		ReadyFunc: func(ctx context.Context) error {
			return errors.Join(d.store.Ping(ctx), d.queue.Ping(ctx))
		},
	})
	ui, err := web.New(web.Config{Store: d.store, Queue: d.queue, AdminKey: cfg.AdminKey, Logger: d.log})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/ui", ui.Handler())
	mux.Handle("/ui/", ui.Handler())
	mux.Handle("/", srv.Handler())
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		_ = closeLimiter()
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	m.addrCh <- ln.Addr().String()
	fmt.Fprintf(m.Stdout, "hookd %s: API on %s, admin UI on %[2]s/ui (%[3]s)\n", m.Mode, displayURL(ln.Addr()), d.describeDB)
	httpSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
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
		return errors.Join(httpSrv.Shutdown(shutdownCtx), closeLimiter())
	})
	return nil
}

// startWorkers runs the delivery workers, the sweeper and the purge until ctx is done.
func (m *Main) startWorkers(ctx context.Context, g *errgroup.Group, d *deps) error {
	cfg := m.Config
	worker := dispatcher.NewWorker(d.store, d.queue, dispatcher.Config{
		Queue: cfg.Queue, Concurrency: cfg.Concurrency, EndpointConcurrency: cfg.EndpointConcurrency, Schedule: cfg.RetrySchedule,
		Timeout: cfg.DeliveryTimeout, AllowPrivateNetworks: cfg.AllowPrivateNetworks, Logger: d.log, Metrics: d.metrics,
		DisableAfter: cfg.DisableAfter,
	})
	purger := dispatcher.NewPurger(d.store, dispatcher.PurgerConfig{Retention: cfg.Retention, Interval: cfg.PurgeInterval, Logger: d.log})
	g.Go(func() error { return purger.Run(ctx) })
	sweeper := dispatcher.NewSweeper(d.store, d.queue, dispatcher.SweeperConfig{
		Interval: cfg.SweepInterval, Logger: d.log, Metrics: d.metrics,
		OrphanAfter: dispatcher.ClaimLock(cfg.DeliveryTimeout),
	})
	g.Go(func() error { return worker.Run(ctx, d.redis) })
	g.Go(func() error { return sweeper.Run(ctx) })
	if m.Mode == "worker" {
		fmt.Fprintf(m.Stdout, "hookd worker: delivering from queue %q (%s)\n", cfg.Queue, d.describeDB)
		if cfg.MetricsListen != "" {
			if err := serveMetrics(ctx, g, cfg.MetricsListen, d.registry); err != nil {
				return err
			}
		}
	}
	return nil
}

// serveMetrics serves a worker's /metrics and /healthz until ctx is done.
func serveMetrics(ctx context.Context, g *errgroup.Group, addr string, reg *prometheus.Registry) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"status":"ok"}`)) })
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
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
	return nil
}

// openDB opens PostgreSQL when a URL is set, else the embedded SQLite file.
func (m *Main) openDB(ctx context.Context) (*gorm.DB, string, error) {
	if m.Config.DatabaseURL != "" {
		db, err := models.Open(ctx, models.OpenOpts{URL: m.Config.DatabaseURL})
		return db, "PostgreSQL", err
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o750); err != nil {
		return nil, "", fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(m.Config.DataDir, "hookd.db")
	db, err := models.Open(ctx, models.OpenOpts{SQLitePath: path})
	return db, "SQLite " + path, err
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
		log.Warn("HOOKD_SECRET_KEY is not set: endpoint secrets are stored unencrypted; " +
			"set it (openssl rand -base64 32) to the same value in every hookd process")
		return nil, nil
	}
	path := filepath.Join(m.Config.DataDir, "secret.key")
	if b, err := os.ReadFile(path); err == nil { //nolint:gosec // our own data dir
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("%s is not the base64 of 32 bytes", path)
		}
		return key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o750); err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("keep the secret key: %w", err)
	}
	return key, nil
}

// openRedis connects to HOOKD_REDIS_URL, or starts the in-process Redis.
func (m *Main) openRedis() (asynq.RedisConnOpt, func(), error) {
	if m.Config.RedisURL != "" {
		opt, err := asynq.ParseRedisURI(m.Config.RedisURL)
		if err != nil {
			return nil, nil, fmt.Errorf("HOOKD_REDIS_URL: %w", err)
		}
		return opt, func() {}, nil
	}
	srv, err := embedredis.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("start in-process Redis: %w", err)
	}
	return asynq.RedisClientOpt{Addr: srv.Addr()}, srv.Close, nil
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
