package dispatcher

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"hookd.dev/hookd/models"
)

// fakeSweepStore holds pending deliveries in memory and pages through them
// as DueDeliveries does: the most overdue first, then by ID.
type fakeSweepStore struct {
	released []models.Delivery
	pending  []models.Delivery
	befores  []time.Time // each DueDeliveries' Before
}

func (f *fakeSweepStore) ReleaseExpired(_ context.Context, limit int) ([]models.Delivery, error) {
	n := min(limit, len(f.released))
	out := f.released[:n]
	f.released = f.released[n:]
	return out, nil
}

func (f *fakeSweepStore) DueDeliveries(_ context.Context, p models.DueParams) ([]models.Delivery, error) {
	f.befores = append(f.befores, p.Before)
	ds := slices.Clone(f.pending)
	slices.SortFunc(ds, func(a, b models.Delivery) int {
		if c := a.NextAttemptAt.Compare(*b.NextAttemptAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	var out []models.Delivery
	for _, d := range ds {
		if d.NextAttemptAt.After(p.Before) {
			continue
		}
		if a := p.After; a != nil {
			if c := d.NextAttemptAt.Compare(*a.NextAttemptAt); c < 0 || (c == 0 && d.ID <= a.ID) {
				continue
			}
		}
		if len(out) == p.Limit {
			break
		}
		out = append(out, d)
	}
	return out, nil
}

// fakeSweepQueue records what the sweeper enqueues. A delivery in taken
// already has its task (enqueue reports it not new); one in stuck has a
// task that cannot run, which replaceStuck replaces.
type fakeSweepQueue struct {
	wait         time.Duration // the queue's latency
	taken, stuck map[string]bool
	enqueued     []string // IDs, as enqueue was asked
	enqueuedAs   []string // ID+suffix
	replaced     []string // ID+suffix
}

func (q *fakeSweepQueue) enqueue(_ context.Context, d models.Delivery) (bool, error) {
	q.enqueued = append(q.enqueued, d.ID)
	return !q.taken[d.ID], nil
}

func (q *fakeSweepQueue) enqueueAs(_ context.Context, d models.Delivery, suffix string) (bool, error) {
	q.enqueuedAs = append(q.enqueuedAs, d.ID+suffix)
	return true, nil
}

func (q *fakeSweepQueue) replaceStuck(_ context.Context, d models.Delivery, suffix string) (bool, error) {
	q.replaced = append(q.replaced, d.ID+suffix)
	return q.stuck[d.ID], nil
}

func (q *fakeSweepQueue) latency() time.Duration { return q.wait }

// TestSweepOnItsClock: with neither database nor Redis, on a clock of its
// own, a sweep enqueues anew what the store released (under a fresh task
// ID), enqueues what is overdue by more than the interval plus the queue's
// latency, leaves the younger backlog alone, and replaces a task held long
// past due, across pages.
func TestSweepOnItsClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC) // far from the wall clock
	due := func(id string, ago time.Duration) models.Delivery {
		at := now.Add(-ago)
		return models.Delivery{ID: id, Status: models.StatusPending, NextAttemptAt: &at}
	}
	store := &fakeSweepStore{
		released: []models.Delivery{due("dlv_released", 0)},
		pending: []models.Delivery{
			due("dlv_lost1", 10*time.Minute), due("dlv_lost2", 10*time.Minute), due("dlv_lost3", 5*time.Minute),
			due("dlv_orphan", 2*time.Minute),   // its task held by a dead worker
			due("dlv_waiting", 40*time.Second), // its task still waits its turn
			due("dlv_backlog", 20*time.Second), // younger than latency + interval
			due("dlv_future", -time.Minute),
		},
	}
	queue := &fakeSweepQueue{
		wait:  30 * time.Second,
		taken: map[string]bool{"dlv_orphan": true, "dlv_waiting": true},
		stuck: map[string]bool{"dlv_orphan": true},
	}
	sw := NewSweeper(store, queue, SweeperConfig{
		Interval: 5 * time.Second, Batch: 2, OrphanAfter: time.Minute, Logger: quiet(),
		Now: func() time.Time { return now },
	})
	n, err := sw.Sweep(context.Background())
	if err != nil || n != 5 { // released, three lost, the orphan
		t.Fatalf("sweep enqueued %d, %v; want 5", n, err)
	}
	suffix := fmt.Sprintf("-swept-%d", now.UnixNano())
	if want := []string{"dlv_released" + suffix}; !slices.Equal(queue.enqueuedAs, want) {
		t.Errorf("enqueued under a fresh ID %v, want %v", queue.enqueuedAs, want)
	}
	if want := []string{"dlv_lost1", "dlv_lost2", "dlv_lost3", "dlv_orphan", "dlv_waiting"}; !slices.Equal(queue.enqueued, want) {
		t.Errorf("enqueued %v, want %v (not the backlog nor what is not due)", queue.enqueued, want)
	}
	if want := []string{"dlv_orphan" + suffix}; !slices.Equal(queue.replaced, want) {
		t.Errorf("replaced %v, want %v (not the task younger than OrphanAfter)", queue.replaced, want)
	}
	before := now.Add(-5*time.Second - 30*time.Second)
	for _, b := range store.befores {
		if !b.Equal(before) {
			t.Errorf("asked for deliveries due before %v, want %v (the sweeper's clock, less interval and latency)", b, before)
		}
	}
	if len(store.befores) != 3 { // pages of 2, 2 and 1
		t.Errorf("%d pages, want 3", len(store.befores))
	}
}
