package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"

	"hookd.dev/hookd/dispatcher"
	"hookd.dev/hookd/models"
)

// Config is everything hookd reads from its flags, environment and config
// file: flags override HOOKD_* variables, which override the file; the
// defaults are in settings below and in the README.
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
	EndpointBounds       models.EndpointBounds
	// HOOKD_MAX_ENDPOINT_TIMEOUT, HOOKD_MAX_ENDPOINT_RETRIES, HOOKD_MAX_ENDPOINT_RETRY_DELAY:
	// what an endpoint may choose for itself (MaxTimeout 0: DeliveryTimeout)
	// HOOKD_MAX_ENDPOINT_CONCURRENCY, HOOKD_MAX_ENDPOINTS_PER_TENANT: what an endpoint's
	// max_concurrency may ask for, and how many endpoints a tenant may have
	ManualDeliveries     int            // HOOKD_TENANT_MANUAL_DELIVERIES: deliveries a tenant may make by hand an hour; 0: no bound
	MaxPayloadDepth      int            // HOOKD_MAX_PAYLOAD_DEPTH: how deeply a payload may nest
	SweepInterval        time.Duration  // HOOKD_SWEEP_INTERVAL
	RotationGrace        time.Duration  // HOOKD_ROTATION_GRACE: how long a rotated-out secret still signs
	APIRateLimit         int            // HOOKD_API_RATE_LIMIT: requests per second per tenant key; 0: none
	DisableAfter         time.Duration  // HOOKD_DISABLE_AFTER: disable an endpoint failing continuously this long
	Retention            time.Duration  // HOOKD_RETENTION: keep messages and attempts this long
	PurgeInterval        time.Duration  // HOOKD_PURGE_INTERVAL: how often old data is purged
	Concurrency          int            // HOOKD_CONCURRENCY: deliveries handled at once per worker process
	EndpointConcurrency  int            // HOOKD_ENDPOINT_CONCURRENCY: attempts in flight per endpoint, all workers
	TenantConcurrency    int            // HOOKD_TENANT_CONCURRENCY: attempts in flight per tenant and pool of a worker process; 0: half of Concurrency
	Queue                string         // HOOKD_QUEUE: asynq queue name
	LogLevel             slog.Level     // HOOKD_LOG_LEVEL: debug, info, warn, error
	LogFormat            string         // HOOKD_LOG_FORMAT: text or json
	TrustedProxies       []netip.Prefix // HOOKD_TRUSTED_PROXIES: proxies whose X-Forwarded-For names the client
	PublicURL            string         // HOOKD_PUBLIC_URL: where browsers reach hookd, for portal links; empty = the request's origin
	PortalFrameAncestors []string       // HOOKD_PORTAL_FRAME_ANCESTORS: origins that may show the portal in an iframe; empty = none
}

// minAdminKeyLen is the shortest HOOKD_ADMIN_KEY hookd accepts: 32 characters
// of hex or base64 are at least 128 bits.
const minAdminKeyLen = 32

// setting is one configurable value: its variable, its flag (also its key
// in a config file), its default, and the commands that take the flag.
type setting struct {
	env, flag, def, usage string
	set                   func(c *Config, v string) error
	// modes are the commands that take the flag. None: a secret, read only
	// from the environment or the file (a command line is visible to every
	// user), and masked by hookd config.
	modes []string
}

func (s setting) secret() bool { return s.modes == nil }

// isBool: the flag needs no value (--allow-private-networks).
func (s setting) isBool() bool { return s.def == "true" || s.def == "false" }

// The commands that run with a configuration, and which settings each takes.
const (
	modeServe          = "serve"
	modeAPI            = "api"
	modeWorker         = "worker"
	modeMigrate        = "migrate"
	modeCreateAdminKey = "admin-key create"
	modePurge          = "purge"
)

var (
	allModes     = []string{modeServe, modeAPI, modeWorker, modeMigrate, modeCreateAdminKey, modePurge}
	runningModes = []string{modeServe, modeAPI, modeWorker}
	apiModes     = []string{modeServe, modeAPI}
	workerModes  = []string{modeServe, modeWorker}
	storeModes   = runningModes // the store's settings: caches, destinations
)

