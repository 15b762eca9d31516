package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"hookd.dev/hookd/models"
)

// pageSize is the rows of a list page.
const pageSize = 50

// periods are the time filters of the lists.
var periods = map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour}

// filters are the query parameters the list pages share.
type filters struct {
	Query    url.Values
	TenantID string // resolved from ?tenant= (id or uid)
	Since    time.Time
	Tenants  []models.Tenant // for the tenant menu
}

func (s *Server) readFilters(c echo.Context) (filters, error) {
	ctx := c.Request().Context()
	f := filters{Query: c.QueryParams()}
	if ref := c.QueryParam("tenant"); ref != "" {
		t, err := s.store.GetTenant(ctx, ref)
		if err != nil {
			return f, err
		}
		f.TenantID = t.ID
	}
	if d, ok := periods[c.QueryParam("period")]; ok {
		f.Since = time.Now().Add(-d)
	}
	tenants, _, err := s.store.ListTenants(ctx, models.ListParams{Limit: models.MaxLimit})
	f.Tenants = tenants
	return f, err
}

// ---- overview

type overviewData struct {
	LastHour, LastDay models.StatusCounts
	Failing           []failingRow
	Disabled          []models.Endpoint
	Backlog           int64
	BacklogCapped     bool
	DeliveriesChart   svgChart
	LatencyChart      svgChart
}

type failingRow struct {
	models.FailingEndpoint
	Endpoint models.Endpoint
}

const backlogCap = 10_000

func (s *Server) overview(c echo.Context) error {
	ctx := c.Request().Context()
	now := time.Now()
	var d overviewData
	var err error
	if d.LastHour, err = s.store.DeliveryCounts(ctx, now.Add(-time.Hour)); err != nil {
		return err
	}
	if d.LastDay, err = s.store.DeliveryCounts(ctx, now.Add(-24*time.Hour)); err != nil {
		return err
	}
	failing, err := s.store.FailingEndpoints(ctx, 10)
	if err != nil {
		return err
	}
	ids := make([]string, len(failing))
	for i, f := range failing {
		ids[i] = f.EndpointID
	}
	eps, err := s.store.EndpointsByID(ctx, ids)
	if err != nil {
		return err
	}
	for _, f := range failing {
		d.Failing = append(d.Failing, failingRow{f, eps[f.EndpointID]})
	}
	if d.Disabled, err = s.store.DisabledEndpoints(ctx, 10); err != nil {
		return err
	}
	if d.Backlog, err = s.store.Backlog(ctx, 0, backlogCap+1); err != nil {
		return err
	}
	d.BacklogCapped = d.Backlog > backlogCap
	hours, err := s.store.Hourly(ctx, 24, "")
	if err != nil {
		return err
	}
	d.DeliveriesChart, d.LatencyChart = deliveriesChart(hours), latencyChart(hours)
	return s.render(c, http.StatusOK, "overview", "Overview", d)
}

// ---- messages

type messagesData struct {
	filters
	Messages []models.Message
	Next     string
}

func (s *Server) messages(c echo.Context) error {
	f, err := s.readFilters(c)
	if err != nil {
		return err
	}
	rows, next, err := s.store.ListMessages(c.Request().Context(), models.MessageParams{
		ListParams: models.ListParams{Limit: pageSize, Cursor: c.QueryParam("cursor")},
		TenantID:   f.TenantID, EventType: c.QueryParam("event_type"), Since: f.Since,
	})
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "messages", "Messages", messagesData{f, rows, next})
}

type messageData struct {
	Message   *models.Message
	Endpoints map[string]models.Endpoint
}

