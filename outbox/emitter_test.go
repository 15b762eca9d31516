package outbox_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"
	glogger "gorm.io/gorm/logger"

	"hookd.dev/hookd"
	"hookd.dev/hookd/dispatcher/embedredis"
	"hookd.dev/hookd/models"
	"hookd.dev/hookd/models/storetest"
	"hookd.dev/hookd/outbox"
)

// Invoice is an app's own model, in the same database as hookd's tables.
type Invoice struct {
	ID       uint `gorm:"primaryKey"`
	Customer string
	Amount   int
}

type emitterFixture struct {
	db      *gorm.DB
	emitter *outbox.Emitter
	insp    *asynq.Inspector
	ctx     context.Context
}

func setupEmitter(t *testing.T) *emitterFixture {
	t.Helper()
	t.Parallel()
	ctx := context.Background()
	db := storetest.New(t).Gorm
	if err := db.AutoMigrate(&Invoice{}); err != nil {
		t.Fatal(err)
	}
	store := models.NewStore(db, models.StoreOpts{})
	ten, err := store.CreateTenant(ctx, models.TenantParams{UID: ptr("acme")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateEventType(ctx, models.EventTypeParams{Name: "invoice.paid"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateEndpoint(ctx, ten.ID, models.EndpointParams{URL: ptr("https://example.com/hook"), EventTypes: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	redis, err := embedredis.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(redis.Close)
	e, err := outbox.New(db, outbox.Options{RedisURL: redis.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: redis.Addr(), Password: redis.Password()})
	t.Cleanup(func() { _ = insp.Close() })
	return &emitterFixture{db: db, emitter: e, insp: insp, ctx: ctx}
}

func ptr[T any](v T) *T { return &v }

func (f *emitterFixture) queued(t *testing.T) int {
	t.Helper()
	info, err := f.insp.GetQueueInfo("hookd")
	if err != nil {
		return 0 // the queue does not exist until something is enqueued
	}
	return info.Size
}

// queuedOnce waits (up to 5 s) for want tasks: Emit answers before its
// enqueue ends.
func (f *emitterFixture) queuedOnce(t *testing.T, want int) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for f.queued(t) != want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return f.queued(t)
}

func (f *emitterFixture) messages(t *testing.T, eventType string) int64 {
	t.Helper()
	var n int64
	if err := f.db.Model(&models.Message{}).Where("event_type = ?", eventType).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEmitTxCommitsAndRollsBackWithTheApp(t *testing.T) {
	f := setupEmitter(t)
	boom := errors.New("payment declined")
	err := f.emitter.Transaction(f.ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&Invoice{Customer: "acme", Amount: 1200}).Error; err != nil {
			return err
		}
		if _, err := f.emitter.EmitTx(f.ctx, tx, "acme", "invoice.paid", map[string]int{"amount": 1200}, nil); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Transaction = %v", err)
	}
	if n := f.messages(t, "invoice.paid"); n != 0 || f.queued(t) != 0 {
		t.Fatalf("after a rollback: %d messages, %d queued", n, f.queued(t))
	}

	err = f.emitter.Transaction(f.ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&Invoice{Customer: "acme", Amount: 1200}).Error; err != nil {
			return err
		}
		msg, err := f.emitter.EmitTx(f.ctx, tx, "acme", "invoice.paid", map[string]int{"amount": 1200}, nil)
		if err == nil && f.queued(t) != 0 {
			t.Error("enqueued before the commit")
		}
		if err == nil && len(msg.Deliveries) != 1 {
			t.Errorf("%d deliveries", len(msg.Deliveries))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.messages(t, "invoice.paid"); n != 1 || f.queued(t) != 1 {
		t.Fatalf("after a commit: %d messages, %d queued; want 1 and 1", n, f.queued(t))
	}

	// In the app's own transaction, the message commits with it and waits for the sweeper.
	err = f.db.Transaction(func(tx *gorm.DB) error {
		_, err := f.emitter.EmitTx(f.ctx, tx, "acme", "invoice.paid", []byte(`{"amount": 5}`), nil)
		return err
	})
	if err != nil || f.messages(t, "invoice.paid") != 2 {
		t.Fatalf("EmitTx in the app's transaction: %v", err)
	}
	if n := f.queued(t); n != 1 {
		t.Fatalf("%d queued after EmitTx in the app's own transaction, want still 1: the sweeper enqueues it", n)
	}

	var apiErr *hookd.Error
	_, err = f.emitter.Emit(f.ctx, "nobody", "invoice.paid", map[string]int{}, nil)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Fatalf("unknown tenant: %v", err)
	}
}

func TestHookOverTheEmitter(t *testing.T) {
	f := setupEmitter(t)
	pay := hookd.Hook(f.emitter, "invoice.paid", func(_ context.Context, amount int) (Invoice, error) {
		return Invoice{Customer: "acme", Amount: amount}, nil
	})
	if _, err := pay(f.ctx, "acme", 99); err != nil {
		t.Fatal(err)
	}
	if n, q := f.messages(t, "invoice.paid"), f.queuedOnce(t, 1); n != 1 || q != 1 {
		t.Fatalf("%d messages, %d queued", n, q)
	}
}

func TestModelEvents(t *testing.T) {
	f := setupEmitter(t)
	events := f.emitter.ModelEvents()
	err := events.Register(f.ctx, &Invoice{}, outbox.ModelHook{
		Name:        "invoice",
		TenantFunc:  func(m any) string { return m.(*Invoice).Customer },
		PayloadFunc: func(m any) any { return map[string]int{"amount": m.(*Invoice).Amount} },
	})
	if err != nil {
		t.Fatal(err)
	}
	// The app's own handle, with gorm's default transaction around each write.
	db, err := gorm.Open(f.db.Dialector, &gorm.Config{Logger: glogger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	if err := db.Use(events); err != nil {
		t.Fatal(err)
	}
	inv := &Invoice{Customer: "acme", Amount: 10}
	if err := db.Create(inv).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Model(inv).Update("amount", 20).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Delete(inv).Error; err != nil {
		t.Fatal(err)
	}
	batch := []Invoice{{Customer: "acme", Amount: 1}, {Customer: "acme", Amount: 2}}
	if err := db.Create(&batch).Error; err != nil {
		t.Fatal(err)
	}
	for eventType, want := range map[string]int64{"invoice.created": 3, "invoice.updated": 1, "invoice.deleted": 1} {
		if n := f.messages(t, eventType); n != want {
			t.Errorf("%s: %d messages, want %d", eventType, n, want)
		}
	}
	var updated models.Message
	f.db.Where("event_type = ?", "invoice.updated").Take(&updated)
	if updated.Payload != `{"amount":20}` {
		t.Errorf("updated payload %s", updated.Payload)
	}

	// A row whose tenant does not exist is not written: the event and the row go together.
	if err := db.Create(&Invoice{Customer: "nobody", Amount: 1}).Error; err == nil {
		t.Fatal("a row without a tenant was written")
	}
	var n int64
	f.db.Model(&Invoice{}).Where("customer = ?", "nobody").Count(&n)
	if n != 0 {
		t.Fatal("the row was written without its event")
	}
}

// TestEmitTxTakesEmitsOptions: an idempotency key given to EmitTx names
// the message, and a second EmitTx with it returns the first.
func TestEmitTxTakesEmitsOptions(t *testing.T) {
	f := setupEmitter(t)
	opts := &hookd.EmitOpts{IdempotencyKey: "inv_42-paid"}
	var first, second *hookd.Message
	err := f.emitter.Transaction(f.ctx, func(tx *gorm.DB) error {
		var err error
		if first, err = f.emitter.EmitTx(f.ctx, tx, "acme", "invoice.paid", map[string]int{"amount": 1}, opts); err != nil {
			return err
		}
		second, err = f.emitter.EmitTx(f.ctx, tx, "acme", "invoice.paid", map[string]int{"amount": 1}, opts)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if second.ID != first.ID || f.messages(t, "invoice.paid") != 1 {
		t.Fatalf("the same key twice gave %s and %s, %d messages; want one message", first.ID, second.ID, f.messages(t, "invoice.paid"))
	}
	if f.queued(t) != 1 {
		t.Fatalf("%d queued, want the first message's delivery", f.queued(t))
	}
}

// TestTransactionEnqueuesModelEventsAfterTheCommit: rows written inside
// Transaction emit through ModelEvents, and their events are enqueued once
// it commits, with no value of the emitter's in the app's context.
func TestTransactionEnqueuesModelEventsAfterTheCommit(t *testing.T) {
	f := setupEmitter(t)
	events := f.emitter.ModelEvents()
	if err := events.Register(f.ctx, &Invoice{}, outbox.ModelHook{Name: "invoice", TenantFunc: func(m any) string { return m.(*Invoice).Customer }}); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Use(events); err != nil {
		t.Fatal(err)
	}
	err := f.emitter.Transaction(context.Background(), func(tx *gorm.DB) error {
		for range 2 {
			if err := tx.Create(&Invoice{Customer: "acme", Amount: 3}).Error; err != nil {
				return err
			}
		}
		if f.queued(t) != 0 {
			t.Error("enqueued before the commit")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.messages(t, "invoice.created"); n != 2 {
		t.Fatalf("%d messages, want 2", n)
	}
	if f.queued(t) == 0 {
		t.Fatal("nothing enqueued after the commit")
	}
}

// TestEnqueueAfterTheAppsOwnTransaction: what EmitTx wrote in the app's
// own transaction is enqueued when the app asks, after its commit.
func TestEnqueueAfterTheAppsOwnTransaction(t *testing.T) {
	f := setupEmitter(t)
	var msg *hookd.Message
	err := f.db.Transaction(func(tx *gorm.DB) error {
		var err error
		msg, err = f.emitter.EmitTx(f.ctx, tx, "acme", "invoice.paid", []byte(`{"amount": 5}`), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.queued(t) != 0 {
		t.Fatal("enqueued without Transaction or Enqueue")
	}
	f.emitter.Enqueue(f.ctx, msg)
	if f.queued(t) != 1 {
		t.Fatalf("%d queued after Enqueue, want 1", f.queued(t))
	}
}

// recordingLogger keeps what gorm logs as errors.
type recordingLogger struct {
	glogger.Interface
	mu     sync.Mutex
	errors []string
}

func (l *recordingLogger) LogMode(glogger.LogLevel) glogger.Interface { return l }

func (l *recordingLogger) Trace(_ context.Context, _ time.Time, fc func() (string, int64), err error) {
	if err != nil {
		sql, _ := fc()
		l.mu.Lock()
		l.errors = append(l.errors, err.Error()+": "+sql)
		l.mu.Unlock()
	}
}

// TestAnUnknownTenantIsNoErrorInTheAppsLog: emitting to a tenant that does
// not exist answers 404 and writes nothing to the app's gorm logger.
func TestAnUnknownTenantIsNoErrorInTheAppsLog(t *testing.T) {
	f := setupEmitter(t)
	log := &recordingLogger{Interface: glogger.Discard}
	db := f.db.Session(&gorm.Session{Logger: log})
	e, err := outbox.New(db, outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	var apiErr *hookd.Error
	if _, err := e.Emit(f.ctx, "nobody", "invoice.paid", map[string]int{}, nil); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Fatalf("Emit to an unknown tenant: %v", err)
	}
	err = db.Transaction(func(tx *gorm.DB) error {
		_, err := e.EmitTx(f.ctx, tx, "nobody", "invoice.paid", map[string]int{}, nil)
		return err
	})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Fatalf("EmitTx to an unknown tenant: %v", err)
	}
	if len(log.errors) > 0 {
		t.Fatalf("the app's log got %q", log.errors)
	}
}
