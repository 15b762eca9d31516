package models

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// ValidText reports whether s can be stored as text on both databases and
// shown back: valid UTF-8 without NUL. PostgreSQL refuses anything else
// (SQLite would store it, and receivers would choke on it later).
func ValidText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// checkText refuses a string that is not ValidText, naming the field.
func checkText(field, s string) error {
	if !ValidText(s) {
		return Errorf(CodeInvalid, "%s must be UTF-8 text without NUL characters", field)
	}
	return nil
}

// CheckRequestText checks what a client can put in a request besides the
// body: the path, every query parameter (names and values) and the named
// headers must be ValidText. The HTTP servers (API and UI) apply it to every
// request, so no handler sees such a string.
func CheckRequestText(r *http.Request, headers ...string) error {
	if !ValidText(r.URL.Path) {
		return Errorf(CodeInvalid, "the path must be UTF-8 text without NUL characters (check its %%-escapes)")
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return Errorf(CodeInvalid, "the query string is malformed: %v", err)
	}
	for name, values := range query {
		if !ValidText(name) {
			return Errorf(CodeInvalid, "query parameter names must be UTF-8 text without NUL characters")
		}
		for _, v := range values {
			if err := checkText("query parameter "+name, v); err != nil {
				return err
			}
		}
	}
	for _, h := range headers {
		for _, v := range r.Header.Values(h) {
			if err := checkText("header "+h, v); err != nil {
				return err
			}
		}
	}
	return nil
}
