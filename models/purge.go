package models

import (
	"context"
	"fmt"
	"time"
)

// PurgeBatch deletes up to limit messages created before cutoff whose
// deliveries have all finished, with their deliveries and attempts (by
// cascade), then up to limit attempts older than cutoff. It returns how many
// messages and attempts it deleted; call it until both are 0. Small batches
// keep each transaction, and its locks, short.
func (s *Store) PurgeBatch(ctx context.Context, cutoff time.Time, limit int) (messages, attempts int64, err error) {
	db := s.db.WithContext(ctx)
	res := db.Exec(`DELETE FROM messages WHERE id IN (
		SELECT m.id FROM messages m WHERE m.id < ? AND NOT EXISTS (
			SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.status IN (?, ?))
		ORDER BY m.id LIMIT ?)`, IDAt(PrefixMessage, cutoff), StatusPending, StatusInflight, limit)
	if res.Error != nil {
		return 0, 0, fmt.Errorf("purge messages: %w", res.Error)
	}
	messages = res.RowsAffected
	res = db.Exec(`DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE id < ? ORDER BY id LIMIT ?)`,
		IDAt(PrefixAttempt, cutoff), limit)
	if res.Error != nil {
		return messages, 0, fmt.Errorf("purge attempts: %w", res.Error)
	}
	return messages, res.RowsAffected, nil
}
