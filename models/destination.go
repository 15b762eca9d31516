package models

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"code.dny.dev/ssrf"
	"golang.org/x/net/idna"
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
// taken out of them, whatever the port. As a net.Dialer's Control it needs
// no unmapping: the dialer connects to an IPv4-mapped address over IPv4 and
// hands Control the a.b.c.d form (TestTheDialTimeGuardReadsIPv4MappedAddressesAsIPv4);
// the registration check unmaps what it looks up itself.
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
// reserved address: a literal address in a blocked range (::ffff:a.b.c.d
// read as a.b.c.d), localhost and *.localhost, no host at all, a number that
// some software reads as an IPv4 address (http://2130706433), or a name
// whose addresses are all blocked. The host is read as HTTP clients dial it
// (see dialedHost: http://127。0。0。1/ is 127.0.0.1). lookup nil
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
	sent := u.Hostname() // the messages name the host as the client wrote it
	host, err := dialedHost(sent)
	if err != nil {
		return Errorf(CodeInvalid, "url host %q is not a valid internationalized domain name", sent)
	}
	if host == "" {
		return Errorf(CodeInvalid, "url must name a host (without one, HTTP clients connect to this machine): %s", publicOnly)
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return Errorf(CodeInvalid, "url must not point at localhost: %s", publicOnly)
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if guardian.SafeAddr(addr.Unmap()) != nil {
			return Errorf(CodeInvalid, "url points at %s, a private or reserved address: %s", sent, publicOnly)
		}
		return nil
	}
	if numericHost(host) {
		return Errorf(CodeInvalid, "url host %q is read as an IP address by some software; write IPv4 addresses as four decimal numbers (a.b.c.d)", sent)
	}
	if lookup == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs, err := lookup(ctx, host)
	if err != nil || len(addrs) == 0 {
		return nil
	}
	for _, a := range addrs {
		// The system resolver answers names from /etc/hosts as IPv4-mapped
		// IPv6 (::ffff:a.b.c.d), which the guardian would refuse whatever
		// a.b.c.d is; the dialer connects to a.b.c.d, so that is checked.
		if guardian.SafeAddr(a.Unmap()) == nil {
			return nil
		}
	}
	return Errorf(CodeInvalid, "url host %s resolves only to private or reserved addresses: %s", host, publicOnly)
}

// dialedHost returns a URL's host as HTTP clients connect to it: net/http
// maps a non-ASCII host with IDNA's lookup profile first, which turns
// full-width dots and letters into ASCII (127。0。0。1 is 127.0.0.1) and
// drops invisible ones (a zero-width space is nothing), and a name ignores
// case and a trailing dot. An error is a host net/http cannot send to.
func dialedHost(host string) (string, error) {
	if strings.ContainsFunc(host, func(r rune) bool { return r >= utf8.RuneSelf }) {
		mapped, err := idna.Lookup.ToASCII(host)
		if err != nil {
			return "", fmt.Errorf("map host by IDNA: %w", err)
		}
		host = mapped
	}
	return strings.TrimSuffix(strings.ToLower(host), "."), nil
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
