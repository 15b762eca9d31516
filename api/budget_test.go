package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hookd.dev/hookd/api"
	"hookd.dev/hookd/dispatcher"
	"hookd.dev/hookd/models"
	"hookd.dev/hookd/models/storetest"
)

// spentBudget refuses every delivery made by hand, as a tenant's spent
// budget does.
type spentBudget struct{ asked []string }

func (b *spentBudget) Take(_ context.Context, tenantID string, _ int) error {
	b.asked = append(b.asked, tenantID)
	return &models.Error{Code: models.CodeRateLimited, RetryAfter: 90 * time.Second, Message: "the tenant's budget is spent"}
}

// TestATenantKeysManualSendsTakeFromItsBudget: a test send with a tenant's
// key is charged to the tenant and refused with 429 and Retry-After once its
// budget is spent; the same with an admin key is not charged.
func TestATenantKeysManualSendsTakeFromItsBudget(t *testing.T) {
	t.Parallel()
	store := models.NewStore(storetest.New(t).Gorm, models.StoreOpts{AllowPrivateNetworks: true})
	budget := &spentBudget{}
	pipeline := dispatcher.NewPipeline(dispatcher.PipelineConfig{Store: store, Queue: &fakeQueue{}, ManualBudget: budget})
	t.Cleanup(pipeline.Close)
	srv := httptest.NewServer(checkedAgainstSpec(t, api.New(api.Config{
		Store: store, Pipeline: pipeline, AdminKey: adminKey, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}).Handler()))
	t.Cleanup(srv.Close)
	f := &fixture{t: t, srv: srv, store: store}
	var ten struct{ ID string }
	f.decode(f.call(adminKey, "POST", "/v1/tenants", `{"uid":"acme"}`, 201), &ten)
	var key struct{ Key string }
	f.decode(f.call(adminKey, "POST", "/v1/tenants/acme/api-keys", `{"name":"ci"}`, 201), &key)
	ep := f.endpoint(adminKey, `{"url":"http://127.0.0.1:1/","event_types":["*"]}`)

	f.call(adminKey, "POST", "/v1/tenants/acme/endpoints/"+ep+"/test", "", 201)
	if len(budget.asked) != 0 {
		t.Fatalf("an admin's test send was charged to %v", budget.asked)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/v1/tenants/acme/endpoints/"+ep+"/test", nil)
	req.Header.Set("Authorization", "Bearer "+key.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "90" ||
		!strings.Contains(string(body), `"rate_limited"`) || !strings.Contains(string(body), "budget is spent") {
		t.Fatalf("a tenant's test send over its budget = %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if len(budget.asked) != 1 || budget.asked[0] != ten.ID {
		t.Fatalf("charged to %v, want [%s]", budget.asked, ten.ID)
	}
}
