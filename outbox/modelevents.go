package outbox

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"gorm.io/gorm"

	"hookd.dev/hookd/models"
)

// ModelEvents is a gorm plugin, the Go form of django-rest-hooks: for each
// registered model it emits "<name>.created", "<name>.updated" and
// "<name>.deleted" inside the transaction that wrote the row, so the event
// exists if and only if the write committed.
//
//	events := emitter.ModelEvents()
//	events.Register(ctx, &Invoice{}, outbox.ModelHook{Name: "invoice", TenantFunc: func(m any) string { return m.(*Invoice).CustomerID }})
//	db.Use(events)
//
// gorm wraps each Create, Save, Update and Delete in a transaction unless
// SkipDefaultTransaction is set; with it set, wrap the write in a transaction
// yourself, or the event is written beside the row rather than with it.
type ModelEvents struct {
	emitter *Emitter
	mu      sync.RWMutex
	hooks   map[reflect.Type]ModelHook
}

// ModelHook says how a model's rows become events.
type ModelHook struct {
	// Name prefixes the event types: "invoice" gives invoice.created and so on.
	Name string
	// TenantFunc names the tenant (id or uid) that owns a row.
	TenantFunc func(model any) string
	// PayloadFunc builds the payload from a row (default: the row itself, as JSON).
	PayloadFunc func(model any) any
}

// ModelEvents returns a plugin that emits through this Emitter.
func (e *Emitter) ModelEvents() *ModelEvents {
	return &ModelEvents{emitter: e, hooks: map[reflect.Type]ModelHook{}}
}

// Register makes rows of model's type emit events, and creates the three
// event types if they do not exist yet.
func (p *ModelEvents) Register(ctx context.Context, model any, hook ModelHook) error {
	if hook.Name == "" || hook.TenantFunc == nil {
		return fmt.Errorf("hookd: a ModelHook needs a Name and a TenantFunc")
	}
	for _, action := range []string{"created", "updated", "deleted"} {
		name := hook.Name + "." + action
		_, err := p.emitter.store.CreateEventType(ctx, models.EventTypeParams{Name: name})
		if err != nil && models.ErrorCode(err) != models.CodeConflict {
			return fmt.Errorf("hookd: event type %s: %w", name, err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hooks[indirect(reflect.TypeOf(model))] = hook
	return nil
}

// Name identifies the plugin to gorm.
func (p *ModelEvents) Name() string { return "hookd:model-events" }

// Initialize registers the callbacks; gorm calls it from db.Use.
func (p *ModelEvents) Initialize(db *gorm.DB) error {
	// After the write and before gorm commits its transaction, so that an
	// emit error rolls the write back.
	const commit = "gorm:commit_or_rollback_transaction"
	cb := db.Callback()
	return firstErr(
		cb.Create().After("gorm:create").Before(commit).Register("hookd:created", p.callback("created")),
		cb.Update().After("gorm:update").Before(commit).Register("hookd:updated", p.callback("updated")),
		cb.Delete().After("gorm:delete").Before(commit).Register("hookd:deleted", p.callback("deleted")),
	)
}

func (p *ModelEvents) callback(action string) func(*gorm.DB) {
	return func(db *gorm.DB) {
		if db.Error != nil || db.Statement.Schema == nil || db.RowsAffected == 0 {
			return
		}
		p.mu.RLock()
		hook, ok := p.hooks[db.Statement.Schema.ModelType]
		p.mu.RUnlock()
		if !ok {
			return
		}
		// The same connection, so the same transaction as the row, but a
		// fresh statement: the callback's own (its SQL, its model) must not
		// leak into the emit's queries.
		tx := db.Session(&gorm.Session{NewDB: true}).Model(nil)
		ctx := db.Statement.Context
		for _, row := range rows(db.Statement.ReflectValue) {
			payload := row
			if hook.PayloadFunc != nil {
				payload = hook.PayloadFunc(row)
			}
			if _, err := p.emitter.EmitTx(ctx, tx, hook.TenantFunc(row), hook.Name+"."+action, payload, nil); err != nil {
				_ = db.AddError(fmt.Errorf("hookd: emit %s.%s: %w", hook.Name, action, err)) // rolls the write back
				return
			}
		}
	}
}

// rows returns the written rows as pointers, for a single value or a slice.
func rows(v reflect.Value) []any {
	v = reflect.Indirect(v)
	if v.Kind() == reflect.Slice || v.Kind() == reflect.Array {
		out := make([]any, 0, v.Len())
		for i := range v.Len() {
			out = append(out, pointer(v.Index(i)))
		}
		return out
	}
	return []any{pointer(v)}
}

func pointer(v reflect.Value) any {
	if v.Kind() == reflect.Pointer {
		return v.Interface()
	}
	if v.CanAddr() {
		return v.Addr().Interface()
	}
	return v.Interface()
}

func indirect(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
