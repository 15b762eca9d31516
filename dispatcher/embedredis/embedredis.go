// Package embedredis runs an in-process Redis for hookd's embedded mode, so
// that `hookd serve` needs no Redis server. It keeps nothing across restarts,
// which is safe because the database is the source of truth and the sweeper
// re-enqueues what was lost.
package embedredis

import (
	"crypto/rand"
	"net/url"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// tick is how often the in-process Redis clock follows the wall clock.
const tick = 100 * time.Millisecond

// Server is an in-process Redis listening on a loopback port. Its port is
// open to every local user, so it requires a random password.
type Server struct {
	mr       *miniredis.Miniredis
	password string
	stop     chan struct{}
	done     sync.WaitGroup
}

// Start listens on a free loopback port, with a fresh random password.
func Start() (*Server, error) {
	mr := miniredis.NewMiniRedis()
	password := rand.Text()
	// Before Start, so that no command is ever served without the password.
	mr.RequireAuth(password)
	if err := mr.Start(); err != nil {
		return nil, err
	}
	s := &Server{mr: mr, password: password, stop: make(chan struct{})}
	// miniredis expires keys only when told time has passed; asynq relies on
	// expiring keys (leases, server heartbeats), so advance it with the wall clock.
	s.done.Go(func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-s.stop:
				return
			case now := <-t.C:
				mr.FastForward(now.Sub(last))
				last = now
			}
		}
	})
	return s, nil
}

// Addr is the host:port to connect to.
func (s *Server) Addr() string { return s.mr.Addr() }

// Password is what clients must AUTH with.
func (s *Server) Password() string { return s.password }

// URL is a redis:// URL with the address and the password.
func (s *Server) URL() string {
	return (&url.URL{Scheme: "redis", User: url.UserPassword("", s.password), Host: s.Addr()}).String()
}

// Close stops the server.
func (s *Server) Close() {
	close(s.stop)
	s.done.Wait()
	s.mr.Close()
}

// FlushAll empties the server, as a Redis restart would (for tests).
func (s *Server) FlushAll() { s.mr.FlushAll() }
