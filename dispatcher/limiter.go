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

// limiter enforces per-endpoint concurrency and rate limits across workers.
// Slots live in Redis, one script to take one; a process keeps the slots it
// took while it has attempts for their endpoint: a freed slot goes straight
// to a worker of the same process waiting for that endpoint, or is kept
// idle a moment for the next attempt, and only then given back. A fast
// endpoint's attempts thus cost no Redis round trip of their own, only
// renewals of the slots' expiries sent in pipelines.
type limiter struct {
	rdb      redis.UniversalClient
	rate     *redis_rate.Limiter
	prefix   string
	defaultN int
	maxN     int           // the most an endpoint's own max_concurrency may ask for; 0: no bound
	slotWait time.Duration // maxSlotWait, longer in tests on a loaded machine
	hold     time.Duration // how long a slot is held at most (attempt timeout + margin)
	updates  *batcher[slotUpdate, struct{}]
	log      *slog.Logger
	stop     chan struct{} // closed by Close: the idle slots' sweep ends
	swept    chan struct{} // closed when it has

	mu      sync.Mutex
	busy    map[string]time.Time // endpoints found busy and slow here, until when to skip them
	waiting map[string][]waiter  // workers waiting here for a slot, by endpoint, first come first served
	lined   map[lineOf]int       // how many of them each pool has there
	idle    map[string][]slot    // slots this process holds for an endpoint but uses not
	held    map[string]int       // slots this process holds in Redis, by endpoint, used or idle
	turned  map[string]time.Time // when a slot of the endpoint was last taken or freed here, while it holds any
	// maxWaiting bounds the workers of one pool that wait for one endpoint,
	// so that the pool's others keep serving other endpoints.
	maxWaiting int
}

// handlers names a pool of workers: the queue's (asynq) or the local
// hand-off's. Each pool has its own bound on an endpoint's line: the
// queue's handlers filling it must not turn the local hand-off's
// deliveries away into queued retries, which would then fill it more.
type handlers int

const (
	queueHandlers handlers = iota
	localHandlers
)

// waiter is a worker in an endpoint's line.
type waiter struct {
	handed chan slot // buffered: where the slot is handed to it
	from   handlers
}

// lineOf names one pool's part of an endpoint's line.
type lineOf struct {
	endpointID string
	from       handlers
}

// slot is one of an endpoint's slots, named by a token in a sorted set
// whose scores are the slots' expiries.
type slot struct {
	key, token, endpointID string
	limit                  int       // the endpoint's limit when the slot was last taken
	renewed                time.Time // when its expiry was last set to that time + hold
	freed                  time.Time // when it went idle
}

// slotUpdate gives a slot back (renew zero) or moves its expiry (renew set).
type slotUpdate struct {
	slot
	renew time.Time
}

const (
	// pollEvery is how often the first worker in a line asks Redis for a
	// slot freed by another process; lookEvery how often the others wake
	// to see whether the endpoint still turns (a line of 150 waking every
	// 5 ms cost more CPU than the deliveries).
	pollEvery = 5 * time.Millisecond
	lookEvery = 50 * time.Millisecond
	// idleFor is how long a freed slot nobody waits for is kept for the
	// endpoint's next attempt before it goes back to Redis. Other processes
	// take a slot whose expiry was set longer than turningWithin ago for a
	// slow endpoint's, so an idle slot (renewed when freed, given back within
	// 1.5 idleFor, renewed at most renewEvery before) stays within that.
	idleFor = 40 * time.Millisecond
	// renewEvery is how often a slot in use has its expiry renewed. Other
	// processes read the expiries to see whether an endpoint turns fast
	// (turningWithin), so this is well within that.
	renewEvery = 25 * time.Millisecond
)

func newLimiter(rdb redis.UniversalClient, queue string, defaultN, maxWaiting int, hold time.Duration, log *slog.Logger) *limiter {
	l := &limiter{
		rdb: rdb, rate: redis_rate.NewLimiter(rdb), prefix: "hookd:" + queue + ":",
		defaultN: defaultN, hold: hold, log: log, maxWaiting: max(maxWaiting, 1), slotWait: maxSlotWait,
		waiting: map[string][]waiter{}, lined: map[lineOf]int{}, busy: map[string]time.Time{},
		idle: map[string][]slot{}, held: map[string]int{}, turned: map[string]time.Time{},
		stop: make(chan struct{}), swept: make(chan struct{}),
	}
	l.updates = newBatcher("", 1, 256, 0, l.update) // slot updates: too many and too small for spans
	go l.sweepIdle()
	return l
}

// Close gives the idle slots back and sends the slot updates still pending.
func (l *limiter) Close() {
	close(l.stop)
	<-l.swept
	l.updates.Close()
}

