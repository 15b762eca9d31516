package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"hookd.dev/hookd/api/wire"
	"hookd.dev/hookd/dispatcher/signature"
	"hookd.dev/hookd/models"
)

// ---- endpoints

// endpoints is the portal's home: the tenant's endpoints with their health.
func (p *Portal) endpoints(c echo.Context) error {
	ctx := c.Request().Context()
	eps, next, err := p.store.ListEndpoints(ctx, tenant(c), models.ListParams{Limit: pageSize, Cursor: c.QueryParam("cursor")})
	if err != nil {
		return err
	}
	rows, err := endpointRows(ctx, p.store, eps)
	if err != nil {
		return err
	}
	return p.render(c, http.StatusOK, "endpoints", "Endpoints", endpointsData{Endpoints: rows, Next: next})
}

// ownEndpoint is the endpoint the path's :id names, if the tenant owns it.
func (p *Portal) ownEndpoint(c echo.Context) (*models.Endpoint, error) {
	return p.store.GetEndpoint(c.Request().Context(), tenant(c), c.Param("id"))
}

func (p *Portal) endpoint(c echo.Context) error {
	ep, err := p.ownEndpoint(c)
	if err != nil {
		return err
	}
	d, err := endpointHealth(c.Request().Context(), p.store, *ep)
	if err != nil {
		return err
	}
	return p.render(c, http.StatusOK, "endpoint", "Endpoint "+ep.ID, d)
}

// endpointForm is the create and edit form: what was typed, the catalogue
// to pick event types from, and the error of the last try.
type endpointForm struct {
	Endpoint   *models.Endpoint // nil: a new one
	URL        string
	Desc       string
	Picked     map[string]bool
	Scheme     string
	Header     string
	Prefix     string
	EventTypes []models.EventType
	Schemes    []string
	Error      string
	// Delivery options. Headers and SecretHeaders are the textareas' text,
	// one "Name: value" per line; SecretHeaders starts empty on edit (the
	// stored values are never shown), and empty keeps them.
	Envelope      bool
	Headers       string
	SecretHeaders string
	RemoveSecrets bool
	Timeout       string // seconds; empty: the default
	Schedule      string // like 5s, 5m, 1h; empty: the default
	Filter        string
	Ordering      string
	Orderings     []string
}

func (p *Portal) form(c echo.Context, f endpointForm) (endpointForm, error) {
	types, _, err := p.store.ListEventTypes(c.Request().Context(), models.ListParams{Limit: models.MaxLimit}, false)
	f.EventTypes, f.Schemes = types, signature.SchemeNames()
	f.Orderings = []string{models.OrderingNone, models.OrderingFIFO}
	if f.Picked == nil {
		f.Picked = map[string]bool{}
	}
	return f, err
}

func (p *Portal) newEndpoint(c echo.Context) error {
	f, err := p.form(c, endpointForm{Scheme: models.SchemeStandard, Ordering: models.OrderingNone})
	if err != nil {
		return err
	}
	return p.render(c, http.StatusOK, "endpoint_form", "New endpoint", f)
}

func (p *Portal) editEndpoint(c echo.Context) error {
	ep, err := p.ownEndpoint(c)
	if err != nil {
		return err
	}
	f := endpointForm{Endpoint: ep, URL: ep.URL, Desc: ep.Description, Picked: map[string]bool{}, Scheme: ep.SigningScheme,
		Header: ep.SignatureHeader, Prefix: ep.SignaturePrefix,
		Envelope: ep.Envelope, Headers: headerLines(ep.Headers), Schedule: scheduleText(ep.RetrySchedule),
		Filter: ep.Filter, Ordering: ep.Ordering}
	if ep.TimeoutSeconds != nil {
		f.Timeout = strconv.Itoa(*ep.TimeoutSeconds)
	}
	for _, t := range ep.EventTypes {
		f.Picked[t] = true
	}
	if f, err = p.form(c, f); err != nil {
		return err
	}
	return p.render(c, http.StatusOK, "endpoint_form", "Edit endpoint", f)
}

