package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"hookd.dev/hookd/models"
)

// decode reads a JSON body into v. Malformed JSON is a 400; JSON of the wrong
// shape (unknown field, wrong type) is a 422.
func decode(c echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		maxErr    *http.MaxBytesError
		timeErr   *time.ParseError
	)
	switch {
	case err == nil:
		if dec.More() {
			return apiError(codeBadRequest, "malformed JSON: more than one value in the body")
		}
		return nil
	case errors.Is(err, io.EOF):
		return apiError(codeBadRequest, "the body is empty; send a JSON object")
	case errors.As(err, &maxErr):
		return apiError(models.CodeTooLarge, "request body over %d bytes", maxErr.Limit)
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return apiError(codeBadRequest, "malformed JSON: %v", err)
	case errors.As(err, &timeErr):
		return apiError(models.CodeInvalid, "times must be RFC 3339, like 2026-01-02T15:04:05Z; got %s", timeErr.Value)
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return apiError(codeBadRequest, "the body must be a JSON object")
		}
		return apiError(models.CodeInvalid, "%s must be a JSON %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return apiError(models.CodeInvalid, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return apiError(codeBadRequest, "malformed JSON: %v", err)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	case "int", "int64", "float64":
		return "number"
	}
	return "value of another type"
}

// listParams reads ?limit= and ?cursor=.
func listParams(c echo.Context) (models.ListParams, error) {
	p := models.ListParams{Limit: models.DefaultLimit, Cursor: c.QueryParam("cursor")}
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > models.MaxLimit {
			return p, apiError(models.CodeInvalid, "limit must be a whole number from 1 to %d", models.MaxLimit)
		}
		p.Limit = n
	}
	return p, nil
}

// timeParam reads an RFC 3339 time from the query; empty is the zero time.
func timeParam(c echo.Context, name string) (time.Time, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return t, apiError(models.CodeInvalid, "%s must be an RFC 3339 time like 2026-01-02T15:04:05Z", name)
	}
	return t, nil
}

// timeRange reads ?since= and ?until=.
func timeRange(c echo.Context) (since, until time.Time, err error) {
	if since, err = timeParam(c, "since"); err != nil {
		return since, until, err
	}
	until, err = timeParam(c, "until")
	return since, until, err
}

// listResponse is the shape of every list.
type listResponse[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func list[T any](c echo.Context, rows []T, next string) error {
	out := listResponse[T]{Data: rows}
	if next != "" {
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}
