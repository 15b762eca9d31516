package outbox_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"gorm.io/gorm"
	glogger "gorm.io/gorm/logger"

	"hookd.dev/hookd"
	"hookd.dev/hookd/migrations"
	"hookd.dev/hookd/models"
	"hookd.dev/hookd/outbox"
)

// appDatabase stands for the app's own database: hookd's tables beside the
// app's, a tenant "acme" with an endpoint for every event type. The app
// creates tenants and endpoints through hookd's API; closing removes it.
func appDatabase() (db *gorm.DB, closeDB func()) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "hookd-outbox-example")
	if err != nil {
		panic(err)
	}
	db, err = models.Open(ctx, models.OpenOpts{SQLitePath: filepath.Join(dir, "app.db")})
	if err != nil {
		panic(err)
	}
	db.Logger = glogger.Discard
	if _, err := migrations.Apply(ctx, db); err != nil {
		panic(err)
	}
	if err := db.AutoMigrate(&Invoice{}); err != nil {
		panic(err)
	}
	store := models.NewStore(db, models.StoreOpts{})
	ten, err := store.CreateTenant(ctx, models.TenantParams{UID: ptr("acme")})
	if err == nil {
		_, err = store.CreateEventType(ctx, models.EventTypeParams{Name: "invoice.paid"})
	}
	if err == nil {
		_, err = store.CreateEndpoint(ctx, ten.ID, models.EndpointParams{URL: ptr("https://example.com/hook"), EventTypes: []string{"*"}})
	}
	if err != nil {
		panic(err)
	}
	return db, func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
		_ = os.RemoveAll(dir)
	}
}

// An invoice and its invoice.paid event commit together, or neither does.
func ExampleEmitter_Transaction() {
	ctx := context.Background()
	db, closeDB := appDatabase()
	defer closeDB()
	emitter, err := outbox.New(db, outbox.Options{}) // with RedisURL, enqueued at the commit
	if err != nil {
		fmt.Println(err)
		return
	}
	defer emitter.Close()

	inv := Invoice{Customer: "acme", Amount: 1200}
	err = emitter.Transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&inv).Error; err != nil {
			return err
		}
		msg, err := emitter.EmitTx(ctx, tx, inv.Customer, "invoice.paid", inv,
			&hookd.EmitOpts{IdempotencyKey: fmt.Sprintf("invoice-%d-paid", inv.ID)})
		if err != nil {
			return err // rolls the invoice back
		}
		fmt.Println(msg.EventType, "for", len(msg.Deliveries), "endpoint")
		return nil
	})
	fmt.Println("committed:", err == nil)
	// Output:
	// invoice.paid for 1 endpoint
	// committed: true
}

// Rows of a registered model emit <name>.created, .updated and .deleted in
// the transaction that writes them.
func ExampleEmitter_ModelEvents() {
	ctx := context.Background()
	db, closeDB := appDatabase()
	defer closeDB()
	emitter, err := outbox.New(db, outbox.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer emitter.Close()

	events := emitter.ModelEvents()
	err = events.Register(ctx, &Invoice{}, outbox.ModelHook{
		Name:        "invoice", // invoice.created, invoice.updated, invoice.deleted
		TenantFunc:  func(row any) string { return row.(*Invoice).Customer },
		PayloadFunc: func(row any) any { return map[string]int{"amount": row.(*Invoice).Amount} },
	})
	if err == nil {
		err = db.Use(events)
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	inv := &Invoice{Customer: "acme", Amount: 10}
	db.Create(inv)
	db.Model(inv).Update("amount", 20)

	var types []string
	db.Model(&models.Message{}).Pluck("event_type", &types)
	slices.Sort(types)
	fmt.Println(types)
	// Output: [invoice.created invoice.updated]
}
