// Package api serves hookd's REST API (/v1) with echo: tenants, API keys,
// event types, endpoints, messages, deliveries and attempts. It talks to the
// store for data and to a small Enqueuer for the queue, and never to asynq.
package api

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/github.com/labstack/echo/otelecho"

	"hookd.dev/hookd/api/httperr"
	"hookd.dev/hookd/authlimit"
	"hookd.dev/hookd/models"
)

// OpenAPI is the API's OpenAPI 3.1 description, served at /openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

// Pipeline is how the API makes deliveries: each call writes, then
// enqueues after the commit. The dispatcher's Pipeline implements it.
type Pipeline interface {
	Emit(ctx context.Context, p models.EmitParams) (msg *models.Message, created bool, err error)
	Retry(ctx context.Context, tenantID, deliveryID string) (*models.Delivery, error)
	Recover(ctx context.Context, tenantID, endpointID string, since time.Time) ([]models.Delivery, error)
	SendTest(ctx context.Context, tenantID, endpointID string) (*models.Message, error)
	UpdateEndpoint(ctx context.Context, tenantID, id string, p models.EndpointParams, by string) (*models.Endpoint, error)
	Resend(ctx context.Context, tenantID, messageID, endpointID string) ([]models.Delivery, error)
	Replay(ctx context.Context, tenantID, endpointID string, p models.ReplayParams) (int, error)
}

// RateLimiter bounds the requests of one key; the dispatcher's APILimiter implements it.
type RateLimiter interface {
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// Config configures the API.
type Config struct {
	Store    *models.Store
	Pipeline Pipeline
	// AdminKey, when set, is accepted as an admin key besides those in the database.
	AdminKey string
	// TenantRateLimit, when set, limits each tenant key's requests. Admin keys,
	// which the app uses to emit, are not limited.
	TenantRateLimit RateLimiter
	// RotationGrace is how long a rotated-out secret keeps signing (default 24h).
	RotationGrace time.Duration
	// ReadyFunc reports whether the dependencies answer (for /readyz). Default: the database ping.
	ReadyFunc func(ctx context.Context) error
	Logger    *slog.Logger // default slog.Default()
	// Metrics, when set, is served at /metrics and counts emitted messages.
	Metrics *prometheus.Registry
	// FailedAuth counts invalid keys per client address and answers 429 to
	// an address with too many (default: a limiter of this server's own).
	FailedAuth *authlimit.Limiter
	// TrustedProxies are the proxies whose X-Forwarded-For names the client
	// address. Default: none; the address is the connection's.
	TrustedProxies []netip.Prefix
	// PublicURL is where browsers reach hookd (https://hooks.example.com, no
	// trailing slash), the base of portal links. Default: the origin of the
	// request that asks for the link.
	PublicURL string
	// Tracing makes each request a server span (OpenTelemetry, the global
	// tracer provider), child of the caller's traceparent if it sent one.
	Tracing bool
}

// Server is the REST API.
type Server struct {
	emitted    prometheus.Counter // nil without metrics
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	failedAuth *authlimit.Limiter
	echo       *echo.Echo
	store      *models.Store
	deliver    Pipeline
	cfg        Config
	log        *slog.Logger
}

// maxBodyBytes bounds request bodies: the payload limit plus room for the envelope.
const maxBodyBytes = models.MaxPayloadBytes + 64<<10

// New returns the API server; mount Handler on an http.Server.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RotationGrace <= 0 {
		cfg.RotationGrace = 24 * time.Hour
	}
	if cfg.ReadyFunc == nil {
		cfg.ReadyFunc = cfg.Store.Ping
	}
	if cfg.FailedAuth == nil {
		cfg.FailedAuth = authlimit.New(authlimit.Config{})
	}
	s := &Server{echo: echo.New(), store: cfg.Store, deliver: cfg.Pipeline, cfg: cfg, log: cfg.Logger, failedAuth: cfg.FailedAuth}
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = authlimit.IPExtractor(cfg.TrustedProxies)
	e.HTTPErrorHandler = s.handleError
	if cfg.Metrics != nil {
		s.registerMetrics(cfg.Metrics)
		e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(cfg.Metrics, promhttp.HandlerOpts{})))
	}
	if cfg.Tracing {
		e.Use(otelecho.Middleware("hookd"))
	}
	e.Use(middleware.Recover())
	e.Use(s.logRequests())
	e.Use(refuseBadText)

	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", s.ready)
	e.GET("/openapi.json", func(c echo.Context) error { return c.JSONBlob(http.StatusOK, OpenAPI) })

	v1 := e.Group("/v1", s.authenticate, s.limitRate)
	v1.Use(middleware.BodyLimit(byteSize(maxBodyBytes)))
	admin := v1.Group("", requireAdmin)
	admin.POST("/event-types", s.createEventType)
	admin.GET("/event-types", s.listEventTypes)
	admin.GET("/event-types/:name", s.getEventType)
	admin.PATCH("/event-types/:name", s.updateEventType)
	admin.DELETE("/event-types/:name", s.archiveEventType)
	admin.POST("/tenants", s.createTenant)
	admin.GET("/tenants", s.listTenants)
	admin.POST("/admin-keys", s.createAdminKey)
	admin.GET("/admin-keys", s.listAdminKeys)
	admin.DELETE("/admin-keys/:id", s.revokeAdminKey)
	// The operator's endpoints for operational events: the tenant endpoints'
	// handlers, on the operator's tenant.
	s.endpointRoutes(admin.Group("/operational-endpoints", operatorTenant))

	tenant := v1.Group("/tenants/:tenant", s.loadTenant)
	tenant.GET("", s.getTenant, requireAdmin)
	tenant.PATCH("", s.updateTenant, requireAdmin)
	tenant.DELETE("", s.deleteTenant, requireAdmin)
	tenant.POST("/api-keys", s.createAPIKey, requireAdmin)
	tenant.GET("/api-keys", s.listAPIKeys, requireAdmin)
	tenant.DELETE("/api-keys/:id", s.revokeAPIKey, requireAdmin)
	tenant.POST("/portal-sessions", s.createPortalSession, requireAdmin)
	tenant.DELETE("/portal-sessions", s.revokePortalSessions, requireAdmin)
	endpoints := tenant.Group("/endpoints")
	s.endpointRoutes(endpoints)
	endpoints.POST("/:id/recover", s.recoverEndpoint)
	endpoints.POST("/:id/replay", s.replayEndpoint)
	tenant.POST("/messages", s.emit)
	tenant.GET("/messages", s.listMessages)
	tenant.GET("/messages/:id", s.getMessage)
	tenant.POST("/messages/:id/resend", s.resendMessage)
	tenant.GET("/deliveries", s.listDeliveries)
	tenant.GET("/deliveries/:id", s.getDelivery)
	tenant.POST("/deliveries/:id/retry", s.retryDelivery)
	return s
}