var settings = []setting{
	{"HOOKD_LISTEN", "listen", ":8080", "address the API listens on (serve, api)",
		func(c *Config, v string) error { c.Listen = v; return nil }, apiModes},
	{"HOOKD_METRICS_LISTEN", "metrics-listen", "", "address of a worker's /metrics and /healthz; empty: none (serve and api serve /metrics on the API)",
		func(c *Config, v string) error { c.MetricsListen = v; return nil }, []string{modeWorker}},
	{"HOOKD_PPROF_LISTEN", "pprof-listen", "", "address of Go's /debug/pprof profiles (keep it on loopback); empty: off",
		func(c *Config, v string) error { c.PprofListen = v; return nil }, runningModes},
	{"HOOKD_CACHE_TTL", "cache-ttl", "1s", "how long a process trusts the keys, tenants, event types and endpoints it read; a change made through another process takes effect within it",
		func(c *Config, v string) (err error) { c.CacheTTL, err = positiveDuration(v); return err }, storeModes},
	{"HOOKD_HTTP_READ_TIMEOUT", "http-read-timeout", "30s", "longest a client may take to send a request, body included (every listener)",
		func(c *Config, v string) (err error) { c.HTTPReadTimeout, err = positiveDuration(v); return err }, runningModes},
	{"HOOKD_HTTP_WRITE_TIMEOUT", "http-write-timeout", "30s", "longest hookd takes to write a response before it drops the connection",
		func(c *Config, v string) (err error) { c.HTTPWriteTimeout, err = positiveDuration(v); return err }, runningModes},
	{"HOOKD_HTTP_IDLE_TIMEOUT", "http-idle-timeout", "60s", "how long an idle keep-alive connection stays open",
		func(c *Config, v string) (err error) { c.HTTPIdleTimeout, err = positiveDuration(v); return err }, runningModes},
	{"HOOKD_DATABASE_URL", "database-url", "", "PostgreSQL URL; empty: a SQLite file in the data dir",
		func(c *Config, v string) error { c.DatabaseURL = v; return nil }, allModes},
	{"HOOKD_DATA_DIR", "data-dir", "./data", "directory of the embedded SQLite database",
		func(c *Config, v string) error { c.DataDir = v; return nil }, allModes},
	{"HOOKD_REDIS_URL", "redis-url", "", "Redis URL: redis:// (rediss:// over TLS), redis-sentinel://host:26379,…/db?master=NAME, or redis-cluster://host:port,…; empty: in-process Redis, serve only",
		func(c *Config, v string) error { c.RedisURL = v; return nil }, runningModes},
	{"HOOKD_ALLOW_PRIVATE_NETWORKS", "allow-private-networks", "false", "deliver to loopback, private and link-local addresses",
		func(c *Config, v string) (err error) { c.AllowPrivateNetworks, err = strconv.ParseBool(v); return err }, storeModes},
	{"HOOKD_ALLOWED_NETWORKS", "allowed-networks", "", "comma-separated addresses or CIDR prefixes that endpoints may use although private (an internal service)",
		func(c *Config, v string) (err error) { c.AllowedNetworks, err = parsePrefixes(v); return err }, storeModes},
	{"HOOKD_RETRY_SCHEDULE", "retry-schedule", dispatcher.DefaultSchedule.String(), "comma-separated delays between attempts",
		func(c *Config, v string) (err error) { c.RetrySchedule, err = dispatcher.ParseSchedule(v); return err }, workerModes},
	{"HOOKD_DELIVERY_TIMEOUT", "delivery-timeout", "15s", "timeout of one attempt, body included",
		func(c *Config, v string) (err error) { c.DeliveryTimeout, err = positiveDuration(v); return err }, runningModes},
	{"HOOKD_MAX_ENDPOINT_TIMEOUT", "max-endpoint-timeout", "", "the longest timeout an endpoint may set for itself (whole seconds); empty: HOOKD_DELIVERY_TIMEOUT. Claims last this long plus 15s, so a dead worker's deliveries wait that long",
		func(c *Config, v string) (err error) {
			if v != "" {
				c.EndpointBounds.MaxTimeout, err = wholeSeconds(v)
			}
			return err
		}, runningModes},
	{"HOOKD_MAX_ENDPOINT_RETRIES", "max-endpoint-retries", "20", "the most delays an endpoint's own retry schedule may hold",
		func(c *Config, v string) (err error) { c.EndpointBounds.MaxRetries, err = positiveInt(v); return err }, runningModes},
	{"HOOKD_MAX_ENDPOINT_RETRY_DELAY", "max-endpoint-retry-delay", "24h", "the longest delay in an endpoint's own retry schedule (whole seconds)",
		func(c *Config, v string) (err error) {
			c.EndpointBounds.MaxRetryDelay, err = wholeSeconds(v)
			return err
		}, runningModes},
	{"HOOKD_MAX_ENDPOINT_CONCURRENCY", "max-endpoint-concurrency", "100", "the largest max_concurrency an endpoint may set for itself",
		func(c *Config, v string) (err error) {
			c.EndpointBounds.MaxConcurrency, err = positiveInt(v)
			return err
		}, runningModes},
	{"HOOKD_MAX_ENDPOINTS_PER_TENANT", "max-endpoints-per-tenant", "100", "the most endpoints one tenant may have",
		func(c *Config, v string) (err error) { c.EndpointBounds.MaxPerTenant, err = positiveInt(v); return err }, storeModes},
	{"HOOKD_TENANT_MANUAL_DELIVERIES", "tenant-manual-deliveries", "10000", "deliveries a tenant may make by hand an hour, with its key or its portal (replays, resends, recovers, test sends, retries); 0: no bound",
		func(c *Config, v string) (err error) {
			c.ManualDeliveries, err = strconv.Atoi(v)
			if err == nil && c.ManualDeliveries < 0 {
				err = fmt.Errorf("must be 0 or more")
			}
			return err
		}, apiModes},
	{"HOOKD_MAX_PAYLOAD_DEPTH", "max-payload-depth", "100", "how deeply an emitted payload's objects and arrays may nest (1–1000)",
		func(c *Config, v string) (err error) {
			c.MaxPayloadDepth, err = positiveInt(v)
			if err == nil && c.MaxPayloadDepth > 1000 {
				err = fmt.Errorf("must be at most 1000: Python's JSON parser fails past about 1,000 levels")
			}
			return err
		}, apiModes},
	{"HOOKD_SWEEP_INTERVAL", "sweep-interval", "5s", "how often lost or overdue deliveries are re-enqueued",
		func(c *Config, v string) (err error) { c.SweepInterval, err = positiveDuration(v); return err }, workerModes},
	{"HOOKD_ROTATION_GRACE", "rotation-grace", "24h", "how long a rotated-out endpoint secret keeps signing",
		func(c *Config, v string) (err error) { c.RotationGrace, err = positiveDuration(v); return err }, apiModes},
	{"HOOKD_API_RATE_LIMIT", "api-rate-limit", "100", "API requests per second per tenant key, burst twice that (0: no limit; admin keys are never limited)",
		func(c *Config, v string) (err error) {
			c.APIRateLimit, err = strconv.Atoi(v)
			if err == nil && c.APIRateLimit < 0 {
				err = fmt.Errorf("must be 0 or more")
			}
			return err
		}, apiModes},
	{"HOOKD_DISABLE_AFTER", "disable-after", "120h", "disable an endpoint whose attempts have failed continuously this long",
		func(c *Config, v string) (err error) { c.DisableAfter, err = positiveDuration(v); return err }, workerModes},
	{"HOOKD_RETENTION", "retention", "720h", "keep messages and attempts this long, then purge them",
		func(c *Config, v string) (err error) { c.Retention, err = positiveDuration(v); return err }, []string{modeServe, modeWorker, modePurge}},
	{"HOOKD_PURGE_INTERVAL", "purge-interval", "1h", "how often data past the retention is purged",
		func(c *Config, v string) (err error) { c.PurgeInterval, err = positiveDuration(v); return err }, workerModes},
	{"HOOKD_CONCURRENCY", "concurrency", "200", "deliveries a worker process handles at once (sending, or waiting for a batch or an endpoint's slot)",
		func(c *Config, v string) (err error) { c.Concurrency, err = positiveInt(v); return err }, workerModes},
	{"HOOKD_ENDPOINT_CONCURRENCY", "endpoint-concurrency", "10", "attempts in flight per endpoint across all workers, unless the endpoint sets max_concurrency",
		func(c *Config, v string) (err error) { c.EndpointConcurrency, err = positiveInt(v); return err }, workerModes},
	{"HOOKD_TENANT_CONCURRENCY", "tenant-concurrency", "", "attempts one tenant may have in flight in a worker process (in each of its two pools of HOOKD_CONCURRENCY, the queue's and the local hand-off's); empty: half of HOOKD_CONCURRENCY, so that a tenant's slow endpoints leave the other half to the others",
		func(c *Config, v string) (err error) {
			if v != "" {
				c.TenantConcurrency, err = positiveInt(v)
			}
			return err
		}, workerModes},
	{"HOOKD_QUEUE", "queue", dispatcher.DefaultQueue, "asynq queue name (to share one Redis between installations)",
		func(c *Config, v string) error { c.Queue = v; return nil }, runningModes},
	{"HOOKD_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For names the client address; empty: none, the connection's address counts",
		func(c *Config, v string) (err error) { c.TrustedProxies, err = parsePrefixes(v); return err }, apiModes},
	{"HOOKD_PUBLIC_URL", "public-url", "", "the URL browsers reach hookd at (https://hooks.example.com), the base of tenant portal links; empty: the origin of the request that asks for the link",
		func(c *Config, v string) (err error) { c.PublicURL, err = parsePublicURL(v); return err }, apiModes},
	{"HOOKD_PORTAL_FRAME_ANCESTORS", "portal-frame-ancestors", "", "comma-separated origins that may show the tenant portal in an iframe (https://app.example.com, https://*.example.com, 'self'); empty: none, the portal cannot be framed",
		func(c *Config, v string) (err error) {
			c.PortalFrameAncestors, err = parseFrameAncestors(v)
			return err
		}, apiModes},
	{"HOOKD_LOG_LEVEL", "log-level", "info", "debug, info, warn or error",
		func(c *Config, v string) error { return c.LogLevel.UnmarshalText([]byte(v)) }, allModes},
	{"HOOKD_LOG_FORMAT", "log-format", "text", "text or json",
		func(c *Config, v string) error {
			if v != "text" && v != "json" {
				return fmt.Errorf("must be text or json")
			}
			c.LogFormat = v
			return nil
		}, allModes},
	{"HOOKD_ADMIN_KEY", "admin-key", "", "an admin API key (at least 32 characters); empty: one is generated on first start and printed",
		func(c *Config, v string) error {
			if v != "" && len(v) < minAdminKeyLen {
				return fmt.Errorf("it is %d characters; it must be at least %d, since anyone who guesses it can do everything "+
					"(make one with: openssl rand -hex 24)", len(v), minAdminKeyLen)
			}
			c.AdminKey = v
			return nil
		}, nil},
	{"HOOKD_SECRET_KEY", "secret-key", "", "base64 of 32 random bytes that encrypts endpoint secrets at rest (openssl rand -base64 32)",
		func(c *Config, v string) error { c.SecretKey = v; return nil }, nil},
}

