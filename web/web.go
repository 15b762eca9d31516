// Package web serves hookd's admin UI under /ui: server-rendered pages to
// inspect messages, deliveries and attempts and to act on them. Assets are
// embedded; nothing is loaded from elsewhere, and every page works without
// JavaScript (which only adds live refresh and local times).
package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"hookd.dev/hookd/api/httperr"
	"hookd.dev/hookd/authlimit"
	"hookd.dev/hookd/models"
)

//go:embed templates/*.html templates/portal/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Pipeline is how the UI makes deliveries again: each call writes, then
// enqueues after the commit. The dispatcher's Pipeline implements it.
type Pipeline interface {
	Retry(ctx context.Context, tenantID, deliveryID string) (*models.Delivery, error)
	Recover(ctx context.Context, tenantID, endpointID string, since time.Time) ([]models.Delivery, error)
	UpdateEndpoint(ctx context.Context, tenantID, id string, p models.EndpointParams, by string) (*models.Endpoint, error)
	// Resend sends a stored message again: to endpointID, or with "" to
	// every enabled endpoint that subscribes to it and matches its filter.
	Resend(ctx context.Context, tenantID, messageID, endpointID string) ([]models.Delivery, error)
	// Replay sends an endpoint again the messages accepted in a window.
	Replay(ctx context.Context, tenantID, endpointID string, p models.ReplayParams) (int, error)
}

// Config configures the UI.
type Config struct {
	Store    *models.Store
	Pipeline Pipeline
	// AdminKey, when set, logs in besides the admin keys in the database.
	AdminKey   string
	SessionTTL time.Duration // default 12h
	Logger     *slog.Logger  // default slog.Default()
	// FailedAuth counts wrong keys typed into the login form per client
	// address, and makes an address with too many wait (default: a limiter
	// of this UI's own; pass the API's to count both together).
	FailedAuth *authlimit.Limiter
	// TrustedProxies are the proxies whose X-Forwarded-For names the client
	// address. Default: none; the address is the connection's.
	TrustedProxies []netip.Prefix
}

// Cookie names.
const (
	sessionCookie = "hookd_session"
	csrfCookie    = "hookd_csrf"
	csrfField     = "csrf"
	csrfHeader    = "X-CSRF-Token"
)

// Server is the admin UI.
type Server struct {
	cfg   Config
	store *models.Store
	pages map[string]*template.Template
	echo  *echo.Echo
	log   *slog.Logger
	// crossOrigin refuses POSTs from other origins; see csrf.
	crossOrigin *http.CrossOriginProtection
}

// New returns the UI; mount Handler at /ui/.
func New(cfg Config) (*Server, error) {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.FailedAuth == nil {
		cfg.FailedAuth = authlimit.New(authlimit.Config{})
	}
	pages, err := parsePages("templates", "templates/layout.html", "templates/filters.html", "templates/charts.html", "templates/parts.html")
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, store: cfg.Store, pages: pages, echo: echo.New(), log: cfg.Logger, crossOrigin: http.NewCrossOriginProtection()}
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = authlimit.IPExtractor(cfg.TrustedProxies)
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.Recover(), securityHeaders, refuseBadText, s.csrf)

	static, _ := fs.Sub(staticFS, "static")
	e.GET("/ui/static/*", echo.WrapHandler(http.StripPrefix("/ui/static/", http.FileServer(http.FS(static)))))
	e.GET("/ui/login", s.loginPage)
	e.POST("/ui/login", s.login)

	ui := e.Group("/ui", s.requireSession)
	ui.POST("/logout", s.logout)
	ui.GET("", s.overview)
	ui.GET("/", s.overview)
	ui.GET("/messages", s.messages)
	ui.GET("/messages/:id", s.message)
	ui.GET("/messages/:id/resend", s.confirmResend)
	ui.POST("/messages/:id/resend", s.resend)
	ui.GET("/deliveries", s.deliveries)
	ui.GET("/deliveries/:id", s.delivery)
	ui.GET("/deliveries/:id/retry", s.confirmRetry)
	ui.POST("/deliveries/:id/retry", s.retry)
	ui.GET("/endpoints", s.endpoints)
	ui.GET("/endpoints/:id", s.endpoint)
	ui.GET("/search", s.search)
	ui.GET("/endpoints/:id/:action", s.confirmEndpointAction)
	ui.POST("/endpoints/:id/:action", s.endpointAction)
	return s, nil
}

