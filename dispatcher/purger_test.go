package dispatcher

import (
	"context"
	"slices"
	"testing"
	"time"
)

// fakePurgeStore holds the creation times of messages and attempts and
// deletes, per batch, up to limit of each older than the cutoff.
type fakePurgeStore struct {
	messages, attempts []time.Time
	calls              int
	cutoffs            []time.Time
}

func (f *fakePurgeStore) PurgeBatch(_ context.Context, cutoff time.Time, limit int) (int64, int64, error) {
	f.calls++
	f.cutoffs = append(f.cutoffs, cutoff)
	purge := func(rows *[]time.Time) (n int64) {
		kept := (*rows)[:0]
		for _, at := range *rows {
			if at.Before(cutoff) && n < int64(limit) {
				n++
				continue
			}
			kept = append(kept, at)
		}
		*rows = kept
		return n
	}
	return purge(&f.messages), purge(&f.attempts), nil
}

// TestPurgeOnItsClock: without a database, on a clock of its own, a purge
// counts the retention back from that clock, deletes batch by batch until a
// batch finds nothing, keeps what is younger, and reports running totals.
func TestPurgeOnItsClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC) // far from the wall clock
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	store := &fakePurgeStore{
		messages: []time.Time{ago(48 * time.Hour), ago(48 * time.Hour), ago(30 * time.Hour), ago(25 * time.Hour), ago(23 * time.Hour), ago(time.Hour)},
		attempts: []time.Time{ago(30 * time.Hour), ago(time.Hour)},
	}
	var progress [][2]int64
	p := NewPurger(store, PurgerConfig{
		Retention: 24 * time.Hour, Batch: 2, Pause: time.Nanosecond, Logger: quiet(),
		Progress: func(m, a int64) { progress = append(progress, [2]int64{m, a}) },
		Now:      func() time.Time { return now },
	})
	msgs, atts, err := p.Purge(context.Background())
	if err != nil || msgs != 4 || atts != 1 {
		t.Fatalf("purged %d messages, %d attempts, %v; want 4, 1", msgs, atts, err)
	}
	if len(store.messages) != 2 || len(store.attempts) != 1 {
		t.Errorf("kept %d messages, %d attempts; want the 2 and 1 younger than the retention", len(store.messages), len(store.attempts))
	}
	if store.calls != 3 { // 2+1, 2+0, then 0+0 to know it is done
		t.Errorf("%d batches, want 3", store.calls)
	}
	for _, c := range store.cutoffs {
		if !c.Equal(ago(24 * time.Hour)) {
			t.Errorf("cutoff %v, want %v (the purger's clock less the retention)", c, ago(24*time.Hour))
		}
	}
	if want := [][2]int64{{2, 1}, {4, 1}, {4, 1}}; !slices.Equal(progress, want) {
		t.Errorf("progress %v, want %v", progress, want)
	}
}