// LoadConfig reads the configuration of a command (serve, api, worker,
// migrate, admin-key create) from args, its flags, the environment and the
// config file named by --config or HOOKD_CONFIG.
func LoadConfig(mode string, args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	fs := pflag.NewFlagSet("hookd "+mode, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	addConfigFlag(fs)
	addSettingFlags(fs, mode)
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	c, _, err := loadConfig(fs, getenv)
	return c, err
}

// envConfig names the config file when --config does not.
const envConfig = "HOOKD_CONFIG"

func addConfigFlag(fs *pflag.FlagSet) {
	fs.String("config", "", "YAML file of settings, each named as its flag (listen: :8080); flags and HOOKD_* variables override it ($"+envConfig+")")
}

// addSettingFlags adds the flags of the settings a command takes ("" for
// every one that has a flag).
func addSettingFlags(fs *pflag.FlagSet, mode string) {
	for _, s := range settings {
		if s.secret() || mode != "" && !slices.Contains(s.modes, mode) {
			continue
		}
		usage := s.usage + " ($" + s.env + ")"
		if s.isBool() {
			fs.Bool(s.flag, s.def == "true", usage)
		} else {
			fs.String(s.flag, s.def, usage)
		}
	}
}

// origin says where a setting's value came from: "--listen",
// "HOOKD_LISTEN", the config file's path, or "default".
type origin string

// effective is a setting's value in effect and where it came from.
type effective struct {
	setting
	text string
	from origin
}

// loadConfig reads every setting from the flags set in fs, over the
// environment, over the config file, over the defaults (koanf merges them),
// and returns each value in effect with where it came from.
func loadConfig(fs *pflag.FlagSet, getenv func(string) string) (Config, []effective, error) {
	var c Config
	k := koanf.New(".")
	defaults := make(map[string]any, len(settings))
	for _, s := range settings {
		defaults[s.flag] = s.def
	}
	if err := k.Load(confmap.Provider(defaults, "."), nil); err != nil {
		return c, nil, err
	}
	path := getenv(envConfig)
	if f := fs.Lookup("config"); f != nil && f.Changed {
		path = f.Value.String()
	}
	inFile := map[string]bool{}
	if path != "" {
		fk := koanf.New(".")
		if err := fk.Load(file.Provider(path), yaml.Parser()); err != nil {
			return c, nil, fmt.Errorf("config file %s: %w", path, err)
		}
		for _, key := range fk.Keys() {
			if !slices.ContainsFunc(settings, func(s setting) bool { return s.flag == key }) {
				return c, nil, fmt.Errorf("config file %s: unknown setting %q (settings are named as their flags; hookd config lists them)", path, key)
			}
			inFile[key] = true
		}
		if err := k.Merge(fk); err != nil {
			return c, nil, err
		}
	}
	byEnv := map[string]string{}
	var environ []string
	for _, s := range settings {
		if v := getenv(s.env); v != "" {
			byEnv[s.env] = s.flag
			environ = append(environ, s.env+"="+v)
		}
	}
	fromEnv := env.Provider(".", env.Opt{
		EnvironFunc:   func() []string { return environ },
		TransformFunc: func(name, v string) (string, any) { return byEnv[name], v },
	})
	if err := k.Load(fromEnv, nil); err != nil {
		return c, nil, err
	}
	if err := k.Load(posflag.Provider(fs, ".", k), nil); err != nil {
		return c, nil, err
	}
	values := make([]effective, 0, len(settings))
	for _, s := range settings {
		o := origin("default")
		switch f := fs.Lookup(s.flag); {
		case f != nil && f.Changed:
			o = origin("--" + s.flag)
		case getenv(s.env) != "":
			o = origin(s.env)
		case inFile[s.flag]:
			o = origin(path)
		}
		v := settingText(k.Get(s.flag))
		if err := s.set(&c, v); err != nil {
			return c, nil, settingError(s, o, v, err)
		}
		values = append(values, effective{setting: s, text: v, from: o})
	}
	return c, values, nil
}

// settingText is a merged value as the settings parse it: a list from a
// YAML file is comma-separated, as in a variable.
func settingText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, ",")
	default:
		return fmt.Sprint(v)
	}
}

