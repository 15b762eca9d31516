package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"hookd.dev/hookd/dispatcher"
)

// Config is everything hookd reads from its environment and flags. Flags
// override HOOKD_* variables; the defaults are in setting below and in the README.
type Config struct {
	Listen               string              // HOOKD_LISTEN: API address of serve and api
	MetricsListen        string              // HOOKD_METRICS_LISTEN: /metrics and /healthz of a worker
	PprofListen          string              // HOOKD_PPROF_LISTEN: Go's /debug/pprof, for profiling; empty = off
	CacheTTL             time.Duration       // HOOKD_CACHE_TTL: how long the hot path trusts keys, tenants, event types, endpoints
	HTTPReadTimeout      time.Duration       // HOOKD_HTTP_READ_TIMEOUT: a request, body included, on every listener
	HTTPWriteTimeout     time.Duration       // HOOKD_HTTP_WRITE_TIMEOUT: writing a response
	HTTPIdleTimeout      time.Duration       // HOOKD_HTTP_IDLE_TIMEOUT: a keep-alive connection between requests
	DatabaseURL          string              // HOOKD_DATABASE_URL: postgres://…; empty = SQLite in DataDir
	DataDir              string              // HOOKD_DATA_DIR: where the embedded mode keeps its SQLite file
	RedisURL             string              // HOOKD_REDIS_URL: redis://…; empty = in-process Redis (serve only)
	AdminKey             string              // HOOKD_ADMIN_KEY: an admin key; empty = generate one on first start
	SecretKey            string              // HOOKD_SECRET_KEY: base64 of 32 bytes; encrypts endpoint secrets at rest
	AllowPrivateNetworks bool                // HOOKD_ALLOW_PRIVATE_NETWORKS: deliver to loopback/private addresses
	AllowedNetworks      []netip.Prefix      // HOOKD_ALLOWED_NETWORKS: exceptions to the refusal of private addresses
	RetrySchedule        dispatcher.Schedule // HOOKD_RETRY_SCHEDULE: delays after the first attempt
	DeliveryTimeout      time.Duration       // HOOKD_DELIVERY_TIMEOUT: per attempt
	SweepInterval        time.Duration       // HOOKD_SWEEP_INTERVAL
	RotationGrace        time.Duration       // HOOKD_ROTATION_GRACE: how long a rotated-out secret still signs
	APIRateLimit         int                 // HOOKD_API_RATE_LIMIT: requests per second per tenant key; 0: none
	DisableAfter         time.Duration       // HOOKD_DISABLE_AFTER: disable an endpoint failing continuously this long
	Retention            time.Duration       // HOOKD_RETENTION: keep messages and attempts this long
	PurgeInterval        time.Duration       // HOOKD_PURGE_INTERVAL: how often old data is purged
	Concurrency          int                 // HOOKD_CONCURRENCY: deliveries handled at once per worker process
	EndpointConcurrency  int                 // HOOKD_ENDPOINT_CONCURRENCY: attempts in flight per endpoint, all workers
	Queue                string              // HOOKD_QUEUE: asynq queue name
	LogLevel             slog.Level          // HOOKD_LOG_LEVEL: debug, info, warn, error
	LogFormat            string              // HOOKD_LOG_FORMAT: text or json
	TrustedProxies       []netip.Prefix      // HOOKD_TRUSTED_PROXIES: proxies whose X-Forwarded-For names the client
}

// minAdminKeyLen is the shortest HOOKD_ADMIN_KEY hookd accepts: 32 characters
// of hex or base64 are at least 128 bits.
const minAdminKeyLen = 32

// setting is one configurable value: its variable, flag and default.
type setting struct {
	env, flag, def, usage string
	set                   func(c *Config, v string) error
}

