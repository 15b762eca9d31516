package models

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"
)

// PortalSession is a link into the tenant portal: a capability URL that
// carries its own token, since an embedded portal is a third-party frame
// whose cookies browsers block. Its ID is the hash of the token; the tenant,
// what the link may do and the app's branding come from this row only.
type PortalSession struct {
	ID           string
	TenantID     string
	ReadOnly     bool
	Title        string
	LogoURL      string `gorm:"column:logo_url"`
	PrimaryColor string
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// PortalParams is what the app asks of a portal link.
type PortalParams struct {
	ReadOnly     bool
	ExpiresIn    time.Duration // default DefaultPortalTTL
	Title        string        // shown instead of "hookd"
	LogoURL      string        // https only
	PrimaryColor string        // #rrggbb
}

// Bounds of a portal link's life.
const (
	DefaultPortalTTL = time.Hour
	MinPortalTTL     = time.Minute
	MaxPortalTTL     = 7 * 24 * time.Hour
	// expiredPortalKept is how long an expired link's row is kept, so that
	// opening it says "expired" rather than "unknown".
	expiredPortalKept = 7 * 24 * time.Hour
	maxTitleLen       = 80
	maxLogoURLLen     = 2048
)

var hexColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Validate checks the parameters; the errors are CodeInvalid with a message
// that names the field.
func (p PortalParams) Validate() error {
	if p.ExpiresIn != 0 && (p.ExpiresIn < MinPortalTTL || p.ExpiresIn > MaxPortalTTL) {
		return Errorf(CodeInvalid, "expires_in must be between %d and %d seconds", int(MinPortalTTL.Seconds()), int(MaxPortalTTL.Seconds()))
	}
	if n := utf8.RuneCountInString(p.Title); n > maxTitleLen {
		return Errorf(CodeInvalid, "title is %d characters; at most %d", n, maxTitleLen)
	}
	if !ValidText(p.Title) || strings.ContainsFunc(p.Title, unicode.IsControl) {
		return Errorf(CodeInvalid, "title must be printable text")
	}
	if p.LogoURL != "" {
		u, err := url.Parse(p.LogoURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(p.LogoURL) > maxLogoURLLen {
			return Errorf(CodeInvalid, "logo_url must be an https:// URL of at most %d characters, without user or password", maxLogoURLLen)
		}
	}
	if p.PrimaryColor != "" && !hexColor.MatchString(p.PrimaryColor) {
		return Errorf(CodeInvalid, "primary_color must be a colour like #1f6feb")
	}
	return nil
}

// CreatePortalSession makes a portal link for a tenant and returns its token,
// which is shown once (in the link) and never stored.
func (s *Store) CreatePortalSession(ctx context.Context, tenantID string, p PortalParams) (string, *PortalSession, error) {
	if err := p.Validate(); err != nil {
		return "", nil, err
	}
	if p.ExpiresIn == 0 {
		p.ExpiresIn = DefaultPortalTTL
	}
	token := newSecretToken(portalPrefix)
	t := s.now()
	sess := &PortalSession{
		ID: HashKey(token), TenantID: tenantID, ReadOnly: p.ReadOnly,
		Title: p.Title, LogoURL: p.LogoURL, PrimaryColor: p.PrimaryColor,
		CreatedAt: t, ExpiresAt: t.Add(p.ExpiresIn),
	}
	if err := s.db.WithContext(ctx).Create(sess).Error; err != nil {
		return "", nil, fmt.Errorf("create portal session: %w", err)
	}
	// Forget long-expired links now and then, without a job of its own.
	s.db.WithContext(ctx).Where("expires_at < ?", t.Add(-expiredPortalKept)).Delete(&PortalSession{})
	return token, sess, nil
}

// GetPortalSession returns the session of a link's token, expired or not
// (Expired tells), or a not_found error.
func (s *Store) GetPortalSession(ctx context.Context, token string) (*PortalSession, error) {
	var sess PortalSession
	err := s.db.WithContext(ctx).Take(&sess, "id = ?", HashKey(token)).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Errorf(CodeNotFound, "no such portal link")
	}
	if err != nil {
		return nil, err
	}
	return &sess, nil
}

// Expired reports whether the link no longer opens the portal at now.
func (p *PortalSession) Expired(now time.Time) bool { return !now.Before(p.ExpiresAt) }

// RevokePortalSessions ends every portal link of a tenant at once and
// returns how many were live.
func (s *Store) RevokePortalSessions(ctx context.Context, tenantID string) (int64, error) {
	res := s.db.WithContext(ctx).Model(&PortalSession{}).
		Where("tenant_id = ? AND expires_at > ?", tenantID, s.now()).
		Update("expires_at", s.now())
	return res.RowsAffected, res.Error
}
