package dispatcher

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"hookd.dev/hookd/models"
)

// TestLimiterHoldsAnEndpointsConcurrency: across limiters (worker
// processes) sharing one Redis, an endpoint never has more slots taken than
// its limit; a released slot is free again, and a slot whose holder died
// frees itself after the hold time.
func TestLimiterHoldsAnEndpointsConcurrency(t *testing.T) {
	h := newHarness(t)
	// Slots in use are renewed every 25 ms; a hold much longer than that
	// keeps them through a loaded machine's pauses (at 300 ms one expired
	// under CI-like load and a fourth slot was given).
	const hold = 3 * time.Second
	a := newLimiter(h.rdb, h.queue.name, 3, 1, hold, quiet())
	b := newLimiter(h.rdb, h.queue.name, 3, 1, hold, quiet())
	t.Cleanup(a.Close)
	t.Cleanup(b.Close)
	ep := &models.Endpoint{ID: "ep_limited"}
	var releases []func()
	for _, l := range []*limiter{a, b, a} {
		release, err := l.acquire(h.ctx, ep, queueHandlers)
		if err != nil {
			t.Fatalf("slot %d of 3: %v", len(releases)+1, err)
		}
		releases = append(releases, release)
	}
	if _, err := b.acquire(h.ctx, ep, queueHandlers); !isBusyErr(err) {
		t.Fatalf("a fourth slot: %v, want busy", err)
	}
	other := &models.Endpoint{ID: "ep_other"}
	if _, err := b.acquire(h.ctx, other, queueHandlers); err != nil {
		t.Fatalf("another endpoint is not held by this one's limit: %v", err)
	}
	releases[0]()
	eventuallyTrue(t, "a released slot to be free", func() bool {
		release, err := b.acquire(h.ctx, ep, queueHandlers)
		if err == nil {
			release()
		}
		return err == nil
	})
	// The endpoint's own limit overrides the default.
	one := &models.Endpoint{ID: "ep_one", MaxConcurrency: ptr(1)}
	if _, err := a.acquire(h.ctx, one, queueHandlers); err != nil {
		t.Fatal(err)
	}
	if _, err := b.acquire(h.ctx, one, queueHandlers); !isBusyErr(err) {
		t.Fatalf("max_concurrency 1, second slot: %v, want busy", err)
	}
	// A holder that died: its slot expires after the hold time.
	eventuallyTrue(t, "a dead holder's slot to expire", func() bool {
		_, err := b.acquire(h.ctx, one, queueHandlers)
		return err == nil
	})
}

// TestLimiterAppliesTheOperatorsBound: an endpoint stored with a
// max_concurrency above the operator's bound (lowered since) gets the bound.
func TestLimiterAppliesTheOperatorsBound(t *testing.T) {
	h := newHarness(t)
	l := newLimiter(h.rdb, h.queue.name, 1, 1, time.Minute, quiet())
	l.maxN = 2
	t.Cleanup(l.Close)
	ep := &models.Endpoint{ID: "ep_greedy", MaxConcurrency: ptr(1000)}
	for i := range 2 {
		if _, err := l.acquire(h.ctx, ep, queueHandlers); err != nil {
			t.Fatalf("slot %d of 2: %v", i+1, err)
		}
	}
	if _, err := l.acquire(h.ctx, ep, queueHandlers); !isBusyErr(err) {
		t.Fatalf("a third slot: %v, want busy", err)
	}
}

// TestLimiterHoldsAnEndpointsRate: an endpoint with a rate limit gets no
// more attempts a second than it allows.
func TestLimiterHoldsAnEndpointsRate(t *testing.T) {
	h := newHarness(t)
	l := newLimiter(h.rdb, h.queue.name, 100, 1, time.Minute, quiet())
	t.Cleanup(l.Close)
	ep := &models.Endpoint{ID: "ep_rated", RateLimit: ptr(5)}
	allowed := 0
	for range 20 {
		release, err := l.acquire(h.ctx, ep, queueHandlers)
		if err == nil {
			allowed++
			release()
		} else if !isBusyErr(err) {
			t.Fatal(err)
		}
	}
	if allowed < 1 || allowed > 5 {
		t.Fatalf("%d of 20 attempts allowed at once at 5 a second", allowed)
	}
}

// holdSlots takes n slots of the endpoint and returns their releases.
func holdSlots(t *testing.T, h *harness, l *limiter, ep *models.Endpoint, n int) []func() {
	t.Helper()
	releases := make([]func(), n)
	for i := range releases {
		release, err := l.acquire(h.ctx, ep, queueHandlers)
		if err != nil {
			t.Fatalf("slot %d of %d: %v", i+1, n, err)
		}
		releases[i] = release
	}
	return releases
}

