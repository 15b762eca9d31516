package web

import (
	"fmt"

	"hookd.dev/hookd/dispatcher/signature"
	"hookd.dev/hookd/models"
)

// verifyHelp tells a receiver how to check an endpoint's requests: the rule,
// for any language, and the few lines of Go that do it with hookd's own
// verifier. The header and prefix are the endpoint's own.
func verifyHelp(ep *models.Endpoint) (rule, goCode string) {
	scheme := signature.SchemeFor(ep.SigningScheme)
	header, prefix := ep.SignatureHeader, ep.SignaturePrefix
	if header == "" {
		header = scheme.Header
	}
	if prefix == "" {
		prefix = scheme.Prefix
	}
	switch ep.SigningScheme {
	case models.SchemeEd25519:
		rule = "Each request carries webhook-id, webhook-timestamp and webhook-signature (Standard Webhooks, asymmetric). " +
			"The signed content is webhook-id + \".\" + webhook-timestamp + \".\" + the raw body. webhook-signature holds " +
			"space-separated \"v1a,<base64>\" ed25519 signatures: accept the request if one verifies with the public key " +
			"(whpk_ followed by base64 of 32 bytes), and refuse timestamps more than 5 minutes from your clock."
	case models.SchemeHMAC:
		rule = fmt.Sprintf("Each request carries %s: %q followed by the hex HMAC-SHA256 of the raw body, keyed with the secret. "+
			"Compute it and compare in constant time. webhook-id names the message: use it to ignore a repeated delivery.", header, prefix)
	case models.SchemeToken:
		rule = fmt.Sprintf("Each request carries %s: %q followed by the secret itself. Compare it in constant time; "+
			"only HTTPS keeps it private on the way.", header, prefix)
	default:
		rule = "Each request carries webhook-id, webhook-timestamp and webhook-signature (Standard Webhooks). " +
			"The signed content is webhook-id + \".\" + webhook-timestamp + \".\" + the raw body; the key is the base64 " +
			"after whsec_. webhook-signature holds space-separated \"v1,<base64 HMAC-SHA256>\" signatures: accept the " +
			"request if one matches (compare in constant time), and refuse timestamps more than 5 minutes from your clock. " +
			"The Standard Webhooks libraries (standardwebhooks on npm and PyPI, and others) do all of it."
	}
	goCode = fmt.Sprintf(`import "hookd.dev/hookd/dispatcher/signature"

// key: the secret (ed25519: the public key) shown above.
scheme, _ := signature.LookupScheme(%q)
body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
if err != nil {
	http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
	return
}
if _, err := scheme.Verify(key, r.Header, body, %q, %q); err != nil {
	http.Error(w, "bad signature", http.StatusUnauthorized) // do not act on it
	return
}`, ep.SigningScheme, ep.SignatureHeader, ep.SignaturePrefix)
	return rule, goCode
}
