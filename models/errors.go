package models

import (
	"errors"
	"fmt"
	"time"
)

// Error codes, mapped to HTTP statuses in one place by the api package.
const (
	CodeNotFound    = "not_found"         // the thing does not exist (or belongs to another tenant)
	CodeInvalid     = "invalid"           // well-formed input the domain refuses
	CodeConflict    = "conflict"          // the thing exists already, or is in the wrong state
	CodeTooLarge    = "payload_too_large" // a payload over the limit
	CodeForbidden   = "forbidden"         // the caller may not do this
	CodeRateLimited = "rate_limited"      // over a rate or a budget: try again after RetryAfter
)

// Error is a domain error: a code the caller can act on and a message safe to
// show to the user.
type Error struct {
	Code    string
	Message string
	// RetryAfter, for CodeRateLimited, is when trying again may succeed.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Message }

// Is makes errors.Is(err, ErrNotFound) true for any not_found error.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// Sentinels to test with errors.Is.
var (
	ErrNotFound = &Error{Code: CodeNotFound, Message: "not found"}
	ErrInvalid  = &Error{Code: CodeInvalid, Message: "invalid"}
	ErrConflict = &Error{Code: CodeConflict, Message: "conflict"}
)

// Errorf returns a domain error with a code and a formatted message.
func Errorf(code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of a domain error, or "" for any other error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// ErrorMessage returns the user-facing message of a domain error, or "" for any other error.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}
