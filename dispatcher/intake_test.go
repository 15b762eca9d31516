package dispatcher

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"hookd.dev/hookd/models"
)

func intakeItem(endpointID, deliveryID string) localItem {
	return localItem{delivery: models.Delivery{ID: deliveryID, EndpointID: endpointID}}
}

// taking takes a delivery in the background; the channel gets it, if any.
func taking(in *intake) <-chan localItem {
	got := make(chan localItem, 1)
	go func() {
		if it, ok := in.take(); ok {
			got <- it
		}
	}()
	return got
}

// takeNow takes a delivery the intake has ready, or fails the test.
func takeNow(t *testing.T, in *intake) localItem {
	t.Helper()
	select {
	case it := <-taking(in):
		return it
	case <-time.After(5 * time.Second):
		t.Fatal("nothing to take")
		return localItem{}
	}
}

// TestIntakeLetsOtherEndpointsBy: an endpoint with its fill of deliveries
// taken holds no worker for the rest of its line; the next endpoint's go
// first, and its own come again, in order, as its deliveries are done.
func TestIntakeLetsOtherEndpointsBy(t *testing.T) {
	in := newIntake(10, 1<<20, 2)
	if n := in.reserve(6, 0); n != 6 {
		t.Fatalf("reserved %d of 6 places in 10", n)
	}
	in.put(intakeItem("ep_a", "a1"), intakeItem("ep_a", "a2"), intakeItem("ep_a", "a3"), intakeItem("ep_a", "a4"),
		intakeItem("ep_b", "b1"), intakeItem("ep_b", "b2"))
	var order []string
	for range 4 { // two of each: the busy endpoint's third waits
		order = append(order, takeNow(t, in).delivery.ID)
	}
	if want := []string{"a1", "b1", "a2", "b2"}; !slices.Equal(order, want) {
		t.Fatalf("taken %v, want %v: endpoints in turn", order, want)
	}
	blocked := taking(in)
	select {
	case it := <-blocked:
		t.Fatalf("took %s while ep_a had its fill taken", it.delivery.ID)
	case <-time.After(50 * time.Millisecond):
	}
	in.done("ep_a")
	if it := <-blocked; it.delivery.ID != "a3" {
		t.Fatalf("after one of ep_a's was done, took %s, want a3", it.delivery.ID)
	}
	if n := in.reserve(10, 0); n != 9 {
		t.Fatalf("reserved %d places with 1 delivery waiting in 10, want 9", n)
	}
	in.unreserve(9, 0)
	if left := in.drain(); len(left) != 1 || left[0].delivery.ID != "a4" {
		t.Fatalf("drained %v, want a4", left)
	}
	if n := in.reserve(20, 0); n != 10 {
		t.Fatalf("reserved %d places once drained, want all 10", n)
	}
}

// TestIntakeBoundsPayloadBytes: the payloads of waiting deliveries count
// against the intake's bytes, until the deliveries are taken.
func TestIntakeBoundsPayloadBytes(t *testing.T) {
	in := newIntake(10, 100, 1)
	if n := in.reserve(5, 30); n != 3 {
		t.Fatalf("reserved %d places for payloads of 30 bytes in 100, want 3", n)
	}
	claimed := intakeItem("ep_a", "a1")
	claimed.claim = &models.Claim{Payload: models.RawJSON(strings.Repeat("x", 30))}
	in.put(claimed)
	in.unreserve(2, 30)
	if n := in.reserve(5, 30); n != 2 {
		t.Fatalf("reserved %d with one payload of 30 bytes waiting, want 2", n)
	}
	in.unreserve(2, 30)
	takeNow(t, in)
	if n := in.reserve(5, 30); n != 3 {
		t.Fatalf("reserved %d once it was taken, want 3", n)
	}
}

// TestIntakeCloses: a worker waiting to take gets false once the intake's
// context ends.
func TestIntakeCloses(t *testing.T) {
	in := newIntake(1, 1<<20, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go in.watch(ctx)
	stopped := make(chan bool)
	go func() {
		_, ok := in.take()
		stopped <- ok
	}()
	cancel()
	select {
	case ok := <-stopped:
		if ok {
			t.Fatal("took a delivery from an empty intake")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("take still waits after the context ended")
	}
}