// settingError names the setting and where its value came from, and the
// value unless it is a secret.
func settingError(s setting, o origin, v string, err error) error {
	name, where := string(o), ""
	if o != origin(s.env) && !strings.HasPrefix(name, "--") {
		name, where = s.flag, " in "+string(o) // the config file
	}
	if s.secret() {
		return fmt.Errorf("%s%s: %w", name, where, err)
	}
	return fmt.Errorf("%s=%q%s: %w", name, v, where, err)
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

// wholeSeconds reads a positive duration of whole seconds ("90s", "2m").
func wholeSeconds(v string) (time.Duration, error) {
	d, err := positiveDuration(v)
	if err == nil && d%time.Second != 0 {
		err = fmt.Errorf("must be whole seconds")
	}
	return d, err
}

// endpointBounds are the bounds of endpoints' own timing, the timeout's
// defaulting to the delivery timeout.
func (c *Config) endpointBounds() models.EndpointBounds {
	b := c.EndpointBounds
	if b.MaxTimeout == 0 {
		b.MaxTimeout = c.DeliveryTimeout
	}
	return b.WithDefaults()
}

func positiveInt(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err == nil && n <= 0 {
		err = fmt.Errorf("must be positive")
	}
	return n, err
}

// parsePublicURL checks HOOKD_PUBLIC_URL: an absolute http or https URL, a
// path at most, returned without its trailing "/".
func parsePublicURL(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		return "", fmt.Errorf("not a URL: %w", err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Opaque != "":
		return "", fmt.Errorf("must be an absolute http:// or https:// URL, like https://hooks.example.com")
	case u.User != nil:
		return "", fmt.Errorf("must not hold a user or password")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(v, "#"):
		return "", fmt.Errorf("must have no query (?) or fragment (#): links are made by adding /portal/… to it")
	}
	return strings.TrimSuffix(v, "/"), nil
}

// frameAncestorHost is a host of a CSP frame-ancestors source: a name (its
// leftmost label possibly *) or an IPv4 address, or an IPv6 one in brackets.
var frameAncestorHost = regexp.MustCompile(`^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$|^\[[0-9A-Fa-f:.]+\]$`)

// parseFrameAncestors checks HOOKD_PORTAL_FRAME_ANCESTORS: 'self', or
// origins scheme://host[:port] of http or https, whose host may start with
// *. (any subdomain), as the portal's CSP frame-ancestors lists them.
func parseFrameAncestors(v string) ([]string, error) {
	var out []string
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if err := checkFrameAncestor(part); err != nil {
			return nil, fmt.Errorf("%q: %w", part, err)
		}
		out = append(out, strings.TrimSuffix(part, "/"))
	}
	return out, nil
}

