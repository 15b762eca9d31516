package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"hookd.dev/hookd/api/httperr"
	"hookd.dev/hookd/models"
)

// PortalPipeline is what the tenant portal does through the dispatcher:
// the admin UI's actions and a test event.
type PortalPipeline interface {
	Pipeline
	SendTest(ctx context.Context, tenantID, endpointID string) (*models.Message, error)
}

// PortalConfig configures the tenant portal.
type PortalConfig struct {
	Store    *models.Store
	Pipeline PortalPipeline
	// FrameAncestors are the origins that may show the portal in an iframe
	// (CSP frame-ancestors sources, checked by the caller). None: it cannot be framed.
	FrameAncestors []string
	// RotationGrace is how long a rotated-out secret keeps signing (default 24h).
	RotationGrace time.Duration
	Logger        *slog.Logger // default slog.Default()
}

// Portal is the tenant portal under /portal/<token>/: the pages a tenant
// (the owner of callback URLs) uses to manage its own endpoints and see its
// own deliveries, usually inside an iframe of the app's pages.
//
// A portal link is a capability URL: the token in its path is the session,
// and nothing else is. Cookies would not do, since browsers block or
// partition the cookies of a third-party frame. Every page and action is
// scoped to the tenant of the link's row (models.PortalSession), never to
// anything else in the request.
type Portal struct {
	cfg         PortalConfig
	store       *models.Store
	pages       map[string]*template.Template
	echo        *echo.Echo
	log         *slog.Logger
	crossOrigin *http.CrossOriginProtection
	frame       string // the CSP frame-ancestors sources
}

// portalView is the app's branding of the portal's layout.
type portalView struct {
	Title   string
	LogoURL string
	Color   bool // the app set a primary colour (brand.css)
}

// Context keys of a portal request.
const (
	keyPortal = "portal_session"
	keyToken  = "portal_token"
)

// NewPortal returns the portal; mount Handler at /portal/.
func NewPortal(cfg PortalConfig) (*Portal, error) {
	if cfg.RotationGrace <= 0 {
		cfg.RotationGrace = 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	pages, err := parsePages("templates/portal", "templates/portal/layout.html", "templates/portal/filters.html", "templates/charts.html", "templates/parts.html")
	if err != nil {
		return nil, err
	}
	frame := "'none'"
	if len(cfg.FrameAncestors) > 0 {
		frame = strings.Join(cfg.FrameAncestors, " ")
	}
	p := &Portal{
		cfg: cfg, store: cfg.Store, pages: pages, echo: echo.New(), log: cfg.Logger,
		crossOrigin: http.NewCrossOriginProtection(), frame: frame,
	}
	e := p.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = p.handleError
	e.Use(middleware.Recover(), p.securityHeaders, refuseBadText)

	static, _ := fs.Sub(staticFS, "static")
	e.GET("/portal/static/*", echo.WrapHandler(http.StripPrefix("/portal/static/", http.FileServer(http.FS(static)))))

	g := e.Group("/portal/:token", p.loadSession, p.guardForms)
	g.GET("", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, p.base(c)+"/") })
	g.GET("/", p.endpoints)
	g.GET("/brand.css", p.brandCSS)
	g.GET("/endpoints/new", p.newEndpoint, writable)
	g.POST("/endpoints", p.createEndpoint)
	g.GET("/endpoints/:id", p.endpoint)
	g.GET("/endpoints/:id/edit", p.editEndpoint, writable)
	g.POST("/endpoints/:id/edit", p.updateEndpoint)
	g.GET("/endpoints/:id/secret", p.secret)
	g.GET("/endpoints/:id/:action", p.confirmEndpointAction, writable)
	g.POST("/endpoints/:id/:action", p.endpointAction)
	g.GET("/messages", p.messages)
	g.GET("/messages/:id", p.message)
	g.GET("/messages/:id/resend", p.confirmResend, writable)
	g.POST("/messages/:id/resend", p.resend)
	g.GET("/deliveries", p.deliveries)
	g.GET("/deliveries/:id", p.delivery)
	g.GET("/deliveries/:id/retry", p.confirmRetry, writable)
	g.POST("/deliveries/:id/retry", p.retry)
	return p, nil
}

// Handler is the portal as an http.Handler.
func (p *Portal) Handler() http.Handler { return p.echo }

// securityHeaders: scripts, styles and images from this origin only (and
// the app's logo), framing by the configured origins only, and no Referer,
// which would carry the link's token to another site.
func (p *Portal) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", p.csp(""))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		return next(c)
	}
}

// csp is the portal's policy; logoOrigin, when set, may serve images.
func (p *Portal) csp(logoOrigin string) string {
	img := "'self' data:"
	if logoOrigin != "" {
		img += " " + logoOrigin
	}
	return "default-src 'self'; img-src " + img + "; frame-ancestors " + p.frame + "; form-action 'self'; base-uri 'none'"
}

