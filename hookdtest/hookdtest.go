// Package hookdtest runs a real hookd inside a Go test: the REST API, the
// admin UI, the workers and the sweeper, on SQLite and an in-process Redis
// (or on PostgreSQL and Redis when told), with a Receiver that verifies the
// signature of everything it gets.
//
//	func TestInvoicePaidIsSent(t *testing.T) {
//		h := hookdtest.Start(t)
//		h.Subscribe(t, "acme", "invoice.paid")
//		// … the code under test emits through h.Client (or h.URL) …
//		got := h.Receiver.Wait(t, 1)
//	}
//
// Each Hookd is a process's worth of hookd with a database of its own; it
// stops at the end of the test.
package hookdtest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"hookd.dev/hookd"
	"hookd.dev/hookd/api"
	"hookd.dev/hookd/dispatcher"
	"hookd.dev/hookd/dispatcher/embedredis"
	"hookd.dev/hookd/migrations"
	"hookd.dev/hookd/models"
	"hookd.dev/hookd/web"
)

// Options change how a Hookd runs. The zero value is what Start uses.
type Options struct {
	// DatabaseURL is a PostgreSQL database for hookd's tables (it is
	// migrated, not emptied); empty: SQLite in a temporary directory.
	DatabaseURL string
	// RedisURL is a Redis for the queue, which gets a name of its own;
	// empty: an in-process Redis.
	RedisURL string
	// AdminKey is the operator's API key (32 characters or more); empty: a
	// fixed test key, in Hookd.AdminKey.
	AdminKey string
	// RetrySchedule is the delays between attempts; empty: 100 ms, 500 ms
	// and 1 s, so that a test sees retries and a final failure quickly.
	RetrySchedule []time.Duration
	// Logger receives hookd's logs; nil: discarded.
	Logger *slog.Logger
}

// DefaultAdminKey is the admin key of a Hookd started without one.
const DefaultAdminKey = "hk_hookdtest_admin_0123456789abcdefghij"

// Hookd is a running hookd.
type Hookd struct {
	URL      string        // the API; the admin UI is at URL + "/ui"
	AdminKey string        // the operator's key
	Client   *hookd.Client // the API as the operator
	Receiver *Receiver     // an endpoint to subscribe (see Subscribe)

	stop func()
}

// Start runs a hookd until the end of the test; it fails the test if
// hookd does not start.
func Start(t testing.TB) *Hookd { return StartWith(t, Options{}) }

// StartWith is Start with options.
func StartWith(t testing.TB, o Options) *Hookd {
	t.Helper()
	h, err := New(o)
	if err != nil {
		t.Fatalf("hookdtest: %v", err)
	}
	t.Cleanup(h.Close)
	return h
}

