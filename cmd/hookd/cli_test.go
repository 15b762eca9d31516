package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// cliRun is one run of the command line, with a stand-in for the process.
type cliRun struct {
	code           int
	stdout, stderr string
	main           *Main // what the command would have run, if it got that far
}

func runCLI(t *testing.T, env map[string]string, args ...string) cliRun {
	t.Helper()
	return runCLIUntil(t, context.Background(), env, args...)
}

// runCLIUntil runs the command line until it ends or ctx does.
func runCLIUntil(t *testing.T, ctx context.Context, env map[string]string, args ...string) cliRun {
	t.Helper()
	var out, errOut bytes.Buffer
	var r cliRun
	c := &cli{
		getenv: func(k string) string { return env[k] },
		stdout: &out, stderr: &errOut,
		run: func(m *Main, _ context.Context) error { r.main = m; return nil },
	}
	r.code = c.execute(ctx, args)
	r.stdout, r.stderr = out.String(), errOut.String()
	return r
}

func TestHelpListsTheCommands(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {}} {
		r := runCLI(t, nil, args...)
		if r.code != 0 {
			t.Fatalf("hookd %v: exit %d, %s", args, r.code, r.stderr)
		}
		for _, cmd := range []string{"serve", "api", "worker", "migrate", "purge", "admin-key", "config", "version", "completion", "verify", "operational-endpoints", "portal"} {
			if !strings.Contains(r.stdout, "  "+cmd+" ") {
				t.Fatalf("hookd %v does not list %s:\n%s", args, cmd, r.stdout)
			}
		}
	}
}

func TestEachCommandListsItsOwnFlags(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args      []string
		has, lack []string
	}{
		{[]string{"migrate", "--help"}, []string{"--database-url", "--data-dir", "--log-level", "--config"}, []string{"--concurrency", "--listen", "--redis-url"}},
		{[]string{"worker", "-h"}, []string{"--metrics-listen", "--concurrency", "--redis-url"}, []string{"--listen ", "--trusted-proxies", "--api-rate-limit"}},
		{[]string{"api", "--help"}, []string{"--listen", "--trusted-proxies", "--api-rate-limit"}, []string{"--concurrency", "--metrics-listen", "--retry-schedule"}},
		{[]string{"serve", "--help"}, []string{"--listen", "--concurrency", "--allow-private-networks"}, []string{"--metrics-listen"}},
		{[]string{"admin-key", "create", "--help"}, []string{"--database-url"}, []string{"--listen"}},
		{[]string{"purge", "--help"}, []string{"--retention", "--database-url"}, []string{"--listen", "--concurrency"}},
	}
	for _, c := range cases {
		r := runCLI(t, nil, c.args...)
		if r.code != 0 || r.main != nil {
			t.Fatalf("hookd %v: exit %d, ran %v", c.args, r.code, r.main != nil)
		}
		for _, f := range c.has {
			if !strings.Contains(r.stdout, f) {
				t.Errorf("hookd %v lacks %s:\n%s", c.args, f, r.stdout)
			}
		}
		for _, f := range c.lack {
			if strings.Contains(r.stdout, f) {
				t.Errorf("hookd %v lists %s, which it does not take:\n%s", c.args, f, r.stdout)
			}
		}
	}
	// No flag for a secret: command lines are visible to every user.
	if r := runCLI(t, nil, "serve", "--admin-key", "hk_"+strings.Repeat("x", 40)); r.code != 2 || r.main != nil {
		t.Fatalf("--admin-key: exit %d, want 2 (no such flag)", r.code)
	}
}

func TestUnknownCommandsAndArgumentsAreUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"bogus"}, {"serve", "extra"}, {"serve", "--no-such-flag"}, {"serve", "--listen"}} {
		r := runCLI(t, nil, args...)
		if r.code != 2 || r.main != nil || !strings.Contains(r.stderr, "hookd --help") {
			t.Fatalf("hookd %v: exit %d, stderr %q; want exit 2 and a hint", args, r.code, r.stderr)
		}
	}
}

