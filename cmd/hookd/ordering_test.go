package main

import (
	"net/http"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"hookd.dev/hookd/hookdtest"
)

// TestFIFOSurvivesAWorkerKilledMidFlight: a FIFO endpoint's messages
// arrive one at a time and in the order they were accepted, across worker
// processes, when the worker holding one in flight is killed: the line
// waits until the dead worker's claim expires, that message goes again
// (the receiver deduplicates by webhook-id), then the rest, in order.
func TestFIFOSurvivesAWorkerKilledMidFlight(t *testing.T) {
	t.Parallel()
	env := backends(t)
	env["HOOKD_DELIVERY_TIMEOUT"] = "2s" // the dead worker's claim lasts 17 s
	apiProc := start(t, "api", env)
	c := newClient(t, apiProc, testAdminKey)

	r := hookdtest.NewReceiver(t)
	const held = 5 // the request in flight when the worker dies
	var (
		mu       sync.Mutex
		inFlight int
		maxIn    int
	)
	release := make(chan struct{})
	arrived := make(chan struct{})
	r.Respond(func(n int) int {
		mu.Lock()
		inFlight++
		maxIn = max(maxIn, inFlight)
		mu.Unlock()
		defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
		if n == held {
			close(arrived)
			<-release
		}
		time.Sleep(10 * time.Millisecond) // room for another request to overlap, if one could
		return http.StatusOK
	})
	c.must(201, "POST", "/v1/event-types", map[string]any{"name": "load.test"}, nil)
	c.must(201, "POST", "/v1/tenants", map[string]any{"uid": "acme"}, nil)
	c.must(201, "POST", "/v1/tenants/acme/endpoints", map[string]any{
		"url": r.URL, "event_types": []string{"*"}, "secret": r.Secret(), "ordering": "fifo",
	}, nil)

	victim := startProcess(t, "worker", env)
	ids := emitN(c, 30)
	select {
	case <-arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("the held request never arrived")
	}
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = victim.wait()
	close(release)
	startProcess(t, "worker", env)
	startProcess(t, "worker", env)

	ok, failed := assertInvariant(t, c, r.TimesFor, ids, 90*time.Second)
	if ok != len(ids) || failed != 0 {
		t.Fatalf("%d succeeded, %d failed of %d", ok, failed, len(ids))
	}
	var arrivals []string
	for _, d := range r.Deliveries() {
		arrivals = append(arrivals, d.MessageID)
	}
	if got := slices.Compact(slices.Clone(arrivals)); !slices.Equal(got, ids) {
		t.Errorf("arrivals out of order:\n got %v\nwant %v", got, ids)
	}
	if len(arrivals) != len(ids)+1 || r.TimesFor(ids[held-1]) != 2 {
		t.Errorf("%d requests for %d messages, %d of the one held; want one more, of the held one", len(arrivals), len(ids), r.TimesFor(ids[held-1]))
	}
	mu.Lock()
	defer mu.Unlock()
	if maxIn != 1 {
		t.Errorf("%d requests were in flight at once, want 1", maxIn)
	}
	t.Logf("%d requests, in order, one at a time", len(arrivals))
}
