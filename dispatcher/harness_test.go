package dispatcher

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/oklog/ulid/v2"
	"github.com/redis/go-redis/v9"

	"hookd.dev/hookd/dispatcher/embedredis"
	"hookd.dev/hookd/dispatcher/signature"
	"hookd.dev/hookd/models"
	"hookd.dev/hookd/models/storetest"
)

// harness is one test's database (SQLite, or PostgreSQL when
// HOOKD_TEST_DATABASE_URL is set), Redis (its own queue on the shared one,
// or an in-process one), and a tenant with an event type: what the
// pipeline and the worker need, without asynq's server, so that tests call
// the handler directly and nothing waits on a poll.
type harness struct {
	t      *testing.T
	ctx    context.Context
	db     *storetest.DB
	store  *models.Store
	rdb    redis.UniversalClient
	redis  asynq.RedisConnOpt
	queue  *Queue
	tenant *models.Tenant
	now    time.Time // the stores' clock; tests move it
	mu     sync.Mutex
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	t.Parallel()
	h := &harness{t: t, ctx: context.Background(), db: storetest.New(t), now: time.Now().UTC()}
	h.store = h.newStore(models.StoreOpts{})
	var opt asynq.RedisConnOpt
	if u := os.Getenv("HOOKD_TEST_REDIS_URL"); u != "" {
		parsed, err := asynq.ParseRedisURI(u)
		if err != nil {
			t.Fatal(err)
		}
		opt = parsed
	} else {
		r, err := embedredis.Start()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Close)
		opt = asynq.RedisClientOpt{Addr: r.Addr(), Password: r.Password()}
	}
	h.redis = opt
	h.rdb = opt.MakeRedisClient().(redis.UniversalClient)
	t.Cleanup(func() { _ = h.rdb.Close() })
	h.queue = NewQueue(opt, "test_"+strings.ToLower(ulid.Make().String()))
	t.Cleanup(func() { _ = h.queue.Close() })
	var err error
	if h.tenant, err = h.store.CreateTenant(h.ctx, models.TenantParams{UID: ptr("acme")}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.CreateEventType(h.ctx, models.EventTypeParams{Name: "invoice.paid"}); err != nil {
		t.Fatal(err)
	}
	return h
}

func ptr[T any](v T) *T { return &v }

// newStore opens another store on the test's database, as another hookd
// process would, on the harness's clock.
func (h *harness) newStore(opts models.StoreOpts) *models.Store {
	opts.AllowPrivateNetworks = true
	opts.NowFunc = h.clock
	return models.NewStore(h.db.Gorm, opts)
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

// advance moves the stores' clock.
func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(d)
}

// setClock sets the stores' clock.
func (h *harness) setClock(t time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = t.UTC()
}

func (h *harness) pipeline(store *models.Store) *Pipeline {
	p := NewPipeline(PipelineConfig{Store: store, Queue: h.queue, Logger: quiet()})
	h.t.Cleanup(p.Close)
	return p
}

// worker returns a Worker whose handler can be called directly.
func (h *harness) worker(store *models.Store, cfg Config) *Worker {
	cfg.Queue = h.queue.name
	cfg.Logger = quiet()
	w := NewWorker(store, h.queue, cfg)
	w.open(h.rdb)
	h.t.Cleanup(w.close)
	return w
}

// endpoint registers an endpoint at url with a known secret.
func (h *harness) endpoint(store *models.Store, url, secret string) *models.Endpoint {
	h.t.Helper()
	ep, err := store.CreateEndpoint(h.ctx, h.tenant.ID, models.EndpointParams{URL: &url, EventTypes: []string{"*"}, Secret: &secret})
	if err != nil {
		h.t.Fatal(err)
	}
	return ep
}

// emit emits a message and waits for its enqueue, so that the test finds
// its deliveries on the queue.
func (h *harness) emit(p *Pipeline) *models.Message {
	h.t.Helper()
	msg, _, err := p.Emit(h.ctx, h.emitParams())
	if err != nil {
		h.t.Fatal(err)
	}
	settle(p)
	return msg
}

func (h *harness) emitParams() models.EmitParams {
	return models.EmitParams{TenantID: h.tenant.ID, EventType: "invoice.paid", Payload: []byte(`{"n":1}`)}
}

// settle waits for the enqueues that p's emits did not wait for: it holds
// every place behind, then gives them back.
func settle(p *Pipeline) {
	for range cap(p.behind) {
		p.behind <- struct{}{}
	}
	for range cap(p.behind) {
		<-p.behind
	}
}

// task is the task the queue would hand a worker for the delivery's next attempt.
func task(t *testing.T, d models.Delivery) *asynq.Task {
	t.Helper()
	raw, err := json.Marshal(deliveryPayload{DeliveryID: d.ID, AttemptCount: d.AttemptCount, EndpointID: d.EndpointID})
	if err != nil {
		t.Fatal(err)
	}
	return asynq.NewTask(TypeDeliverySend, raw)
}

func (h *harness) delivery(id string) *models.Delivery {
	h.t.Helper()
	d, err := h.store.GetDelivery(h.ctx, h.tenant.ID, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// verifyingReceiver answers status to every request whose signature
// verifies with secret, and counts them.
type verifyingReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    int
	status int
}

func newVerifyingReceiver(t *testing.T, secret string, status int) *verifyingReceiver {
	r := &verifyingReceiver{status: status}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if _, err := signature.VerifyRequest(secret, req, 1<<20); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		r.mu.Lock()
		r.got++
		status := r.status
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *verifyingReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got
}