func (s *Server) message(c echo.Context) error {
	d, err := loadMessage(c.Request().Context(), s.store, "", c.Param("id"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "message", "Message "+d.Message.ID, d)
}

// loadMessage reads a message with the endpoints of its deliveries;
// tenantID "" (the admin UI) reads any tenant's.
func loadMessage(ctx context.Context, store *models.Store, tenantID, id string) (messageData, error) {
	msg, err := store.GetMessage(ctx, tenantID, id)
	if err != nil {
		return messageData{}, err
	}
	eps, err := store.EndpointsByID(ctx, endpointIDs(msg.Deliveries))
	return messageData{msg, eps}, err
}

// resendData is the resend confirmation: the message, and its tenant's
// endpoints to pick one from.
type resendData struct {
	Message   *models.Message
	Endpoints []models.Endpoint
}

// loadResend reads a message and its tenant's endpoints; tenantID ""
// (the admin UI) reads any tenant's message.
func loadResend(ctx context.Context, store *models.Store, tenantID, id string) (resendData, error) {
	msg, err := store.GetMessage(ctx, tenantID, id)
	if err != nil {
		return resendData{}, err
	}
	eps, _, err := store.ListEndpoints(ctx, msg.TenantID, models.ListParams{Limit: models.MaxLimit})
	return resendData{msg, eps}, err
}

func (s *Server) confirmResend(c echo.Context) error {
	d, err := loadResend(c.Request().Context(), s.store, "", c.Param("id"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "confirm_resend", "Resend message?", d)
}

func (s *Server) resend(c echo.Context) error {
	ctx := c.Request().Context()
	msg, err := s.store.GetMessage(ctx, "", c.Param("id"))
	if err != nil {
		return err
	}
	ds, err := s.cfg.Pipeline.Resend(ctx, msg.TenantID, msg.ID, c.Request().PostForm.Get("endpoint_id"))
	if err != nil {
		return err
	}
	return redirect(c, "/ui/messages/"+url.PathEscape(msg.ID), notice{code: noticeResent, n: len(ds)})
}

// ---- deliveries

type deliveriesData struct {
	filters
	Deliveries []models.Delivery
	Endpoints  map[string]models.Endpoint
	Next       string
	Statuses   []string
}

func (s *Server) deliveries(c echo.Context) error {
	f, err := s.readFilters(c)
	if err != nil {
		return err
	}
	rows, eps, next, err := listDeliveries(c, s.store, f)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "deliveries", "Deliveries", deliveriesData{
		filters: f, Deliveries: rows, Endpoints: eps, Next: next,
		Statuses: []string{models.StatusPending, models.StatusInflight, models.StatusSucceeded, models.StatusFailed},
	})
}

// listDeliveries reads a page of the deliveries the request's filters
// select, and their endpoints by id.
func listDeliveries(c echo.Context, store *models.Store, f filters) ([]models.Delivery, map[string]models.Endpoint, string, error) {
	ctx := c.Request().Context()
	rows, next, err := store.ListDeliveries(ctx, models.DeliveryParams{
		ListParams: models.ListParams{Limit: pageSize, Cursor: c.QueryParam("cursor")},
		TenantID:   f.TenantID,
		Status:     c.QueryParam("status"),
		EndpointID: c.QueryParam("endpoint_id"),
		EventType:  c.QueryParam("event_type"),
		Since:      f.Since,
	})
	if err != nil {
		return nil, nil, "", err
	}
	eps, err := store.EndpointsByID(ctx, endpointIDs(rows))
	return rows, eps, next, err
}

type deliveryData struct {
	Delivery *models.Delivery
	Endpoint models.Endpoint
	Message  *models.Message
}

// loadDelivery reads a delivery with its attempts, endpoint and message;
// tenantID "" (the admin UI) reads any tenant's.
func loadDelivery(ctx context.Context, store *models.Store, tenantID, id string) (deliveryData, error) {
	d, err := store.GetDelivery(ctx, tenantID, id)
	if err != nil {
		return deliveryData{}, err
	}
	eps, err := store.EndpointsByID(ctx, []string{d.EndpointID})
	if err != nil {
		return deliveryData{}, err
	}
	msg, err := store.GetMessage(ctx, d.TenantID, d.MessageID)
	if err != nil {
		return deliveryData{}, err
	}
	return deliveryData{d, eps[d.EndpointID], msg}, nil
}

func (s *Server) delivery(c echo.Context) error {
	d, err := loadDelivery(c.Request().Context(), s.store, "", c.Param("id"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "delivery", "Delivery "+d.Delivery.ID, d)
}

func (s *Server) confirmRetry(c echo.Context) error {
	d, err := loadDelivery(c.Request().Context(), s.store, "", c.Param("id"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "confirm_retry", "Retry delivery?", d)
}

func (s *Server) retry(c echo.Context) error {
	ctx := c.Request().Context()
	d, err := s.store.GetDelivery(ctx, "", c.Param("id"))
	if err != nil {
		return err
	}
	d, err = s.cfg.Pipeline.Retry(ctx, d.TenantID, d.ID)
	if err != nil {
		return err
	}
	return redirect(c, "/ui/deliveries/"+d.ID, notice{code: noticeRetryQueued})
}

// ---- endpoints

type endpointRow struct {
	models.Endpoint
	Day         models.StatusCounts
	LastFailure *models.Delivery
}

type endpointsData struct {
	filters
	Endpoints []endpointRow
	Next      string
}

func (s *Server) endpoints(c echo.Context) error {
	f, err := s.readFilters(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	eps, next, err := s.store.ListEndpoints(ctx, f.TenantID, models.ListParams{Limit: pageSize, Cursor: c.QueryParam("cursor")})
	if err != nil {
		return err
	}
	rows, err := endpointRows(ctx, s.store, eps)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "endpoints", "Endpoints", endpointsData{f, rows, next})
}

// endpointRows adds to each endpoint its last 24 hours: counts by status
// and the last failure.
func endpointRows(ctx context.Context, store *models.Store, eps []models.Endpoint) ([]endpointRow, error) {
	dayAgo := time.Now().Add(-24 * time.Hour)
	ids := make([]string, len(eps))
	for i, ep := range eps {
		ids[i] = ep.ID
	}
	counts, err := store.EndpointCounts(ctx, ids, dayAgo)
	if err != nil {
		return nil, err
	}
	failures, err := store.LastFailures(ctx, ids, dayAgo)
	if err != nil {
		return nil, err
	}
	rows := make([]endpointRow, len(eps))
	for i, ep := range eps {
		rows[i] = endpointRow{Endpoint: ep, Day: counts[ep.ID]}
		if f, ok := failures[ep.ID]; ok {
			rows[i].LastFailure = &f
		}
	}
	return rows, nil
}

type endpointData struct {
	Endpoint models.Endpoint
	Day      models.StatusCounts
	Chart    svgChart
}

// endpoint shows one endpoint: its settings, health, and success hour by hour.
func (s *Server) endpoint(c echo.Context) error {
	ctx := c.Request().Context()
	ep, err := s.endpointByID(c)
	if err != nil {
		return err
	}
	d, err := endpointHealth(ctx, s.store, ep)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "endpoint", "Endpoint "+ep.ID, d)
}

// endpointHealth is an endpoint with its last 24 hours, hour by hour.
func endpointHealth(ctx context.Context, store *models.Store, ep models.Endpoint) (endpointData, error) {
	hours, err := store.Hourly(ctx, 24, ep.ID)
	if err != nil {
		return endpointData{}, err
	}
	d := endpointData{Endpoint: ep, Day: models.StatusCounts{}, Chart: successChart(hours)}
	for _, h := range hours {
		for status, n := range h.Deliveries {
			d.Day[status] += n
		}
	}
	return d, nil
}

// endpointActions are the forms an endpoint row offers, with their confirmation text.
var endpointActions = map[string]string{
	"enable":  "Enable this endpoint? New messages will be delivered to it again.",
	"disable": "Disable this endpoint? It gets no new deliveries until it is enabled; retries in progress end failed.",
	"recover": "Resend this endpoint's failed deliveries created since the time below?",
	"replay":  "Send this endpoint again every message accepted in the window below (of the event types it subscribes to, matching its filter), as new deliveries in their order?",
}

type confirmEndpointData struct {
	Endpoint models.Endpoint
	Action   string
	Question string
	Since    string
}

func (s *Server) findEndpoint(c echo.Context) (models.Endpoint, string, error) {
	action := c.Param("action")
	if _, ok := endpointActions[action]; !ok {
		return models.Endpoint{}, "", echo.NewHTTPError(http.StatusNotFound, "There is no such page.")
	}
	ep, err := s.endpointByID(c)
	return ep, action, err
}

// endpointByID is the endpoint the path's :id names, whoever owns it.
func (s *Server) endpointByID(c echo.Context) (models.Endpoint, error) {
	eps, err := s.store.EndpointsByID(c.Request().Context(), []string{c.Param("id")})
	if err != nil {
		return models.Endpoint{}, err
	}
	ep, ok := eps[c.Param("id")]
	if !ok {
		return ep, models.Errorf(models.CodeNotFound, "endpoint %q not found", c.Param("id"))
	}
	return ep, nil
}

func (s *Server) confirmEndpointAction(c echo.Context) error {
	ep, action, err := s.findEndpoint(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "confirm_endpoint", "Confirm", confirmEndpointData{
		Endpoint: ep, Action: action, Question: endpointActions[action],
		Since: time.Now().UTC().Add(-24 * time.Hour).Format(time.RFC3339),
	})
}

func (s *Server) endpointAction(c echo.Context) error {
	ep, action, err := s.findEndpoint(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	back := "/ui/endpoints?tenant=" + url.QueryEscape(ep.TenantID)
	switch action {
	case "enable", "disable":
		enabled := action == "enable"
		if _, err := s.cfg.Pipeline.UpdateEndpoint(ctx, ep.TenantID, ep.ID, models.EndpointParams{Enabled: &enabled}, "admin UI"); err != nil {
			return err
		}
		return redirect(c, back, notice{code: endpointSwitched(enabled), endpoint: ep.ID})
	case "replay":
		rp, err := readReplay(c)
		if err != nil {
			return err
		}
		n, err := s.cfg.Pipeline.Replay(ctx, ep.TenantID, ep.ID, rp)
		if err != nil {
			return err
		}
		return redirect(c, back, notice{code: noticeReplayed, n: n, endpoint: ep.ID})
	default: // recover
		since, err := time.Parse(time.RFC3339, c.Request().PostForm.Get("since"))
		if err != nil {
			return models.Errorf(models.CodeInvalid, "since must be a time like 2026-01-02T15:04:05Z")
		}
		ds, err := s.cfg.Pipeline.Recover(ctx, ep.TenantID, ep.ID, since)
		if err != nil {
			return err
		}
		return redirect(c, back, notice{code: noticeRecovering, n: len(ds), endpoint: ep.ID})
	}
}

func endpointIDs(ds []models.Delivery) []string {
	ids := make([]string, 0, len(ds))
	seen := map[string]bool{}
	for _, d := range ds {
		if !seen[d.EndpointID] {
			seen[d.EndpointID] = true
			ids = append(ids, d.EndpointID)
		}
	}
	return ids
}

// ---- search

type searchData struct {
	Q       string
	Results models.SearchResults
}

// search finds messages, deliveries and endpoints (models.Store.Search);
// an id that names one thing goes straight to its page.
func (s *Server) search(c echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	r, err := s.store.Search(c.Request().Context(), q)
	if err != nil {
		return err
	}
	if r.Exact {
		switch {
		case len(r.Messages) == 1:
			return c.Redirect(http.StatusSeeOther, "/ui/messages/"+url.PathEscape(r.Messages[0].ID))
		case len(r.Deliveries) == 1:
			return c.Redirect(http.StatusSeeOther, "/ui/deliveries/"+url.PathEscape(r.Deliveries[0].ID))
		case len(r.Endpoints) == 1:
			return c.Redirect(http.StatusSeeOther, "/ui/deliveries?endpoint_id="+url.QueryEscape(r.Endpoints[0].ID))
		}
	}
	return s.render(c, http.StatusOK, "search", "Search", searchData{Q: q, Results: r})
}
