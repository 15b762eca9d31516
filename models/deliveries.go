package models

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// DeliveryParams filters a list of deliveries.
type DeliveryParams struct {
	ListParams
	TenantID   string // "" lists every tenant's (admin UI)
	Status     string
	EndpointID string
	EventType  string
	MessageID  string
	Since      time.Time // zero: no bound
	Until      time.Time
}

// ValidStatus reports whether s names a delivery status.
func ValidStatus(s string) bool {
	switch s {
	case StatusPending, StatusInflight, StatusSucceeded, StatusFailed:
		return true
	}
	return false
}

// ListDeliveries pages through a tenant's deliveries, newest first.
func (s *Store) ListDeliveries(ctx context.Context, p DeliveryParams) ([]Delivery, string, error) {
	if p.Status != "" && !ValidStatus(p.Status) {
		return nil, "", Errorf(CodeInvalid, "status must be pending, inflight, succeeded or failed")
	}
	q := s.db.Model(&Delivery{})
	for column, value := range map[string]string{
		"tenant_id": p.TenantID, "status": p.Status, "endpoint_id": p.EndpointID, "event_type": p.EventType, "message_id": p.MessageID,
	} {
		if value != "" {
			q = q.Where(column+" = ?", value)
		}
	}
	q = timeRange(q, p.Since, p.Until)
	return page(ctx, q, p.ListParams, func(d *Delivery) string { return d.ID })
}

// GetDelivery finds a tenant's delivery, with its attempts, oldest first.
// tenantID "" finds any tenant's, for the admin UI.
func (s *Store) GetDelivery(ctx context.Context, tenantID, id string) (*Delivery, error) {
	var d Delivery
	q := s.db.WithContext(ctx).Where("id = ?", id)
	if tenantID != "" {
		q = q.Where("tenant_id = ?", tenantID)
	}
	if err := q.Take(&d).Error; err != nil {
		return nil, notFound(err, "delivery %q not found", id)
	}
	d.Attempts = []Attempt{}
	err := s.db.WithContext(ctx).Where("delivery_id = ?", d.ID).Order("id").Find(&d.Attempts).Error
	return &d, err
}

// DeliveryEndpoint returns the endpoint of a delivery.
func (s *Store) DeliveryEndpoint(ctx context.Context, id string) (string, error) {
	var d Delivery
	if err := s.db.WithContext(ctx).Select("endpoint_id").Take(&d, "id = ?", id).Error; err != nil {
		return "", notFound(err, "delivery %q not found", id)
	}
	return d.EndpointID, nil
}

// RetryDelivery makes a delivery due now for a manual attempt, whatever its
// status, unless a worker holds it right now. The caller enqueues it.
func (s *Store) RetryDelivery(ctx context.Context, tenantID, id string) (*Delivery, error) {
	t := s.now()
	res := s.db.WithContext(ctx).Model(&Delivery{}).
		Where("id = ? AND tenant_id = ? AND status <> ?", id, tenantID, StatusInflight).
		Updates(map[string]any{
			"status": StatusPending, "next_attempt_at": t, "next_trigger": TriggerManual, "updated_at": t,
		})
	if res.Error != nil {
		return nil, fmt.Errorf("retry delivery %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		d, err := s.GetDelivery(ctx, tenantID, id)
		if err != nil {
			return nil, err
		}
		return nil, Errorf(CodeConflict, "delivery %s is %s: an attempt is being made right now", d.ID, d.Status)
	}
	return s.GetDelivery(ctx, tenantID, id)
}

// maxRecover bounds one recover call; call again for more.
const maxRecover = 10_000

// RecoverEndpoint makes an endpoint's failed deliveries created since a time
// due now for a manual attempt, oldest first, and returns them for the caller
// to enqueue (at most 10,000 per call).
func (s *Store) RecoverEndpoint(ctx context.Context, tenantID, endpointID string, since time.Time) ([]Delivery, error) {
	if since.IsZero() {
		return nil, Errorf(CodeInvalid, "since is required: resend failed deliveries created since this time")
	}
	if _, err := s.GetEndpoint(ctx, tenantID, endpointID); err != nil {
		return nil, err
	}
	var ds []Delivery
	t := s.now()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Where("endpoint_id = ? AND status = ? AND created_at >= ?", endpointID, StatusFailed, since.UTC()).
			Order("id").Limit(maxRecover).Find(&ds).Error
		if err != nil || len(ds) == 0 {
			return err
		}
		ids := make([]string, len(ds))
		for i := range ds {
			ids[i] = ds[i].ID
			ds[i].Status, ds[i].NextAttemptAt, ds[i].NextTrigger = StatusPending, &t, TriggerManual
		}
		return tx.Model(&Delivery{}).Where("id IN ? AND status = ?", ids, StatusFailed).Updates(map[string]any{
			"status": StatusPending, "next_attempt_at": t, "next_trigger": TriggerManual, "updated_at": t,
		}).Error
	})
	if err != nil {
		return nil, fmt.Errorf("recover endpoint %s: %w", endpointID, err)
	}
	if ds == nil {
		ds = []Delivery{}
	}
	return ds, nil
}