func TestBooleanFlagsNeedNoValue(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "serve", "--allow-private-networks", "--listen", "127.0.0.1:0")
	if r.code != 0 || !r.main.Config.AllowPrivateNetworks || r.main.Config.Listen != "127.0.0.1:0" || r.main.Mode != modeServe {
		t.Fatalf("exit %d, %s; config %+v", r.code, r.stderr, r.main)
	}
	r = runCLI(t, map[string]string{"HOOKD_ALLOW_PRIVATE_NETWORKS": "true"}, "serve", "--allow-private-networks=false")
	if r.code != 0 || r.main.Config.AllowPrivateNetworks {
		t.Fatalf("--allow-private-networks=false over the variable: exit %d, %+v", r.code, r.main)
	}
}

func writeConfigFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hookd.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFlagsOverVariablesOverTheConfigFile(t *testing.T) {
	t.Parallel()
	path := writeConfigFile(t, `
listen: 127.0.0.1:7000
concurrency: 7
log-level: debug
allowed-networks: [10.0.0.1, 192.168.0.0/16]
retry-schedule: [1s, 1m]
`)
	env := map[string]string{"HOOKD_CONCURRENCY": "8", "HOOKD_LOG_LEVEL": "warn"}
	r := runCLI(t, env, "serve", "--config", path, "--log-level", "error")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	c := r.main.Config
	if c.Listen != "127.0.0.1:7000" || c.Concurrency != 8 || c.LogLevel.String() != "ERROR" ||
		len(c.AllowedNetworks) != 2 || c.RetrySchedule.String() != "1s,1m" || c.DeliveryTimeout != 15*time.Second {
		t.Fatalf("listen %q (file), concurrency %d (variable), log level %s (flag), allowed %v and schedule %s (file), timeout %s (default)",
			c.Listen, c.Concurrency, c.LogLevel, c.AllowedNetworks, c.RetrySchedule, c.DeliveryTimeout)
	}
	// HOOKD_CONFIG names the file when --config does not.
	r = runCLI(t, map[string]string{envConfig: path}, "worker")
	if r.code != 0 || r.main.Config.Concurrency != 7 {
		t.Fatalf("HOOKD_CONFIG: exit %d, %s, %+v", r.code, r.stderr, r.main)
	}
}

