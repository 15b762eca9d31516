package models_test

import (
	"context"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"code.dny.dev/ssrf"
	"golang.org/x/net/idna"

	"hookd.dev/hookd/models"
)

// FuzzEndpointURL runs URLs through ValidateURL and the registration check
// (DNS disabled). What both accept is an absolute http(s) URL with a host,
// not at localhost, and a literal address in it is public, once the host is
// read as net/http dials it.
func FuzzEndpointURL(f *testing.F) {
	for _, seed := range []string{
		"https://example.com/hook", "http://127.0.0.1:8080/", "http://localhost/", "http://a.localhost./",
		"http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[fe80::1%25eth0]/", "http://0.0.0.0/",
		"http://169.254.169.254/", "http://2130706433/", "http://0x7f.1/", "http://127.1/", "http://1.1.1.1/",
		"https://user:pw@example.com/", "ftp://example.com/", "/relative", "http://exa\x00mple.com/",
		"http://caf\xe9.example/", "http://[::1", "http://example.com:99999/", "http://.", "http://0x/",
		"http://127。0。0。1/", "http://ＬＯＣＡＬＨＯＳＴ/", "http://１６９．２５４．１６９．２５４/", "http://:19191/",
		"http://\u200b:19191/", "http://[::ffff:8.8.8.8]/", "http://bücher.example/",
	} {
		f.Add(seed)
	}
	guardian := ssrf.New(ssrf.WithAnyPort(), ssrf.WithAnyNetwork())
	f.Fuzz(func(t *testing.T, raw string) {
		if models.ValidateURL(raw) != nil {
			return
		}
		if err := models.CheckDestination(context.Background(), raw, nil); err != nil {
			if models.ErrorCode(err) != models.CodeInvalid {
				t.Fatalf("%q: %v", raw, err)
			}
			return
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !models.ValidText(raw) {
			t.Fatalf("accepted %q", raw)
		}
		// The host as net/http dials it: mapped by IDNA, where it can be.
		host := u.Hostname()
		if mapped, err := idna.Lookup.ToASCII(host); err == nil {
			host = mapped
		}
		host = strings.TrimSuffix(strings.ToLower(host), ".")
		if host == "" {
			t.Fatalf("accepted a URL without a host: %q", raw)
		}
		if host == "localhost" || strings.HasSuffix(host, ".localhost") {
			t.Fatalf("accepted localhost: %q", raw)
		}
		if addr, err := netip.ParseAddr(host); err == nil && guardian.SafeAddr(addr.Unmap()) != nil {
			t.Fatalf("accepted a blocked address: %q", raw)
		}
	})
}