var settings = []setting{
	{"HOOKD_LISTEN", "listen", ":8080", "address the API listens on (serve, api)",
		func(c *Config, v string) error { c.Listen = v; return nil }},
	{"HOOKD_METRICS_LISTEN", "metrics-listen", "", "address of a worker's /metrics and /healthz; empty: none (serve and api serve /metrics on the API)",
		func(c *Config, v string) error { c.MetricsListen = v; return nil }},
	{"HOOKD_PPROF_LISTEN", "pprof-listen", "", "address of Go's /debug/pprof profiles (keep it on loopback); empty: off",
		func(c *Config, v string) error { c.PprofListen = v; return nil }},
	{"HOOKD_CACHE_TTL", "cache-ttl", "1s", "how long a process trusts the keys, tenants, event types and endpoints it read; a change made through another process takes effect within it",
		func(c *Config, v string) (err error) { c.CacheTTL, err = positiveDuration(v); return err }},
	{"HOOKD_HTTP_READ_TIMEOUT", "http-read-timeout", "30s", "longest a client may take to send a request, body included (every listener)",
		func(c *Config, v string) (err error) { c.HTTPReadTimeout, err = positiveDuration(v); return err }},
	{"HOOKD_HTTP_WRITE_TIMEOUT", "http-write-timeout", "30s", "longest hookd takes to write a response before it drops the connection",
		func(c *Config, v string) (err error) { c.HTTPWriteTimeout, err = positiveDuration(v); return err }},
	{"HOOKD_HTTP_IDLE_TIMEOUT", "http-idle-timeout", "60s", "how long an idle keep-alive connection stays open",
		func(c *Config, v string) (err error) { c.HTTPIdleTimeout, err = positiveDuration(v); return err }},
	{"HOOKD_DATABASE_URL", "database-url", "", "PostgreSQL URL; empty: a SQLite file in the data dir",
		func(c *Config, v string) error { c.DatabaseURL = v; return nil }},
	{"HOOKD_DATA_DIR", "data-dir", "./data", "directory of the embedded SQLite database",
		func(c *Config, v string) error { c.DataDir = v; return nil }},
	{"HOOKD_REDIS_URL", "redis-url", "", "Redis URL (redis://, rediss://); empty: in-process Redis, serve only",
		func(c *Config, v string) error { c.RedisURL = v; return nil }},
	{"HOOKD_ALLOW_PRIVATE_NETWORKS", "allow-private-networks", "false", "deliver to loopback, private and link-local addresses",
		func(c *Config, v string) (err error) { c.AllowPrivateNetworks, err = strconv.ParseBool(v); return err }},
	{"HOOKD_ALLOWED_NETWORKS", "allowed-networks", "", "comma-separated addresses or CIDR prefixes that endpoints may use although private (an internal service)",
		func(c *Config, v string) (err error) { c.AllowedNetworks, err = parsePrefixes(v); return err }},
	{"HOOKD_RETRY_SCHEDULE", "retry-schedule", dispatcher.DefaultSchedule.String(), "comma-separated delays between attempts",
		func(c *Config, v string) (err error) { c.RetrySchedule, err = dispatcher.ParseSchedule(v); return err }},
	{"HOOKD_DELIVERY_TIMEOUT", "delivery-timeout", "15s", "timeout of one attempt, body included",
		func(c *Config, v string) (err error) { c.DeliveryTimeout, err = positiveDuration(v); return err }},
	{"HOOKD_SWEEP_INTERVAL", "sweep-interval", "5s", "how often lost or overdue deliveries are re-enqueued",
		func(c *Config, v string) (err error) { c.SweepInterval, err = positiveDuration(v); return err }},
	{"HOOKD_ROTATION_GRACE", "rotation-grace", "24h", "how long a rotated-out endpoint secret keeps signing",
		func(c *Config, v string) (err error) { c.RotationGrace, err = positiveDuration(v); return err }},
	{"HOOKD_API_RATE_LIMIT", "api-rate-limit", "100", "API requests per second per tenant key, burst twice that (0: no limit; admin keys are never limited)",
		func(c *Config, v string) (err error) {
			c.APIRateLimit, err = strconv.Atoi(v)
			if err == nil && c.APIRateLimit < 0 {
				err = fmt.Errorf("must be 0 or more")
			}
			return err
		}},
	{"HOOKD_DISABLE_AFTER", "disable-after", "120h", "disable an endpoint whose attempts have failed continuously this long",
		func(c *Config, v string) (err error) { c.DisableAfter, err = positiveDuration(v); return err }},
	{"HOOKD_RETENTION", "retention", "720h", "keep messages and attempts this long, then purge them",
		func(c *Config, v string) (err error) { c.Retention, err = positiveDuration(v); return err }},
	{"HOOKD_PURGE_INTERVAL", "purge-interval", "1h", "how often data past the retention is purged",
		func(c *Config, v string) (err error) { c.PurgeInterval, err = positiveDuration(v); return err }},
	{"HOOKD_CONCURRENCY", "concurrency", "200", "deliveries a worker process handles at once (sending, or waiting for a batch or an endpoint's slot)",
		func(c *Config, v string) (err error) { c.Concurrency, err = positiveInt(v); return err }},
	{"HOOKD_ENDPOINT_CONCURRENCY", "endpoint-concurrency", "10", "attempts in flight per endpoint across all workers, unless the endpoint sets max_concurrency",
		func(c *Config, v string) (err error) { c.EndpointConcurrency, err = positiveInt(v); return err }},
	{"HOOKD_QUEUE", "queue", dispatcher.DefaultQueue, "asynq queue name (to share one Redis between installations)",
		func(c *Config, v string) error { c.Queue = v; return nil }},
	{"HOOKD_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For names the client address; empty: none, the connection's address counts",
		func(c *Config, v string) (err error) { c.TrustedProxies, err = parsePrefixes(v); return err }},
	{"HOOKD_LOG_LEVEL", "log-level", "info", "debug, info, warn or error",
		func(c *Config, v string) error { return c.LogLevel.UnmarshalText([]byte(v)) }},
	{"HOOKD_LOG_FORMAT", "log-format", "text", "text or json",
		func(c *Config, v string) error {
			if v != "text" && v != "json" {
				return fmt.Errorf("must be text or json")
			}
			c.LogFormat = v
			return nil
		}},
}

