package main

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Every series the Grafana dashboard in monitoring/ queries is one that
// hookd serve serves, once it has delivered (here to a receiver that
// answers 410, which disables the endpoint).
func TestTheDashboardQueriesWhatHookdServes(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../monitoring/grafana/dashboards/hookd.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil || dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("dashboard: %v, %+v", err, dash)
	}
	var queried []string
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			for _, name := range regexp.MustCompile(`hookd_[a-z_]+`).FindAllString(target.Expr, -1) {
				if !slices.Contains(queried, name) {
					queried = append(queried, name)
				}
			}
		}
	}

	m := start(t, "serve", backends(t))
	c := newClient(t, m, testAdminKey)
	gone := newReceiver(t, func(int) int { return http.StatusGone })
	setupTenant(c, gone)
	c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": map[string]any{}}, nil)
	var served string
	eventually(t, 10*time.Second, "the endpoint to be disabled", func() bool {
		time.Sleep(100 * time.Millisecond)
		served = scrape(t, c.url)
		return strings.Contains(served, `hookd_endpoints_disabled_total{cause="gone"} 1`)
	})
	for _, name := range queried {
		if !strings.Contains(served, "\n"+name+" ") && !strings.Contains(served, "\n"+name+"{") {
			t.Errorf("the dashboard queries %s, which hookd does not serve", name)
		}
	}
	if len(queried) < 10 {
		t.Errorf("the dashboard queries only %v", queried)
	}
}
