package dispatcher

import (
	"net/http"
	"strings"
	"time"

	"hookd.dev/hookd/dispatcher/signature"
	"hookd.dev/hookd/models"
)

// redacted replaces secrets in the request headers an attempt records.
const redacted = "[redacted]"

// signedHeaders builds the headers that sign a request in the endpoint's
// scheme. webhook-id and webhook-timestamp go with every scheme.
func signedHeaders(ep *models.Endpoint, msgID string, at time.Time, body []byte) (http.Header, error) {
	return signature.SchemeFor(ep.SigningScheme).Sign(ep.SigningSecrets(at), msgID, at, body, ep.SignatureHeader, ep.SignaturePrefix)
}

// recordedHeaders are the request headers as an attempt stores them: with a
// secret carried in the signature header (token scheme) redacted.
func recordedHeaders(ep *models.Endpoint, h http.Header) map[string]string {
	out := flatten(h)
	if signature.SchemeFor(ep.SigningScheme).SecretInHeader {
		out[strings.ToLower(ep.SignatureHeader)] = redacted
	}
	return out
}
