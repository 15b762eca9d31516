// Package docs serves hookd's API reference at /docs: /openapi.json
// rendered by Redoc, whose bundle is vendored here (vendor.sh) and
// embedded, so that the page loads nothing from elsewhere.
package docs

import (
	"bytes"
	"compress/gzip"
	"embed"
	"net/http"
	"strings"
	"sync"
)

//go:embed index.html start.js redoc.standalone.js LICENSE.redoc
var files embed.FS

// csp lets the page run its own scripts and nothing else. Redoc styles its
// elements at run time, hence inline styles; its search runs in a worker
// made from a blob.
const csp = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves /docs and its assets.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /docs", serve("index.html", "text/html; charset=utf-8"))
	mux.HandleFunc("GET /docs/start.js", serve("start.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /docs/redoc.standalone.js", serve("redoc.standalone.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /docs/LICENSE.redoc", serve("LICENSE.redoc", "text/plain; charset=utf-8"))
	mux.HandleFunc("GET /docs/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/docs", http.StatusMovedPermanently)
	})
	return mux
}

// serve answers one embedded file, gzipped for a client that takes it
// (Redoc's 2.3 MB bundle is 0.6 MB so), compressed once, when first asked.
func serve(name, contentType string) http.HandlerFunc {
	body, err := files.ReadFile(name)
	if err != nil {
		panic(err) // embedded above: a build without it does not compile
	}
	gzipped := sync.OnceValue(func() []byte {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		return b.Bytes()
	})
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("Vary", "Accept-Encoding")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			h.Set("Content-Encoding", "gzip")
			_, _ = w.Write(gzipped())
			return
		}
		_, _ = w.Write(body)
	}
}