func checkFrameAncestor(s string) error {
	const want = "want 'self' or an origin like https://app.example.com, https://*.example.com or http://localhost:3000"
	switch {
	case s == "'self'":
		return nil
	case s == "*" || strings.HasPrefix(s, "*:") || s == "https:" || s == "http:" || s == "https://*" || s == "http://*":
		return fmt.Errorf("any site could then frame the portal and trick the tenant into clicking in it (clickjacking); %s", want)
	case strings.ContainsAny(s, " \t'\";"):
		return fmt.Errorf("spaces, quotes and semicolons have no place in an origin (only 'self' is quoted); %s", want)
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || scheme != "http" && scheme != "https" {
		return fmt.Errorf("the scheme must be http:// or https://; %s", want)
	}
	rest = strings.TrimSuffix(rest, "/")
	if strings.ContainsAny(rest, "/?#@") {
		return fmt.Errorf("an origin has no path, query, fragment or user; %s", want)
	}
	host, port := rest, ""
	if i := strings.LastIndex(rest, ":"); i >= 0 && !strings.HasSuffix(rest, "]") {
		host, port = rest[:i], rest[i+1:]
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return fmt.Errorf("port %q is not a number from 1 to 65535; %s", port, want)
		}
	}
	if host == "*" || strings.HasPrefix(host, "*.") && !strings.Contains(host[2:], ".") {
		return fmt.Errorf("any site under a whole top-level domain could then frame the portal and trick the tenant into clicking in it (clickjacking); %s", want)
	}
	if !frameAncestorHost.MatchString(host) {
		return fmt.Errorf("%q is not a host name; %s", host, want)
	}
	return nil
}

