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

// DeliveryCounts counts deliveries created since a time, by status.
func (s *Store) DeliveryCounts(ctx context.Context, since time.Time) (StatusCounts, error) {
	var rows []struct {
		Status string
		N      int64
	}
	err := s.db.WithContext(ctx).Model(&Delivery{}).Select("status, count(*) AS n").
		Where("id >= ?", IDAt(PrefixDelivery, since)).Group("status").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := StatusCounts{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// EndpointCounts counts the deliveries of each endpoint created since a
// time, by status, in one query over the time range of the primary key.
func (s *Store) EndpointCounts(ctx context.Context, endpointIDs []string, since time.Time) (map[string]StatusCounts, error) {
	out := make(map[string]StatusCounts, len(endpointIDs))
	for _, id := range endpointIDs {
		out[id] = StatusCounts{}
	}
	if len(endpointIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		EndpointID string
		Status     string
		N          int64
	}
	err := s.db.WithContext(ctx).Model(&Delivery{}).Select("endpoint_id, status, count(*) AS n").
		Where("id >= ? AND endpoint_id IN ?", IDAt(PrefixDelivery, since), endpointIDs).
		Group("endpoint_id, status").Scan(&rows).Error
	for _, r := range rows {
		out[r.EndpointID][r.Status] = r.N
	}
	return out, err
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

// Backlog counts pending deliveries due more than grace ago (0: due now),
// up to limit: after an outage it may be millions.
func (s *Store) Backlog(ctx context.Context, grace time.Duration, limit int) (int64, error) {
	var n int64
	sub := s.db.Model(&Delivery{}).Select("1").
		Where("status = ? AND next_attempt_at <= ?", StatusPending, s.now().Add(-grace)).Limit(limit)
	err := s.db.WithContext(ctx).Table("(?) AS due", sub).Count(&n).Error
	return n, err
}

// LastFailures returns, for each endpoint that has one, its most recent
// delivery created since a time whose last attempt failed.
func (s *Store) LastFailures(ctx context.Context, endpointIDs []string, since time.Time) (map[string]Delivery, error) {
	out := map[string]Delivery{}
	if len(endpointIDs) == 0 {
		return out, nil
	}
	var latest []string
	err := s.db.WithContext(ctx).Model(&Delivery{}).Select("max(id)").
		Where("id >= ? AND endpoint_id IN ? AND attempt_count > 0 AND status <> ?",
			IDAt(PrefixDelivery, since), endpointIDs, StatusSucceeded).
		Group("endpoint_id").Scan(&latest).Error
	if err != nil || len(latest) == 0 {
		return out, err
	}
	var ds []Delivery
	if err := s.db.WithContext(ctx).Where("id IN ?", latest).Find(&ds).Error; err != nil {
		return nil, err
	}
	for _, d := range ds {
		out[d.EndpointID] = d
	}
	return out, nil
}
