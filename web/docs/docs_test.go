package docs

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, path, acceptEncoding string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	return rec.Result()
}

func TestTheReferencePageLoadsOnlyItsOwnAssets(t *testing.T) {
	resp := get(t, "/docs", "")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `src="/docs/start.js"`) {
		t.Fatalf("/docs: %d %s", resp.StatusCode, body)
	}
	policy := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(policy, want) {
			t.Errorf("CSP %q lacks %q", policy, want)
		}
	}
	if strings.Contains(string(body), "http") && !strings.Contains(string(body), `href="/openapi.json"`) {
		t.Errorf("/docs names another origin: %s", body)
	}
}

func TestTheBundleIsGzippedForClientsThatTakeIt(t *testing.T) {
	plain := get(t, "/docs/redoc.standalone.js", "")
	raw, _ := io.ReadAll(plain.Body)
	if plain.StatusCode != 200 || plain.Header.Get("Content-Encoding") != "" || !strings.HasPrefix(plain.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("plain: %d %v", plain.StatusCode, plain.Header)
	}
	if bytes.Contains(raw, []byte("cdn.redoc.ly")) {
		t.Fatal("the bundle loads Redocly's logo from their CDN: vendor.sh patches that out")
	}
	zipped := get(t, "/docs/redoc.standalone.js", "gzip, deflate, br")
	if zipped.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip: %v", zipped.Header)
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	if !bytes.Equal(unzipped, raw) {
		t.Fatal("the gzipped bundle is not the bundle")
	}
	if n := zipped.ContentLength; n > 0 && n > int64(len(raw))/2 {
		t.Errorf("gzip %d of %d bytes", n, len(raw))
	}
	if resp := get(t, "/docs/other", ""); resp.StatusCode != http.StatusMovedPermanently {
		t.Errorf("/docs/other: %d", resp.StatusCode)
	}
}