// readEndpointForm reads the posted form into both the params and the form
// to show again if they are refused. Every field is read here; err (a
// *models.Error) is input the form cannot even pass to the store: a header
// line without a colon, a schedule or timeout that does not parse.
func readEndpointForm(c echo.Context, ep *models.Endpoint) (models.EndpointParams, endpointForm, error) {
	form := c.Request().PostForm
	f := endpointForm{
		Endpoint: ep, URL: strings.TrimSpace(form.Get("url")), Desc: form.Get("description"), Picked: map[string]bool{},
		Scheme: form.Get("signing_scheme"), Header: strings.TrimSpace(form.Get("signature_header")), Prefix: form.Get("signature_prefix"),
		Envelope: form.Get("envelope") != "", Headers: form.Get("headers"), SecretHeaders: form.Get("secret_headers"),
		RemoveSecrets: form.Get("remove_secret_headers") != "", Timeout: strings.TrimSpace(form.Get("timeout")),
		Schedule: form.Get("retry_schedule"), Filter: strings.TrimSpace(form.Get("filter")), Ordering: form.Get("ordering"),
	}
	types := []string{}
	for _, t := range form["event_types"] {
		f.Picked[t] = true
		types = append(types, t)
	}
	params := models.EndpointParams{URL: &f.URL, Description: &f.Desc, EventTypes: types, SigningScheme: &f.Scheme,
		Envelope: &f.Envelope, Filter: &f.Filter}
	// The header and prefix belong to hmac-sha256 and token; empty means
	// the scheme's default, as in the API.
	if f.Scheme == models.SchemeHMAC || f.Scheme == models.SchemeToken {
		if f.Header != "" {
			params.SignatureHeader = &f.Header
		}
		if form.Has("signature_prefix") && (f.Prefix != "" || ep != nil) {
			params.SignaturePrefix = &f.Prefix
		}
	}
	if f.Ordering == "" {
		f.Ordering = models.OrderingNone
	}
	params.Ordering = &f.Ordering
	// The form shows every plain header: what it posts is the whole set.
	var err error
	if params.Headers, err = parseHeaderLines("Headers", f.Headers); err != nil {
		return params, f, err
	}
	// Secret headers are never shown: an empty box keeps the stored ones,
	// unless they are to be removed; a typed set replaces them.
	if strings.TrimSpace(f.SecretHeaders) != "" {
		if params.SecretHeaders, err = parseHeaderLines("Secret headers", f.SecretHeaders); err != nil {
			return params, f, err
		}
	} else if f.RemoveSecrets {
		params.SecretHeaders = map[string]string{}
	}
	timeout := 0 // the default
	if f.Timeout != "" {
		if timeout, err = strconv.Atoi(f.Timeout); err != nil {
			return params, f, models.Errorf(models.CodeInvalid, "timeout must be a whole number of seconds (empty: the default)")
		}
	}
	params.Timeout = &timeout
	if params.RetrySchedule, err = parseSchedule(f.Schedule); err != nil {
		return params, f, err
	}
	return params, f, nil
}

// formRefused shows the form again with what was typed and why it was refused.
func (p *Portal) formRefused(c echo.Context, f endpointForm, err error) error {
	if models.ErrorCode(err) != models.CodeInvalid {
		return err
	}
	f.Error = models.ErrorMessage(err)
	f, lerr := p.form(c, f)
	if lerr != nil {
		return lerr
	}
	title := "New endpoint"
	if f.Endpoint != nil {
		title = "Edit endpoint"
	}
	return p.render(c, http.StatusUnprocessableEntity, "endpoint_form", title, f)
}

func (p *Portal) createEndpoint(c echo.Context) error {
	params, f, err := readEndpointForm(c, nil)
	if err != nil {
		return p.formRefused(c, f, err)
	}
	ep, err := p.store.CreateEndpoint(c.Request().Context(), tenant(c), params)
	if err != nil {
		return p.formRefused(c, f, err)
	}
	return redirect(c, p.base(c)+"/endpoints/"+ep.ID, notice{code: noticeEndpointCreated})
}

func (p *Portal) updateEndpoint(c echo.Context) error {
	ep, err := p.ownEndpoint(c)
	if err != nil {
		return err
	}
	params, f, err := readEndpointForm(c, ep)
	if err != nil {
		return p.formRefused(c, f, err)
	}
	if *params.SigningScheme == ep.SigningScheme {
		params.SigningScheme = nil // unchanged: keep the secret
	}
	if _, err := p.cfg.Pipeline.UpdateEndpoint(c.Request().Context(), tenant(c), ep.ID, params, "portal"); err != nil {
		return p.formRefused(c, f, err)
	}
	return redirect(c, p.base(c)+"/endpoints/"+ep.ID, notice{code: noticeEndpointSaved})
}

