package pgserver_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"hookd.dev/hookd/cmd/internal/pgserver"
)

// A server of its own answers, and a restart cuts the connections made
// before it, as a real restart of the machine's server does.
func TestARestartCutsConnections(t *testing.T) {
	s, err := pgserver.Start()
	if errors.Is(err, pgserver.ErrNoPostgres) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := conn.Ping(ctx); err == nil {
		t.Fatal("a connection from before the restart still answers")
	}
	again, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	_ = again.Close(ctx)
}