// acquire takes a slot for an attempt to the endpoint, or answers a
// busyError. A fast endpoint's slot is waited for here: handed over when a
// worker of this process frees one, or taken in Redis when another
// process's frees one (a short poll). A slow endpoint's is not.
func (l *limiter) acquire(ctx context.Context, ep *models.Endpoint, from handlers) (release func(), err error) {
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
		if l.maxN > 0 {
			limit = min(limit, l.maxN) // the operator's bound, lowered since the endpoint was stored
		}
	}
	key := l.prefix + "inflight:" + ep.ID
	deadline := time.Now().Add(l.slotWait)
	var handed chan slot // set while waiting in line
	var timer *time.Timer
	defer func() {
		if handed != nil {
			l.leave(ep.ID, handed)
		}
	}()
	for {
		if s, ok := l.takeIdle(ep.ID, limit); ok {
			return func() { l.free(s) }, nil
		}
		ask, turning := l.look(ep.ID, limit, handed)
		now := time.Now()
		if ask {
			s := slot{key: key, token: models.NewID("slot_"), endpointID: ep.ID, limit: limit, renewed: now}
			oldest, err := acquireScript.Run(ctx, l.rdb, []string{key},
				now.UnixMilli(), now.Add(l.hold).UnixMilli(), limit, s.token, l.hold.Milliseconds()).Int64()
			if err != nil {
				return nil, fmt.Errorf("concurrency limit: %w", err)
			}
			if oldest == 0 {
				l.mu.Lock()
				l.held[ep.ID]++
				l.turned[ep.ID] = now
				l.mu.Unlock()
				return func() { l.free(s) }, nil
			}
			turning = now.Sub(time.UnixMilli(oldest).Add(-l.hold)) <= turningWithin
		}
		if !turning || now.After(deadline) {
			l.mu.Lock()
			l.busy[ep.ID] = now.Add(busyMemory)
			l.mu.Unlock()
			return nil, &busyError{endpointID: ep.ID, after: time.Second}
		}
		if handed == nil {
			if handed = l.join(ep.ID, from); handed == nil {
				return nil, &busyError{endpointID: ep.ID, after: time.Second}
			}
		}
		// The one that asks Redis polls it; the others only look again now
		// and then whether the endpoint still turns.
		wait := lookEvery
		if ask {
			wait = pollEvery
		}
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case s := <-handed:
			handed = nil // taken out of the line by the worker that handed it
			s.limit = limit
			return func() { l.free(s) }, nil
		case <-timer.C:
		}
	}
}

// look tells a worker whether to ask Redis for a slot of the endpoint, and
// if not, whether the endpoint turns fast enough to wait for. When this
// process holds all the endpoint's slots, nobody asks (they come back here,
// to the line), and the endpoint turns fast if a slot was taken or freed
// here within turningWithin. Otherwise a newcomer and the first in line ask
// (so a long line costs one script per poll); the others wait unless the
// first found the endpoint slow and marked it busy.
func (l *limiter) look(endpointID string, limit int, handed chan slot) (ask, turning bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[endpointID] >= limit {
		return false, time.Since(l.turned[endpointID]) <= turningWithin
	}
	line := l.waiting[endpointID]
	if handed == nil || len(line) > 0 && line[0].handed == handed {
		return true, false // Redis's answer tells
	}
	until, marked := l.busy[endpointID]
	return false, !marked || time.Now().After(until)
}

// takeIdle takes an idle slot of the endpoint, renewed if due, unless this
// process holds more than the endpoint's limit (lowered since): those go
// back to Redis.
func (l *limiter) takeIdle(endpointID string, limit int) (slot, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for n := len(l.idle[endpointID]); n > 0; n = len(l.idle[endpointID]) {
		s := l.idle[endpointID][n-1]
		l.dropIdle(endpointID, n-1)
		if l.held[endpointID] > limit {
			l.giveBack(s)
			continue
		}
		s.limit = limit
		l.renewIfDue(&s)
		return s, true
	}
	return slot{}, false
}

// renewIfDue sends a renewal of the slot's expiry when the last is old
// enough; with l.mu held.
func (l *limiter) renewIfDue(s *slot) {
	if now := time.Now(); now.Sub(s.renewed) >= renewEvery {
		s.renewed = now
		l.updates.post(slotUpdate{slot: *s, renew: now.Add(l.hold)})
	}
}

// giveBack returns a slot to Redis; with l.mu held.
func (l *limiter) giveBack(s slot) {
	if l.held[s.endpointID]--; l.held[s.endpointID] <= 0 {
		delete(l.held, s.endpointID)
		delete(l.turned, s.endpointID)
	}
	l.updates.post(slotUpdate{slot: s})
}

