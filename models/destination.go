package models

import (
	"context"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"code.dny.dev/ssrf"
)

// LookupIPFunc resolves a host name to its addresses.
type LookupIPFunc func(ctx context.Context, host string) ([]netip.Addr, error)

// lookupIP is the default LookupIPFunc: the system's resolver.
func lookupIP(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// resolveTimeout bounds the lookup of an endpoint's host at registration.
const resolveTimeout = 2 * time.Second

// AddressGuard returns the classification of destinations that the
// registration check and the sender's dial-time check share: the built-in
// lists of code.dny.dev/ssrf, with the allowed prefixes (HOOKD_ALLOWED_NETWORKS)
// taken out of them, whatever the port.
func AddressGuard(allowed []netip.Prefix) *ssrf.Guardian {
	var v4, v6 []netip.Prefix
	for _, p := range allowed {
		if p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	return ssrf.New(ssrf.WithAnyPort(), ssrf.WithAnyNetwork(), ssrf.WithAllowedV4Prefixes(v4...), ssrf.WithAllowedV6Prefixes(v6...))
}

// guardian is AddressGuard with nothing allowed.
var guardian = AddressGuard(nil)

// publicOnly is the end of every refusal: what hookd accepts instead.
const publicOnly = "hookd delivers only to public addresses (loopback, private, link-local and cloud metadata addresses are refused)"

// CheckDestination refuses an endpoint URL that points at a private or
// reserved address: a literal address in a blocked range, localhost and
// *.localhost, a number that some software reads as an IPv4 address
// (http://2130706433), or a name whose addresses are all blocked. lookup nil
// skips the last check. A name that does not resolve is accepted: it may
// exist later, and the sender checks every address again when it connects,
// so a name that changes its addresses later gains nothing. The messages
// name nothing the client did not send.
func CheckDestination(ctx context.Context, rawURL string, lookup LookupIPFunc) error {
	return checkDestination(ctx, rawURL, lookup, guardian)
}

func checkDestination(ctx context.Context, rawURL string, lookup LookupIPFunc, guardian *ssrf.Guardian) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Errorf(CodeInvalid, "url must be an absolute http or https URL")
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return Errorf(CodeInvalid, "url must not point at localhost: %s", publicOnly)
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if guardian.SafeAddr(addr) != nil {
			return Errorf(CodeInvalid, "url points at %s, a private or reserved address: %s", host, publicOnly)
		}
		return nil
	}
	if numericHost(host) {
		return Errorf(CodeInvalid, "url host %q is read as an IP address by some software; write IPv4 addresses as four decimal numbers (a.b.c.d)", host)
	}
	if lookup == nil || host == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs, err := lookup(ctx, host)
	if err != nil || len(addrs) == 0 {
		return nil
	}
	for _, a := range addrs {
		if guardian.SafeAddr(a) == nil {
			return nil
		}
	}
	return Errorf(CodeInvalid, "url host %s resolves only to private or reserved addresses: %s", host, publicOnly)
}

// numericHost reports whether a host that is not a canonical IP address
// ends in a numeric label (decimal, or hex with 0x), which URL parsers that
// follow the WHATWG URL standard or inet_aton read as an IPv4 address
// (2130706433, 0x7f.1, 127.1, 0177.0.0.1).
func numericHost(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	digits := last
	if rest, ok := strings.CutPrefix(last, "0x"); ok {
		digits = rest
		for _, r := range digits {
			if !strings.ContainsRune("0123456789abcdef", r) {
				return false
			}
		}
		return true
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