// Claim is a delivery a worker holds, with what it needs to send it.
type Claim struct {
	Delivery Delivery
	Endpoint Endpoint
	Message  Message
	token    string
}

// ClaimParams names the attempt a task was made for.
type ClaimParams struct {
	DeliveryID   string
	AttemptCount int           // attempts made when the task was enqueued; a mismatch means the task is stale
	LockFor      time.Duration // how long the claim holds before the sweeper may take it back
	Early        time.Duration // how early a task may run (asynq schedules to the whole second)
}

// ClaimDelivery moves a due pending delivery to inflight with one conditional
// UPDATE, so that of two workers with the same task only one sends it. It
// answers ErrNotFound when there is nothing to claim: the delivery is gone,
// not due, done, or held by another worker.
func (s *Store) ClaimDelivery(ctx context.Context, p ClaimParams) (*Claim, error) {
	t := s.now()
	token := newToken()
	res := s.db.WithContext(ctx).Model(&Delivery{}).
		Where("id = ? AND status = ? AND attempt_count = ? AND next_attempt_at <= ?",
			p.DeliveryID, StatusPending, p.AttemptCount, t.Add(p.Early)).
		Updates(map[string]any{
			"status": StatusInflight, "locked_until": t.Add(p.LockFor), "lock_token": token, "updated_at": t,
		})
	if res.Error != nil {
		return nil, fmt.Errorf("claim delivery %s: %w", p.DeliveryID, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, Errorf(CodeNotFound, "delivery %s is not due", p.DeliveryID)
	}
	c := &Claim{token: token}
	db := s.db.WithContext(ctx)
	if err := db.Take(&c.Delivery, "id = ?", p.DeliveryID).Error; err != nil {
		return nil, notFound(err, "delivery %s vanished", p.DeliveryID)
	}
	if err := db.Take(&c.Endpoint, "id = ?", c.Delivery.EndpointID).Error; err != nil {
		return nil, notFound(err, "endpoint %s vanished", c.Delivery.EndpointID)
	}
	if err := s.openEndpoint(&c.Endpoint); err != nil {
		return nil, err
	}
	if err := db.Take(&c.Message, "id = ?", c.Delivery.MessageID).Error; err != nil {
		return nil, notFound(err, "message %s vanished", c.Delivery.MessageID)
	}
	return c, nil
}

// Outcome is what a worker decided after an attempt.
type Outcome struct {
	Status          string     // succeeded, pending (retry at NextAttemptAt) or failed
	NextAttemptAt   *time.Time // when Status is pending
	DisableEndpoint string     // non-empty: disable the endpoint with this reason
	// DisableAfter disables the endpoint once its attempts have failed
	// continuously for this long (0: never).
	DisableAfter time.Duration
}

// RecordAttempt stores an attempt and the delivery's new state in one
// transaction. The attempt is stored even if the claim was lost (the request
// was sent); the delivery changes only while this claim still holds it.
func (s *Store) RecordAttempt(ctx context.Context, c *Claim, a *Attempt, o Outcome) (*Delivery, error) {
	t := s.now()
	a.ID = NewID(PrefixAttempt)
	a.DeliveryID = c.Delivery.ID
	a.CreatedAt = t
	if a.RequestHeaders == nil {
		a.RequestHeaders = map[string]string{}
	}
	if a.ResponseHeaders == nil {
		a.ResponseHeaders = map[string]string{}
	}
	d := c.Delivery
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(a).Error; err != nil {
			return fmt.Errorf("insert attempt: %w", err)
		}
		d.Status = o.Status
		d.AttemptCount++
		d.NextAttemptAt = o.NextAttemptAt
		d.LastStatusCode = a.ResponseStatusCode
		d.LastError = a.Error
		d.UpdatedAt = t
		res := tx.Model(&Delivery{}).Where("id = ? AND lock_token = ?", d.ID, c.token).Updates(map[string]any{
			"status": d.Status, "attempt_count": d.AttemptCount, "next_attempt_at": d.NextAttemptAt,
			"next_trigger": TriggerScheduled, "last_status_code": d.LastStatusCode, "last_error": d.LastError,
			"locked_until": nil, "lock_token": nil, "updated_at": t,
		})
		if res.Error != nil {
			return fmt.Errorf("update delivery: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return Errorf(CodeConflict, "delivery %s: claim expired before the attempt was recorded", d.ID)
		}
		if o.DisableEndpoint != "" {
			return disableEndpoint(tx, c.Endpoint.ID, o.DisableEndpoint, t)
		}
		return trackHealth(tx, c.Endpoint.ID, o, t)
	})
	if err != nil && ErrorCode(err) == CodeConflict {
		// Keep the attempt: it happened. The delivery belongs to its new claimant.
		if err2 := s.db.WithContext(ctx).Create(a).Error; err2 != nil {
			return nil, fmt.Errorf("record attempt of lost claim: %w", err2)
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// trackHealth keeps the start of the endpoint's current run of failures, and
// disables it when that run has lasted longer than o.DisableAfter.
func trackHealth(tx *gorm.DB, endpointID string, o Outcome, t time.Time) error {
	ep := tx.Model(&Endpoint{}).Where("id = ?", endpointID)
	if o.Status == StatusSucceeded {
		return ep.Where("failing_since IS NOT NULL").Update("failing_since", nil).Error
	}
	if err := ep.Where("failing_since IS NULL").Update("failing_since", t).Error; err != nil {
		return err
	}
	if o.DisableAfter <= 0 {
		return nil
	}
	since := t.Add(-o.DisableAfter)
	return tx.Model(&Endpoint{}).Where("id = ? AND enabled AND failing_since <= ?", endpointID, since).
		Updates(map[string]any{
			"enabled": false, "updated_at": t,
			"disabled_reason": fmt.Sprintf("failing continuously for more than %s", o.DisableAfter),
		}).Error
}

// ParkClaim puts a claimed delivery aside without an attempt because its
// endpoint is disabled: pending, with no time due, until the endpoint is
// enabled again (which resumes it).
func (s *Store) ParkClaim(ctx context.Context, c *Claim, reason string) error {
	t := s.now()
	return s.db.WithContext(ctx).Model(&Delivery{}).Where("id = ? AND lock_token = ?", c.Delivery.ID, c.token).
		Updates(map[string]any{
			"status": StatusPending, "next_attempt_at": nil, "last_error": reason,
			"locked_until": nil, "lock_token": nil, "updated_at": t,
		}).Error
}

// Unclaim gives a claim back unused: the delivery is pending again, due
// after the given delay, and no attempt is counted.
func (s *Store) Unclaim(ctx context.Context, c *Claim, after time.Duration) error {
	t := s.now()
	return s.db.WithContext(ctx).Model(&Delivery{}).Where("id = ? AND lock_token = ?", c.Delivery.ID, c.token).
		Updates(map[string]any{
			"status": StatusPending, "next_attempt_at": t.Add(after), "locked_until": nil, "lock_token": nil, "updated_at": t,
		}).Error
}

// ReleaseExpired returns up to limit inflight deliveries whose claim expired
// (their worker died) to pending, due now, and returns them.
func (s *Store) ReleaseExpired(ctx context.Context, limit int) ([]Delivery, error) {
	t := s.now()
	var ds []Delivery
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Select("id", "endpoint_id", "attempt_count", "next_trigger").
			Where("status = ? AND locked_until < ?", StatusInflight, t).Limit(limit).Find(&ds).Error
		if err != nil || len(ds) == 0 {
			return err
		}
		ids := make([]string, len(ds))
		for i := range ds {
			ids[i] = ds[i].ID
			ds[i].Status, ds[i].NextAttemptAt = StatusPending, &t
		}
		return tx.Model(&Delivery{}).Where("id IN ? AND status = ? AND locked_until < ?", ids, StatusInflight, t).
			Updates(map[string]any{
				"status": StatusPending, "next_attempt_at": t, "locked_until": nil, "lock_token": nil, "updated_at": t,
			}).Error
	})
	return ds, err
}

// DueParams pages through pending deliveries that are due.
type DueParams struct {
	Before time.Time // due at or before this time
	After  *Delivery // the last delivery of the previous page, or nil
	Limit  int
}

// DueDeliveries returns pending deliveries due before p.Before, the most
// overdue first, with only the fields needed to enqueue them.
func (s *Store) DueDeliveries(ctx context.Context, p DueParams) ([]Delivery, error) {
	q := s.db.WithContext(ctx).
		Select("id", "endpoint_id", "attempt_count", "next_attempt_at", "next_trigger").
		Where("status = ? AND next_attempt_at <= ?", StatusPending, p.Before.UTC())
	if p.After != nil && p.After.NextAttemptAt != nil {
		q = q.Where("(next_attempt_at > ? OR (next_attempt_at = ? AND id > ?))",
			*p.After.NextAttemptAt, *p.After.NextAttemptAt, p.After.ID)
	}
	var ds []Delivery
	err := q.Order("next_attempt_at, id").Limit(p.Limit).Find(&ds).Error
	return ds, err
}

func newToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
