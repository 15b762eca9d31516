package api_test

import (
	"strings"
	"testing"
)

// TestDeeplyNestedPayloadsAreRefused: a payload nested deeper than
// receivers' parsers go (Python fails past ~1,000 levels, Ruby past 100) is
// refused at the emit, and nothing is stored; 100 levels are accepted.
func TestDeeplyNestedPayloadsAreRefused(t *testing.T) {
	f := setup(t)
	nested := func(depth int) string {
		return strings.Repeat(`{"a":`, depth-1) + `{}` + strings.Repeat(`}`, depth-1)
	}
	before := f.count("/v1/tenants/acme/messages")
	for _, depth := range []int{101, 3000} {
		raw := f.call(f.key, "POST", "/v1/tenants/acme/messages", `{"event_type":"invoice.paid","payload":`+nested(depth)+`}`, 422)
		if !strings.Contains(string(raw), "levels deep; at most 100") {
			t.Errorf("depth %d: %s", depth, raw)
		}
	}
	if n := f.count("/v1/tenants/acme/messages"); n != before {
		t.Fatalf("%d messages stored by refused emits", n-before)
	}
	f.call(f.key, "POST", "/v1/tenants/acme/messages", `{"event_type":"invoice.paid","payload":`+nested(100)+`}`, 201)
}
