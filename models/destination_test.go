package models_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"code.dny.dev/ssrf"

	"hookd.dev/hookd/models"
	"hookd.dev/hookd/models/storetest"
)

// fakeDNS answers from a table; other names do not resolve.
func fakeDNS(_ context.Context, host string) ([]netip.Addr, error) {
	table := map[string][]string{
		"public.example":   {"93.184.216.34", "2606:2800:220:1::1"},
		"internal.example": {"10.0.0.5", "fd00::5"},
		"metadata.example": {"169.254.169.254"},
		"mixed.example":    {"10.0.0.5", "93.184.216.34"},
		// Names in /etc/hosts come back IPv4-mapped from the system resolver.
		"hosts.example":          {"::ffff:93.184.216.34"},
		"hosts-loopback.example": {"::ffff:127.0.0.1"},
		"hosts-allowed.example":  {"::ffff:10.1.2.3"},
	}
	var out []netip.Addr
	for _, a := range table[host] {
		out = append(out, netip.MustParseAddr(a))
	}
	if out == nil {
		return nil, errors.New("lookup " + host + " on 10.255.255.53:53: no such host")
	}
	return out, nil
}

func TestEndpointURLsToPrivateAddressesAreRefusedAtRegistration(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	ctx := t.Context()
	s := models.NewStore(db.Gorm, models.StoreOpts{LookupIPFunc: fakeDNS})
	ten, err := s.CreateTenant(ctx, models.TenantParams{})
	if err != nil {
		t.Fatal(err)
	}
	refused := []string{
		"http://127.0.0.1/hook", "http://127.0.0.1:8080/", "http://localhost/", "http://LOCALHOST./x",
		"http://api.localhost:9000/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/",
		"http://169.254.169.254/latest/meta-data", "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/",
		"http://100.100.100.200/", "http://[fd00:ec2::254]/", "http://[fe80::1%25eth0]/", "http://[::]/",
		"http://2130706433/", "http://0x7f000001/", "http://127.1/", "http://0177.0.0.1/", "http://127.000.000.001/",
		"https://internal.example/hook", "https://metadata.example/", "https://hosts-loopback.example/",
		// HTTP clients map a host by IDNA (full-width dots and letters) before they dial it.
		"http://127。0。0。1/", "http://127%E3%80%820%E3%80%820%E3%80%821/", "http://１２７.０.０.１/", "http://ＬＯＣＡＬＨＯＳＴ/",
		"http://１６９．２５４．１６９．２５４/", "http://0ｘ7f.0ｘ1/",
		// No host, or one IDNA maps to nothing, is this machine.
		"http://:19191/", "http://\u200b:19191/",
		// A non-ASCII host IDNA refuses, which net/http cannot send to.
		"http://bü_cher.example/",
	}
	for _, u := range refused {
		t.Run(u, func(t *testing.T) {
			_, err := s.CreateEndpoint(ctx, ten.ID, models.EndpointParams{URL: ptr(u), EventTypes: []string{"*"}})
			wantCode(t, err, models.CodeInvalid)
			if msg := err.Error(); strings.Contains(msg, "10.0.0.5") || strings.Contains(msg, "fd00::5") ||
				strings.Contains(msg, "169.254.169.254") && !strings.Contains(u, "169.254.169.254") || strings.Contains(msg, ":53") {
				t.Errorf("message %q reveals an address the client did not send", msg)
			}
		})
	}
	ep, err := s.CreateEndpoint(ctx, ten.ID, models.EndpointParams{URL: ptr("https://public.example/hook"), EventTypes: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"https://nowhere.example/", "https://mixed.example/", "http://93.184.216.34/", "https://hosts.example/",
		"http://[::ffff:93.184.216.34]/", "https://bücher.example/", "https://[2606:2800:220:1::1]/"} {
		if _, err := s.UpdateEndpoint(ctx, ten.ID, ep.ID, models.EndpointParams{URL: ptr(u)}); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1/", "https://internal.example/"} {
		_, err := s.UpdateEndpoint(ctx, ten.ID, ep.ID, models.EndpointParams{URL: ptr(u)})
		wantCode(t, err, models.CodeInvalid)
	}
	if got, _ := s.GetEndpoint(ctx, ten.ID, ep.ID); got.URL != "https://[2606:2800:220:1::1]/" {
		t.Fatalf("a refused update changed the URL to %s", got.URL)
	}

	// HOOKD_ALLOW_PRIVATE_NETWORKS=true turns the check off.
	open := models.NewStore(db.Gorm, models.StoreOpts{AllowPrivateNetworks: true, LookupIPFunc: fakeDNS})
	for _, u := range refused {
		if _, err := open.CreateEndpoint(ctx, ten.ID, models.EndpointParams{URL: ptr(u), EventTypes: []string{"*"}}); err != nil {
			t.Errorf("with private networks allowed, %s: %v", u, err)
		}
	}
}

// TestAllowedNetworksAreTheOnlyExceptions: with private addresses refused,
// an endpoint in an allowed prefix is accepted, and its neighbours are not.
func TestAllowedNetworksAreTheOnlyExceptions(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	ctx := t.Context()
	s := models.NewStore(db.Gorm, models.StoreOpts{LookupIPFunc: fakeDNS, AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}})
	ten, err := s.CreateTenant(ctx, models.TenantParams{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"http://10.1.2.3/hook", "http://[::ffff:10.1.2.3]/hook", "http://hosts-allowed.example/hook"} {
		if _, err := s.CreateEndpoint(ctx, ten.ID, models.EndpointParams{URL: ptr(u), EventTypes: []string{"*"}}); err != nil {
			t.Fatalf("an allowed address, %s: %v", u, err)
		}
	}
	for _, u := range []string{"http://10.2.0.1/hook", "http://127.0.0.1/hook", "http://[::ffff:10.2.0.1]/hook", "http://hosts-loopback.example/hook"} {
		_, err := s.CreateEndpoint(ctx, ten.ID, models.EndpointParams{URL: ptr(u), EventTypes: []string{"*"}})
		wantCode(t, err, models.CodeInvalid)
	}
}

// TestTheDialTimeGuardReadsIPv4MappedAddressesAsIPv4: a dialer guarded as
// the sender's is (AddressGuard's Safe as its Control) connects to an
// allowed address written as ::ffff:a.b.c.d, and refuses ::ffff:127.0.0.1
// while loopback is not allowed.
func TestTheDialTimeGuardReadsIPv4MappedAddressesAsIPv4(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	mapped := net.JoinHostPort("::ffff:127.0.0.1", port)

	tests := []struct {
		name    string
		allowed []netip.Prefix
		refused bool
	}{
		{"loopback refused", nil, true},
		{"loopback allowed as an IPv4 prefix", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := net.Dialer{Timeout: 5 * time.Second, Control: models.AddressGuard(tt.allowed).Safe}
			conn, err := d.DialContext(t.Context(), "tcp", mapped)
			if conn != nil {
				conn.Close()
			}
			if refused := errors.Is(err, ssrf.ErrProhibitedIP); refused != tt.refused || !refused && err != nil {
				t.Fatalf("dial %s: %v, want refused %v", mapped, err, tt.refused)
			}
		})
	}
}
