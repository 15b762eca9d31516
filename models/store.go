package models

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"time"

	"code.dny.dev/ssrf"
	"gorm.io/gorm"
)

// Store reads and writes hookd's data. It is safe for concurrent use.
type Store struct {
	db     *gorm.DB
	now    func() time.Time
	sealer *sealer
	// lookup resolves endpoint hosts at registration; nil when private
	// networks are allowed, which turns the registration check off.
	lookup  LookupIPFunc
	schemas sync.Map // event type name@updated_at -> compiled JSON Schema
	cache   *cache
	guard   *ssrf.Guardian // nil: private addresses allowed
	bounds  EndpointBounds
}

// StoreOpts configures a Store.
type StoreOpts struct {
	// NowFunc is the clock (default: time.Now in UTC). Tests inject their own.
	NowFunc func() time.Time
	// SecretKey, 32 bytes, encrypts endpoint secrets at rest (AES-256-GCM).
	// Nil stores them in plain text; see NewStoreWithKey for the check.
	SecretKey []byte
	// CacheTTL is how long the hot path's lookups (keys, tenants, event
	// types, subscriptions, endpoints) are trusted: changes made through
	// another process take effect within it (default DefaultCacheTTL).
	CacheTTL time.Duration
	// AllowPrivateNetworks accepts endpoint URLs that point at loopback,
	// private, link-local and metadata addresses (default false: refused at
	// registration, besides the sender's check when it connects).
	AllowPrivateNetworks bool
	// AllowedNetworks are exceptions to the refusal of private addresses:
	// endpoint URLs in these prefixes are accepted (HOOKD_ALLOWED_NETWORKS).
	AllowedNetworks []netip.Prefix
	// LookupIPFunc resolves endpoint hosts at registration, with a 2 s
	// timeout (default: the system resolver).
	LookupIPFunc LookupIPFunc
	// EndpointBounds bound the timing endpoints may choose for themselves.
	EndpointBounds EndpointBounds
}

// NewStore returns a Store over an open, migrated database. It panics on a
// SecretKey that is not 32 bytes: use NewStoreWithKey for keys from users.
func NewStore(db *gorm.DB, opts StoreOpts) *Store {
	s, err := NewStoreWithKey(db, opts)
	if err != nil {
		panic(err)
	}
	return s
}

// NewStoreWithKey is NewStore with an error for a bad SecretKey.
func NewStoreWithKey(db *gorm.DB, opts StoreOpts) (*Store, error) {
	clock := opts.NowFunc
	if clock == nil {
		clock = now
	}
	sl, err := newSealer(opts.SecretKey)
	if err != nil {
		return nil, err
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = DefaultCacheTTL
	}
	s := &Store{
		db: db, now: func() time.Time { return clock().UTC().Truncate(time.Microsecond) }, sealer: sl,
		cache: newCache(opts.CacheTTL), bounds: opts.EndpointBounds.WithDefaults(),
	}
	if !opts.AllowPrivateNetworks {
		s.guard = AddressGuard(opts.AllowedNetworks)
		s.lookup = opts.LookupIPFunc
		if s.lookup == nil {
			s.lookup = lookupIP
		}
	}
	return s, nil
}

// Now is the store's clock, as timestamps are stored.
func (s *Store) Now() time.Time { return s.now() }

// DB returns the underlying gorm handle (for health checks and EmitTx callers).
func (s *Store) DB() *gorm.DB { return s.db }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Page limits.
const (
	DefaultLimit = 50
	MaxLimit     = 250
)

// ListParams pages through a list, newest first. Cursor is the id of the last
// item of the previous page.
type ListParams struct {
	Limit  int
	Cursor string
}

// page runs q (already filtered) newest first from the cursor, and returns the
// page and the cursor of the next one ("" at the end).
func page[T any](ctx context.Context, q *gorm.DB, p ListParams, idOf func(*T) string) ([]T, string, error) {
	limit := p.Limit
	if limit <= 0 || limit > MaxLimit {
		limit = DefaultLimit
	}
	if p.Cursor != "" {
		q = q.Where("id < ?", p.Cursor)
	}
	var rows []T
	if err := q.WithContext(ctx).Order("id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = idOf(&rows[limit-1])
	}
	if rows == nil {
		rows = []T{}
	}
	return rows, next, nil
}

