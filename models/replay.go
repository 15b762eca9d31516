package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// NextInLine returns the earliest open delivery of a FIFO endpoint, to go
// once the one ahead of it is done; nil when none waits.
func (s *Store) NextInLine(ctx context.Context, endpointID string) (*Delivery, error) {
	var d Delivery
	err := s.db.WithContext(ctx).
		Select("id", "endpoint_id", "status", "attempt_count", "next_attempt_at", "next_trigger", "ordered").
		Where("ordered AND endpoint_id = ? AND status IN ?", endpointID, []string{StatusPending, StatusInflight}).
		Order("id").Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("next delivery of %s: %w", endpointID, err)
	}
	if d.Status != StatusPending || d.NextAttemptAt == nil {
		return nil, nil // in flight already, or parked while the endpoint is disabled
	}
	return &d, nil
}

// WriteDeliveries inserts new deliveries of messages already stored (a
// resend or a replay), in one transaction.
func (s *Store) WriteDeliveries(ctx context.Context, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	if err := s.db.WithContext(ctx).CreateInBatches(ds, 500).Error; err != nil {
		if errors.Is(err, gorm.ErrForeignKeyViolated) {
			return Errorf(CodeConflict, "the message or the endpoint was deleted meanwhile; nothing was sent")
		}
		return fmt.Errorf("write deliveries: %w", err)
	}
	return nil
}

// MaxReplay bounds the messages one replay sends: a larger backlog is
// replayed in several calls, window by window.
const MaxReplay = 10_000

// ReplayParams chooses the messages a replay sends an endpoint.
type ReplayParams struct {
	Since time.Time // accepted at or after (required)
	Until time.Time // accepted before (zero: now)
}

// MessagesToReplay pages through a tenant's messages of the given event
// types (["*"]: all) accepted in the window, oldest first, after the
// message id after ("": from the start).
func (s *Store) MessagesToReplay(ctx context.Context, tenantID string, eventTypes []string, p ReplayParams, after string, limit int) ([]Message, error) {
	q := s.replayQuery(ctx, tenantID, eventTypes, p)
	if after != "" {
		q = q.Where("id > ?", after)
	}
	var msgs []Message
	if err := q.Order("id").Limit(limit).Find(&msgs).Error; err != nil {
		return nil, fmt.Errorf("messages to replay: %w", err)
	}
	return msgs, nil
}

// CheckReplay validates a replay's window and returns how many messages it
// holds, refusing one of more than MaxReplay.
func (s *Store) CheckReplay(ctx context.Context, tenantID string, eventTypes []string, p ReplayParams) (int, error) {
	if p.Since.IsZero() {
		return 0, Errorf(CodeInvalid, "since is required: replay the messages accepted since this time")
	}
	if !p.Until.IsZero() && !p.Until.After(p.Since) {
		return 0, Errorf(CodeInvalid, "until must be after since")
	}
	var n int64
	if err := s.replayQuery(ctx, tenantID, eventTypes, p).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count messages to replay: %w", err)
	}
	if n > MaxReplay {
		return 0, Errorf(CodeInvalid, "%d messages were accepted in that window; a replay sends at most %d: replay a shorter window (until), then the next", n, MaxReplay)
	}
	return int(n), nil
}

func (s *Store) replayQuery(ctx context.Context, tenantID string, eventTypes []string, p ReplayParams) *gorm.DB {
	q := s.db.WithContext(ctx).Model(&Message{}).Where("tenant_id = ? AND created_at >= ?", tenantID, p.Since.UTC())
	if !p.Until.IsZero() {
		q = q.Where("created_at < ?", p.Until.UTC())
	}
	for _, t := range eventTypes {
		if t == AllEventTypes {
			return q
		}
	}
	return q.Where("event_type IN ?", eventTypes)
}
