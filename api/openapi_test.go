package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"hookd.dev/hookd/api"
)

// TestOpenAPIDescribesEveryRoute keeps /openapi.json true to the routes.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	f := setup(t)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI, &doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi.json: %v (version %q)", err, doc.OpenAPI)
	}
	srv := api.New(api.Config{Store: f.store})
	param := regexp.MustCompile(`:(\w+)`)
	described := 0
	for _, r := range srv.Routes() {
		path := param.ReplaceAllString(r.Path, "{$1}")
		if strings.HasPrefix(r.Method, "echo_") || strings.Contains(path, "*") { // echo's own group fallbacks
			continue
		}
		ops, ok := doc.Paths[path]
		if !ok {
			t.Errorf("%s %s is not in openapi.json", r.Method, path)
			continue
		}
		if _, ok := ops[strings.ToLower(r.Method)]; !ok {
			t.Errorf("%s %s is not in openapi.json", r.Method, path)
		}
		described++
	}
	if described < 25 {
		t.Fatalf("checked only %d routes", described)
	}
	resp, err := http.Get(f.srv.URL + "/openapi.json")
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json = %v, %v", resp, err)
	}
	resp.Body.Close()
}
