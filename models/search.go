package models

import (
	"context"
	"fmt"
	"strings"
)

// SearchResults are what the admin UI's search found.
type SearchResults struct {
	Messages   []Message
	Deliveries []Delivery
	Endpoints  []Endpoint
	// Exact is set when q was an id that named one thing.
	Exact bool
}

// maxSearchResults bounds each kind of result.
const maxSearchResults = 50

// MaxSearchLength bounds a search text.
const MaxSearchLength = 500

// Search finds, across tenants, the message, delivery or endpoint whose id
// is q, else the messages whose idempotency key is q and the endpoints whose
// URL contains it (at most 50 of each, newest first).
func (s *Store) Search(ctx context.Context, q string) (SearchResults, error) {
	var r SearchResults
	q = strings.TrimSpace(q)
	switch {
	case q == "":
		return r, nil
	case len(q) > MaxSearchLength:
		return r, Errorf(CodeInvalid, "the search text is %d characters; at most %d", len(q), MaxSearchLength)
	}
	db := s.db.WithContext(ctx)
	prefix, _, _ := strings.Cut(q, "_")
	switch prefix + "_" {
	case PrefixMessage:
		err := db.Where("id = ?", q).Find(&r.Messages).Error
		r.Exact = len(r.Messages) == 1
		return r, wrapSearch(err)
	case PrefixDelivery:
		err := db.Where("id = ?", q).Find(&r.Deliveries).Error
		r.Exact = len(r.Deliveries) == 1
		return r, wrapSearch(err)
	case PrefixEndpoint:
		err := db.Where("id = ?", q).Find(&r.Endpoints).Error
		r.Exact = len(r.Endpoints) == 1
		return r, wrapSearch(err)
	}
	if err := db.Where("idempotency_key = ?", q).Order("id DESC").Limit(maxSearchResults).Find(&r.Messages).Error; err != nil {
		return r, wrapSearch(err)
	}
	like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(q)) + "%"
	err := db.Where(`LOWER(url) LIKE ? ESCAPE '\'`, like).Order("id DESC").Limit(maxSearchResults).Find(&r.Endpoints).Error
	return r, wrapSearch(err)
}

func wrapSearch(err error) error {
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	return nil
}
