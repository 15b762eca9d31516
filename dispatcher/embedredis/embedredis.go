// Package embedredis runs an in-process Redis for hookd's embedded mode, so
// that `hookd serve` needs no Redis server. It keeps nothing across restarts,
// which is safe because the database is the source of truth and the sweeper
// re-enqueues what was lost.
package embedredis

import (
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// tick is how often the in-process Redis clock follows the wall clock.
const tick = 100 * time.Millisecond

// Server is an in-process Redis listening on a loopback port.
type Server struct {
	mr   *miniredis.Miniredis
	stop chan struct{}
	done sync.WaitGroup
}

// Start listens on a free loopback port.
func Start() (*Server, error) {
	mr, err := miniredis.Run()
	if err != nil {
		return nil, err
	}
	s := &Server{mr: mr, stop: make(chan struct{})}
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

// Close stops the server.
func (s *Server) Close() {
	close(s.stop)
	s.done.Wait()
	s.mr.Close()
}

// FlushAll empties the server, as a Redis restart would (for tests).
func (s *Server) FlushAll() { s.mr.FlushAll() }