// LoadConfig reads the environment, then the flags of a subcommand.
func LoadConfig(name string, args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("hookd "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, s := range settings {
		value := s.def
		if v := getenv(s.env); v != "" {
			value = v
		}
		if err := s.set(&c, value); err != nil {
			return c, fmt.Errorf("%s=%q: %w", s.env, value, err)
		}
		fs.Func(s.flag, s.usage+" ($"+s.env+", default "+quoteEmpty(s.def)+")", func(v string) error { return s.set(&c, v) })
	}
	// No flags for these: command lines are visible to every user.
	c.AdminKey = getenv("HOOKD_ADMIN_KEY")
	c.SecretKey = getenv("HOOKD_SECRET_KEY")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.AdminKey != "" && len(c.AdminKey) < minAdminKeyLen {
		return c, fmt.Errorf("HOOKD_ADMIN_KEY is %d characters; it must be at least %d, "+
			"since anyone who guesses it can do everything (make one with: openssl rand -hex 24)", len(c.AdminKey), minAdminKeyLen)
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return c, nil
}

func quoteEmpty(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

func positiveDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err == nil && d <= 0 {
		err = fmt.Errorf("must be positive")
	}
	return d, err
}

// parsePrefixes reads "10.0.0.1, 192.168.0.0/16"; an address alone is itself.
func parsePrefixes(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if a, err := netip.ParseAddr(part); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR", part)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func positiveInt(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err == nil && n <= 0 {
		err = fmt.Errorf("must be positive")
	}
	return n, err
}