// slotTokens lists the slots taken in Redis under key.
func slotTokens(t *testing.T, h *harness, key string) []string {
	t.Helper()
	ts, err := h.rdb.ZRange(h.ctx, key, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func isBusyErr(err error) bool {
	var b *busyError
	return errors.As(err, &b)
}

func eventuallyTrue(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLimiterHandsASlotToAWaitingWorker: a worker that frees a slot hands
// it to one waiting in the same process, first come first served, without
// the slot going back to Redis: the endpoint's set keeps one slot, renewed,
// until the last holder frees it. The line is as long as allowed, no more.
func TestLimiterHandsASlotToAWaitingWorker(t *testing.T) {
	h := newHarness(t)
	l := newLimiter(h.rdb, h.queue.name, 1, 2, time.Minute, quiet())
	t.Cleanup(l.Close)
	ep := &models.Endpoint{ID: "ep_handoff"}
	key := l.prefix + "inflight:" + ep.ID
	first, err := l.acquire(h.ctx, ep, queueHandlers)
	if err != nil {
		t.Fatal(err)
	}
	tokens := func() []string { return slotTokens(t, h, key) }
	held := tokens()
	if len(held) != 1 {
		t.Fatalf("slots in Redis after one acquire: %v", held)
	}
	stopTurning := keepTurning(l, ep.ID)
	got := make(chan func(), 2)
	for range 2 {
		go func() {
			release, err := l.acquire(h.ctx, ep, queueHandlers)
			if err != nil {
				t.Error(err)
				got <- func() {}
				return
			}
			got <- release
		}()
	}
	eventuallyTrue(t, "two workers in line", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.waiting[ep.ID]) == 2
	})
	if _, err := l.acquire(h.ctx, ep, queueHandlers); !isBusyErr(err) {
		t.Fatalf("a third waiter beyond a line of 2: %v, want busy", err)
	}
	expiry := h.rdb.ZScore(h.ctx, key, held[0]).Val()
	time.Sleep(2 * renewEvery)
	first()
	second := <-got
	eventuallyTrue(t, "the handed slot's expiry renewed", func() bool {
		return h.rdb.ZScore(h.ctx, key, held[0]).Val() > expiry
	})
	if now := tokens(); len(now) != 1 || now[0] != held[0] {
		t.Fatalf("slots in Redis after a hand-off: %v, want the same one %v", now, held)
	}
	second()
	third := <-got
	stopTurning()
	third()
	eventuallyTrue(t, "the last holder's slot back in Redis", func() bool { return len(tokens()) == 0 })
}

// keepTurning has the endpoint seen as turning until stop is called. A
// worker waits in an endpoint's line only while a slot was taken or freed
// within turningWithin; a test that holds the only slot while it sets up its
// line outlasts that on a loaded machine (CI), and its waiters would give up.
func keepTurning(l *limiter, endpointID string) (stop func()) {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				l.mu.Lock()
				l.turned[endpointID] = time.Now()
				l.mu.Unlock()
			}
		}
	}()
	return sync.OnceFunc(func() { close(done) })
}

// TestLimiterBoundsEachPoolsLineApart: the queue's handlers filling their
// part of an endpoint's line turn neither a local hand-off's worker away
// nor its delivery into a queued retry; slots go to the line in its order.
func TestLimiterBoundsEachPoolsLineApart(t *testing.T) {
	h := newHarness(t)
	l := newLimiter(h.rdb, h.queue.name, 1, 1, time.Minute, quiet())
	t.Cleanup(l.Close)
	ep := &models.Endpoint{ID: "ep_pools"}
	first, err := l.acquire(h.ctx, ep, queueHandlers)
	if err != nil {
		t.Fatal(err)
	}
	order := make(chan handlers, 2)
	wait := func(from handlers) {
		release, err := l.acquire(h.ctx, ep, from)
		if err != nil {
			t.Error(err)
			order <- -1
			return
		}
		order <- from
		release()
	}
	inLine := func(n int) func() bool {
		return func() bool {
			l.mu.Lock()
			defer l.mu.Unlock()
			return len(l.waiting[ep.ID]) == n
		}
	}
	defer keepTurning(l, ep.ID)()
	go wait(queueHandlers)
	eventuallyTrue(t, "a queue handler in line", inLine(1))
	if _, err := l.acquire(h.ctx, ep, queueHandlers); !isBusyErr(err) {
		t.Fatalf("a second queue handler beyond its pool's line of 1: %v, want busy", err)
	}
	if err := l.recentlyBusy(ep.ID, queueHandlers); !isBusyErr(err) {
		t.Fatalf("recentlyBusy for the queue's handlers with their line full: %v, want busy", err)
	}
	if err := l.recentlyBusy(ep.ID, localHandlers); err != nil {
		t.Fatalf("recentlyBusy for the local handlers with only the queue's line full: %v", err)
	}
	go wait(localHandlers)
	eventuallyTrue(t, "a local handler in line behind it", inLine(2))
	first()
	if got := []handlers{<-order, <-order}; got[0] != queueHandlers || got[1] != localHandlers {
		t.Fatalf("slots went to %v, want the queue's handler, then the local one", got)
	}
}

