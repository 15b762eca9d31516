package redisserver

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestFlushRestartClose: a flush and a restart each leave the server empty
// and answering at the same URL.
func TestFlushRestartClose(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	opt, err := redis.ParseURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()
	for name, fault := range map[string]func() error{
		"flush":   func() error { s.Flush(); return nil },
		"restart": s.Restart,
	} {
		if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatalf("before the %s: %v", name, err)
		}
		if err := fault(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n, err := rdb.Exists(ctx, "k").Result(); err != nil || n != 0 {
			t.Fatalf("after the %s: the key exists %d times (%v)", name, n, err)
		}
	}
	s.Close()
	if rdb.Ping(ctx).Err() == nil {
		t.Fatal("it answers after Close")
	}
}