// maskedValue is a setting's value with every credential a URL or a libpq
// key=value DSN may hold replaced by xxxxx, for hookd config: the password
// of the user info, and the parameters whose names say they are secret
// (password=, sentinel_password=, sslpassword=, …). It parses leniently
// rather than with net/url, which refuses the comma-separated hosts of
// redis-sentinel:// and redis-cluster:// and a password left unescaped.
func maskedValue(v string) string {
	masked, _ := maskCredentials(v)
	return masked
}

// maskCredentials is maskedValue, and the credentials it masked.
func maskCredentials(v string) (masked string, credentials []string) {
	scheme, rest, ok := strings.Cut(v, "://")
	if !ok {
		return maskDSN(v)
	}
	beforeQuery, query, hasQuery := strings.Cut(rest, "?")
	// The user info ends at the last @ before the query, whatever a
	// password left unescaped holds (@, /, #); an @ in a path, never seen in
	// these URLs, would only mask too much.
	if i := strings.LastIndex(beforeQuery, "@"); i >= 0 {
		if user, password, hasPassword := strings.Cut(beforeQuery[:i], ":"); hasPassword {
			beforeQuery = user + ":" + maskedText + beforeQuery[i:]
			credentials = append(credentials, password)
		}
	}
	if !hasQuery {
		return scheme + "://" + beforeQuery, credentials
	}
	query, fragment, hasFragment := strings.Cut(query, "#")
	params := strings.Split(query, "&")
	for i, p := range params {
		raw, value, _ := strings.Cut(p, "=")
		name, err := url.QueryUnescape(raw)
		if err != nil {
			name = raw
		}
		if isCredential(name) {
			params[i] = raw + "=" + maskedText
			credentials = append(credentials, value)
		}
	}
	masked = scheme + "://" + beforeQuery + "?" + strings.Join(params, "&")
	if hasFragment {
		masked += "#" + fragment
	}
	return masked, credentials
}

