package web

import (
	"net/url"
	"regexp"
	"strconv"
	"time"
)

// A notice is the line a page shows after a form redirected to it
// ("Endpoint saved."). The redirect carries a code, and a count or an
// endpoint's ID when the text holds one, never the text: with free text, a
// link to hookd's own login page or a tenant's portal could say anything
// ("hookd has moved, log in at …"). The page writes the text from
// noticeTexts; an unknown code, or a parameter out of form, shows nothing.
type notice struct {
	code     string
	n        int    // the count, for the codes whose text shows one
	endpoint string // the endpoint the text names, if any
}

// The notices' codes, as ?notice= carries them.
const (
	noticeResent           = "resent"
	noticeRetryQueued      = "retry-queued"
	noticeEndpointCreated  = "endpoint-created"
	noticeEndpointSaved    = "endpoint-saved"
	noticeEndpointEnabled  = "endpoint-enabled"
	noticeEndpointDisabled = "endpoint-disabled"
	noticeEndpointDeleted  = "endpoint-deleted"
	noticeSecretRotated    = "secret-rotated"
	noticeTestSent         = "test-sent"
	noticeReplayed         = "replayed"
	noticeRecovering       = "recovering"
)

// noticeArgs are what a notice's text may hold: a count (?n=), an
// endpoint's ID (?ep=), and the rotation grace, which only the portal,
// where secrets are rotated, knows.
type noticeArgs struct {
	n             int
	endpoint      string
	rotationGrace time.Duration
}

// noticeText is how a notice reads.
type noticeText struct {
	counts bool // its text shows ?n=, which must then be a count
	text   func(a noticeArgs) string
}

var noticeTexts = map[string]noticeText{
	noticeResent: {counts: true, text: func(a noticeArgs) string {
		return "Resent to " + plural(a.n, "endpoint") + "."
	}},
	noticeRetryQueued: {text: func(noticeArgs) string {
		return "Retry queued: the new attempt appears below in a moment."
	}},
	noticeEndpointCreated: {text: func(noticeArgs) string {
		return "Endpoint created. Its signing secret is below, under Signing secret."
	}},
	noticeEndpointSaved: {text: func(noticeArgs) string { return "Endpoint saved." }},
	noticeEndpointEnabled: {text: func(a noticeArgs) string {
		return "Endpoint " + spaced(a.endpoint) + "enabled."
	}},
	noticeEndpointDisabled: {text: func(a noticeArgs) string {
		return "Endpoint " + spaced(a.endpoint) + "disabled."
	}},
	noticeEndpointDeleted: {text: func(a noticeArgs) string {
		return "Endpoint " + spaced(a.endpoint) + "deleted."
	}},
	noticeSecretRotated: {text: func(a noticeArgs) string {
		if a.rotationGrace <= 0 { // not the portal's page
			return ""
		}
		return "Secret rotated. The new secret is below; the old one keeps signing for " + a.rotationGrace.String() + "."
	}},
	noticeTestSent: {text: func(noticeArgs) string {
		return "Test event sent: its delivery and attempts appear below."
	}},
	noticeReplayed: {counts: true, text: func(a noticeArgs) string {
		if a.endpoint != "" {
			return plural(a.n, "message") + " replayed to " + a.endpoint + "."
		}
		return plural(a.n, "message") + " replayed."
	}},
	noticeRecovering: {counts: true, text: func(a noticeArgs) string {
		if a.endpoint != "" {
			return "Resending " + strconv.Itoa(a.n) + " failed deliveries of " + a.endpoint + "."
		}
		return "Resending " + strconv.Itoa(a.n) + " failed deliveries."
	}},
}

// endpointSwitched is the notice's code after an endpoint was enabled or disabled.
func endpointSwitched(enabled bool) string {
	if enabled {
		return noticeEndpointEnabled
	}
	return noticeEndpointDisabled
}

// spaced is an ID followed by a space, or nothing for none.
func spaced(id string) string {
	if id == "" {
		return ""
	}
	return id + " "
}

// endpointID is the form of an endpoint's ID: its prefix and a ULID in
// lower case, which can spell no message.
var endpointID = regexp.MustCompile(`^ep_[0-9a-z]{26}$`)

// query is the query string that carries n.
func (n notice) query() string {
	q := url.Values{"notice": {n.code}}
	if noticeTexts[n.code].counts {
		q.Set("n", strconv.Itoa(n.n))
	}
	if n.endpoint != "" {
		q.Set("ep", n.endpoint)
	}
	return q.Encode()
}

// showNotice is the text of the notice q carries, or "" for none, an
// unknown code or a parameter out of form.
func showNotice(q url.Values, rotationGrace time.Duration) string {
	t, ok := noticeTexts[q.Get("notice")]
	if !ok {
		return ""
	}
	a := noticeArgs{endpoint: q.Get("ep"), rotationGrace: rotationGrace}
	if a.endpoint != "" && !endpointID.MatchString(a.endpoint) {
		return ""
	}
	if t.counts {
		n, err := strconv.Atoi(q.Get("n"))
		if err != nil || n < 0 {
			return ""
		}
		a.n = n
	}
	return t.text(a)
}
