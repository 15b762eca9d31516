package dispatcher

import (
	"errors"
	"testing"
	"time"

	"hookd.dev/hookd/models"
)

// TestATenantsManualDeliveriesAreBudgeted: what a tenant does by hand
// (test sends, resends, retries, replays) takes from its hourly budget, and
// is refused with a rate_limited error saying when to try again once the
// budget is spent; nothing is written then. The app's emits and an admin's
// actions are not budgeted.
func TestATenantsManualDeliveriesAreBudgeted(t *testing.T) {
	h := newHarness(t)
	budget, err := NewTenantBudget(h.redis, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = budget.Close() })
	p := NewPipeline(PipelineConfig{Store: h.store, Queue: h.queue, ManualBudget: budget, Logger: quiet()})
	t.Cleanup(p.Close)
	ep := h.endpoint(h.store, "http://127.0.0.1:1/", localSecret)
	msg := h.emit(p) // the app's own: free
	tenant := models.ByTenant(h.ctx)

	if _, err := p.SendTest(tenant, h.tenant.ID, ep.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Resend(tenant, h.tenant.ID, msg.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Retry(tenant, h.tenant.ID, msg.Deliveries[0].ID); err != nil {
		t.Fatal(err)
	}
	before, _ := h.store.GetMessage(h.ctx, h.tenant.ID, msg.ID)
	_, err = p.Resend(tenant, h.tenant.ID, msg.ID, "")
	var refused *models.Error
	if !errors.As(err, &refused) || refused.Code != models.CodeRateLimited || refused.RetryAfter < 10*time.Minute {
		t.Fatalf("a fourth delivery by hand: %v, want rate_limited for some 20 minutes", err)
	}
	if after, _ := h.store.GetMessage(h.ctx, h.tenant.ID, msg.ID); len(after.Deliveries) != len(before.Deliveries) {
		t.Errorf("a refused resend wrote %d deliveries", len(after.Deliveries)-len(before.Deliveries))
	}
	_, err = p.Replay(tenant, h.tenant.ID, ep.ID, models.ReplayParams{Since: time.Now().Add(-time.Hour)})
	if models.ErrorCode(err) != models.CodeRateLimited {
		t.Fatalf("a replay over the budget: %v", err)
	}
	// An admin's resend, unmarked, is not the tenant's.
	if _, err := p.Resend(h.ctx, h.tenant.ID, msg.ID, ""); err != nil {
		t.Fatalf("an admin's resend: %v", err)
	}
	// More than an hour's budget at once can never pass: it says so.
	if err := budget.Take(h.ctx, "ten_other", 4); models.ErrorCode(err) != models.CodeInvalid {
		t.Fatalf("4 of 3 an hour: %v, want invalid", err)
	}
}