// maskedText replaces a credential, as url.URL.Redacted does.
const maskedText = "xxxxx"

// isCredential says whether a URL parameter or DSN keyword names a secret:
// libpq's password and sslpassword, Redis's sentinel_password, and whatever
// else speaks of a secret, a token or a key.
func isCredential(name string) bool {
	name = strings.ToLower(name)
	return strings.Contains(name, "password") || strings.Contains(name, "secret") ||
		strings.Contains(name, "token") || strings.Contains(name, "key")
}

// dsnPair is a keyword=value of a libpq DSN ("host=db password='a b'"): a
// value is quoted, with \' and \\ inside, or runs to the next space. A quote
// left open runs to the end, so that it is masked whole.
var dsnPair = regexp.MustCompile(`(?:^|\s)([A-Za-z_]+)\s*=\s*('(?:\\.|[^'\\])*'?|(?:\\.|[^\s\\])*\\?)`)

// maskDSN masks the credentials of a libpq key=value DSN.
func maskDSN(v string) (masked string, credentials []string) {
	var b strings.Builder
	last := 0
	for _, m := range dsnPair.FindAllStringSubmatchIndex(v, -1) {
		if isCredential(v[m[2]:m[3]]) {
			b.WriteString(v[last:m[4]])
			b.WriteString(maskedText)
			credentials = append(credentials, v[m[4]:m[5]])
			last = m[5]
		}
	}
	b.WriteString(v[last:])
	return b.String(), credentials
}

// scrubCredentials replaces in msg every credential of the URLs or DSNs,
// as written and unescaped: a library's error may quote a URL it could not
// parse (net/url does; pgx masks only the user info's password).
func scrubCredentials(msg string, urls ...string) string {
	for _, u := range urls {
		_, credentials := maskCredentials(u)
		for _, c := range credentials {
			forms := []string{c}
			if unescaped, err := url.QueryUnescape(c); err == nil {
				forms = append(forms, unescaped)
			}
			for _, f := range forms {
				if f != "" {
					msg = strings.ReplaceAll(msg, f, maskedText)
				}
			}
		}
	}
	return msg
}