// notFound turns gorm's not-found into the domain's.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Errorf(CodeNotFound, format, args...)
	}
	return err
}

// ---- tenants

var uidPattern = regexp.MustCompile(`^[A-Za-z0-9._:@-]{1,128}$`)

// TenantParams creates or changes a tenant. Nil fields are left as they are.
type TenantParams struct {
	UID  *string
	Name *string
}

func (p TenantParams) validate() error {
	if p.UID != nil && *p.UID != "" {
		if !uidPattern.MatchString(*p.UID) {
			return Errorf(CodeInvalid, "uid must be 1-128 letters, digits or ._:@-")
		}
		if strings.HasPrefix(*p.UID, PrefixTenant) {
			return Errorf(CodeInvalid, "uid must not start with %q, which marks hookd's own ids", PrefixTenant)
		}
	}
	if p.Name != nil && len(*p.Name) > 256 {
		return Errorf(CodeInvalid, "name must be at most 256 characters")
	}
	if p.Name != nil {
		return checkText("name", *p.Name)
	}
	return nil
}

// CreateTenant adds a tenant. A uid already taken is a conflict.
func (s *Store) CreateTenant(ctx context.Context, p TenantParams) (*Tenant, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	t := &Tenant{ID: NewID(PrefixTenant)}
	if p.UID != nil && *p.UID != "" {
		t.UID = p.UID
	}
	if p.Name != nil {
		t.Name = *p.Name
	}
	if err := s.db.WithContext(ctx).Create(t).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, Errorf(CodeConflict, "a tenant with uid %q exists already", *t.UID)
		}
		return nil, fmt.Errorf("create tenant: %w", err)
	}
	return t, nil
}

// GetTenant finds a tenant by its id or by its uid.
func (s *Store) GetTenant(ctx context.Context, idOrUID string) (*Tenant, error) {
	return s.TenantIn(ctx, s.db, idOrUID)
}

// TenantIn is GetTenant inside a caller's transaction.
func (s *Store) TenantIn(ctx context.Context, tx *gorm.DB, idOrUID string) (*Tenant, error) {
	var t Tenant
	// No tenant has an invalid id (and PostgreSQL cannot compare it); the
	// operator's tenant is reached through its own routes only.
	if !ValidText(idOrUID) || idOrUID == OperatorTenantID {
		return nil, Errorf(CodeNotFound, "tenant %q not found", idOrUID)
	}
	q := tx.WithContext(ctx)
	if strings.HasPrefix(idOrUID, PrefixTenant) {
		q = q.Where("id = ?", idOrUID)
	} else {
		q = q.Where("uid = ?", idOrUID)
	}
	if err := q.Take(&t).Error; err != nil {
		return nil, notFound(err, "tenant %q not found", idOrUID)
	}
	return &t, nil
}

// ListTenants pages through tenants, newest first.
func (s *Store) ListTenants(ctx context.Context, p ListParams) ([]Tenant, string, error) {
	return page(ctx, s.db.Model(&Tenant{}).Where("id <> ?", OperatorTenantID), p, func(t *Tenant) string { return t.ID })
}

// UpdateTenant changes a tenant's uid or name.
func (s *Store) UpdateTenant(ctx context.Context, id string, p TenantParams) (*Tenant, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	t, err := s.GetTenant(ctx, id)
	if err != nil {
		return nil, err
	}
	if p.UID != nil {
		t.UID = p.UID
		if *p.UID == "" {
			t.UID = nil
		}
	}
	if p.Name != nil {
		t.Name = *p.Name
	}
	if err := s.db.WithContext(ctx).Select("uid", "name", "updated_at").Save(t).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, Errorf(CodeConflict, "a tenant with uid %q exists already", *t.UID)
		}
		return nil, fmt.Errorf("update tenant %s: %w", t.ID, err)
	}
	s.cache.tenants.Purge() // cached by id and by the old uid
	return t, nil
}

// DeleteTenant removes a tenant with its keys, endpoints, messages and deliveries.
func (s *Store) DeleteTenant(ctx context.Context, id string) error {
	t, err := s.GetTenant(ctx, id)
	if err != nil {
		return err
	}
	s.cache.tenants.Purge()
	s.cache.keys.Purge()
	return s.db.WithContext(ctx).Delete(&Tenant{}, "id = ?", t.ID).Error
}

