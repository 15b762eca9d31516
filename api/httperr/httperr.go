// Package httperr maps hookd's error codes to HTTP statuses: the one table
// that the API answers by and that the admin UI and the in-process emitter
// (hookd.dev/hookd/outbox) follow, so that an error means the same status
// wherever it shows. It needs the standard library and models only.
package httperr

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"hookd.dev/hookd/models"
)

// Codes of the HTTP layer itself, beside the domain's (models.Code*).
const (
	CodeBadRequest   = "bad_request"
	CodeUnauthorized = "unauthorized"
	CodeUnavailable  = "unavailable"
	CodeRateLimited  = models.CodeRateLimited
	CodeInternal     = "internal"
)

var statuses = map[string]int{
	models.CodeNotFound:  http.StatusNotFound,
	models.CodeInvalid:   http.StatusUnprocessableEntity,
	models.CodeConflict:  http.StatusConflict,
	models.CodeTooLarge:  http.StatusRequestEntityTooLarge,
	models.CodeForbidden: http.StatusForbidden,
	CodeBadRequest:       http.StatusBadRequest,
	CodeUnauthorized:     http.StatusUnauthorized,
	CodeRateLimited:      http.StatusTooManyRequests,
	CodeUnavailable:      http.StatusServiceUnavailable,
	CodeInternal:         http.StatusInternalServerError,
}

// Status is the HTTP status that answers an error of the given code:
// 500 for a code not in the table.
func Status(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// RetryAfterSeconds is a wait as a Retry-After header gives it: whole
// seconds, rounded up.
func RetryAfterSeconds(wait time.Duration) int { return int(math.Ceil(wait.Seconds())) }

// SetRetryAfter sets Retry-After on h when err is a domain error that says
// when to try again (models.Error.RetryAfter).
func SetRetryAfter(h http.Header, err error) {
	var de *models.Error
	if errors.As(err, &de) && de.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(RetryAfterSeconds(de.RetryAfter)))
	}
}
