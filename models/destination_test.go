package models_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

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
		"https://internal.example/hook", "https://metadata.example/",
	}
	for _, u := range refused {
		_, err := s.CreateEndpoint(ctx, ten.ID, models.EndpointParams{URL: ptr(u), EventTypes: []string{"*"}})
		wantCode(t, err, models.CodeInvalid)
		if msg := err.Error(); strings.Contains(msg, "10.0.0.5") || strings.Contains(msg, "fd00::5") ||
			strings.Contains(msg, "169.254.169.254") && !strings.Contains(u, "169.254.169.254") || strings.Contains(msg, ":53") {
			t.Errorf("%s: message %q reveals an address the client did not send", u, msg)
		}
	}
	ep, err := s.CreateEndpoint(ctx, ten.ID, models.EndpointParams{URL: ptr("https://public.example/hook"), EventTypes: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"https://nowhere.example/", "https://mixed.example/", "http://93.184.216.34/", "https://[2606:2800:220:1::1]/"} {
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
	if _, err := s.CreateEndpoint(ctx, ten.ID, models.EndpointParams{URL: ptr("http://10.1.2.3/hook"), EventTypes: []string{"*"}}); err != nil {
		t.Fatalf("an allowed address: %v", err)
	}
	for _, u := range []string{"http://10.2.0.1/hook", "http://127.0.0.1/hook"} {
		_, err := s.CreateEndpoint(ctx, ten.ID, models.EndpointParams{URL: ptr(u), EventTypes: []string{"*"}})
		wantCode(t, err, models.CodeInvalid)
	}
}