// secretData is the signing secret page: the key and how to verify with it.
type secretData struct {
	Endpoint *models.Endpoint
	Secret   any // hookd.SecretInfo
	Rule     string
	GoCode   string
}

// secret shows the signing secret, which only a page asked for shows, and
// never to a read-only link: whoever holds it can forge deliveries.
func (p *Portal) secret(c echo.Context) error {
	if session(c).ReadOnly {
		return echo.NewHTTPError(http.StatusForbidden, "This portal link is read-only: it does not show signing secrets.")
	}
	ep, err := p.ownEndpoint(c)
	if err != nil {
		return err
	}
	info, err := wire.Secret(ep, time.Now())
	if err != nil {
		return err
	}
	rule, goCode := verifyHelp(ep)
	return p.render(c, http.StatusOK, "secret", "Signing secret", secretData{ep, info, rule, goCode})
}

// portalActions are the endpoint actions, with their confirmation text.
var portalActions = map[string]string{
	"enable":  "Enable this endpoint? New messages will be delivered to it again.",
	"disable": "Disable this endpoint? It gets no new deliveries until it is enabled; retries in progress end failed.",
	"delete":  "Delete this endpoint? It gets no more deliveries, and its deliveries are no longer listed. This cannot be undone.",
	"rotate":  "Rotate the signing secret? A new secret is made; the old one keeps signing for a grace period (see the secret page), so update your receiver within it.",
	"test":    "Send a test event (hookd.ping) to this endpoint now?",
	"recover": "Resend this endpoint's failed deliveries created since the time below?",
	"replay":  "Send this endpoint again every message accepted in the window below (of the event types it subscribes to, matching its filter), as new deliveries in their order?",
}

func (p *Portal) findAction(c echo.Context) (*models.Endpoint, string, error) {
	action := c.Param("action")
	if _, ok := portalActions[action]; !ok {
		return nil, "", echo.NewHTTPError(http.StatusNotFound, "There is no such page.")
	}
	ep, err := p.ownEndpoint(c)
	return ep, action, err
}

func (p *Portal) confirmEndpointAction(c echo.Context) error {
	ep, action, err := p.findAction(c)
	if err != nil {
		return err
	}
	return p.render(c, http.StatusOK, "confirm_endpoint", "Confirm", confirmEndpointData{
		Endpoint: *ep, Action: action, Question: portalActions[action],
		Since: time.Now().UTC().Add(-24 * time.Hour).Format(time.RFC3339),
	})
}

func (p *Portal) endpointAction(c echo.Context) error {
	ep, action, err := p.findAction(c)
	if err != nil {
		return err
	}
	ctx, t, back := c.Request().Context(), tenant(c), p.base(c)+"/endpoints/"+ep.ID
	switch action {
	case "enable", "disable":
		enabled := action == "enable"
		if _, err := p.cfg.Pipeline.UpdateEndpoint(ctx, t, ep.ID, models.EndpointParams{Enabled: &enabled}, "portal"); err != nil {
			return err
		}
		return redirect(c, back, notice{code: endpointSwitched(enabled)})
	case "delete":
		if err := p.store.DeleteEndpoint(ctx, t, ep.ID); err != nil {
			return err
		}
		return redirect(c, p.base(c)+"/", notice{code: noticeEndpointDeleted, endpoint: ep.ID})
	case "rotate":
		if _, err := p.store.RotateSecret(ctx, t, ep.ID, "", p.cfg.RotationGrace); err != nil {
			return err
		}
		return redirect(c, back+"/secret", notice{code: noticeSecretRotated})
	case "test":
		msg, err := p.cfg.Pipeline.SendTest(ctx, t, ep.ID)
		if err != nil {
			return err
		}
		return redirect(c, p.base(c)+"/messages/"+msg.ID, notice{code: noticeTestSent})
	case "replay":
		rp, err := readReplay(c)
		if err != nil {
			return err
		}
		n, err := p.cfg.Pipeline.Replay(ctx, t, ep.ID, rp)
		if err != nil {
			return err
		}
		return redirect(c, back, notice{code: noticeReplayed, n: n})
	default: // recover
		since, err := time.Parse(time.RFC3339, c.Request().PostForm.Get("since"))
		if err != nil {
			return models.Errorf(models.CodeInvalid, "since must be a time like 2026-01-02T15:04:05Z")
		}
		ds, err := p.cfg.Pipeline.Recover(ctx, t, ep.ID, since)
		if err != nil {
			return err
		}
		return redirect(c, back, notice{code: noticeRecovering, n: len(ds)})
	}
}

