package api_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"hookd.dev/hookd/api"
	"hookd.dev/hookd/dispatcher"
	"hookd.dev/hookd/models"
	"hookd.dev/hookd/models/storetest"
)

// The API counts its requests by route pattern, method and the status it
// sent (a domain error's included), and times them; a path that matches
// no route is counted as "unmatched", not as itself.
func TestTheAPICountsRequestsByRouteAndStatus(t *testing.T) {
	t.Parallel()
	store := models.NewStore(storetest.New(t).Gorm, models.StoreOpts{})
	pipeline := dispatcher.NewPipeline(dispatcher.PipelineConfig{Store: store, Queue: &fakeQueue{}})
	t.Cleanup(pipeline.Close)
	srv := httptest.NewServer(checkedAgainstSpec(t, api.New(api.Config{
		Store: store, Pipeline: pipeline, AdminKey: adminKey, Metrics: prometheus.NewRegistry(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}).Handler()))
	t.Cleanup(srv.Close)
	do := func(method, path, body string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	do("POST", "/v1/tenants", `{"uid":"acme"}`)
	do("POST", "/v1/tenants", `{"uid":"acme"}`) // 409: the uid is taken
	do("GET", "/v1/tenants/nope", "")           // 404 on a route
	do("GET", "/v1/no/such/path/ten_42", "")    // 404 on none
	for i := range 3 {                          // methods no route has, long and each different
		do(strings.Repeat("X", 10_000)+strconv.Itoa(i), "/v1/tenants", "")
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`hookd_http_requests_total{code="201",method="POST",route="/v1/tenants"} 1`,
		`hookd_http_requests_total{code="409",method="POST",route="/v1/tenants"} 1`,
		`hookd_http_requests_total{code="404",method="GET",route="/v1/tenants/:tenant"} 1`,
		`hookd_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`hookd_http_request_duration_seconds_count{method="POST",route="/v1/tenants"} 2`,
		`hookd_http_requests_total{code="404",method="other",route="unmatched"} 3`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s\n%s", want, grepLines(string(body), "hookd_http_requests_total"))
		}
	}
	if strings.Contains(string(body), "ten_42") || strings.Contains(string(body), "XXXX") || strings.Contains(string(body), "hookd_attempts_total") {
		t.Errorf("/metrics shows a path as a label, or a worker's series:\n%s", grepLines(string(body), "hookd_"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
