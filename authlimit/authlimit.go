// Package authlimit slows the guessing of API keys. It counts failed
// authentications per client address; an address that failed too often has
// its further failures answered "wait" until it has waited. Callers check
// the key first: a valid key is never counted, delayed or refused, since an
// address may be shared by the app and whoever else.
//
// The counts live in the process: each hookd process counts on its own, and
// a restart forgets them. Memory is bounded: past MaxAddresses, the
// addresses that have earned back all their tries are forgotten first, then
// the longest unseen.
package authlimit

import (
	"math"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// Config sets the limit.
type Config struct {
	// Failures is how many failures in a row an address may make before it
	// must wait (default 10).
	Failures int
	// Refill is how long an address waits to earn back one try (default 30s).
	Refill time.Duration
	// MaxAddresses bounds the addresses remembered (default 10,000).
	MaxAddresses int
}

// Limiter counts failures per address. It is safe for concurrent use.
type Limiter struct {
	cfg   Config
	mu    sync.Mutex
	addrs map[string]*entry
}

type entry struct {
	tries *rate.Limiter // a token per allowed failure
	seen  time.Time
}

// New returns a Limiter; zero fields of cfg take their defaults.
func New(cfg Config) *Limiter {
	if cfg.Failures <= 0 {
		cfg.Failures = 10
	}
	if cfg.Refill <= 0 {
		cfg.Refill = 30 * time.Second
	}
	if cfg.MaxAddresses <= 0 {
		cfg.MaxAddresses = 10_000
	}
	return &Limiter{cfg: cfg, addrs: map[string]*entry{}}
}

// RetryAfter reports how long addr must wait before its failures count as
// tries again; 0 means it has tries left.
func (l *Limiter) RetryAfter(addr string) time.Duration {
	key := keyOf(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.addrs[key]
	if !ok {
		return 0
	}
	now := time.Now()
	tokens := e.tries.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - tokens) * float64(l.cfg.Refill)))
}

// Fail records a failed authentication from addr.
func (l *Limiter) Fail(addr string) {
	key := keyOf(addr)
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.addrs[key]
	if !ok {
		if len(l.addrs) >= l.cfg.MaxAddresses {
			l.evict(now)
		}
		e = &entry{tries: rate.NewLimiter(rate.Every(l.cfg.Refill), l.cfg.Failures)}
		l.addrs[key] = e
	}
	e.seen = now
	e.tries.AllowN(now, 1)
}

// Len is the number of addresses remembered.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.addrs)
}

// evict makes room: first the addresses back to all their tries, which
// lose nothing by being forgotten, else the longest unseen one.
func (l *Limiter) evict(now time.Time) {
	var oldest string
	for k, e := range l.addrs {
		if e.tries.TokensAt(now) >= float64(l.cfg.Failures) {
			delete(l.addrs, k)
		} else if oldest == "" || e.seen.Before(l.addrs[oldest].seen) {
			oldest = k
		}
	}
	if len(l.addrs) >= l.cfg.MaxAddresses && oldest != "" {
		delete(l.addrs, oldest)
	}
}

// keyOf groups IPv6 addresses by /64, the block one host usually gets, so
// that a host cannot escape the limit by changing address.
func keyOf(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// IPExtractor tells echo the client address to count: the connection's,
// unless it comes from one of the trusted proxies, whose X-Forwarded-For is
// then read (from the right, past trusted proxies only). The header is never
// trusted by default, since any client can send it.
func IPExtractor(trustedProxies []netip.Prefix) echo.IPExtractor {
	if len(trustedProxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trustedProxies {
		p = p.Masked()
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