// endpointRoutes serves endpoints under g: a tenant's, and the operator's
// (the same handlers, on the operator's tenant).
func (s *Server) endpointRoutes(g *echo.Group) {
	g.POST("", s.createEndpoint)
	g.GET("", s.listEndpoints)
	g.GET("/:id", s.getEndpoint)
	g.PATCH("/:id", s.updateEndpoint)
	g.DELETE("/:id", s.deleteEndpoint)
	g.GET("/:id/secret", s.getEndpointSecret)
	g.POST("/:id/secret/rotate", s.rotateEndpointSecret)
	g.POST("/:id/test", s.testEndpoint)
}

// Route is one method and path the API serves.
type Route struct{ Method, Path string }

// Routes lists what the API serves, for documentation checks.
func (s *Server) Routes() []Route {
	var out []Route
	for _, r := range s.echo.Routes() {
		out = append(out, Route{Method: r.Method, Path: r.Path})
	}
	return out
}

// Handler is the API as an http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

func (s *Server) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.cfg.ReadyFunc(ctx); err != nil {
		s.log.Warn("not ready", "error", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// refuseBadText answers 400 to a request whose path, query parameters or the
// headers hookd reads carry invalid UTF-8 or NUL, before any handler (and the
// database, which cannot store them) sees them. Bodies are checked in decode.
func refuseBadText(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := models.CheckRequestText(c.Request(), "Idempotency-Key", "Authorization"); err != nil {
			return apiError(httperr.CodeBadRequest, "%s", models.ErrorMessage(err))
		}
		return next(c)
	}
}

// logRequests writes one line per request; never headers, so never a key.
// registerMetrics registers the API's series with reg.
func (s *Server) registerMetrics(reg prometheus.Registerer) {
	s.emitted = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "hookd_messages_emitted_total", Help: "Messages accepted by the API (idempotent replays not counted).",
	})
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookd_http_requests_total",
		Help: "API requests answered, by route (the path's pattern, like /v1/tenants/:tenant/messages), method and status code.",
	}, []string{"route", "method", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "hookd_http_request_duration_seconds",
		Help:    "Time to answer an API request, by route and method.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method"})
	reg.MustRegister(s.emitted, s.requests, s.latency)
}

// logRequests logs each request at debug level and counts it. Errors are
// answered here (HandleError), so that the status is the one sent.
func (s *Server) logRequests() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogMethod: true, LogURIPath: true, LogRoutePath: true, LogStatus: true, LogLatency: true, HandleError: true,
		LogValuesFunc: func(_ echo.Context, v middleware.RequestLoggerValues) error {
			method := methodLabel(v.Method)
			s.log.Debug("request", "method", method, "path", v.URIPath, "status", v.Status, "latency", v.Latency)
			if s.requests != nil {
				route := v.RoutePath
				if route == "" || v.Status == http.StatusNotFound && strings.HasSuffix(route, "/*") {
					route = "unmatched" // a group's catch-all: any path, not a label to keep
				}
				s.requests.WithLabelValues(route, method, strconv.Itoa(v.Status)).Inc()
				s.latency.WithLabelValues(route, method).Observe(v.Latency.Seconds())
			}
			return nil
		},
	})
}

// methodLabel is a request's method as a metric label: any client can send
// any token as a method (300 requests of 60,000 characters each made
// /metrics 377 MB), so only the standard ones are kept, the rest are "other".
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

func byteSize(n int) string { return strconv.Itoa(n/1024) + "K" }
