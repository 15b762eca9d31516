package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The production topologies of Redis: a master watched by Sentinel, and a
// Cluster, each run by the test with Debian's redis-server. hookd api and
// hookd worker deliver through them, and the per-endpoint and API limits
// (Lua scripts and keys of their own) work there too.

// redisServerPath finds redis-server: skipped without it, but not in CI,
// which installs it.
func redisServerPath(t *testing.T) string {
	p, err := exec.LookPath("redis-server")
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI needs redis-server for the Sentinel and Cluster tests (apt-get install redis-server)")
	}
	t.Skip("no redis-server on this machine: install Debian's redis-server package to run this test")
	return ""
}

// startRedisServer runs redis-server with args on a free port until the
// test ends, and returns the port once it answers.
func startRedisServer(t *testing.T, bin string, args ...string) string {
	t.Helper()
	port := freePort(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, append(args, "--port", port, "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no")...)
	cmd.Stdout, cmd.Stderr = &syncWriter{}, &syncWriter{}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port})
	defer rdb.Close()
	eventually(t, 10*time.Second, "redis-server on "+port, func() bool { return rdb.Ping(context.Background()).Err() == nil })
	return port
}

// deliversAndLimits runs api and worker on env's Redis and checks that
// deliveries go through once each, and that a tenant key over the API's
// rate limit is refused (redis_rate's key on that Redis).
func deliversAndLimits(t *testing.T, env map[string]string, then func()) {
	t.Helper()
	env["HOOKD_API_RATE_LIMIT"] = "2" // burst 4
	apiProc := start(t, "api", env)
	start(t, "worker", env)
	c := newClient(t, apiProc, testAdminKey)
	r := newReceiver(t, nil)
	setupTenant(c, r)
	emit := func(n int) {
		for range n {
			c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": map[string]any{}}, nil)
		}
	}
	delivered := func(n int) {
		eventually(t, 30*time.Second, fmt.Sprintf("%d messages delivered", n), func() bool {
			got, _ := r.snapshot()
			return len(got) == n
		})
	}
	emit(5)
	delivered(5)
	if then != nil {
		then()
		emit(5)
		delivered(10)
	}
	got, bad := r.snapshot()
	for id, n := range got {
		if n != 1 {
			t.Errorf("message %s received %d times, want once", id, n)
		}
	}
	if bad != 0 {
		t.Errorf("%d requests with a bad signature", bad)
	}
	var key struct{ Key string }
	c.must(201, "POST", "/v1/tenants/acme/api-keys", nil, &key)
	tenant := newClient(t, apiProc, key.Key)
	statuses := map[int]int{}
	for range 8 {
		statuses[tenant.do("GET", "/v1/tenants/acme/endpoints", nil, nil)]++
	}
	if statuses[200] < 4 || statuses[429] < 3 {
		t.Errorf("a tenant key over the API's rate limit: statuses %v, want the burst of 4 through and 429s", statuses)
	}
}

func TestDeliveriesThroughSentinelAndAFailover(t *testing.T) {
	t.Parallel()
	bin := redisServerPath(t)
	master := startRedisServer(t, bin)
	replica := startRedisServer(t, bin, "--replicaof", "127.0.0.1", master)
	conf := filepath.Join(t.TempDir(), "sentinel.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, "sentinel monitor main 127.0.0.1 %s 1\nsentinel down-after-milliseconds main 1000\nsentinel failover-timeout main 3000\n", master), 0o600); err != nil {
		t.Fatal(err)
	}
	sentinelPort := startRedisServer(t, bin, conf, "--sentinel")
	sentinel := redis.NewSentinelClient(&redis.Options{Addr: "127.0.0.1:" + sentinelPort})
	defer sentinel.Close()
	ctx := context.Background()
	// Sentinel learns of the replica from the master's INFO, every 10 s.
	eventually(t, 20*time.Second, "Sentinel to know the replica", func() bool {
		replicas, err := sentinel.Replicas(ctx, "main").Result()
		return err == nil && len(replicas) == 1 && strings.Contains(fmt.Sprint(replicas), "master-link-status:ok")
	})

	env := backends(t)
	env["HOOKD_REDIS_URL"] = "redis-sentinel://127.0.0.1:" + sentinelPort + "/0?master=main"
	deliversAndLimits(t, env, func() {
		if err := sentinel.Failover(ctx, "main").Err(); err != nil {
			t.Fatal(err)
		}
		eventually(t, 20*time.Second, "the replica to be the master", func() bool {
			addr, err := sentinel.GetMasterAddrByName(ctx, "main").Result()
			return err == nil && addr[1] == replica
		})
	})
}

func TestDeliveriesThroughARedisCluster(t *testing.T) {
	t.Parallel()
	bin := redisServerPath(t)
	var nodes []string
	for i := range 3 {
		port := startRedisServer(t, bin, "--cluster-enabled", "yes", "--cluster-node-timeout", "2000",
			"--cluster-config-file", fmt.Sprintf("nodes-%d.conf", i))
		nodes = append(nodes, "127.0.0.1:"+port)
	}
	create := exec.Command(filepath.Join(filepath.Dir(bin), "redis-cli"), append(append([]string{"--cluster", "create"}, nodes...), "--cluster-replicas", "0", "--cluster-yes")...)
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: nodes})
	defer cluster.Close()
	eventually(t, 20*time.Second, "the cluster to be ok", func() bool {
		info, err := cluster.ClusterInfo(context.Background()).Result()
		return err == nil && strings.Contains(info, "cluster_state:ok")
	})

	env := backends(t)
	env["HOOKD_REDIS_URL"] = "redis-cluster://" + strings.Join(nodes, ",")
	deliversAndLimits(t, env, nil)
}
