package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Session is a logged-in admin of the web UI. Its ID is the hash of the
// token in the browser's cookie.
type Session struct {
	ID        string
	APIKeyID  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateSession starts a session for an admin key and returns its token.
func (s *Store) CreateSession(ctx context.Context, apiKeyID string, ttl time.Duration) (string, error) {
	token := newSecretToken(sessionPrefix)
	t := s.now()
	err := s.db.WithContext(ctx).Create(&Session{ID: HashKey(token), APIKeyID: apiKeyID, CreatedAt: t, ExpiresAt: t.Add(ttl)}).Error
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	// Forget expired sessions now and then, without a job of its own.
	s.db.WithContext(ctx).Where("expires_at < ?", t).Delete(&Session{})
	return token, nil
}

// GetSession returns the live session of a token, or a not_found error.
func (s *Store) GetSession(ctx context.Context, token string) (*Session, error) {
	var sess Session
	err := s.db.WithContext(ctx).Take(&sess, "id = ? AND expires_at > ?", HashKey(token), s.now()).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Errorf(CodeNotFound, "no such session")
	}
	return &sess, err
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	return s.db.WithContext(ctx).Delete(&Session{}, "id = ?", HashKey(token)).Error
}