// ---- messages and deliveries

// portalFilters are the list filters: the tenant is the link's, always.
type portalFilters struct {
	filters
	Endpoints []models.Endpoint // for the endpoint menu
	Statuses  []string
}

func (p *Portal) readFilters(c echo.Context) (portalFilters, error) {
	f := portalFilters{filters: filters{Query: c.QueryParams(), TenantID: tenant(c)}}
	if d, ok := periods[c.QueryParam("period")]; ok {
		f.Since = time.Now().Add(-d)
	}
	eps, _, err := p.store.ListEndpoints(c.Request().Context(), tenant(c), models.ListParams{Limit: models.MaxLimit})
	f.Endpoints = eps
	f.Statuses = []string{models.StatusPending, models.StatusInflight, models.StatusSucceeded, models.StatusFailed}
	return f, err
}

type portalMessagesData struct {
	portalFilters
	Messages []models.Message
	Next     string
}

func (p *Portal) messages(c echo.Context) error {
	f, err := p.readFilters(c)
	if err != nil {
		return err
	}
	rows, next, err := p.store.ListMessages(c.Request().Context(), models.MessageParams{
		ListParams: models.ListParams{Limit: pageSize, Cursor: c.QueryParam("cursor")},
		TenantID:   f.TenantID, EventType: c.QueryParam("event_type"), Since: f.Since,
	})
	if err != nil {
		return err
	}
	return p.render(c, http.StatusOK, "messages", "Messages", portalMessagesData{f, rows, next})
}

func (p *Portal) message(c echo.Context) error {
	d, err := loadMessage(c.Request().Context(), p.store, tenant(c), c.Param("id"))
	if err != nil {
		return err
	}
	return p.render(c, http.StatusOK, "message", "Message "+d.Message.ID, d)
}

func (p *Portal) confirmResend(c echo.Context) error {
	d, err := loadResend(c.Request().Context(), p.store, tenant(c), c.Param("id"))
	if err != nil {
		return err
	}
	return p.render(c, http.StatusOK, "confirm_resend", "Resend message?", d)
}

// resend sends a message of the link's tenant again; the pipeline finds
// both the message and a named endpoint within that tenant only.
func (p *Portal) resend(c echo.Context) error {
	ds, err := p.cfg.Pipeline.Resend(c.Request().Context(), tenant(c), c.Param("id"), c.Request().PostForm.Get("endpoint_id"))
	if err != nil {
		return err
	}
	return redirect(c, p.base(c)+"/messages/"+url.PathEscape(c.Param("id")), notice{code: noticeResent, n: len(ds)})
}

type portalDeliveriesData struct {
	portalFilters
	Deliveries []models.Delivery
	URLs       map[string]models.Endpoint
	Next       string
}

func (p *Portal) deliveries(c echo.Context) error {
	f, err := p.readFilters(c)
	if err != nil {
		return err
	}
	rows, eps, next, err := listDeliveries(c, p.store, f.filters)
	if err != nil {
		return err
	}
	return p.render(c, http.StatusOK, "deliveries", "Deliveries", portalDeliveriesData{f, rows, eps, next})
}

func (p *Portal) loadDelivery(c echo.Context) (deliveryData, error) {
	return loadDelivery(c.Request().Context(), p.store, tenant(c), c.Param("id"))
}

func (p *Portal) delivery(c echo.Context) error {
	d, err := p.loadDelivery(c)
	if err != nil {
		return err
	}
	return p.render(c, http.StatusOK, "delivery", "Delivery "+d.Delivery.ID, d)
}

func (p *Portal) confirmRetry(c echo.Context) error {
	d, err := p.loadDelivery(c)
	if err != nil {
		return err
	}
	return p.render(c, http.StatusOK, "confirm_retry", "Retry delivery?", d)
}

func (p *Portal) retry(c echo.Context) error {
	d, err := p.cfg.Pipeline.Retry(c.Request().Context(), tenant(c), c.Param("id"))
	if err != nil {
		return err
	}
	return redirect(c, p.base(c)+"/deliveries/"+d.ID, notice{code: noticeRetryQueued})
}
