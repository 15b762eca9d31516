package api

import (
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"hookd.dev/hookd/api/httperr"
	"hookd.dev/hookd/models"
)

// Context keys.
const (
	keyCaller = "hookd.caller"
	keyTenant = "hookd.tenant"
)

// authenticate accepts "Authorization: Bearer <key>" with an admin or tenant key.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		header := c.Request().Header.Get("Authorization")
		token, ok := strings.CutPrefix(header, "Bearer ")
		token = strings.TrimSpace(token)
		if !ok || token == "" {
			return apiError(httperr.CodeUnauthorized, "missing API key: send Authorization: Bearer <key>")
		}
		if s.cfg.AdminKey != "" &&
			subtle.ConstantTimeCompare([]byte(models.HashKey(token)), []byte(models.HashKey(s.cfg.AdminKey))) == 1 {
			c.Set(keyCaller, &models.APIKey{ID: "env:HOOKD_ADMIN_KEY"})
			return next(c)
		}
		key, err := s.store.Authenticate(c.Request().Context(), token)
		if models.ErrorCode(err) == models.CodeNotFound {
			return s.refuseKey(c)
		}
		if err != nil {
			return err
		}
		c.Set(keyCaller, key)
		if !key.IsAdmin() {
			c.SetRequest(c.Request().WithContext(models.ByTenant(c.Request().Context())))
		}
		return next(c)
	}
}

// refuseKey answers an invalid key: 401, or 429 once its address has failed
// too often. The key is checked first, whatever the address's count, so
// that a valid key always gets through: an address may be shared (NAT, a
// proxy not listed in HOOKD_TRUSTED_PROXIES), and anyone beside the app
// could otherwise lock its key out with one bad request every 30 s.
func (s *Server) refuseKey(c echo.Context) error {
	addr := c.RealIP()
	if wait := s.failedAuth.RetryAfter(addr); wait > 0 {
		return &models.Error{Code: httperr.CodeRateLimited, RetryAfter: wait, Message: fmt.Sprintf(
			"too many invalid API keys from this address; retry after %d s", httperr.RetryAfterSeconds(wait))}
	}
	s.failedAuth.Fail(addr)
	return apiError(httperr.CodeUnauthorized, "invalid API key")
}

func caller(c echo.Context) *models.APIKey { return c.Get(keyCaller).(*models.APIKey) }

func tenantOf(c echo.Context) *models.Tenant { return c.Get(keyTenant).(*models.Tenant) }

// requireAdmin refuses tenant keys.
func requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !caller(c).IsAdmin() {
			return apiError(models.CodeForbidden, "this needs an admin key")
		}
		return next(c)
	}
}

// operatorTenant makes the operator's tenant the request's, for the
// routes of operational endpoints (admin keys only).
func operatorTenant(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Set(keyTenant, &models.Tenant{ID: models.OperatorTenantID})
		return next(c)
	}
}

// loadTenant resolves {tenant} (id or uid). A tenant key sees only its own
// tenant; any other answers 404, so keys cannot probe which tenants exist.
func (s *Server) loadTenant(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ref := c.Param("tenant")
		t, err := s.store.CachedTenant(c.Request().Context(), ref)
		if err != nil {
			return err
		}
		if k := caller(c); !k.IsAdmin() && *k.TenantID != t.ID {
			return apiError(models.CodeNotFound, "tenant %q not found", ref)
		}
		c.Set(keyTenant, t)
		return next(c)
	}
}

// limitRate answers 429 to a tenant key over its rate. If the limiter
// itself fails (Redis down), the request goes through: the limit protects
// hookd, and refusing everything would not.
func (s *Server) limitRate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		k := caller(c)
		if s.cfg.TenantRateLimit == nil || k.IsAdmin() {
			return next(c)
		}
		ok, retryAfter, err := s.cfg.TenantRateLimit.Allow(c.Request().Context(), k.ID)
		if err != nil {
			s.log.Warn("rate limiter unavailable; letting the request through", "error", err)
			return next(c)
		}
		if !ok {
			return &models.Error{Code: httperr.CodeRateLimited, RetryAfter: retryAfter, Message: fmt.Sprintf(
				"too many requests for this API key; retry after %s", retryAfter.Round(time.Millisecond))}
		}
		return next(c)
	}
}