// TestLimiterKeepsAFreedSlotAMoment: a slot freed with nobody waiting is
// kept by its process for the endpoint's next attempt (the same slot, no
// new one in Redis), given back once idle for idleFor, and given back at
// once when the endpoint's limit was lowered below what the process holds.
func TestLimiterKeepsAFreedSlotAMoment(t *testing.T) {
	h := newHarness(t)
	l := newLimiter(h.rdb, h.queue.name, 3, 1, time.Minute, quiet())
	t.Cleanup(l.Close)
	ep := &models.Endpoint{ID: "ep_idle"}
	key := l.prefix + "inflight:" + ep.ID
	tokens := func() []string { return slotTokens(t, h, key) }
	release, err := l.acquire(h.ctx, ep, queueHandlers)
	if err != nil {
		t.Fatal(err)
	}
	first := tokens()
	release()
	if release, err = l.acquire(h.ctx, ep, queueHandlers); err != nil {
		t.Fatal(err)
	}
	if again := tokens(); len(again) != 1 || again[0] != first[0] {
		t.Fatalf("slots after free and acquire: %v, want the kept one %v", again, first)
	}
	release()
	eventuallyTrue(t, "the idle slot given back", func() bool { return len(tokens()) == 0 })

	// Three slots held, then the endpoint's limit lowered to one.
	for _, r := range holdSlots(t, h, l, ep, 3) {
		r()
	}
	ep.MaxConcurrency = ptr(1)
	if release, err = l.acquire(h.ctx, ep, queueHandlers); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	kept := l.held[ep.ID]
	l.mu.Unlock()
	if kept != 1 {
		t.Fatalf("slots held after the limit was lowered to 1: %d", kept)
	}
	eventuallyTrue(t, "the slots beyond the lowered limit given back", func() bool { return len(tokens()) == 1 })
	release()
}

// TestLimiterLineAsksRedisNoMoreThanNeeded: workers waiting for an
// endpoint whose slots this process holds all do not ask Redis (the slots
// come back to them here); they get them as they are freed, in turn.
func TestLimiterLineAsksRedisNoMoreThanNeeded(t *testing.T) {
	h := newHarness(t)
	client, ok := h.rdb.(*redis.Client)
	if !ok {
		t.Skipf("Redis client %T", h.rdb)
	}
	rdb := redis.NewClient(client.Options())
	t.Cleanup(func() { _ = rdb.Close() })
	scripts := &scriptCounter{}
	rdb.AddHook(scripts)
	l := newLimiter(rdb, h.queue.name, 2, 10, time.Minute, quiet())
	l.slotWait = time.Minute // the five waiters must not give up on a loaded machine
	t.Cleanup(l.Close)
	ep := &models.Endpoint{ID: "ep_line"}
	holding := holdSlots(t, h, l, ep, 2)
	served := make(chan struct{}, 5)
	for range 5 {
		go func() {
			release, err := l.acquire(h.ctx, ep, queueHandlers)
			if err != nil {
				t.Error(err)
			} else {
				release()
			}
			served <- struct{}{}
		}()
	}
	eventuallyTrue(t, "five workers in line", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.waiting[ep.ID]) == 5
	})
	before := scripts.n.Load()
	time.Sleep(40 * time.Millisecond) // eight polls of each waiter
	if asked := scripts.n.Load() - before; asked != 0 {
		t.Fatalf("%d scripts run by workers in line for slots this process holds", asked)
	}
	for _, release := range holding {
		release()
	}
	for range 5 {
		<-served
	}
}

// scriptCounter counts the scripts a Redis client runs.
type scriptCounter struct{ n atomic.Int64 }

func (c *scriptCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *scriptCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (c *scriptCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if name := cmd.Name(); name == "evalsha" || name == "eval" {
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

// TestLimiterLineWaitsForAnotherProcesssSlots: workers of one process wait
// in line while another process holds all of a fast endpoint's slots, and
// all get one once that process frees them.
func TestLimiterLineWaitsForAnotherProcesssSlots(t *testing.T) {
	h := newHarness(t)
	a := newLimiter(h.rdb, h.queue.name, 2, 10, time.Minute, quiet())
	b := newLimiter(h.rdb, h.queue.name, 2, 10, time.Minute, quiet())
	b.slotWait = time.Minute // its waiters must not give up on a loaded machine
	t.Cleanup(b.Close)
	ep := &models.Endpoint{ID: "ep_shared"}
	holding := holdSlots(t, h, a, ep, 2)
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			release, err := b.acquire(h.ctx, ep, queueHandlers)
			if err == nil {
				release()
			}
			errs <- err
		}()
	}
	time.Sleep(30 * time.Millisecond)
	for _, release := range holding {
		release()
	}
	a.Close() // the process ends: its idle slots go back to Redis now
	for range 3 {
		if err := <-errs; err != nil {
			t.Errorf("a worker of the other process: %v, want a slot", err)
		}
	}
}
