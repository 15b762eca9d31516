package embedredis_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"hookd.dev/hookd/dispatcher/embedredis"
)

func TestOnlyClientsWithThePasswordGetIn(t *testing.T) {
	t.Parallel()
	srv, err := embedredis.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	ctx := context.Background()

	stranger := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = stranger.Close() })
	if err := stranger.Set(ctx, "k", "v", 0).Err(); err == nil {
		t.Fatal("a client without the password wrote a key")
	}
	if err := stranger.FlushAll(ctx).Err(); err == nil {
		t.Fatal("a client without the password flushed the server")
	}
	wrong := redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: "guess"})
	t.Cleanup(func() { _ = wrong.Close() })
	if err := wrong.Ping(ctx).Err(); err == nil {
		t.Fatal("a wrong password got in")
	}

	opt, err := redis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if opt.Password != srv.Password() || len(srv.Password()) < 20 {
		t.Fatalf("URL %q does not carry a strong password", srv.URL())
	}
	owner := redis.NewClient(opt)
	t.Cleanup(func() { _ = owner.Close() })
	if err := owner.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("the URL's client: %v", err)
	}

	other, err := embedredis.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	if other.Password() == srv.Password() {
		t.Fatal("two servers share a password")
	}
}
