package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// TestSlowClientsAreCut: on every listener (API and UI, a worker's metrics,
// pprof), a request whose body never comes and an idle keep-alive connection
// are closed after the configured timeouts instead of being held forever.
func TestSlowClientsAreCut(t *testing.T) {
	t.Parallel()
	env := backends(t)
	env["HOOKD_HTTP_READ_TIMEOUT"] = "1s"
	env["HOOKD_HTTP_IDLE_TIMEOUT"] = "1s"
	env["HOOKD_PPROF_LISTEN"] = "127.0.0.1:" + freePort(t)
	api := start(t, "api", env)
	workerEnv := map[string]string{}
	for k, v := range env {
		workerEnv[k] = v
	}
	workerEnv["HOOKD_METRICS_LISTEN"] = "127.0.0.1:" + freePort(t)
	workerEnv["HOOKD_PPROF_LISTEN"] = ""
	start(t, "worker", workerEnv)
	eventually(t, 10*time.Second, "the worker's metrics listener", func() bool {
		resp, err := http.Get("http://" + workerEnv["HOOKD_METRICS_LISTEN"] + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})

	listeners := map[string]string{
		"api":     api.Addr(),
		"metrics": workerEnv["HOOKD_METRICS_LISTEN"],
		"pprof":   env["HOOKD_PPROF_LISTEN"],
	}
	for name, addr := range listeners {
		t.Run(name+"/body never sent", func(t *testing.T) {
			conn := dial(t, addr)
			_, _ = io.WriteString(conn, "POST /v1/tenants HTTP/1.1\r\nHost: hookd\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
			assertClosedWithin(t, conn, conn, 10*time.Second)
		})
		t.Run(name+"/idle keep-alive", func(t *testing.T) {
			conn := dial(t, addr)
			_, _ = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: hookd\r\n\r\n")
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			assertClosedWithin(t, br, conn, 10*time.Second)
		})
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// assertClosedWithin reads until the server closes the connection, and fails
// if it is still open after d.
func assertClosedWithin(t *testing.T, r io.Reader, conn net.Conn, d time.Duration) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, r)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the connection was still open after %s", d)
	}
}