// dropIdle removes the i-th idle slot of the endpoint; with l.mu held.
func (l *limiter) dropIdle(endpointID string, i int) {
	list := l.idle[endpointID]
	list = append(list[:i:i], list[i+1:]...)
	if len(list) == 0 {
		delete(l.idle, endpointID)
	} else {
		l.idle[endpointID] = list
	}
}

// sweepIdle gives back the slots idle for longer than idleFor, and all of
// them once the limiter closes.
func (l *limiter) sweepIdle() {
	defer close(l.swept)
	tick := time.NewTicker(idleFor / 2)
	defer tick.Stop()
	for {
		closing := false
		select {
		case <-l.stop:
			closing = true
		case <-tick.C:
		}
		l.mu.Lock()
		for endpointID, list := range l.idle {
			for i := len(list) - 1; i >= 0; i-- {
				if closing || time.Since(list[i].freed) > idleFor {
					l.dropIdle(endpointID, i)
					l.giveBack(list[i])
				}
			}
		}
		l.mu.Unlock()
		if closing {
			return
		}
	}
}

// join puts a worker of the pool in the endpoint's line, or answers nil when
// the pool's part of the line is full.
func (l *limiter) join(endpointID string, from handlers) chan slot {
	l.mu.Lock()
	defer l.mu.Unlock()
	part := lineOf{endpointID, from}
	if l.lined[part] >= l.maxWaiting {
		return nil
	}
	ch := make(chan slot, 1)
	l.waiting[endpointID] = append(l.waiting[endpointID], waiter{handed: ch, from: from})
	l.lined[part]++
	return ch
}

// left counts out of the line a waiter taken out of it; with l.mu held.
func (l *limiter) left(endpointID string, w waiter) {
	part := lineOf{endpointID, w.from}
	if l.lined[part]--; l.lined[part] <= 0 {
		delete(l.lined, part)
	}
}

// leave takes a worker out of the endpoint's line; a slot handed to it in
// the meantime goes on to the next one.
func (l *limiter) leave(endpointID string, ch chan slot) {
	l.mu.Lock()
	line := l.waiting[endpointID]
	for i, w := range line {
		if w.handed == ch {
			l.left(endpointID, w)
			l.waiting[endpointID] = append(line[:i:i], line[i+1:]...)
			if len(l.waiting[endpointID]) == 0 {
				delete(l.waiting, endpointID)
			}
			l.mu.Unlock()
			return
		}
	}
	l.mu.Unlock()
	l.free(<-ch) // handed a slot while leaving
}

// free hands the slot to the first worker waiting here for its endpoint,
// or keeps it idle for the endpoint's next attempt; a slot beyond the
// endpoint's limit (lowered since it was taken) goes back to Redis.
func (l *limiter) free(s slot) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.busy, s.endpointID) // it turns: worth a look again
	l.turned[s.endpointID] = time.Now()
	if l.held[s.endpointID] > s.limit {
		l.giveBack(s)
		return
	}
	l.renewIfDue(&s) // other processes read its expiry as the time it turned
	line := l.waiting[s.endpointID]
	if len(line) == 0 {
		s.freed = time.Now()
		l.idle[s.endpointID] = append(l.idle[s.endpointID], s)
		return
	}
	next := line[0]
	l.left(s.endpointID, next)
	if len(line) == 1 {
		delete(l.waiting, s.endpointID)
	} else {
		l.waiting[s.endpointID] = line[1:]
	}
	next.handed <- s // buffered: never blocks
}

// busyMemory is how long an endpoint found busy and slow is skipped by
// this process without asking Redis or claiming its deliveries.
const busyMemory = 250 * time.Millisecond

// recentlyBusy answers a busyError when this process found the endpoint
// busy and slow moments ago, or already has as many workers of the pool in
// its line as allowed, so that its tasks come back later without a claim: a
// cheap look before any database write.
func (l *limiter) recentlyBusy(endpointID string, from handlers) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lined[lineOf{endpointID, from}] >= l.maxWaiting {
		return &busyError{endpointID: endpointID, after: time.Second}
	}
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

// update sends a batch of slot releases and renewals in one pipeline. A
// renewal only moves the expiry of a slot still in the set, so that a slot
// expired meanwhile does not come back beyond the limit.
func (l *limiter) update(ctx context.Context, us []slotUpdate) ([]struct{}, error) {
	_, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, u := range us {
			if u.renew.IsZero() {
				p.ZRem(ctx, u.key, u.token)
			} else {
				p.ZAddXX(ctx, u.key, redis.Z{Score: float64(u.renew.UnixMilli()), Member: u.token})
			}
		}
		return nil
	})
	if err != nil {
		// Released slots expire on their own after the hold time.
		l.log.Warn("update endpoint slots", "count", len(us), "error", err)
	}
	return make([]struct{}, len(us)), nil
}
