package models_test

import (
	"strings"
	"testing"

	"hookd.dev/hookd/models"
)

// A filter's failure is recorded on its endpoint, bounded, without moving
// the endpoint's version; one reported for a filter since replaced is not.
func TestRecordFilterError(t *testing.T) {
	f := setup(t)
	ep := f.endpoint(t, "*")
	expr := "data.amount > 1000"
	ep, err := f.store.UpdateEndpoint(f.ctx, f.tenant.ID, ep.ID, models.EndpointParams{Filter: &expr})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.RecordFilterError(f.ctx, ep.ID, "an older filter", "stale"); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.store.GetEndpoint(f.ctx, f.tenant.ID, ep.ID); got.FilterError != "" {
		t.Fatalf("an older filter's error was recorded: %q", got.FilterError)
	}
	if err := f.store.RecordFilterError(f.ctx, ep.ID, expr, strings.Repeat("é", 1000)); err != nil {
		t.Fatal(err)
	}
	got, err := f.store.GetEndpoint(f.ctx, f.tenant.ID, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.FilterErrorAt == nil || len(got.FilterError) > 510 || !strings.HasSuffix(got.FilterError, "é…") {
		t.Errorf("recorded %d bytes %.20q… at %v", len(got.FilterError), got.FilterError, got.FilterErrorAt)
	}
	if !got.UpdatedAt.Equal(ep.UpdatedAt) {
		t.Errorf("the endpoint's version moved from %v to %v", ep.UpdatedAt, got.UpdatedAt)
	}
}
