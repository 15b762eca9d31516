package dispatcher

import (
	"net/http"
	"strconv"
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
	secrets := ep.SigningSecrets(at)
	switch ep.SigningScheme {
	case models.SchemeEd25519:
		sigs := make([]string, 0, len(secrets))
		for _, s := range secrets {
			sig, err := signature.SignEd25519(s, msgID, at, body)
			if err != nil {
				return nil, err
			}
			sigs = append(sigs, sig)
		}
		h := idHeaders(msgID, at)
		h.Set(signature.HeaderSignature, strings.Join(sigs, " "))
		return h, nil
	case models.SchemeHMAC: // one signature: SigningSecrets gives one secret
		h := idHeaders(msgID, at)
		h.Set(ep.SignatureHeader, ep.SignaturePrefix+signature.HMACHex(secrets[0], body))
		return h, nil
	case models.SchemeToken:
		h := idHeaders(msgID, at)
		h.Set(ep.SignatureHeader, ep.SignaturePrefix+secrets[0])
		return h, nil
	}
	return signature.Headers(secrets, msgID, at, body)
}

func idHeaders(msgID string, at time.Time) http.Header {
	h := http.Header{}
	h.Set(signature.HeaderID, msgID)
	h.Set(signature.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	return h
}

// recordedHeaders are the request headers as an attempt stores them: with the
// token of the token scheme redacted (signatures are not secrets).
func recordedHeaders(ep *models.Endpoint, h http.Header) map[string]string {
	out := flatten(h)
	if ep.SigningScheme == models.SchemeToken {
		out[strings.ToLower(ep.SignatureHeader)] = redacted
	}
	return out
}
