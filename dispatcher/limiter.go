package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"hookd.dev/hookd/models"
)

// busyError says an endpoint is at its concurrency or rate limit. The task
// is retried after a short delay without counting as a failure, and no
// attempt is made or recorded.
type busyError struct {
	endpointID string
	after      time.Duration
	// turning says the endpoint's slots were all taken moments ago: it
	// answers fast, and a slot is likely to be free within milliseconds.
	turning bool
}

func (e *busyError) Error() string {
	return fmt.Sprintf("endpoint %s is at its limit; retrying in %s", e.endpointID, e.after)
}

func isBusy(err error) (*busyError, bool) {
	var b *busyError
	ok := errors.As(err, &b)
	return b, ok
}

// acquireScript takes one of ARGV[3] slots of the set KEYS[1] until ARGV[2]
// (ms), after dropping the slots that expired before ARGV[1]: a semaphore
// shared by every worker, which a dead worker cannot hold forever.
var acquireScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0`)

// limiter enforces per-endpoint concurrency and rate limits across workers.
type limiter struct {
	rdb      redis.UniversalClient
	rate     *redis_rate.Limiter
	prefix   string
	defaultN int
	hold     time.Duration // how long a slot is held at most (attempt timeout + margin)
	store    *models.Store

	mu    sync.Mutex
	cache map[string]cachedLimits
}

type cachedLimits struct {
	concurrency, rate int
	at                time.Time
}

// limitsTTL is how long endpoint limits are cached; a change takes effect within it.
const limitsTTL = 10 * time.Second

func newLimiter(rdb redis.UniversalClient, queue string, defaultN int, hold time.Duration, store *models.Store) *limiter {
	return &limiter{
		rdb: rdb, rate: redis_rate.NewLimiter(rdb), prefix: "hookd:" + queue + ":",
		defaultN: defaultN, hold: hold, store: store, cache: map[string]cachedLimits{},
	}
}

func (l *limiter) limits(ctx context.Context, endpointID string) (cachedLimits, error) {
	l.mu.Lock()
	c, ok := l.cache[endpointID]
	l.mu.Unlock()
	if ok && time.Since(c.at) < limitsTTL {
		return c, nil
	}
	ep, err := l.store.EndpointLimits(ctx, endpointID)
	if err != nil {
		return c, err
	}
	c = cachedLimits{concurrency: l.defaultN, at: time.Now()}
	if ep.MaxConcurrency != nil {
		c.concurrency = *ep.MaxConcurrency
	}
	if ep.RateLimit != nil {
		c.rate = *ep.RateLimit
	}
	l.mu.Lock()
	l.cache[endpointID] = c
	l.mu.Unlock()
	return c, nil
}

// fullScript answers 0 when the set KEYS[1] holds fewer than ARGV[2] live
// slots, else the expiry (ms) of its oldest slot.
var fullScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then return 0 end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2])`)

// turningWithin: when even the oldest slot was taken this recently, the
// endpoint is fast and worth a short wait rather than a retry a second later.
const turningWithin = 100 * time.Millisecond

// check answers a busyError when the endpoint has no free slot now, without
// taking one: a cheap look before claiming a delivery.
func (l *limiter) check(ctx context.Context, endpointID string) error {
	lim, err := l.limits(ctx, endpointID)
	if err != nil {
		return err
	}
	now := time.Now()
	oldestExpiry, err := fullScript.Run(ctx, l.rdb, []string{l.prefix + "inflight:" + endpointID},
		now.UnixMilli(), lim.concurrency).Int64()
	if err != nil {
		return fmt.Errorf("concurrency limit: %w", err)
	}
	if oldestExpiry == 0 {
		return nil
	}
	takenAt := time.UnixMilli(oldestExpiry).Add(-l.hold)
	return &busyError{endpointID: endpointID, after: time.Second, turning: now.Sub(takenAt) < turningWithin}
}

// acquire takes a slot for an attempt to the endpoint, or answers a busyError.
func (l *limiter) acquire(ctx context.Context, endpointID string) (release func(), err error) {
	lim, err := l.limits(ctx, endpointID)
	if err != nil {
		return nil, err
	}
	if lim.rate > 0 {
		res, err := l.rate.Allow(ctx, l.prefix+"rate:"+endpointID, redis_rate.PerSecond(lim.rate))
		if err != nil {
			return nil, fmt.Errorf("rate limit: %w", err)
		}
		if res.Allowed == 0 {
			return nil, &busyError{endpointID: endpointID, after: max(res.RetryAfter, time.Second)}
		}
	}
	key := l.prefix + "inflight:" + endpointID
	token := models.NewID("slot_")
	now := time.Now()
	ok, err := acquireScript.Run(ctx, l.rdb, []string{key},
		now.UnixMilli(), now.Add(l.hold).UnixMilli(), lim.concurrency, token, l.hold.Milliseconds()).Int()
	if err != nil {
		return nil, fmt.Errorf("concurrency limit: %w", err)
	}
	if ok == 0 {
		return nil, &busyError{endpointID: endpointID, after: time.Second}
	}
	return func() {
		// Released even when the task's context is done, so the slot frees now.
		l.rdb.ZRem(context.WithoutCancel(ctx), key, token)
	}, nil
}
