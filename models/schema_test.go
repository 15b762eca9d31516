package models_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hookd.dev/hookd/models"
)

// TestEventTypeSchemasFetchNothing: a schema cannot make hookd read a local
// file or a URL, and error messages show no server path.
func TestEventTypeSchemasFetchNothing(t *testing.T) {
	f := setup(t)
	dir := t.TempDir()
	local := filepath.Join(dir, "defs.json")
	if err := os.WriteFile(local, []byte(`{"type":"object"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	refs := []string{
		`{"$ref":"file:///etc/passwd"}`,
		`{"$ref":"file://` + local + `"}`,
		`{"$ref":"` + local + `"}`,
		`{"$ref":"defs.json"}`,
		`{"$id":"file://` + dir + `/","$ref":"defs.json"}`,
		`{"$ref":"https://example.com/schema.json"}`,
		`{"$schema":"file:///etc/passwd"}`,
		`{"properties":{"a":{"$ref":"file:///nonexistent.json#/x"}}}`,
	}
	for i, schema := range refs {
		_, err := f.store.CreateEventType(f.ctx, models.EventTypeParams{Name: "ref." + string(rune('a'+i)), Schema: &schema})
		wantCode(t, err, models.CodeInvalid)
		msg := err.Error()
		if !strings.Contains(msg, "fetches no files or URLs") || strings.Contains(msg, wd) || strings.Contains(msg, "root:") {
			t.Errorf("%s: error %q", schema, msg)
		}
	}
	// A $ref inside the schema itself works, and validation errors name no path.
	schema := `{"$defs":{"id":{"type":"string"}},"type":"object","required":["id"],"properties":{"id":{"$ref":"#/$defs/id"}}}`
	if _, err := f.store.CreateEventType(f.ctx, models.EventTypeParams{Name: "order.placed", Schema: &schema}); err != nil {
		t.Fatal(err)
	}
	_, _, err := f.pipeline(t).Emit(f.ctx, models.EmitParams{TenantID: f.tenant.ID, EventType: "order.placed", Payload: []byte(`{"id":1}`)})
	wantCode(t, err, models.CodeInvalid)
	if msg := err.Error(); strings.Contains(msg, "file:") || strings.Contains(msg, wd) || !strings.Contains(msg, "does not match") {
		t.Fatalf("validation error %q", msg)
	}
}