func TestAFlagOverridesAnInvalidVariable(t *testing.T) {
	t.Parallel()
	env := map[string]string{"HOOKD_LOG_LEVEL": "loud"}
	if r := runCLI(t, env, "migrate", "--log-level", "warn"); r.code != 0 || r.main.Config.LogLevel.String() != "WARN" {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	r := runCLI(t, env, "migrate")
	if r.code != 2 || r.main != nil || !strings.Contains(r.stderr, `HOOKD_LOG_LEVEL="loud"`) {
		t.Fatalf("an invalid HOOKD_LOG_LEVEL: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestTheConfigFileIsChecked(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"lisen: :8080\n":       `unknown setting "lisen"`,
		"concurrency: many\n":  `concurrency="many" in `,
		"listen: [unclosed\n":  "config file",
		"secret-key: [a, b\n":  "config file",
		"admin-key: short\n":   "admin-key in ",
		"log-format: fancy\n":  `log-format="fancy"`,
		"database-url: {a: 1}": `unknown setting "database-url.a"`,
	}
	for text, want := range cases {
		r := runCLI(t, nil, "serve", "--config", writeConfigFile(t, text))
		if r.code != 2 || r.main != nil || !strings.Contains(r.stderr, want) {
			t.Errorf("config file %q: exit %d, stderr %q; want exit 2 and %q", text, r.code, r.stderr, want)
		}
		if strings.Contains(r.stderr, "short") {
			t.Errorf("the error shows the admin key: %q", r.stderr)
		}
	}
	if r := runCLI(t, nil, "serve", "--config", filepath.Join(t.TempDir(), "missing.yaml")); r.code != 2 {
		t.Fatalf("a missing config file: exit %d", r.code)
	}
}

func TestConfigPublicURL(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]string{
		"":                                 "",
		"https://hooks.example.com":        "https://hooks.example.com",
		"https://hooks.example.com/":       "https://hooks.example.com",
		"http://localhost:8080":            "http://localhost:8080",
		"https://example.com/hookd/":       "https://example.com/hookd",
		"https://[2001:db8::1]:8443/hookd": "https://[2001:db8::1]:8443/hookd",
	} {
		r := runCLI(t, map[string]string{"HOOKD_PUBLIC_URL": v}, "serve")
		if r.code != 0 || r.main.Config.PublicURL != want {
			t.Errorf("HOOKD_PUBLIC_URL=%q: exit %d, %s, public URL %+v; want %q", v, r.code, r.stderr, r.main, want)
		}
	}
	if r := runCLI(t, nil, "api", "--public-url", "https://hooks.example.com/"); r.code != 0 || r.main.Config.PublicURL != "https://hooks.example.com" {
		t.Fatalf("api --public-url: exit %d, %s", r.code, r.stderr)
	}
	for v, want := range map[string]string{
		"hooks.example.com":                 "absolute",
		"/hookd":                            "absolute",
		"ftp://hooks.example.com":           "http",
		"https://":                          "absolute",
		"https:hooks.example.com":           "absolute",
		"https://user:pw@hooks.example.com": "user",
		"https://hooks.example.com/?a=1":    "query",
		"https://hooks.example.com/?":       "query",
		"https://hooks.example.com/#top":    "fragment",
		"https://hooks.example.com/#":       "fragment",
		"https://hooks example.com":         "URL",
	} {
		r := runCLI(t, map[string]string{"HOOKD_PUBLIC_URL": v}, "serve")
		if r.code != 2 || r.main != nil || !strings.Contains(r.stderr, "HOOKD_PUBLIC_URL") || !strings.Contains(r.stderr, want) {
			t.Errorf("HOOKD_PUBLIC_URL=%q: exit %d, %q; want exit 2 and %q", v, r.code, r.stderr, want)
		}
	}
}

func TestConfigPortalFrameAncestors(t *testing.T) {
	t.Parallel()
	for v, want := range map[string][]string{
		"":                        nil,
		"https://app.example.com": {"https://app.example.com"},
		" https://app.example.com/ , 'self',http://localhost:3000, https://*.example.com,": {
			"https://app.example.com", "'self'", "http://localhost:3000", "https://*.example.com",
		},
		"https://127.0.0.1:8443,https://[::1]:8443": {"https://127.0.0.1:8443", "https://[::1]:8443"},
	} {
		r := runCLI(t, map[string]string{"HOOKD_PORTAL_FRAME_ANCESTORS": v}, "serve")
		if r.code != 0 || !slices.Equal(r.main.Config.PortalFrameAncestors, want) {
			t.Errorf("HOOKD_PORTAL_FRAME_ANCESTORS=%q: exit %d, %s, %+v; want %q", v, r.code, r.stderr, r.main, want)
		}
	}
	if r := runCLI(t, nil, "api", "--portal-frame-ancestors", "https://app.example.com"); r.code != 0 ||
		!slices.Equal(r.main.Config.PortalFrameAncestors, []string{"https://app.example.com"}) {
		t.Fatalf("api --portal-frame-ancestors: exit %d, %s", r.code, r.stderr)
	}
	for v, want := range map[string]string{
		"*":                                    "clickjacking",
		"https://app.example.com,*":            "clickjacking",
		"https:":                               "clickjacking",
		"https://*":                            "clickjacking",
		"https://*.com":                        "clickjacking",
		"'none'":                               "quotes",
		"self":                                 "scheme",
		"https://app.example.com 'self'":       "spaces",
		"https://app.example.com;script-src *": "semicolons",
		`"https://app.example.com"`:            "quotes",
		"app.example.com":                      "scheme",
		"ftp://app.example.com":                "scheme",
		"data:":                                "scheme",
		"https://app.example.com/embed":        "path",
		"https://app.example.com?x=1":          "query",
		"https://app.example.com#x":            "fragment",
		"https://user@app.example.com":         "user",
		"https://app.example.com:https":        "port",
		"https://app.example.com:70000":        "port",
		"https://app.*.example.com":            "host name",
		"https://app_1.example.com":            "host name",
		"https://":                             "host name",
	} {
		r := runCLI(t, map[string]string{"HOOKD_PORTAL_FRAME_ANCESTORS": v}, "serve")
		if r.code != 2 || r.main != nil || !strings.Contains(r.stderr, "HOOKD_PORTAL_FRAME_ANCESTORS") || !strings.Contains(r.stderr, want) {
			t.Errorf("HOOKD_PORTAL_FRAME_ANCESTORS=%q: exit %d, %q; want exit 2 and %q", v, r.code, r.stderr, want)
		}
	}
	// The error names the entry at fault, not only the whole value.
	r := runCLI(t, map[string]string{"HOOKD_PORTAL_FRAME_ANCESTORS": "https://app.example.com,https://evil.example.com/x"}, "serve")
	if !strings.Contains(r.stderr, `"https://evil.example.com/x": `) {
		t.Fatalf("the error does not name the bad entry: %q", r.stderr)
	}
}

func TestConfigShowsTheSettingsInEffectWithSecretsMasked(t *testing.T) {
	t.Parallel()
	adminKey := "hk_admin_" + strings.Repeat("s", 40)
	env := map[string]string{
		"HOOKD_ADMIN_KEY":    adminKey,
		"HOOKD_SECRET_KEY":   "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=",
		"HOOKD_DATABASE_URL": "postgres://hookd:dbpassword@db:5432/hookd",
		"HOOKD_REDIS_URL":    "redis://:redispassword@redis:6379/0",
	}
	r := runCLI(t, env, "config", "--concurrency", "9", "-o", "json")
	if r.code != 0 || r.main != nil {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, secret := range []string{adminKey, env["HOOKD_SECRET_KEY"], "dbpassword", "redispassword"} {
		if strings.Contains(r.stdout, secret) {
			t.Fatalf("hookd config shows %q:\n%s", secret, r.stdout)
		}
	}
	var shown []shownSetting
	if err := json.Unmarshal([]byte(r.stdout), &shown); err != nil {
		t.Fatal(err)
	}
	got := map[string]shownSetting{}
	for _, s := range shown {
		got[s.Name] = s
	}
	want := map[string]shownSetting{
		"concurrency":  {Name: "concurrency", Value: "9", From: "--concurrency", Variable: "HOOKD_CONCURRENCY"},
		"database-url": {Name: "database-url", Value: "postgres://hookd:xxxxx@db:5432/hookd", From: "HOOKD_DATABASE_URL", Variable: "HOOKD_DATABASE_URL"},
		"admin-key":    {Name: "admin-key", Value: "(set, masked)", From: "HOOKD_ADMIN_KEY", Variable: "HOOKD_ADMIN_KEY"},
		"listen":       {Name: "listen", Value: ":8080", From: "default", Variable: "HOOKD_LISTEN"},
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %+v, want %+v", name, got[name], w)
		}
	}
	if len(shown) != len(settings) {
		t.Errorf("hookd config shows %d settings, want all %d", len(shown), len(settings))
	}
	if r := runCLI(t, env, "config"); r.code != 0 || !strings.Contains(r.stdout, "SETTING") || !strings.Contains(r.stdout, "postgres://hookd:xxxxx@db") {
		t.Fatalf("hookd config (text): exit %d\n%s", r.code, r.stdout)
	}
}

func TestConfigMasksEveryCredentialInURLsAndDSNs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, variable, value, want string
	}{
		{"a Sentinel's password in the query", "HOOKD_REDIS_URL",
			"redis-sentinel://:pw1@s1:26379,s2:26379/0?master=mymaster&sentinel_password=pw2",
			"redis-sentinel://:xxxxx@s1:26379,s2:26379/0?master=mymaster&sentinel_password=xxxxx"},
		{"libpq's password in the query", "HOOKD_DATABASE_URL",
			"postgres://hookd@db/hookd?sslmode=require&password=pw1",
			"postgres://hookd@db/hookd?sslmode=require&password=xxxxx"},
		{"parameters naming a password, secret, token or key, in any case", "HOOKD_DATABASE_URL",
			"postgres://db/hookd?sslpassword=pw1&Client_Secret=pw2&AUTH_TOKEN=pw3&api%5Fkey=pw4&application_name=hookd",
			"postgres://db/hookd?sslpassword=xxxxx&Client_Secret=xxxxx&AUTH_TOKEN=xxxxx&api%5Fkey=xxxxx&application_name=hookd"},
		{"a password holding @, # and /", "HOOKD_DATABASE_URL",
			"postgres://hookd:p@w#1/pw@db/hookd",
			"postgres://hookd:xxxxx@db/hookd"},
		{"a key=value DSN", "HOOKD_DATABASE_URL",
			"host=db user=hookd password=pw1 sslpassword = 'pw2 \\' pw3' dbname=hookd",
			"host=db user=hookd password=xxxxx sslpassword = xxxxx dbname=hookd"},
		{"an unterminated quoted DSN password", "HOOKD_DATABASE_URL",
			"host=db password='pw1 pw2",
			"host=db password=xxxxx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{tt.variable: tt.value}
			r := runCLI(t, env, "config", "-o", "json")
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			var shown []shownSetting
			if err := json.Unmarshal([]byte(r.stdout), &shown); err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(shown, func(s shownSetting) bool { return s.Variable == tt.variable })
			if i < 0 || shown[i].Value != tt.want {
				t.Errorf("-o json shows %+v, want the value %q", shown[max(i, 0)], tt.want)
			}
			text := runCLI(t, env, "config")
			if text.code != 0 || !strings.Contains(text.stdout, tt.want) {
				t.Errorf("the text shows no %q:\n%s", tt.want, text.stdout)
			}
			for _, out := range []string{r.stdout, text.stdout} {
				if strings.Contains(out, "pw") {
					t.Errorf("hookd config shows a password:\n%s", out)
				}
			}
		})
	}
}

