package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"hookd.dev/hookd/models"
)

// FuzzEmitBody runs the emit body through what the API does with it: decode,
// then the payload checks. Whatever it accepts is a UTF-8 JSON object or
// array with no NUL in the decoded fields.
func FuzzEmitBody(f *testing.F) {
	for _, seed := range []string{
		`{"event_type":"invoice.paid","payload":{"id":"inv_1"}}`,
		`{"event_type":"a","payload":[1,2]}`,
		`{"event_type":"a","payload":"x"}`,
		`{"event_type":"a\u0000","payload":{}}`,
		"{\"event_type\":\"a\",\"payload\":{\"bad\":\"caf\xe9\"}}",
		`{"event_type":"a","payload":{"a":"\ud800"}}`,
		`{"event_type":"a","payload":{}} {}`,
		`{"event_type":"a","payload":{"x":1e400}}`,
		`{"event_type":1}`, `[]`, `null`, ``, `{`,
	} {
		f.Add([]byte(seed))
	}
	e := echo.New()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		c := e.NewContext(req, httptest.NewRecorder())
		var r emitRequest
		err := decode(c, &r)
		if err != nil {
			if models.ErrorCode(err) == "" || models.ErrorMessage(err) == "" {
				t.Fatalf("decode error without a code or message: %v", err)
			}
			return
		}
		if !utf8.Valid(body) || strings.ContainsRune(r.EventType, 0) {
			t.Fatalf("decode accepted %q", body)
		}
		if len(r.Payload) == 0 || models.ValidatePayload(r.Payload) != nil {
			return
		}
		if !utf8.Valid(r.Payload) || !json.Valid(r.Payload) {
			t.Fatalf("payload accepted: %q", r.Payload)
		}
	})
}

// FuzzListQuery runs a query string through the request check and the list
// parameter parsers.
func FuzzListQuery(f *testing.F) {
	for _, seed := range []string{
		"limit=10&cursor=dlv_01", "limit=0", "limit=251", "limit=-1", "limit=1e3", "limit=99999999999999999999",
		"since=2026-01-02T15:04:05Z&until=2026-01-03T00:00:00%2B02:00", "since=yesterday", "cursor=%00", "cursor=%FF",
		"status=failed&endpoint_id=ep_1&event_type=a.b&message_id=msg_1", "a=%zz", "a;b", "",
	} {
		f.Add(seed)
	}
	e := echo.New()
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.RawQuery = query
		if err := models.CheckRequestText(req); err != nil {
			return
		}
		for _, vs := range req.URL.Query() {
			for _, v := range vs {
				if !models.ValidText(v) {
					t.Fatalf("request check let %q through", v)
				}
			}
		}
		c := e.NewContext(req, httptest.NewRecorder())
		p, err := listParams(c)
		if err == nil && (p.Limit < 1 || p.Limit > models.MaxLimit) {
			t.Fatalf("limit %d from %q", p.Limit, query)
		}
		if err != nil && models.ErrorCode(err) != models.CodeInvalid {
			t.Fatalf("limit error %v", err)
		}
		if _, _, err := timeRange(c); err != nil && models.ErrorCode(err) != models.CodeInvalid {
			t.Fatalf("time error %v", err)
		}
	})
}
