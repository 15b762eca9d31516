package httperr_test

import (
	"net/http"
	"testing"

	"hookd.dev/hookd/api/httperr"
	"hookd.dev/hookd/models"
)

func TestStatus(t *testing.T) {
	for code, want := range map[string]int{
		models.CodeNotFound: 404, models.CodeInvalid: 422, models.CodeConflict: 409, models.CodeTooLarge: 413,
		models.CodeForbidden: 403, httperr.CodeBadRequest: 400, httperr.CodeRateLimited: 429,
		"no_such_code": http.StatusInternalServerError,
	} {
		if got := httperr.Status(code); got != want {
			t.Errorf("Status(%q) = %d, want %d", code, got, want)
		}
	}
}
