package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
// shared by every worker, which a dead worker cannot hold forever. It
// answers 0 when it took a slot, else the expiry (ms) of the oldest slot.
var acquireScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2])`)

// turningWithin: when even the oldest slot was taken this recently, the
// endpoint answers fast and a slot is worth waiting for here, briefly,
// rather than a retry through the queue.
const turningWithin = 100 * time.Millisecond

// maxSlotWait bounds how long a worker waits here for a fast endpoint's slot.
const maxSlotWait = 2 * time.Second

// limiter enforces per-endpoint concurrency and rate limits across workers:
// one script per attempt to take a slot (and one more for endpoints with a
// rate limit), and releases sent in pipelines.
type limiter struct {
	rdb      redis.UniversalClient
	rate     *redis_rate.Limiter
	prefix   string
	defaultN int
	hold     time.Duration // how long a slot is held at most (attempt timeout + margin)
	releases *batcher[slot, struct{}]
	log      *slog.Logger

	mu      sync.Mutex
	busy    map[string]time.Time     // endpoints found busy and slow here, until when to skip them
	freed   map[string]chan struct{} // closed when this process frees a slot of the endpoint
	waiting map[string]int           // workers waiting here for a slot, by endpoint
	// maxWaiting bounds the workers that wait for one endpoint, so that the
	// others keep serving other endpoints.
	maxWaiting int
}

type slot struct{ key, token, endpointID string }

func newLimiter(rdb redis.UniversalClient, queue string, defaultN, maxWaiting int, hold time.Duration, log *slog.Logger) *limiter {
	l := &limiter{
		rdb: rdb, rate: redis_rate.NewLimiter(rdb), prefix: "hookd:" + queue + ":",
		defaultN: defaultN, hold: hold, log: log, maxWaiting: max(maxWaiting, 1),
		freed: map[string]chan struct{}{}, waiting: map[string]int{}, busy: map[string]time.Time{},
	}
	l.releases = newBatcher(1, 256, 0, l.release)
	return l
}

// Close sends the releases still pending.
func (l *limiter) Close() { l.releases.Close() }

// acquire takes a slot for an attempt to the endpoint, or answers a
// busyError. A fast endpoint's slot is waited for here, woken when this
// process frees one; a slow one is not.
func (l *limiter) acquire(ctx context.Context, ep *models.Endpoint) (release func(), err error) {
	if ep.RateLimit != nil && *ep.RateLimit > 0 {
		res, err := l.rate.Allow(ctx, l.prefix+"rate:"+ep.ID, redis_rate.PerSecond(*ep.RateLimit))
		if err != nil {
			return nil, fmt.Errorf("rate limit: %w", err)
		}
		if res.Allowed == 0 {
			return nil, &busyError{endpointID: ep.ID, after: max(res.RetryAfter, time.Second)}
		}
	}
	limit := l.defaultN
	if ep.MaxConcurrency != nil {
		limit = *ep.MaxConcurrency
	}
	s := slot{key: l.prefix + "inflight:" + ep.ID, token: models.NewID("slot_"), endpointID: ep.ID}
	deadline := time.Now().Add(maxSlotWait)
	registered := false
	defer func() {
		if registered {
			l.mu.Lock()
			if l.waiting[ep.ID]--; l.waiting[ep.ID] <= 0 {
				delete(l.waiting, ep.ID)
			}
			l.mu.Unlock()
		}
	}()
	for {
		freed := l.freedChan(ep.ID)
		now := time.Now()
		oldest, err := acquireScript.Run(ctx, l.rdb, []string{s.key},
			now.UnixMilli(), now.Add(l.hold).UnixMilli(), limit, s.token, l.hold.Milliseconds()).Int64()
		if err != nil {
			return nil, fmt.Errorf("concurrency limit: %w", err)
		}
		if oldest == 0 {
			return func() { l.releases.post(s) }, nil
		}
		takenAt := time.UnixMilli(oldest).Add(-l.hold)
		if now.Sub(takenAt) > turningWithin || now.After(deadline) {
			l.mu.Lock()
			l.busy[ep.ID] = now.Add(busyMemory)
			l.mu.Unlock()
			return nil, &busyError{endpointID: ep.ID, after: time.Second}
		}
		if !registered {
			l.mu.Lock()
			if l.waiting[ep.ID] >= l.maxWaiting {
				l.mu.Unlock()
				return nil, &busyError{endpointID: ep.ID, after: time.Second}
			}
			l.waiting[ep.ID]++
			l.mu.Unlock()
			registered = true
		}
		// Woken when this process frees a slot of the endpoint; other
		// processes' releases are caught by the short poll.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-freed:
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// busyMemory is how long an endpoint found busy and slow is skipped by
// this process without asking Redis or claiming its deliveries.
const busyMemory = 250 * time.Millisecond

// recentlyBusy answers a busyError when this process found the endpoint
// busy and slow moments ago, so that its tasks come back later without a
// claim: a cheap look before any database write.
func (l *limiter) recentlyBusy(endpointID string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	until, ok := l.busy[endpointID]
	if !ok {
		return nil
	}
	if time.Now().After(until) {
		delete(l.busy, endpointID)
		return nil
	}
	return &busyError{endpointID: endpointID, after: time.Second}
}

func (l *limiter) freedChan(endpointID string) chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch, ok := l.freed[endpointID]
	if !ok {
		ch = make(chan struct{})
		l.freed[endpointID] = ch
	}
	return ch
}

// release gives slots back in one pipeline, then wakes the workers of this
// process that wait for those endpoints.
func (l *limiter) release(ctx context.Context, slots []slot) ([]struct{}, error) {
	_, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, s := range slots {
			p.ZRem(ctx, s.key, s.token)
		}
		return nil
	})
	if err != nil {
		// The slots expire on their own after the hold time.
		l.log.Warn("release endpoint slots", "count", len(slots), "error", err)
	}
	l.mu.Lock()
	for _, s := range slots {
		delete(l.busy, s.endpointID) // it turns: worth a look again
		if ch, ok := l.freed[s.endpointID]; ok {
			close(ch)
			delete(l.freed, s.endpointID)
		}
	}
	l.mu.Unlock()
	return make([]struct{}, len(slots)), nil
}
