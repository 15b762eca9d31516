// Package pgserver runs a PostgreSQL of its own for the fault tests that
// restart it: the machine's server is shared by every test, and cutting
// its connections would fail the others. It uses the machine's PostgreSQL
// binaries (Debian's, in /usr/lib/postgresql/*/bin), as the postgres user
// when run as root, since initdb refuses root.
package pgserver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// Server is a running PostgreSQL cluster in a directory of its own.
type Server struct {
	URL string // postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable

	bin, dir, port string
	asUser         string // run the binaries as this user ("" : as ourselves)
}

// ErrNoPostgres means the machine has no PostgreSQL binaries.
var ErrNoPostgres = errors.New("no PostgreSQL binaries (/usr/lib/postgresql/*/bin/initdb)")

// Start makes a cluster in a new directory of the system's temporary one
// (which the postgres user can reach) and starts it on a free port of
// 127.0.0.1, with trust authentication; Stop stops it and removes the
// directory.
func Start() (*Server, error) {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		return nil, ErrNoPostgres
	}
	s := &Server{bin: filepath.Dir(bins[len(bins)-1])}
	dir, err := os.MkdirTemp("", "hookd-pgserver")
	if err != nil {
		return nil, err
	}
	s.dir = dir
	if os.Geteuid() == 0 {
		s.asUser = "postgres"
		u, err := user.Lookup(s.asUser)
		if err != nil {
			return nil, fmt.Errorf("initdb refuses root, and there is no postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	if s.port, err = freePort(); err != nil {
		return nil, err
	}
	if out, err := s.run("initdb", "-D", s.dir, "-U", "postgres", "--auth=trust", "--no-sync"); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	s.URL = "postgres://postgres@127.0.0.1:" + s.port + "/postgres?sslmode=disable"
	return s, s.Start()
}

// Start starts a stopped server and waits until it accepts connections.
func (s *Server) Start() error {
	opts := "-c listen_addresses=127.0.0.1 -c port=" + s.port + " -c unix_socket_directories=" + s.dir + " -c fsync=off"
	if out, err := s.run("pg_ctl", "-D", s.dir, "-o", opts, "-l", filepath.Join(s.dir, "log"), "-w", "start"); err != nil {
		return fmt.Errorf("pg_ctl start: %w\n%s", err, out)
	}
	return nil
}

// Restart restarts the server as `pg_ctlcluster … restart -m fast` does:
// every connection is cut and transactions in flight are rolled back.
func (s *Server) Restart() error {
	if out, err := s.run("pg_ctl", "-D", s.dir, "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	return s.Start()
}

// Stop stops the server and removes its directory.
func (s *Server) Stop() error {
	_, err := s.run("pg_ctl", "-D", s.dir, "-m", "immediate", "-w", "stop")
	return errors.Join(err, os.RemoveAll(s.dir))
}

func (s *Server) run(name string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if s.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.asUser, "--", path}, args...)...) //nolint:gosec // the machine's PostgreSQL binaries
	} else {
		cmd = exec.Command(path, args...) //nolint:gosec // the machine's PostgreSQL binaries
	}
	cmd.Dir = "/" // the postgres user may not read the caller's working directory
	out, err := cmd.CombinedOutput()
	return []byte(strings.TrimSpace(string(out))), err
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port, nil
}
