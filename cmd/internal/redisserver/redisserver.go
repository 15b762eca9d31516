// Package redisserver runs a Redis that the fault tests and the soak may
// flush and restart: a real redis-server when the machine has one (its
// restart drops connections as a real outage does), else the in-process
// one, whose restart is a flush.
package redisserver

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"hookd.dev/hookd/dispatcher/embedredis"
)

// Server is a running Redis.
type Server struct {
	URL string // redis://127.0.0.1:PORT/0

	mu       sync.Mutex
	rdb      *redis.Client
	cmd      *exec.Cmd          // nil for the in-process one
	embedded *embedredis.Server // nil for redis-server
	start    func() (*exec.Cmd, error)
}

// startWithin bounds how long a redis-server may take to answer.
const startWithin = 5 * time.Second

// Start runs a Redis on a free port of 127.0.0.1; Close stops it.
func Start() (*Server, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		r, err := embedredis.Start()
		if err != nil {
			return nil, err
		}
		return &Server{URL: r.URL(), embedded: r}, nil
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "redis://127.0.0.1:" + port + "/0"}
	s.start = func() (*exec.Cmd, error) {
		cmd := exec.Command(path, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no") //nolint:gosec // redis-server from PATH
		return cmd, cmd.Start()
	}
	opt, err := redis.ParseURL(s.URL)
	if err != nil {
		return nil, err
	}
	s.rdb = redis.NewClient(opt)
	if s.cmd, err = s.start(); err != nil {
		return nil, err
	}
	if err := s.answers(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Flush empties every database.
func (s *Server) Flush() {
	if s.embedded != nil {
		s.embedded.FlushAll()
		return
	}
	s.rdb.FlushAll(context.Background())
}

// Restart kills redis-server and starts it again, empty, on the same port,
// and returns once it answers; the in-process Redis is flushed instead.
func (s *Server) Restart() error {
	if s.embedded != nil {
		s.embedded.FlushAll()
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	var err error
	if s.cmd, err = s.start(); err != nil {
		return err
	}
	return s.answers()
}

// Close stops the server.
func (s *Server) Close() {
	if s.embedded != nil {
		s.embedded.Close()
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.rdb.Close()
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// answers waits until redis-server answers a PING.
func (s *Server) answers() error {
	for deadline := time.Now().Add(startWithin); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if s.rdb.Ping(context.Background()).Err() == nil {
			return nil
		}
	}
	return errors.New("redis-server did not answer within " + startWithin.String())
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}
