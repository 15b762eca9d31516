package models

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The admin UI's charts: deliveries and attempts of the last hours, hour by
// hour, each in one query over the primary key's time range (ids are
// ULIDs, so an hour is a range of ids; see IDAt).

// Hour is one hour of a chart.
type Hour struct {
	Start      time.Time
	Deliveries StatusCounts // created in the hour, by their status now
	// Latency counts the hour's attempts by duration: Latency[i] those
	// under LatencyBounds[i] ms and not under the one before; the last,
	// those over every bound.
	Latency []int64
}

// LatencyBounds are the upper bounds of the latency classes, in ms.
var LatencyBounds = []int64{10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000}

// Percentile estimates the p-th percentile (0-1) of the hour's attempt
// durations as the upper bound of the class that holds it (ms); -1 when
// the hour had no attempt, 0 when it is over every bound.
func (h Hour) Percentile(p float64) int64 {
	var total int64
	for _, n := range h.Latency {
		total += n
	}
	if total == 0 {
		return -1
	}
	rank := int64(p*float64(total) + 0.5)
	var seen int64
	for i, n := range h.Latency {
		seen += n
		if seen >= rank && i < len(LatencyBounds) {
			return LatencyBounds[i]
		}
	}
	return 0
}

// hourCase is a SQL CASE that numbers the hour of an id from start (0 to
// hours-1), with its arguments; ids before start are not selected.
func hourCase(prefix string, start time.Time, hours int) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, hours)
	b.WriteString("CASE")
	for i := 1; i < hours; i++ {
		fmt.Fprintf(&b, " WHEN id < ? THEN %d", i-1)
		args = append(args, IDAt(prefix, start.Add(time.Duration(i)*time.Hour)))
	}
	fmt.Fprintf(&b, " ELSE %d END", hours-1)
	return b.String(), args
}

// Hourly returns the last hours (up to now, the current one last): the
// deliveries created in each by status, and the attempts made in each by
// latency class. endpointID, when set, keeps to one endpoint.
func (s *Store) Hourly(ctx context.Context, hours int, endpointID string) ([]Hour, error) {
	start := s.now().UTC().Truncate(time.Hour).Add(-time.Duration(hours-1) * time.Hour)
	out := make([]Hour, hours)
	for i := range out {
		out[i] = Hour{Start: start.Add(time.Duration(i) * time.Hour), Deliveries: StatusCounts{}, Latency: make([]int64, len(LatencyBounds)+1)}
	}
	hour, args := hourCase(PrefixDelivery, start, hours)
	q := s.db.WithContext(ctx).Model(&Delivery{}).Select(hour+" AS h, status, count(*) AS n", args...).
		Where("id >= ?", IDAt(PrefixDelivery, start))
	if endpointID != "" {
		q = q.Where("endpoint_id = ?", endpointID)
	}
	var byStatus []struct {
		H      int
		Status string
		N      int64
	}
	if err := q.Group("h, status").Scan(&byStatus).Error; err != nil {
		return nil, fmt.Errorf("deliveries by hour: %w", err)
	}
	for _, r := range byStatus {
		out[r.H].Deliveries[r.Status] = r.N
	}
	if endpointID != "" {
		return out, nil
	}
	hour, args = hourCase(PrefixAttempt, start, hours)
	var class strings.Builder
	class.WriteString("CASE")
	for i, bound := range LatencyBounds {
		fmt.Fprintf(&class, " WHEN duration_ms < %d THEN %d", bound, i)
	}
	fmt.Fprintf(&class, " ELSE %d END", len(LatencyBounds))
	var byClass []struct {
		H, C int
		N    int64
	}
	err := s.db.WithContext(ctx).Model(&Attempt{}).Select(hour+" AS h, "+class.String()+" AS c, count(*) AS n", args...).
		Where("id >= ?", IDAt(PrefixAttempt, start)).Group("h, c").Scan(&byClass).Error
	if err != nil {
		return nil, fmt.Errorf("attempts by hour: %w", err)
	}
	for _, r := range byClass {
		out[r.H].Latency[r.C] = r.N
	}
	return out, nil
}
