package hookd_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"hookd.dev/hookd/api"
	"hookd.dev/hookd/dispatcher"
	"hookd.dev/hookd/dispatcher/embedredis"
	"hookd.dev/hookd/migrations"
	"hookd.dev/hookd/models"
)

// hookdURL and adminKey address the hookd that TestMain runs for the tests
// and examples of this package: API, worker and sweeper on SQLite and an
// in-process Redis, as `hookd serve` runs them.
var (
	hookdURL string
	adminKey = "hk_sdk_test_admin_0123456789abcdefgh"
)

func TestMain(m *testing.M) {
	stop, err := runHookd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start hookd:", err)
		os.Exit(1)
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

func runHookd() (stop func(), err error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "hookd-sdk-test")
	if err != nil {
		return nil, err
	}
	db, err := models.Open(ctx, models.OpenOpts{SQLitePath: dir + "/hookd.db"})
	if err != nil {
		return nil, err
	}
	if _, err := migrations.Apply(ctx, db); err != nil {
		return nil, err
	}
	redis, err := embedredis.Start()
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := models.NewStore(db, models.StoreOpts{AllowPrivateNetworks: true})
	redisOpt := asynq.RedisClientOpt{Addr: redis.Addr(), Password: redis.Password()}
	queue := dispatcher.NewQueue(redisOpt, "")
	worker := dispatcher.NewWorker(store, queue, dispatcher.Config{
		AllowPrivateNetworks: true, Schedule: dispatcher.Schedule{time.Second}, Logger: log,
	})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = worker.Run(runCtx, redisOpt); close(done) }()
	pipeline := dispatcher.NewPipeline(dispatcher.PipelineConfig{Store: store, Queue: queue, Logger: log})
	srv := httptest.NewServer(api.New(api.Config{Store: store, Pipeline: pipeline, AdminKey: adminKey, Logger: log}).Handler())
	hookdURL = srv.URL
	return func() {
		srv.Close()
		pipeline.Close()
		cancel()
		<-done
		_ = queue.Close()
		redis.Close()
		_ = os.RemoveAll(dir)
	}, nil
}
