package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// PurgeBatch deletes up to limit messages created before cutoff whose
// deliveries have all finished, with their deliveries and attempts, then up
// to limit attempts older than cutoff. It returns how many
// messages and attempts it deleted; call it until both are 0. Small batches
// keep each transaction, and its locks, short.
func (s *Store) PurgeBatch(ctx context.Context, cutoff time.Time, limit int) (messages, attempts int64, err error) {
	db := s.db.WithContext(ctx)
	err = db.Transaction(func(tx *gorm.DB) error {
		var ids []string
		err := tx.Raw(`SELECT m.id FROM messages m WHERE m.id < ? AND NOT EXISTS (
			SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.status IN (?, ?))
		ORDER BY m.id LIMIT ?`, IDAt(PrefixMessage, cutoff), StatusPending, StatusInflight, limit).Pluck("id", &ids).Error
		if err != nil || len(ids) == 0 {
			return err
		}
		// The delivery log has no foreign keys to cascade on PostgreSQL.
		if err := deleteDeliveries(tx, tx.Model(&Delivery{}).Select("id").Where("message_id IN ?", ids)); err != nil {
			return err
		}
		res := tx.Where("id IN ?", ids).Delete(&Message{})
		messages = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, 0, fmt.Errorf("purge messages: %w", err)
	}
	res := db.Exec(`DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE id < ? ORDER BY id LIMIT ?)`,
		IDAt(PrefixAttempt, cutoff), limit)
	if res.Error != nil {
		return messages, 0, fmt.Errorf("purge attempts: %w", res.Error)
	}
	return messages, res.RowsAffected, nil
}
