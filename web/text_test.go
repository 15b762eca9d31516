package web_test

import (
	"net/http"
	"testing"
)

// TestUIRefusesInvalidText: filters and ids with invalid UTF-8 or NUL get a
// 400 page (as the API answers), not a database error.
func TestUIRefusesInvalidText(t *testing.T) {
	f := setup(t)
	f.login()
	for _, path := range []string{
		"/ui/messages?tenant=%00",
		"/ui/messages?event_type=%FF",
		"/ui/messages?cursor=%00",
		"/ui/deliveries?status=%00",
		"/ui/deliveries?endpoint_id=ep_%C3",
		"/ui/deliveries?event_type=a%00&tenant=acme",
		"/ui/endpoints?cursor=%FF",
		"/ui/messages/msg_%00",
		"/ui/deliveries/dlv_%FF",
		"/ui/endpoints/ep_%00/enable",
	} {
		status, page := f.get(path)
		if status != http.StatusBadRequest {
			t.Errorf("%s = %d, want 400", path, status)
		}
		mustContain(t, page, "UTF-8")
	}
}
