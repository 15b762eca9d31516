package models_test

import (
	"errors"
	"testing"
	"time"

	"hookd.dev/hookd/dispatcher"
	"hookd.dev/hookd/models"
)

// The fan-out of an emit lives in the dispatcher's pipeline; these tests
// reach the store's primitives through it, as hookd does.

func (f *fixture) pipeline(t *testing.T) *dispatcher.Pipeline {
	t.Helper()
	if f.pipe == nil {
		f.pipe = dispatcher.NewPipeline(dispatcher.PipelineConfig{Store: f.store})
		t.Cleanup(f.pipe.Close)
	}
	return f.pipe
}

// claimArgs names one claim: the delivery, the attempt count its task was
// made for, and how long the claim holds.
type claimArgs struct {
	DeliveryID   string
	AttemptCount int
	LockFor      time.Duration
}

// claim claims one delivery; nothing to claim is ErrNotFound.
func (f *fixture) claim(a claimArgs) (*models.Claim, error) {
	cs, err := f.store.ClaimDeliveries(f.ctx, []models.ClaimParams{{DeliveryID: a.DeliveryID, AttemptCount: a.AttemptCount}},
		models.ClaimOpts{LockFor: a.LockFor})
	if err != nil {
		return nil, err
	}
	if cs[0] == nil {
		return nil, models.Errorf(models.CodeNotFound, "nothing to claim")
	}
	return cs[0], nil
}

// outcome is the delivery's new state after an attempt.
type outcome struct {
	Status        string
	NextAttemptAt *time.Time
	Health        *models.HealthChange
}

// record stores one attempt and returns the delivery as stored.
func (f *fixture) record(c *models.Claim, a *models.Attempt, o outcome) (*models.Delivery, error) {
	results, err := f.store.RecordAttempts(f.ctx, []models.AttemptRecord{{
		Claim: c, Attempt: a, Status: o.Status, NextAttemptAt: o.NextAttemptAt, Health: o.Health,
	}})
	if err != nil {
		return nil, err
	}
	if results[0] != nil {
		return nil, results[0]
	}
	return f.store.GetDelivery(f.ctx, c.Delivery.TenantID, c.Delivery.ID)
}

func TestClaimLostIsAConflict(t *testing.T) {
	if !errors.Is(models.ErrClaimLost, models.ErrConflict) {
		t.Fatal("ErrClaimLost must be a conflict")
	}
}
