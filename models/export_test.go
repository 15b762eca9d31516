package models

import (
	"context"
	"strings"
	"time"
)

// ExplainClaim returns PostgreSQL's plan for ClaimDeliveries(ps), planned
// as ClaimDeliveries has it planned, without running it.
func ExplainClaim(ctx context.Context, s *Store, ps []ClaimParams) (string, error) {
	query, args := s.claimStatement(ps, ClaimOpts{LockFor: time.Minute}, s.now(), "explain")
	rows, err := s.db.WithContext(ctx).Raw("EXPLAIN "+query, args...).Rows()
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", err
		}
		plan.WriteString(line + "\n")
	}
	return plan.String(), rows.Err()
}