// Handler is the UI as an http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// securityHeaders keeps the pages from being framed or sniffed, and their
// scripts and styles to this origin.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		return next(c)
	}
}

// refuseBadText answers 400 to a request whose path or filters (query
// parameters) carry invalid UTF-8 or NUL, before they reach the database.
func refuseBadText(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := models.CheckRequestText(c.Request()); err != nil {
			return models.Errorf(httperr.CodeBadRequest, "%s", models.ErrorMessage(err)) // as the API answers it
		}
		return next(c)
	}
}

// csrf refuses forged form posts, in two layers. First, net/http's
// CrossOriginProtection refuses POSTs that the browser marks as coming from
// another origin (Sec-Fetch-Site, else Origin); it also guards the login form.
// Second, every form carries a token, read from the POST body or the
// X-CSRF-Token header, never from the query string. With a session, the token
// is an HMAC of the session's secret token, so a cookie injected by a sibling
// site cannot produce it. Before login, it is a random token in a cookie
// (double submit): a forged login could only log in with the forger's own key.
func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token := s.csrfToken(c)
		c.Set(csrfField, token)
		if c.Request().Method != http.MethodPost {
			return next(c)
		}
		if err := s.crossOrigin.Check(c.Request()); err != nil {
			return errForgedForm()
		}
		if err := c.Request().ParseForm(); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "This form could not be read.")
		}
		sent := c.Request().PostForm.Get(csrfField)
		if sent == "" {
			sent = c.Request().Header.Get(csrfHeader)
		}
		if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
			return errForgedForm()
		}
		return next(c)
	}
}

func errForgedForm() error {
	return echo.NewHTTPError(http.StatusForbidden, "This form has expired or did not come from hookd. Go back, reload the page and try again.")
}

// csrfToken is the token the forms of this request carry: bound to the
// session when there is one, else to the browser's CSRF cookie (made here).
func (s *Server) csrfToken(c echo.Context) string {
	if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
		mac := hmac.New(sha256.New, []byte(ck.Value))
		mac.Write([]byte("hookd csrf"))
		return hex.EncodeToString(mac.Sum(nil)[:16])
	}
	if ck, err := c.Cookie(csrfCookie); err == nil && len(ck.Value) == 32 {
		return ck.Value
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	c.SetCookie(s.cookie(c, csrfCookie, token, 0))
	return token
}

// cookie builds a cookie that scripts cannot read, that other sites never
// send, and that travels only over TLS when the UI is served over TLS.
func (s *Server) cookie(c echo.Context, name, value string, maxAge int) *http.Cookie {
	secure := c.Request().TLS != nil || c.Request().Header.Get("X-Forwarded-Proto") == "https"
	// Secure follows the request: the embedded mode is often plain HTTP on localhost.
	return &http.Cookie{ //nolint:gosec // see above
		Name: name, Value: value, Path: "/ui", MaxAge: maxAge,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode,
	}
}

// requireSession sends visitors without a live session to the login page.
func (s *Server) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ck, err := c.Cookie(sessionCookie)
		if err != nil {
			return c.Redirect(http.StatusSeeOther, "/ui/login")
		}
		ctx := c.Request().Context()
		sess, err := s.store.GetSession(ctx, ck.Value)
		if models.ErrorCode(err) == models.CodeNotFound {
			return c.Redirect(http.StatusSeeOther, "/ui/login")
		}
		if err != nil {
			return err
		}
		live, err := s.keyIsLive(ctx, sess.APIKeyID)
		if err != nil {
			return err
		}
		if !live {
			if err := s.store.DeleteSession(ctx, ck.Value); err != nil {
				return err
			}
			c.SetCookie(s.cookie(c, sessionCookie, "", -1))
			return c.Redirect(http.StatusSeeOther, "/ui/login")
		}
		return next(c)
	}
}

