// Package tcpproxy forwards TCP connections to a server until cut: the
// fault tests and the soak put one between hookd and PostgreSQL or Redis
// to make them unreachable at will while their data stays.
package tcpproxy

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"time"
)

// Proxy forwards connections on its own loopback address to a target.
type Proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cuts   int // outages under way; down while > 0
	conns  map[net.Conn]bool
}

// Start forwards to target (host:port) until Close.
func Start(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(conn)
		}
	}()
	return p, nil
}

// ForURL starts a proxy to the host of rawURL and returns the URL through
// it; defaultPort is used when the URL names none.
func ForURL(rawURL, defaultPort string) (*Proxy, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", err
	}
	if u.Hostname() == "" {
		return nil, "", fmt.Errorf("%s names no host to proxy", u.Redacted())
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), defaultPort)
	}
	p, err := Start(target)
	if err != nil {
		return nil, "", err
	}
	u.Host = p.Addr()
	return p, u.String(), nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

func (p *Proxy) serve(conn net.Conn) {
	p.mu.Lock()
	down := p.cuts > 0
	p.mu.Unlock()
	if down {
		_ = conn.Close()
		return
	}
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		_ = conn.Close()
		return
	}
	p.mu.Lock()
	if p.cuts > 0 { // cut while dialling
		p.mu.Unlock()
		_ = conn.Close()
		_ = up.Close()
		return
	}
	p.conns[conn], p.conns[up] = true, true
	p.mu.Unlock()
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
		p.mu.Lock()
		delete(p.conns, dst)
		delete(p.conns, src)
		p.mu.Unlock()
	}
	go pipe(up, conn)
	go pipe(conn, up)
}

// Cut closes every connection and refuses new ones until Restore. Cuts
// nest: the proxy is up again once each has been restored.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cuts++
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

// Restore ends a Cut.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cuts--
}

// Close stops the proxy and its connections.
func (p *Proxy) Close() {
	_ = p.ln.Close()
	p.Cut()
}
