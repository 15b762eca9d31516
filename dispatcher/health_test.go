package dispatcher

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"hookd.dev/hookd/models"
)

// Two attempts that were both made while the endpoint was enabled and both
// got 410 disable it once: the operator hears endpoint.disabled once, from
// the writer that disabled it, not once per attempt.
func TestTwoConcurrentGoneAttemptsTellTheOperatorOnce(t *testing.T) {
	h := newHarness(t)
	gone := newVerifyingReceiver(t, localSecret, http.StatusGone)
	operator := newVerifyingReceiver(t, localSecret, http.StatusOK)
	ep := h.endpoint(h.store, gone.URL, localSecret)
	if _, err := h.store.CreateEndpoint(h.ctx, models.OperatorTenantID, models.EndpointParams{
		URL: ptr(operator.URL), EventTypes: []string{models.OpEndpointDisabled}, Secret: ptr(localSecret),
	}); err != nil {
		t.Fatal(err)
	}
	p := h.pipeline(h.store)
	first, second := h.emit(p), h.emit(p)
	w := h.worker(h.store, Config{AllowPrivateNetworks: true})

	// Both claimed before either attempt is recorded, by the same cached
	// endpoint, enabled: as two handlers that took their tasks at once.
	cached, err := h.store.CachedEndpoint(h.ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := h.store.ClaimDeliveries(h.ctx, []models.ClaimParams{
		{DeliveryID: first.Deliveries[0].ID}, {DeliveryID: second.Deliveries[0].ID},
	}, models.ClaimOpts{LockFor: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(claims))
	for i, c := range claims {
		if c == nil {
			t.Fatalf("claim %d: nothing claimed", i)
		}
		epCopy := *cached
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.attemptClaimed(h.ctx, &epCopy, c, time.Now(), queueHandlers)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if n := gone.count(); n != 2 {
		t.Fatalf("the receiver got %d requests, want both attempts", n)
	}
	if got, _ := h.store.GetEndpoint(h.ctx, h.tenant.ID, ep.ID); got.Enabled {
		t.Fatal("the endpoint is still enabled after two 410s")
	}
	var told int64
	if err := h.store.DB().Model(&models.Message{}).
		Where("tenant_id = ? AND event_type = ?", models.OperatorTenantID, models.OpEndpointDisabled).Count(&told).Error; err != nil {
		t.Fatal(err)
	}
	if told != 1 {
		t.Fatalf("%d endpoint.disabled messages for one disable, want 1", told)
	}
}

// The health policy, without a server or a database: what an attempt's
// outcome changes of its endpoint's health.
func TestHealthPolicy(t *testing.T) {
	t.Parallel()
	w := NewWorker(nil, nil, Config{DisableAfter: time.Hour, Logger: quiet()})
	now := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)
	recently, long := now.Add(-time.Minute), now.Add(-2*time.Hour)
	succeeded := Outcome{Status: models.StatusSucceeded}
	retried := Outcome{Status: models.StatusPending, NextAttemptAt: &now}
	failed := Outcome{Status: models.StatusFailed}
	gone := w.decide(Schedule{time.Minute}, 1, Response{StatusCode: http.StatusGone}, now)
	cases := []struct {
		name         string
		failingSince *time.Time
		outcome      Outcome
		change       bool       // a change is written
		failingFrom  *time.Time // the run's start written
		disables     bool
	}{
		{"a success of a healthy endpoint changes nothing", nil, succeeded, false, nil, false},
		{"a success after failures ends the run", &recently, succeeded, true, nil, false},
		{"a success after failures past DisableAfter ends the run", &long, succeeded, true, nil, false},
		{"a first failure starts a run", nil, retried, true, &now, false},
		{"a first failure that ends the delivery starts a run", nil, failed, true, &now, false},
		{"a failure within DisableAfter changes nothing", &recently, retried, false, nil, false},
		{"a failure past DisableAfter disables", &long, retried, true, &long, true},
		{"a 410 disables a healthy endpoint", nil, gone, true, nil, true},
		{"a 410 disables a failing endpoint", &recently, gone, true, &recently, true},
	}
	for _, c := range cases {
		ep := &models.Endpoint{ID: "ep_1", Enabled: true, FailingSince: c.failingSince}
		h := w.health(ep, c.outcome, now)
		if (h != nil) != c.change {
			t.Errorf("%s: change %+v, want a change: %v", c.name, h, c.change)
			continue
		}
		if h == nil {
			continue
		}
		if h.EndpointID != "ep_1" {
			t.Errorf("%s: change of %q", c.name, h.EndpointID)
		}
		if (h.FailingSince == nil) != (c.failingFrom == nil) || (h.FailingSince != nil && !h.FailingSince.Equal(*c.failingFrom)) {
			t.Errorf("%s: failing since %v, want %v", c.name, h.FailingSince, c.failingFrom)
		}
		if (h.Disable != "") != c.disables {
			t.Errorf("%s: disable %q, want a disable: %v", c.name, h.Disable, c.disables)
		}
	}
	never := NewWorker(nil, nil, Config{DisableAfter: -1, Logger: quiet()})
	if h := never.health(&models.Endpoint{ID: "ep_1", Enabled: true, FailingSince: &long}, retried, now); h != nil {
		t.Errorf("with DisableAfter negative, a long run of failures changed %+v, want nothing", h)
	}
}
