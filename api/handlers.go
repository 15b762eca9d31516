package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"hookd.dev/hookd"
	"hookd.dev/hookd/api/wire"
	"hookd.dev/hookd/models"
)

// ---- event types (admin)

type eventTypeRequest struct {
	Name        string          `json:"name"`
	Description *string         `json:"description"`
	Archived    *bool           `json:"archived"`
	Schema      json.RawMessage `json:"schema"` // absent: unchanged; null: removed
}

// schemaParam turns the request's schema into the store's: nil unchanged, "" removed.
func (r eventTypeRequest) schemaParam() *string {
	if len(r.Schema) == 0 {
		return nil
	}
	s := string(r.Schema)
	if s == "null" {
		s = ""
	}
	return &s
}

func (s *Server) createEventType(c echo.Context) error {
	var req eventTypeRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Name == "" {
		return apiError(models.CodeInvalid, "name is required")
	}
	et, err := s.store.CreateEventType(c.Request().Context(), models.EventTypeParams{
		Name: req.Name, Description: req.Description, Schema: req.schemaParam(),
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, wire.EventType(et))
}

func (s *Server) listEventTypes(c echo.Context) error {
	p, err := listParams(c)
	if err != nil {
		return err
	}
	rows, next, err := s.store.ListEventTypes(c.Request().Context(), p, c.QueryParam("include_archived") == "true")
	if err != nil {
		return err
	}
	return list(c, wire.All(rows, wire.EventType), next)
}

func (s *Server) getEventType(c echo.Context) error {
	et, err := s.store.GetEventType(c.Request().Context(), c.Param("name"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.EventType(et))
}

func (s *Server) updateEventType(c echo.Context) error {
	var req eventTypeRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Name != "" && req.Name != c.Param("name") {
		return apiError(models.CodeInvalid, "an event type cannot be renamed; create a new one")
	}
	et, err := s.store.UpdateEventType(c.Request().Context(), models.EventTypeParams{
		Name: c.Param("name"), Description: req.Description, Archived: req.Archived, Schema: req.schemaParam(),
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.EventType(et))
}

// archiveEventType answers DELETE: messages name event types, so they are archived, not dropped.
func (s *Server) archiveEventType(c echo.Context) error {
	if _, err := s.store.ArchiveEventType(c.Request().Context(), c.Param("name")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// ---- tenants (admin)

func (s *Server) createTenant(c echo.Context) error {
	var req hookd.TenantParams
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := s.store.CreateTenant(c.Request().Context(), models.TenantParams(req))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, wire.Tenant(t))
}

func (s *Server) listTenants(c echo.Context) error {
	p, err := listParams(c)
	if err != nil {
		return err
	}
	rows, next, err := s.store.ListTenants(c.Request().Context(), p)
	if err != nil {
		return err
	}
	return list(c, wire.All(rows, wire.Tenant), next)
}

func (s *Server) getTenant(c echo.Context) error {
	return c.JSON(http.StatusOK, wire.Tenant(tenantOf(c)))
}

func (s *Server) updateTenant(c echo.Context) error {
	var req hookd.TenantParams
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := s.store.UpdateTenant(c.Request().Context(), tenantOf(c).ID, models.TenantParams(req))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.Tenant(t))
}

func (s *Server) deleteTenant(c echo.Context) error {
	if err := s.store.DeleteTenant(c.Request().Context(), tenantOf(c).ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type apiKeyResponse struct {
	hookd.APIKey
	Key string `json:"key"` // shown once
}

func (s *Server) createAPIKey(c echo.Context) error {
	var req struct {
		Name string `json:"name"`
	}
	if c.Request().ContentLength != 0 {
		if err := decode(c, &req); err != nil {
			return err
		}
	}
	tenantID := tenantOf(c).ID
	key, k, err := s.store.CreateAPIKey(c.Request().Context(), &tenantID, req.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, apiKeyResponse{wire.APIKey(k), key})
}

func (s *Server) listAPIKeys(c echo.Context) error {
	p, err := listParams(c)
	if err != nil {
		return err
	}
	rows, next, err := s.store.ListAPIKeys(c.Request().Context(), tenantOf(c).ID, p)
	if err != nil {
		return err
	}
	return list(c, wire.All(rows, wire.APIKey), next)
}

func (s *Server) revokeAPIKey(c echo.Context) error {
	if err := s.store.RevokeAPIKey(c.Request().Context(), tenantOf(c).ID, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// ---- portal links (admin)

// createPortalSession makes a link into the tenant portal. The token is in
// the URL only, never stored, so this answer is the one place it is shown.
func (s *Server) createPortalSession(c echo.Context) error {
	var req hookd.PortalSessionParams
	if c.Request().ContentLength != 0 {
		if err := decode(c, &req); err != nil {
			return err
		}
	}
	t := tenantOf(c)
	token, sess, err := s.store.CreatePortalSession(c.Request().Context(), t.ID, models.PortalParams{
		ReadOnly: req.ReadOnly, ExpiresIn: seconds(req.ExpiresIn),
		Title: req.Title, LogoURL: req.LogoURL, PrimaryColor: req.PrimaryColor,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, hookd.PortalSession{
		URL: s.publicURL(c) + "/portal/" + token + "/", TenantID: sess.TenantID, ReadOnly: sess.ReadOnly, ExpiresAt: sess.ExpiresAt,
	})
}

// seconds is n seconds, saturated far outside any valid life, so that a huge
// expires_in is refused rather than wrapped around into a valid one.
func seconds(n int) time.Duration {
	const limit = 1 << 31 // 68 years; times a second, far from overflowing
	return time.Duration(min(max(n, -limit), limit)) * time.Second
}

// publicURL is where browsers reach hookd: Config.PublicURL, else the
// request's own origin.
func (s *Server) publicURL(c echo.Context) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	return c.Scheme() + "://" + c.Request().Host
}

func (s *Server) revokePortalSessions(c echo.Context) error {
	n, err := s.store.RevokePortalSessions(c.Request().Context(), tenantOf(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int64{"revoked": n})
}

// ---- admin keys (admin)

func (s *Server) createAdminKey(c echo.Context) error {
	var req struct {
		Name string `json:"name"`
	}
	if c.Request().ContentLength != 0 {
		if err := decode(c, &req); err != nil {
			return err
		}
	}
	key, k, err := s.store.CreateAPIKey(c.Request().Context(), nil, req.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, apiKeyResponse{wire.APIKey(k), key})
}

func (s *Server) listAdminKeys(c echo.Context) error {
	p, err := listParams(c)
	if err != nil {
		return err
	}
	rows, next, err := s.store.ListAdminKeys(c.Request().Context(), p)
	if err != nil {
		return err
	}
	return list(c, wire.All(rows, wire.APIKey), next)
}

// revokeAdminKey may revoke the very key of the request: that is how a
// leaked key is retired once a new one is made.
func (s *Server) revokeAdminKey(c echo.Context) error {
	if err := s.store.RevokeAdminKey(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// ---- endpoints

func (s *Server) createEndpoint(c echo.Context) error {
	var req hookd.EndpointParams
	if err := decode(c, &req); err != nil {
		return err
	}
	ep, err := s.store.CreateEndpoint(c.Request().Context(), tenantOf(c).ID, models.EndpointParams(req))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, wire.Endpoint(ep))
}

func (s *Server) listEndpoints(c echo.Context) error {
	p, err := listParams(c)
	if err != nil {
		return err
	}
	rows, next, err := s.store.ListEndpoints(c.Request().Context(), tenantOf(c).ID, p)
	if err != nil {
		return err
	}
	return list(c, wire.All(rows, wire.Endpoint), next)
}

func (s *Server) getEndpoint(c echo.Context) error {
	ep, err := s.store.GetEndpoint(c.Request().Context(), tenantOf(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.Endpoint(ep))
}

func (s *Server) updateEndpoint(c echo.Context) error {
	var req hookd.EndpointParams
	if err := decode(c, &req); err != nil {
		return err
	}
	ep, err := s.deliver.UpdateEndpoint(c.Request().Context(), tenantOf(c).ID, c.Param("id"), models.EndpointParams(req), "api")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.Endpoint(ep))
}

func (s *Server) deleteEndpoint(c echo.Context) error {
	if err := s.store.DeleteEndpoint(c.Request().Context(), tenantOf(c).ID, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) getEndpointSecret(c echo.Context) error {
	ep, err := s.store.GetEndpoint(c.Request().Context(), tenantOf(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	out, err := wire.Secret(ep, time.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// rotateEndpointSecret sets a new secret ({"key": "whsec_…"}, or generated);
// the old one keeps signing for the rotation grace period (beside the new
// one, or alone for single-signature schemes: see hookd.SecretInfo).
func (s *Server) rotateEndpointSecret(c echo.Context) error {
	var req struct {
		Key string `json:"key"`
	}
	if c.Request().ContentLength != 0 {
		if err := decode(c, &req); err != nil {
			return err
		}
	}
	ep, err := s.store.RotateSecret(c.Request().Context(), tenantOf(c).ID, c.Param("id"), req.Key, s.cfg.RotationGrace)
	if err != nil {
		return err
	}
	out, err := wire.Secret(ep, time.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// testEndpoint sends a signed hookd.ping message to one endpoint.
func (s *Server) testEndpoint(c echo.Context) error {
	ctx := c.Request().Context()
	msg, err := s.deliver.SendTest(ctx, tenantOf(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, detailOf(msg))
}

// recoverEndpoint resends an endpoint's failed deliveries created since a time.
func (s *Server) recoverEndpoint(c echo.Context) error {
	var req struct {
		Since time.Time `json:"since"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	ds, err := s.deliver.Recover(ctx, tenantOf(c).ID, c.Param("id"), req.Since)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]int{"recovered": len(ds)})
}

// replayEndpoint sends an endpoint again every message of its tenant
// accepted in a window, of its event types and matching its filter, as new
// deliveries: for a receiver that was down, or has just been registered.
func (s *Server) replayEndpoint(c echo.Context) error {
	var req struct {
		Since time.Time `json:"since"`
		Until time.Time `json:"until"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	n, err := s.deliver.Replay(ctx, tenantOf(c).ID, c.Param("id"), models.ReplayParams{Since: req.Since, Until: req.Until})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]int{"replayed": n})
}

// ---- messages

// messageDetail is a message with its deliveries, as emit and get show it
// ([] when there are none; lists leave them out).
type messageDetail struct {
	hookd.Message
	Deliveries []hookd.Delivery `json:"deliveries"`
}

func detailOf(m *models.Message) messageDetail {
	w := wire.Message(m)
	return messageDetail{w, orEmpty(w.Deliveries)}
}

// deliveryDetail is a delivery with its attempts, oldest first.
type deliveryDetail struct {
	hookd.Delivery
	Attempts []hookd.Attempt `json:"attempts"`
}

func deliveryDetailOf(d *models.Delivery) deliveryDetail {
	w := wire.Delivery(d)
	return deliveryDetail{w, orEmpty(w.Attempts)}
}

// orEmpty is s, or [] for nil: the details always show their list.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type emitRequest struct {
	EventType string          `json:"event_type"`
	Payload   json.RawMessage `json:"payload"`
}

// emit stores the message and its deliveries, then enqueues them. If the
// queue is down the message is still accepted: the sweeper enqueues it later.
func (s *Server) emit(c echo.Context) error {
	var req emitRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.EventType == "" {
		return apiError(models.CodeInvalid, "event_type is required")
	}
	if len(req.Payload) == 0 {
		return apiError(models.CodeInvalid, "payload is required: a JSON object or array")
	}
	ctx := c.Request().Context()
	msg, created, err := s.deliver.Emit(ctx, models.EmitParams{
		TenantID:       tenantOf(c).ID,
		EventType:      req.EventType,
		Payload:        req.Payload,
		IdempotencyKey: c.Request().Header.Get("Idempotency-Key"),
	})
	if err != nil {
		return err
	}
	if !created {
		return c.JSON(http.StatusOK, detailOf(msg))
	}
	if s.emitted != nil {
		s.emitted.Inc()
	}
	return c.JSON(http.StatusCreated, detailOf(msg))
}

func (s *Server) listMessages(c echo.Context) error {
	p, err := listParams(c)
	if err != nil {
		return err
	}
	since, until, err := timeRange(c)
	if err != nil {
		return err
	}
	rows, next, err := s.store.ListMessages(c.Request().Context(), models.MessageParams{
		ListParams: p, TenantID: tenantOf(c).ID, EventType: c.QueryParam("event_type"), Since: since, Until: until,
	})
	if err != nil {
		return err
	}
	return list(c, wire.All(rows, wire.Message), next)
}

func (s *Server) getMessage(c echo.Context) error {
	msg, err := s.store.GetMessage(c.Request().Context(), tenantOf(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, detailOf(msg))
}

// resendMessage sends a stored message again, as new deliveries with the
// message's id: to one endpoint ({"endpoint_id": …}), or, without a body,
// to every enabled endpoint that subscribes to it now and that it matches.
func (s *Server) resendMessage(c echo.Context) error {
	var req struct {
		EndpointID string `json:"endpoint_id"`
	}
	if c.Request().ContentLength != 0 {
		if err := decode(c, &req); err != nil {
			return err
		}
	}
	ctx := c.Request().Context()
	ds, err := s.deliver.Resend(ctx, tenantOf(c).ID, c.Param("id"), req.EndpointID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string][]hookd.Delivery{"deliveries": wire.All(ds, wire.Delivery)})
}

// ---- deliveries

func (s *Server) listDeliveries(c echo.Context) error {
	p, err := listParams(c)
	if err != nil {
		return err
	}
	since, until, err := timeRange(c)
	if err != nil {
		return err
	}
	rows, next, err := s.store.ListDeliveries(c.Request().Context(), models.DeliveryParams{
		ListParams: p,
		TenantID:   tenantOf(c).ID,
		Status:     c.QueryParam("status"),
		EndpointID: c.QueryParam("endpoint_id"),
		EventType:  c.QueryParam("event_type"),
		MessageID:  c.QueryParam("message_id"),
		Since:      since,
		Until:      until,
	})
	if err != nil {
		return err
	}
	return list(c, wire.All(rows, wire.Delivery), next)
}

func (s *Server) getDelivery(c echo.Context) error {
	d, err := s.store.GetDelivery(c.Request().Context(), tenantOf(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, deliveryDetailOf(d))
}

// retryDelivery makes a delivery due now and enqueues it; the new attempt is
// recorded as manual.
func (s *Server) retryDelivery(c echo.Context) error {
	ctx := c.Request().Context()
	d, err := s.deliver.Retry(ctx, tenantOf(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, deliveryDetailOf(d))
}
