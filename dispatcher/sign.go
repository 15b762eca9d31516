package dispatcher

import (
	"encoding/json"
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

// addHeaders adds to the signature headers what every request carries: the
// endpoint's own headers, the event type, the content type and hookd's name.
// (The endpoint's cannot clash with the others: models refuses them.)
func addHeaders(h http.Header, ep *models.Endpoint, eventType string) {
	for name, value := range ep.Headers {
		h.Set(name, value)
	}
	for name, value := range ep.SecretHeaders {
		h.Set(name, value)
	}
	h.Set(models.EventTypeHeader, eventType)
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", userAgent)
}

// recordedHeaders are the request headers as an attempt stores them: with
// the endpoint's secret headers and a secret carried in the signature
// header (token scheme) redacted.
func recordedHeaders(ep *models.Endpoint, h http.Header) map[string]string {
	out := flatten(h)
	if signature.SchemeFor(ep.SigningScheme).SecretInHeader {
		out[strings.ToLower(ep.SignatureHeader)] = redacted
	}
	for name := range ep.SecretHeaders {
		out[strings.ToLower(name)] = redacted
	}
	return out
}

// envelope wraps a payload as Standard Webhooks describe: the event type,
// when the message was accepted, and the payload's own bytes as data.
func envelope(eventType string, at time.Time, payload models.RawJSON) []byte {
	head, _ := json.Marshal(struct {
		Type      string    `json:"type"`
		Timestamp time.Time `json:"timestamp"`
	}{eventType, at.UTC()}) // a string and a time always encode
	body := make([]byte, 0, len(head)+len(payload)+9)
	body = append(body, head[:len(head)-1]...)
	body = append(body, `,"data":`...)
	body = append(body, payload...)
	return append(body, '}')
}