// A process that cannot start says why without the credentials of its
// URLs, which libraries quote when they cannot parse them.
func TestStartupErrorsShowNoCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, mode, variable, value string
	}{
		{"libpq's password in the query", "migrate", "HOOKD_DATABASE_URL", "postgres://db.invalid/hookd?password=pw1secret&sslmode=bogus"},
		{"a Redis URL that net/url refuses", "worker", "HOOKD_REDIS_URL", "redis://:pw1%zzsecret@redis.invalid:6379/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{tt.variable: tt.value, "HOOKD_DATA_DIR": t.TempDir()}
			var out, errOut bytes.Buffer
			c := &cli{getenv: func(k string) string { return env[k] }, stdout: &out, stderr: &errOut, run: (*Main).Run}
			if code := c.execute(context.Background(), []string{tt.mode}); code != 1 {
				t.Fatalf("exit %d, want 1: %s", code, errOut.String())
			}
			if strings.Contains(errOut.String(), "pw1") || !strings.Contains(errOut.String(), "xxxxx") {
				t.Errorf("the error shows the password, or no mask where it was: %s", errOut.String())
			}
		})
	}
}

func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		r := runCLI(t, nil, "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, "hookd") || len(r.stdout) < 1000 {
			t.Fatalf("hookd completion %s: exit %d, %d bytes", shell, r.code, len(r.stdout))
		}
	}
}

// hookd version names the revision the binary was built from.
func TestVersionNamesTheRevision(t *testing.T) {
	t.Parallel()
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skip("not in a git checkout: the build has no revision to show")
	}
	bin := filepath.Join(t.TempDir(), "hookd")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(out), "hookd ") || !strings.Contains(string(out), "revision "+strings.TrimSpace(string(head))) ||
			!strings.Contains(string(out), "go1.") {
			t.Fatalf("hookd %v = %q, want the revision %s and the Go version", args, out, head)
		}
	}
}
