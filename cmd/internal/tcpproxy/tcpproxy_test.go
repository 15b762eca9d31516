package tcpproxy

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// echoServer answers each line with the same line.
func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					_, _ = c.Write([]byte(line))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	_, err = bufio.NewReader(c).ReadString('\n')
	return err
}

func TestCutDropsAndRefusesUntilRestored(t *testing.T) {
	p, err := Start(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := roundTrip(p.Addr()); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	held, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	time.Sleep(50 * time.Millisecond) // the proxy has dialled the server for it

	p.Cut()
	p.Cut() // two outages at once
	_ = held.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := held.Read(make([]byte, 1)); err == nil {
		t.Fatal("a connection held across the cut still reads")
	}
	if err := roundTrip(p.Addr()); err == nil {
		t.Fatal("a new connection went through while cut")
	}
	p.Restore()
	if err := roundTrip(p.Addr()); err == nil {
		t.Fatal("up again while one of two cuts lasts")
	}
	p.Restore()
	if err := roundTrip(p.Addr()); err != nil {
		t.Fatalf("after restore: %v", err)
	}
}

func TestForURLKeepsAllButTheHost(t *testing.T) {
	p, u, err := ForURL("postgres://user:pw@db.internal/hookd?sslmode=disable", "5432")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if want := "postgres://user:pw@" + p.Addr() + "/hookd?sslmode=disable"; u != want || p.target != "db.internal:5432" {
		t.Fatalf("ForURL = %s to %s, want %s to db.internal:5432", u, p.target, want)
	}
}