// envKeyPrefix marks sessions opened with HOOKD_ADMIN_KEY, which is not in
// the database. A digest of the key follows, so that such a session ends
// when the setting changes or is removed.
const envKeyPrefix = "env:"

func envKeyID(key string) string { return envKeyPrefix + models.HashKey(key)[:16] }

// keyIsLive re-checks, on every request, the key a session was opened with:
// revoking an admin key ends its sessions at once.
func (s *Server) keyIsLive(ctx context.Context, keyID string) (bool, error) {
	if strings.HasPrefix(keyID, envKeyPrefix) {
		return s.cfg.AdminKey != "" && keyID == envKeyID(s.cfg.AdminKey), nil
	}
	k, err := s.store.GetAPIKey(ctx, keyID)
	if models.ErrorCode(err) == models.CodeNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return k.IsAdmin() && k.RevokedAt == nil, nil
}

func (s *Server) loginPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "login", "Log in", map[string]string{})
}

func (s *Server) login(c echo.Context) error {
	key := c.Request().PostForm.Get("key") // the body only: a key in a URL would end up in logs
	keyID, ok := s.adminKeyID(c.Request().Context(), key)
	if !ok {
		// The key is checked first, so that a valid one always gets in,
		// from an address shared with someone typing wrong ones.
		addr := c.RealIP()
		if wait := s.cfg.FailedAuth.RetryAfter(addr); wait > 0 && key != "" {
			secs := httperr.RetryAfterSeconds(wait)
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
			return s.render(c, http.StatusTooManyRequests, "login", "Log in", map[string]string{
				"Error": fmt.Sprintf("Too many wrong keys from your address. Wait %d seconds, then try again.", secs),
			})
		}
		if key != "" {
			s.cfg.FailedAuth.Fail(addr)
		}
		return s.render(c, http.StatusUnauthorized, "login", "Log in",
			map[string]string{"Error": "That is not an admin API key."})
	}
	token, err := s.store.CreateSession(c.Request().Context(), keyID, s.cfg.SessionTTL)
	if err != nil {
		return err
	}
	c.SetCookie(s.cookie(c, sessionCookie, token, int(s.cfg.SessionTTL.Seconds())))
	return c.Redirect(http.StatusSeeOther, "/ui")
}

// adminKeyID checks a key typed into the login form.
func (s *Server) adminKeyID(ctx context.Context, key string) (string, bool) {
	if key == "" {
		return "", false
	}
	if s.cfg.AdminKey != "" &&
		subtle.ConstantTimeCompare([]byte(models.HashKey(key)), []byte(models.HashKey(s.cfg.AdminKey))) == 1 {
		return envKeyID(s.cfg.AdminKey), true
	}
	k, err := s.store.Authenticate(ctx, key)
	if err != nil || !k.IsAdmin() {
		return "", false
	}
	return k.ID, true
}

func (s *Server) logout(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil {
		if err := s.store.DeleteSession(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	c.SetCookie(s.cookie(c, sessionCookie, "", -1))
	return c.Redirect(http.StatusSeeOther, "/ui/login")
}

// handleError shows errors as a page; unknown errors are logged, not shown.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg, known := describeError(err)
	if !known {
		s.log.Error("ui request failed", "path", c.Path(), "error", err)
	}
	_ = s.render(c, status, "error", http.StatusText(status), map[string]string{"Message": msg})
}

// describeError is the status and message a page shows for err; known is
// false for errors that are not meant for users (they get a generic message).
func describeError(err error) (status int, msg string, known bool) {
	status, msg = http.StatusInternalServerError, "Something went wrong; it has been logged."
	if he, ok := err.(*echo.HTTPError); ok { //nolint:errorlint // echo returns it unwrapped
		status, msg = he.Code, fmt.Sprint(he.Message)
	} else if code := models.ErrorCode(err); code != "" {
		status, msg = httperr.Status(code), models.ErrorMessage(err)
	} else if models.IsStorageFull(err) {
		status, msg = http.StatusServiceUnavailable, "The database's disk is full: nothing was changed. Try again once there is room."
	} else {
		return status, msg, false
	}
	if status == http.StatusNotFound && msg == "Not Found" {
		msg = "There is no such page."
	}
	return status, msg, true
}
