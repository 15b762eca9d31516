package models

import (
	"context"
	"fmt"
	"time"

	"github.com/jellydator/ttlcache/v3"
	"gorm.io/gorm"
)

// DefaultCacheTTL is how long the hot path trusts what it read: a change
// made through another process takes effect within it.
const DefaultCacheTTL = time.Second

// cacheSize bounds each cache; least recently used entries go first.
const cacheSize = 10_000

// cache keeps what every emit and attempt reads (keys, tenants, event types,
// subscriptions, endpoints with their secrets opened) in memory for a short
// TTL. Writes through this store drop what they change at once; writes
// through other processes are seen within the TTL. Nothing negative is
// cached, so a thing created elsewhere is seen on its first use.
type cache struct {
	keys        ttlCache[APIKey]     // by key hash
	tenants     ttlCache[Tenant]     // by id and by uid
	eventTypes  ttlCache[EventType]  // by name
	subscribers ttlCache[[]Endpoint] // by tenant id + "\x00" + event type
	endpoints   ttlCache[Endpoint]   // by id, secrets opened
}

func newCache(ttl time.Duration) *cache {
	return &cache{
		keys: newTTLCache[APIKey](ttl), tenants: newTTLCache[Tenant](ttl), eventTypes: newTTLCache[EventType](ttl),
		subscribers: newTTLCache[[]Endpoint](ttl), endpoints: newTTLCache[Endpoint](ttl),
	}
}

// ttlCache is a bounded map whose entries expire: jellydator/ttlcache,
// without its cleanup goroutine (an expired entry is never returned, and
// waits to be evicted by newer ones) and without extending an entry's life
// when it is read, so that the TTL bounds how stale a read can be.
type ttlCache[V any] struct{ c *ttlcache.Cache[string, V] }

func newTTLCache[V any](ttl time.Duration) ttlCache[V] {
	return ttlCache[V]{ttlcache.New(
		ttlcache.WithTTL[string, V](ttl), ttlcache.WithCapacity[string, V](cacheSize),
		ttlcache.WithDisableTouchOnHit[string, V](),
	)}
}

func (t ttlCache[V]) Get(key string) (V, bool) {
	if item := t.c.Get(key); item != nil {
		return item.Value(), true
	}
	var zero V
	return zero, false
}

func (t ttlCache[V]) Add(key string, v V) { t.c.Set(key, v, ttlcache.DefaultTTL) }
func (t ttlCache[V]) Remove(key string)   { t.c.Delete(key) }
func (t ttlCache[V]) Purge()              { t.c.DeleteAll() }

// endpointChanged drops what an endpoint change makes stale.
func (c *cache) endpointChanged(id string) {
	c.endpoints.Remove(id)
	c.subscribers.Purge()
}

// CachedTenant is GetTenant through the cache.
func (s *Store) CachedTenant(ctx context.Context, idOrUID string) (*Tenant, error) {
	if t, ok := s.cache.tenants.Get(idOrUID); ok {
		return &t, nil
	}
	t, err := s.GetTenant(ctx, idOrUID)
	if err != nil {
		return nil, err
	}
	s.cache.tenants.Add(idOrUID, *t)
	return t, nil
}

// CachedEventType is GetEventType through the cache.
func (s *Store) CachedEventType(ctx context.Context, name string) (*EventType, error) {
	if et, ok := s.cache.eventTypes.Get(name); ok {
		return &et, nil
	}
	et, err := s.GetEventType(ctx, name)
	if err != nil {
		return nil, err
	}
	s.cache.eventTypes.Add(name, *et)
	return et, nil
}

// Subscribers returns the tenant's enabled endpoints that subscribe to an
// event type, through the cache: the fan-out of an emit.
// tx, when not nil, is the caller's transaction to read in.
func (s *Store) Subscribers(ctx context.Context, tx *gorm.DB, tenantID, eventType string) ([]Endpoint, error) {
	key := tenantID + "\x00" + eventType
	if eps, ok := s.cache.subscribers.Get(key); ok {
		return eps, nil
	}
	var all []Endpoint
	db := s.db
	if tx != nil {
		db = tx
	}
	// updated_at: a worker handed the fan-out's deliveries (hookd serve)
	// tells by it whether its cached endpoint is current.
	if err := db.WithContext(ctx).Select("id", "event_types", "filter", "ordering", "updated_at").
		Where("tenant_id = ? AND enabled", tenantID).Find(&all).Error; err != nil {
		return nil, fmt.Errorf("load endpoints of %s: %w", tenantID, err)
	}
	eps := []Endpoint{}
	for _, ep := range all {
		if ep.Subscribes(eventType) {
			eps = append(eps, ep)
		}
	}
	if tx == nil { // inside a caller's transaction the rows may not be committed
		s.cache.subscribers.Add(key, eps)
	}
	return eps, nil
}

// ForgetSubscribers drops the cached fan-outs, for a caller that learned
// that one is stale (an endpoint deleted through another process).
func (s *Store) ForgetSubscribers() { s.cache.subscribers.Purge() }

// CachedEndpoint returns an endpoint (any tenant's) with its secrets
// opened, through the cache: what the worker needs to limit, sign and send.
func (s *Store) CachedEndpoint(ctx context.Context, id string) (*Endpoint, error) {
	if ep, ok := s.cache.endpoints.Get(id); ok {
		return &ep, nil
	}
	return s.RefreshEndpoint(ctx, id)
}

// RefreshEndpoint reads an endpoint anew into the cache, for a caller that
// learned the cached copy is stale.
func (s *Store) RefreshEndpoint(ctx context.Context, id string) (*Endpoint, error) {
	var ep Endpoint
	if err := s.db.WithContext(ctx).Take(&ep, "id = ?", id).Error; err != nil {
		return nil, notFound(err, "endpoint %q not found", id)
	}
	if err := s.openEndpoint(&ep); err != nil {
		return nil, err
	}
	s.cache.endpoints.Add(id, ep)
	return &ep, nil
}

// NoteEndpointHealth updates the cached copy of an endpoint after the
// pipeline changed its health, so that the next attempt sees the change.
func (s *Store) NoteEndpointHealth(id string, failingSince *time.Time, enabled bool) {
	if ep, ok := s.cache.endpoints.Get(id); ok {
		ep.FailingSince, ep.Enabled = failingSince, enabled
		s.cache.endpoints.Add(id, ep)
	}
	if !enabled {
		s.cache.subscribers.Purge()
	}
}

// cachedKey is Authenticate's lookup through the cache.
func (s *Store) cachedKey(ctx context.Context, hash string) (*APIKey, error) {
	if k, ok := s.cache.keys.Get(hash); ok {
		return &k, nil
	}
	var k APIKey
	if err := s.db.WithContext(ctx).Take(&k, "hash = ? AND revoked_at IS NULL", hash).Error; err != nil {
		return nil, notFound(err, "unknown api key")
	}
	s.cache.keys.Add(hash, k)
	return &k, nil
}
