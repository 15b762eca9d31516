package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"hookd.dev/hookd/api/httperr"
	"hookd.dev/hookd/models"
)

// decode reads a JSON body into v. Malformed JSON, and a body that is not
// UTF-8 (RFC 8259), is a 400; JSON of the wrong shape (unknown field, wrong
// type, a string with NUL) is a 422.
func decode(c echo.Context, v any) error {
	body, err := io.ReadAll(c.Request().Body)
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return apiError(models.CodeTooLarge, "request body over %d bytes", maxErr.Limit)
	case err != nil:
		return apiError(httperr.CodeBadRequest, "reading the body: %v", err)
	case !utf8.Valid(body):
		// encoding/json would quietly turn these bytes into U+FFFD in strings
		// and keep them as they are in raw payloads.
		return apiError(httperr.CodeBadRequest, "the body must be UTF-8 encoded JSON (RFC 8259); it contains bytes that are not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		timeErr   *time.ParseError
	)
	switch {
	case err == nil:
		if dec.More() {
			return apiError(httperr.CodeBadRequest, "malformed JSON: more than one value in the body")
		}
		if field := nulField(reflect.ValueOf(v), ""); field != "" {
			return apiError(models.CodeInvalid, "%s must not contain NUL characters (\\u0000)", field)
		}
		return nil
	case errors.Is(err, io.EOF):
		return apiError(httperr.CodeBadRequest, "the body is empty; send a JSON object")
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return apiError(httperr.CodeBadRequest, "malformed JSON: %v", err)
	case errors.As(err, &timeErr):
		return apiError(models.CodeInvalid, "times must be RFC 3339, like 2026-01-02T15:04:05Z; got %s", timeErr.Value)
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return apiError(httperr.CodeBadRequest, "the body must be a JSON object")
		}
		return apiError(models.CodeInvalid, "%s must be a JSON %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()))
	}
	if name := unknownMember(body, v); name != "" {
		return apiError(models.CodeInvalid, "unknown field %q", name)
	}
	return apiError(httperr.CodeBadRequest, "malformed JSON: %v", err)
}

// unknownMember names the first member of the JSON object in body that no
// field of the struct v points to takes, or "". Decode refuses such a member
// (DisallowUnknownFields) with an error of no type of its own, told apart by
// its text only; this asks the struct instead. Members are matched to
// fields as encoding/json does, ignoring case; the requests' structs are flat.
func unknownMember(body []byte, v any) string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); t.Kind() != reflect.Struct || err != nil || tok != json.Delim('{') {
		return ""
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if name, _ := tok.(string); !takes(t, name) {
			return name
		}
		var value json.RawMessage
		if dec.Decode(&value) != nil {
			return ""
		}
	}
	return ""
}

// takes reports whether a field of the struct type t decodes the member.
func takes(t reflect.Type, member string) bool {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case tag == "-":
		case f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct:
			if takes(f.Type, member) {
				return true
			}
		case f.IsExported():
			name := f.Name
			if tag != "" {
				name = tag
			}
			if strings.EqualFold(name, member) {
				return true
			}
		}
	}
	return false
}

// nulField returns the JSON name of the first decoded string in v that holds
// a NUL (sent as the escape \u0000, which is valid JSON but no database text
// can hold), or "". Raw JSON (payloads, schemas) keeps the escape as six
// characters and is not a decoded string, so it is not concerned.
func nulField(v reflect.Value, name string) string {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return nulField(v.Elem(), name)
		}
	case reflect.String:
		if strings.ContainsRune(v.String(), 0) {
			return name
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "" // raw JSON or bytes: walking a payload byte by byte took 2–6% of the API's CPU
		}
		for i := 0; i < v.Len(); i++ {
			if f := nulField(v.Index(i), name); f != "" {
				return f
			}
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			sf := v.Type().Field(i)
			if !sf.IsExported() {
				continue
			}
			field := sf.Name
			if tag, _, _ := strings.Cut(sf.Tag.Get("json"), ","); tag != "" {
				field = tag
			}
			if f := nulField(v.Field(i), field); f != "" {
				return f
			}
		}
	}
	return ""
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

// listResponse is the shape of every list: NextCursor is null on the last
// page (the SDK's Page has "" there).
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
