package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"hookd.dev/hookd/api/httperr"
	"hookd.dev/hookd/models"
)

// errorBody is the JSON shape of every error: {"error": {"code", "message"}}.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func apiError(code, format string, args ...any) error { return models.Errorf(code, format, args...) }

// handleError answers every error as JSON. Unknown errors are logged and
// answered without detail; if the database is down, that is a 503.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, code, msg := http.StatusInternalServerError, httperr.CodeInternal, "internal error"
	var he *echo.HTTPError
	switch {
	case models.ErrorCode(err) != "":
		code, msg = models.ErrorCode(err), models.ErrorMessage(err)
		status = httperr.Status(code)
		httperr.SetRetryAfter(c.Response().Header(), err)
	case errors.As(err, &he):
		status = he.Code
		code = http.StatusText(status)
		if m, ok := he.Message.(string); ok {
			msg = m
		}
		switch status {
		case http.StatusNotFound:
			code, msg = models.CodeNotFound, "no such route"
		case http.StatusMethodNotAllowed:
			code = "method_not_allowed"
		case http.StatusRequestEntityTooLarge:
			code, msg = models.CodeTooLarge, "request body too large"
		case http.StatusUnauthorized:
			code = httperr.CodeUnauthorized
		}
	default:
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		switch {
		case models.IsStorageFull(err):
			status, code, msg = http.StatusServiceUnavailable, httperr.CodeUnavailable, "the database's disk is full; nothing was changed, try again once the operator has made room"
			c.Response().Header().Set("Retry-After", "30")
		case models.IsTransient(err):
			status, code, msg = http.StatusServiceUnavailable, httperr.CodeUnavailable, "the database gave up the write to resolve a conflict with another one; nothing was changed, try again"
			c.Response().Header().Set("Retry-After", "1")
		case models.IsUnavailable(err) || s.store.Ping(ctx) != nil:
			status, code, msg = http.StatusServiceUnavailable, httperr.CodeUnavailable, "the database is unavailable; nothing was changed, try again"
			c.Response().Header().Set("Retry-After", "5")
		}
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Path(), "error", err)
	}
	if status == 0 {
		status = http.StatusInternalServerError
	}
	var body errorBody
	body.Error.Code, body.Error.Message = code, msg
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = c.JSON(status, body)
}
