package models

import (
	"context"
	"fmt"
	"unicode/utf8"
)

// maxFilterError bounds the reason kept for a failed filter.
const maxFilterError = 500

// RecordFilterError notes why an endpoint's filter failed at run time,
// unless the filter has changed since (expr is the expression that failed).
// It leaves updated_at alone: that is the endpoint's version, which workers
// compare, and the endpoint's settings have not changed.
func (s *Store) RecordFilterError(ctx context.Context, endpointID, expr, reason string) error {
	if len(reason) > maxFilterError {
		cut := maxFilterError
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut] + "…"
	}
	err := s.db.WithContext(ctx).Model(&Endpoint{}).Where("id = ? AND filter = ?", endpointID, expr).
		UpdateColumns(map[string]any{"filter_error": reason, "filter_error_at": s.now()}).Error
	if err != nil {
		return fmt.Errorf("record the filter error of endpoint %s: %w", endpointID, err)
	}
	return nil
}
