package web_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"hookd.dev/hookd/models"
)

// fakeBudget is a tenant budget that counts what is charged to it, and
// refuses everything once spent is set.
type fakeBudget struct {
	mu      sync.Mutex
	charged int
	spent   bool
}

func (b *fakeBudget) Take(_ context.Context, _ string, n int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.spent {
		return &models.Error{Code: models.CodeRateLimited, RetryAfter: time.Minute, Message: "the tenant's budget is spent; try again in 1m0s"}
	}
	b.charged += n
	return nil
}

func (b *fakeBudget) total() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.charged
}

// TestThePortalsManualSendsTakeFromTheTenantsBudget: a test send or a
// retry from a portal link is the tenant's own, and is refused with a page
// that says why once its budget is spent; the admin UI's are not charged.
func TestThePortalsManualSendsTakeFromTheTenantsBudget(t *testing.T) {
	f := setup(t)
	base, csrf := f.portalLink(models.PortalParams{})
	ep := base + "/endpoints/" + f.endpoint.ID
	if status, _ := f.post(ep+"/test", csrf, url.Values{}); status != http.StatusSeeOther {
		t.Fatalf("a test send = %d", status)
	}
	if n := f.budget.total(); n != 1 {
		t.Fatalf("the portal's test send charged %d, want 1", n)
	}
	adminCSRF := f.login()
	if status, _ := f.post("/ui/deliveries/"+f.delivery.ID+"/retry", adminCSRF, url.Values{}); status != http.StatusSeeOther {
		t.Fatalf("the admin UI's retry = %d", status)
	}
	if n := f.budget.total(); n != 1 {
		t.Fatalf("the admin UI's retry was charged to the tenant (%d in all)", n)
	}
	f.budget.mu.Lock()
	f.budget.spent = true
	f.budget.mu.Unlock()
	status, page := f.post(base+"/deliveries/"+f.delivery.ID+"/retry", csrf, url.Values{})
	if status != http.StatusTooManyRequests {
		t.Fatalf("a retry over the budget = %d\n%s", status, page)
	}
	mustContain(t, page, "budget is spent")
}
