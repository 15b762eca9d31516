package models_test

import (
	"sync"
	"testing"
	"time"

	"hookd.dev/hookd/models"
)

// Of attempts that all disable their endpoint, whether recorded in one
// batch or in concurrent ones, exactly one is told it disabled it: the
// write that found the endpoint enabled. Only that one tells the operator.
func TestOnlyTheWriteThatDisablesAnEndpointSaysSo(t *testing.T) {
	for _, c := range []struct {
		name     string
		together bool
	}{{"in one batch", true}, {"in concurrent batches", false}} {
		t.Run(c.name, func(t *testing.T) {
			f := setup(t)
			ep := f.endpoint(t, "*")
			var records []models.AttemptRecord
			for range 4 {
				d := f.emit(t)
				claim, err := f.claim(claimArgs{DeliveryID: d.ID, LockFor: time.Minute})
				if err != nil {
					t.Fatal(err)
				}
				code := 410
				records = append(records, models.AttemptRecord{
					Claim: claim, Attempt: &models.Attempt{Number: 1, Trigger: models.TriggerScheduled, URL: ep.URL, ResponseStatusCode: &code},
					Status: models.StatusFailed, Health: &models.HealthChange{EndpointID: ep.ID, Disable: "the endpoint answered 410 Gone"},
				})
			}
			if c.together {
				if _, err := f.store.RecordAttempts(f.ctx, records); err != nil {
					t.Fatal(err)
				}
			} else {
				var wg sync.WaitGroup
				errs := make([]error, len(records))
				for i := range records {
					wg.Go(func() { _, errs[i] = f.store.RecordAttempts(f.ctx, records[i:i+1]) })
				}
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						t.Fatal(err)
					}
				}
			}
			disabled := 0
			for _, r := range records {
				if r.Health.Disabled {
					disabled++
				}
			}
			if disabled != 1 {
				t.Errorf("%d of %d writes say they disabled the endpoint, want 1", disabled, len(records))
			}
			if got, _ := f.store.GetEndpoint(f.ctx, f.tenant.ID, ep.ID); got.Enabled || got.DisabledReason != "the endpoint answered 410 Gone" {
				t.Errorf("endpoint after the 410s: enabled %v, reason %q", got.Enabled, got.DisabledReason)
			}
		})
	}
}
