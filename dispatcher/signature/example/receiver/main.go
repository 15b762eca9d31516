// Command receiver is a minimal webhook receiver that verifies hookd's
// signatures. Run it with the endpoint's secret:
//
//	WEBHOOK_SECRET=whsec_… go run ./dispatcher/signature/example/receiver -listen :9000
package main

import (
	"flag"
	"log"
	"log/slog"
	"net/http"
	"os"

	"hookd.dev/hookd/dispatcher/signature"
)

func main() {
	listen := flag.String("listen", ":9000", "address to listen on")
	flag.Parse()
	secret := os.Getenv("WEBHOOK_SECRET")
	if secret == "" {
		log.Fatal("set WEBHOOK_SECRET to the endpoint's secret (whsec_…)")
	}
	http.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		body, err := signature.VerifyRequest(secret, r, 1<<20)
		if err != nil {
			slog.Warn("refused a webhook", "id", r.Header.Get(signature.HeaderID), "error", err)
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		// Receivers dedupe on webhook-id: a retry carries the same one.
		slog.Info("webhook", "id", r.Header.Get(signature.HeaderID), "body", string(body))
		w.WriteHeader(http.StatusNoContent)
	})
	log.Printf("receiving webhooks on %s", *listen)
	log.Fatal(http.ListenAndServe(*listen, nil)) //nolint:gosec // an example: timeouts omitted for brevity
}