// New runs a hookd until Close, for a TestMain or an example, where there
// is no test to end it.
func New(o Options) (h *Hookd, err error) {
	var undo []func()
	defer func() {
		if err != nil {
			for _, f := range undo {
				f()
			}
		}
	}()
	cleanup := func(f func()) { undo = append([]func(){f}, undo...) }

	ctx := context.Background()
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	adminKey := o.AdminKey
	if adminKey == "" {
		adminKey = DefaultAdminKey
	}
	schedule := dispatcher.Schedule(o.RetrySchedule)
	if len(schedule) == 0 {
		schedule = dispatcher.Schedule{100 * time.Millisecond, 500 * time.Millisecond, time.Second}
	}

	openOpts := models.OpenOpts{URL: o.DatabaseURL}
	if o.DatabaseURL == "" {
		dir, err := os.MkdirTemp("", "hookdtest")
		if err != nil {
			return nil, err
		}
		cleanup(func() { _ = os.RemoveAll(dir) })
		openOpts.SQLitePath = filepath.Join(dir, "hookd.db")
	}
	db, err := models.Open(ctx, openOpts)
	if err != nil {
		return nil, fmt.Errorf("open the database: %w", err)
	}
	if sqlDB, err := db.DB(); err == nil {
		cleanup(func() { _ = sqlDB.Close() })
	}
	if _, err := migrations.Apply(ctx, db); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	redisOpt, err := openRedis(o.RedisURL, cleanup)
	if err != nil {
		return nil, err
	}

	// Test receivers listen on loopback, which hookd refuses by default.
	store := models.NewStore(db, models.StoreOpts{AllowPrivateNetworks: true})
	queueName := fmt.Sprintf("hookdtest_%d", time.Now().UnixNano()) // its own, on a shared Redis
	queue := dispatcher.NewQueue(redisOpt, queueName)
	cleanup(func() { _ = queue.Close() })
	worker := dispatcher.NewWorker(store, queue, dispatcher.Config{
		Queue: queueName, AllowPrivateNetworks: true, Schedule: schedule, Timeout: 5 * time.Second, Logger: log,
	})
	sweeper := dispatcher.NewSweeper(store, queue, dispatcher.SweeperConfig{
		Interval: 200 * time.Millisecond, OrphanAfter: dispatcher.ClaimLock(5 * time.Second), Logger: log,
	})
	runCtx, cancel := context.WithCancel(ctx)
	workerDone, sweeperDone := make(chan struct{}), make(chan struct{})
	go func() { _ = worker.Run(runCtx, redisOpt); close(workerDone) }()
	go func() { _ = sweeper.Run(runCtx); close(sweeperDone) }()
	cleanup(func() { cancel(); <-workerDone; <-sweeperDone })

	// As in hookd serve: the API's emits go to this process's worker first.
	pipeline := dispatcher.NewPipeline(dispatcher.PipelineConfig{Store: store, Queue: queue, Worker: worker, Logger: log})
	cleanup(pipeline.Close)
	ui, err := web.New(web.Config{Store: store, Pipeline: pipeline, AdminKey: adminKey, Logger: log})
	if err != nil {
		return nil, err
	}
	portal, err := web.NewPortal(web.PortalConfig{Store: store, Pipeline: pipeline, Logger: log})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/ui", ui.Handler())
	mux.Handle("/ui/", ui.Handler())
	mux.Handle("/portal/", portal.Handler())
	mux.Handle("/", api.New(api.Config{Store: store, Pipeline: pipeline, AdminKey: adminKey, Logger: log}).Handler())
	srv := httptest.NewServer(mux)
	cleanup(srv.Close)

	receiver, err := newReceiver()
	if err != nil {
		return nil, err
	}
	cleanup(receiver.Close)
	all := undo
	return &Hookd{
		URL: srv.URL, AdminKey: adminKey, Client: hookd.NewClient(srv.URL, adminKey), Receiver: receiver,
		stop: func() {
			for _, f := range all {
				f()
			}
		},
	}, nil
}

// openRedis connects to url, or starts an in-process Redis.
func openRedis(url string, cleanup func(func())) (asynq.RedisConnOpt, error) {
	if url != "" {
		opt, err := asynq.ParseRedisURI(url)
		if err != nil {
			return nil, fmt.Errorf("redis URL: %w", err)
		}
		return opt, nil
	}
	r, err := embedredis.Start()
	if err != nil {
		return nil, fmt.Errorf("start the in-process Redis: %w", err)
	}
	cleanup(r.Close)
	return asynq.RedisClientOpt{Addr: r.Addr(), Password: r.Password()}, nil
}

// Close stops hookd and removes what it stored in a temporary directory.
func (h *Hookd) Close() {
	if h.stop != nil {
		h.stop()
		h.stop = nil
	}
}

// Subscribe makes h.Receiver an endpoint of the tenant with this uid for
// these event types, creating the event types and the tenant when they do
// not exist yet.
func (h *Hookd) Subscribe(t testing.TB, tenantUID string, eventTypes ...string) *hookd.Endpoint {
	t.Helper()
	ep, err := h.subscribe(context.Background(), tenantUID, eventTypes)
	if err != nil {
		t.Fatalf("hookdtest: subscribe %s to %v: %v", tenantUID, eventTypes, err)
	}
	return ep
}

func (h *Hookd) subscribe(ctx context.Context, tenantUID string, eventTypes []string) (*hookd.Endpoint, error) {
	for _, name := range eventTypes {
		if _, err := h.Client.CreateEventType(ctx, hookd.EventTypeParams{Name: name}); err != nil && !hookd.IsConflict(err) {
			return nil, err
		}
	}
	if _, err := h.Client.CreateTenant(ctx, hookd.TenantParams{UID: &tenantUID}); err != nil && !hookd.IsConflict(err) {
		return nil, err
	}
	return h.Client.CreateEndpoint(ctx, tenantUID, hookd.EndpointParams{
		URL: &h.Receiver.URL, EventTypes: eventTypes, Secret: hookd.String(h.Receiver.Secret()),
	})
}
