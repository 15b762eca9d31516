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

// CountRecoverable is how many failed deliveries a recover of the endpoint
// since a time would make due again: at most the one call's bound.
func (s *Store) CountRecoverable(ctx context.Context, endpointID string, since time.Time) (int, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Delivery{}).
		Where("endpoint_id = ? AND status = ? AND created_at >= ?", endpointID, StatusFailed, since.UTC()).
		Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count the failed deliveries of endpoint %s: %w", endpointID, err)
	}
	return min(int(n), maxRecover), nil
}

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
		Where("status = ? AND next_attempt_at <= ?", StatusPending, p.Before.UTC()).
		// An ordered delivery behind another of its endpoint waits its turn
		// (see notBlocked): the one ahead enqueues it when done.
		Where(`NOT (ordered AND EXISTS (SELECT 1 FROM deliveries e WHERE e.ordered AND e.endpoint_id = deliveries.endpoint_id
  AND e.status IN ('pending', 'inflight') AND e.id < deliveries.id))`)
	if p.After != nil && p.After.NextAttemptAt != nil {
		q = q.Where("(next_attempt_at > ? OR (next_attempt_at = ? AND id > ?))",
			*p.After.NextAttemptAt, *p.After.NextAttemptAt, p.After.ID)
	}
	var ds []Delivery
	err := q.Order("next_attempt_at, id").Limit(p.Limit).Find(&ds).Error
	return ds, err
}

// CountInflight counts the deliveries being attempted now (claimed), on
// the partial index of that status; workers' concurrency bounds them.
func (s *Store) CountInflight(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Delivery{}).Where("status = ?", StatusInflight).Count(&n).Error
	return n, err
}

func newToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