// loadSession finds the link's session: unknown links get 404 and expired
// ones 410, each with a page that says so.
func (p *Portal) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token := c.Param("token")
		sess, err := p.store.GetPortalSession(c.Request().Context(), token)
		if models.ErrorCode(err) == models.CodeNotFound {
			return p.linkRefused(c, http.StatusNotFound, "This link is not valid",
				"This portal link does not exist, or was withdrawn. Ask for a new link where you got this one.")
		}
		if err != nil {
			return err
		}
		if sess.Expired(time.Now()) {
			return p.linkRefused(c, http.StatusGone, "This link has expired",
				"This portal link expired at "+sess.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")+
					". Links are short-lived: open the portal again from where you got this one.")
		}
		c.Set(keyPortal, sess)
		c.Set(keyToken, token)
		// What the tenant does here by hand counts against its budget.
		c.SetRequest(c.Request().WithContext(models.ByTenant(c.Request().Context())))
		if u, err := url.Parse(sess.LogoURL); err == nil && sess.LogoURL != "" {
			c.Response().Header().Set("Content-Security-Policy", p.csp("https://"+u.Host))
		}
		return next(c)
	}
}

func (p *Portal) linkRefused(c echo.Context, status int, title, msg string) error {
	return writePage(c, p.pages, status, "error", page{Title: title, Nav: "error", Data: map[string]string{"Message": msg}})
}

// guardForms refuses forged and read-only form posts. The link's token is
// the only credential and a forger does not know it; still, as in the
// admin UI, POSTs marked as coming from another origin are refused, and
// every form carries a token derived from the link's.
func (p *Portal) guardForms(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token := formToken(c.Get(keyToken).(string))
		c.Set(csrfField, token)
		if c.Request().Method != http.MethodPost {
			return next(c)
		}
		if session(c).ReadOnly {
			return errReadOnly()
		}
		if err := p.crossOrigin.Check(c.Request()); err != nil {
			return errForgedPortalForm()
		}
		if err := c.Request().ParseForm(); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "This form could not be read.")
		}
		if sent := c.Request().PostForm.Get(csrfField); subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
			return errForgedPortalForm()
		}
		return next(c)
	}
}

func errReadOnly() error {
	return echo.NewHTTPError(http.StatusForbidden, "This portal link is read-only: it shows endpoints and deliveries but cannot change them.")
}

// writable refuses a read-only link the pages that hold forms (their POSTs
// are refused by guardForms).
func writable(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if session(c).ReadOnly {
			return errReadOnly()
		}
		return next(c)
	}
}

func errForgedPortalForm() error {
	return echo.NewHTTPError(http.StatusForbidden, "This form did not come from this portal. Go back, reload the page and try again.")
}

func formToken(linkToken string) string {
	mac := hmac.New(sha256.New, []byte(linkToken))
	mac.Write([]byte("hookd portal form"))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

func session(c echo.Context) *models.PortalSession { return c.Get(keyPortal).(*models.PortalSession) }

// tenant is the only tenant a portal request may touch.
func tenant(c echo.Context) string { return session(c).TenantID }

// base is the link's prefix, for the pages' own links.
func (p *Portal) base(c echo.Context) string { return "/portal/" + url.PathEscape(c.Param("token")) }

// brandCSS sets the app's primary colour: a stylesheet of this origin
// rather than an inline style, which the CSP forbids.
func (p *Portal) brandCSS(c echo.Context) error {
	css := ""
	if color := session(c).PrimaryColor; color != "" { // #rrggbb, checked when the link was made
		css = fmt.Sprintf(":root { --accent: %s; }\n", color)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", []byte(css))
}

func (p *Portal) render(c echo.Context, status int, name, title string, data any) error {
	sess := session(c)
	pg := page{Title: title, Nav: name, Data: data, Notice: showNotice(c.QueryParams(), p.cfg.RotationGrace), Base: p.base(c), ReadOnly: sess.ReadOnly, Portal: &portalView{
		Title: sess.Title, LogoURL: sess.LogoURL, Color: sess.PrimaryColor != "",
	}}
	if v, ok := c.Get(csrfField).(string); ok {
		pg.CSRF = v
	}
	return writePage(c, p.pages, status, name, pg)
}

// handleError shows errors as a page; unknown errors are logged (by route,
// never by path: the path holds the link's token), not shown.
func (p *Portal) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg, known := describeError(err)
	if !known {
		p.log.Error("portal request failed", "route", c.Path(), "error", err)
	}
	httperr.SetRetryAfter(c.Response().Header(), err)
	if _, ok := c.Get(keyPortal).(*models.PortalSession); ok {
		_ = p.render(c, status, "error", http.StatusText(status), map[string]string{"Message": msg})
		return
	}
	_ = writePage(c, p.pages, status, "error", page{Title: http.StatusText(status), Nav: "error", Data: map[string]string{"Message": msg}})
}