// ---- event types

var eventTypePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// EventTypeParams creates or changes an event type. Nil fields are left as they are.
type EventTypeParams struct {
	Name        string
	Description *string
	Archived    *bool
	// Schema is a JSON Schema that payloads must match; "" removes it.
	Schema *string
}

// CreateEventType registers an event type.
func (s *Store) CreateEventType(ctx context.Context, p EventTypeParams) (*EventType, error) {
	if !eventTypePattern.MatchString(p.Name) {
		return nil, Errorf(CodeInvalid, "name must be 1-128 letters, digits or ._- (like invoice.paid)")
	}
	if p.Description != nil {
		if err := checkText("description", *p.Description); err != nil {
			return nil, err
		}
	}
	et := &EventType{Name: p.Name}
	if p.Description != nil {
		et.Description = *p.Description
	}
	if p.Schema != nil && *p.Schema != "" {
		if _, err := compileSchema(*p.Schema); err != nil {
			return nil, err
		}
		schema := RawJSON(*p.Schema)
		et.Schema = &schema
	}
	if err := s.db.WithContext(ctx).Create(et).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, Errorf(CodeConflict, "event type %q exists already", p.Name)
		}
		return nil, fmt.Errorf("create event type: %w", err)
	}
	return et, nil
}

// GetEventType finds an event type by name, archived or not.
func (s *Store) GetEventType(ctx context.Context, name string) (*EventType, error) {
	var et EventType
	if !eventTypePattern.MatchString(name) { // no such name exists; and PostgreSQL cannot compare NUL
		return nil, Errorf(CodeNotFound, "event type %q not found", name)
	}
	if err := s.db.WithContext(ctx).Take(&et, "name = ?", name).Error; err != nil {
		return nil, notFound(err, "event type %q not found", name)
	}
	return &et, nil
}

// ListEventTypes lists event types by name; archived ones only if asked.
func (s *Store) ListEventTypes(ctx context.Context, p ListParams, withArchived bool) ([]EventType, string, error) {
	limit := p.Limit
	if limit <= 0 || limit > MaxLimit {
		limit = DefaultLimit
	}
	q := s.db.WithContext(ctx).Order("name")
	if !withArchived {
		q = q.Where("archived_at IS NULL")
	}
	if p.Cursor != "" {
		q = q.Where("name > ?", p.Cursor)
	}
	var rows []EventType
	if err := q.Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = rows[limit-1].Name
	}
	if rows == nil {
		rows = []EventType{}
	}
	return rows, next, nil
}

// UpdateEventType changes an event type's description, or archives or restores it.
func (s *Store) UpdateEventType(ctx context.Context, p EventTypeParams) (*EventType, error) {
	if p.Description != nil {
		if err := checkText("description", *p.Description); err != nil {
			return nil, err
		}
	}
	et, err := s.GetEventType(ctx, p.Name)
	if err != nil {
		return nil, err
	}
	if p.Description != nil {
		et.Description = *p.Description
	}
	if p.Schema != nil {
		et.Schema = nil
		if *p.Schema != "" {
			if _, err := compileSchema(*p.Schema); err != nil {
				return nil, err
			}
			schema := RawJSON(*p.Schema)
			et.Schema = &schema
		}
	}
	if p.Archived != nil {
		switch {
		case *p.Archived && et.ArchivedAt == nil:
			t := s.now()
			et.ArchivedAt = &t
		case !*p.Archived:
			et.ArchivedAt = nil
		}
	}
	if err := s.db.WithContext(ctx).Select("description", "schema", "archived_at", "updated_at").Save(et).Error; err != nil {
		return nil, fmt.Errorf("update event type %s: %w", et.Name, err)
	}
	s.cache.eventTypes.Remove(et.Name)
	return et, nil
}

// ArchiveEventType archives an event type: new messages of it are refused,
// history stays. Event types are never deleted outright, since messages name them.
func (s *Store) ArchiveEventType(ctx context.Context, name string) (*EventType, error) {
	archived := true
	return s.UpdateEventType(ctx, EventTypeParams{Name: name, Archived: &archived})
}
