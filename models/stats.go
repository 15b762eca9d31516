package models

import (
	"context"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// IDAt is the smallest id of a kind created at t. IDs are ULIDs, which start
// with their creation time, so a range of ids is a range of time that the
// primary key index answers without a created_at index.
func IDAt(prefix string, t time.Time) string {
	var id ulid.ULID
	_ = id.SetTime(ulid.Timestamp(t)) // fails only past the year 10889
	return prefix + strings.ToLower(id.String())
}

// StatusCounts counts deliveries by status.
type StatusCounts map[string]int64

// Total is the number of deliveries counted.
func (c StatusCounts) Total() int64 {
	var n int64
	for _, v := range c {
		n += v
	}
	return n
}

// SuccessRate is succeeded / (succeeded + failed), or -1 when none finished.
func (c StatusCounts) SuccessRate() float64 {
	done := c[StatusSucceeded] + c[StatusFailed]
	if done == 0 {
		return -1
	}
	return float64(c[StatusSucceeded]) / float64(done)
}

// DeliveryCounts counts deliveries created since a time, by status; endpointID
// "" counts every endpoint's.
func (s *Store) DeliveryCounts(ctx context.Context, since time.Time, endpointID string) (StatusCounts, error) {
	var rows []struct {
		Status string
		N      int64
	}
	q := s.db.WithContext(ctx).Model(&Delivery{}).Select("status, count(*) AS n").
		Where("id >= ?", IDAt(PrefixDelivery, since))
	if endpointID != "" {
		q = q.Where("endpoint_id = ?", endpointID)
	}
	if err := q.Group("status").Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := StatusCounts{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// FailingEndpoint is an endpoint whose deliveries are failing now.
type FailingEndpoint struct {
	EndpointID string
	Retrying   int64 // deliveries waiting for a retry after a failed attempt
}

// FailingEndpoints lists the endpoints with the most deliveries waiting for a
// retry, read from the pending deliveries only (the status index).
func (s *Store) FailingEndpoints(ctx context.Context, limit int) ([]FailingEndpoint, error) {
	var out []FailingEndpoint
	err := s.db.WithContext(ctx).Model(&Delivery{}).
		Select("endpoint_id, count(*) AS retrying").
		Where("status = ? AND attempt_count > 0", StatusPending).
		Group("endpoint_id").Order("retrying DESC").Limit(limit).Scan(&out).Error
	return out, err
}

// Backlog counts deliveries due now and not yet attempted, up to limit.
func (s *Store) Backlog(ctx context.Context, limit int) (int64, error) {
	var n int64
	sub := s.db.Model(&Delivery{}).Select("1").
		Where("status = ? AND next_attempt_at <= ?", StatusPending, s.now()).Limit(limit)
	err := s.db.WithContext(ctx).Table("(?) AS due", sub).Count(&n).Error
	return n, err
}

// LastFailure returns an endpoint's most recent delivery whose last attempt
// failed, within the given time, or nil.
func (s *Store) LastFailure(ctx context.Context, endpointID string, since time.Time) (*Delivery, error) {
	var ds []Delivery
	err := s.db.WithContext(ctx).
		Where("endpoint_id = ? AND id >= ? AND attempt_count > 0 AND status <> ?",
			endpointID, IDAt(PrefixDelivery, since), StatusSucceeded).
		Order("id DESC").Limit(1).Find(&ds).Error
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	return &ds[0], nil
}
