package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"hookd.dev/hookd/api"
)

// Every answer the API tests get is checked against /openapi.json
// (kin-openapi): its status must be documented for its route, and its body
// must match the documented schema, with no field the document lacks.

// strictSpec is the API's document with every object schema closed to
// fields it does not name, and a router over it.
var strictSpec = sync.OnceValues(func() (routers.Router, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	seen := map[*openapi3.Schema]bool{}
	var closeSchema func(s *openapi3.SchemaRef)
	closeSchema = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			s.AdditionalProperties.Has = openapi3.Ptr(false)
		}
		for _, p := range s.Properties {
			closeSchema(p)
		}
		closeSchema(s.Items)
		for _, list := range [][]*openapi3.SchemaRef{s.AllOf, s.AnyOf, s.OneOf} {
			for _, sub := range list {
				closeSchema(sub)
			}
		}
	}
	for _, s := range doc.Components.Schemas {
		closeSchema(s)
	}
	for _, path := range doc.Paths.Map() {
		for _, op := range path.Operations() {
			for _, resp := range op.Responses.Map() {
				if resp.Value != nil {
					for _, mt := range resp.Value.Content {
						closeSchema(mt.Schema)
					}
				}
			}
		}
	}
	return gorillamux.NewRouter(doc)
})

// checkedAgainstSpec serves h and checks each answer against the document.
func checkedAgainstSpec(t *testing.T, h http.Handler) http.Handler {
	router, err := strictSpec()
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())

		u := *r.URL
		u.Scheme, u.Host = "http", "localhost:8080" // the document's server
		routed := r.Clone(context.Background())
		routed.URL = &u
		route, params, err := router.FindRoute(routed)
		if err != nil {
			if rec.Code/100 == 2 {
				t.Errorf("%s %s answered %d, but the document has no such route", r.Method, r.URL.Path, rec.Code)
			}
			return // a path or method hookd does not serve: 404 or 405
		}
		if rec.Code == http.StatusOK && r.URL.Path == "/metrics" {
			return // Prometheus's text, not JSON
		}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: routed, PathParams: params, Route: route},
			Status:                 rec.Code,
			Header:                 rec.Header(),
			Body:                   io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
			Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		}
		if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
			t.Errorf("%s %s answered %d %s\nwhich the document does not describe: %v", r.Method, r.URL.Path, rec.Code, rec.Body.Bytes(), err)
		}
	})
}
