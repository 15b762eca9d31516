package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"hookd.dev/hookd"
)

// The embedded mode's data dir holds the database and the secret key: it is
// the owner's only.
func TestEmbeddedDataIsTheOwnersOnly(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"HOOKD_DATA_DIR": dir}
	cfg, err := LoadConfig("migrate", nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: cfg, Mode: "migrate", Stdout: io.Discard}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{"": 0o700, "hookd.db": 0o600, "secret.key": 0o600}
	for name, mode := range want {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%q has mode %o, want %o", filepath.Join("data", name), st.Mode().Perm(), mode)
		}
	}
}

// A secret.key copied or restored readable by every local user is made its
// owner's only on start, since it opens every endpoint secret.
func TestALooseSecretKeyIsTightenedOnStart(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "secret.key")
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // past the umask
		t.Fatal(err)
	}
	m := &Main{Config: Config{DataDir: dir}, Mode: "migrate", Stdout: io.Discard}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("secret.key has mode %o after start, want 600", st.Mode().Perm())
	}
}

// hookd migrate touches no endpoint secret, so it says nothing of
// HOOKD_SECRET_KEY; serve without one on PostgreSQL warns.
func TestOnlyProcessesThatUseSecretsWarnOfAMissingKey(t *testing.T) {
	t.Parallel()
	for mode, warns := range map[string]bool{"migrate": false, "serve": true} {
		var logged bytes.Buffer
		m := &Main{Config: Config{DatabaseURL: "postgres://hookd@db.example/hookd"}, Mode: mode, Logger: slog.New(slog.NewTextHandler(&logged, nil))}
		if _, err := m.secretKey(m.Logger); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(logged.String(), "HOOKD_SECRET_KEY"); got != warns {
			t.Errorf("hookd %s without HOOKD_SECRET_KEY on PostgreSQL: warned %v, want %v (%q)", mode, got, warns, logged.String())
		}
	}
}

func TestShortAdminKeyIsRefused(t *testing.T) {
	t.Parallel()
	env := map[string]string{"HOOKD_ADMIN_KEY": "hk_test_admin"}
	_, err := LoadConfig("serve", nil, func(k string) string { return env[k] }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "HOOKD_ADMIN_KEY") || !strings.Contains(err.Error(), "32") {
		t.Fatalf("a 13-character HOOKD_ADMIN_KEY: %v, want an error that says it needs 32", err)
	}
	if strings.Contains(err.Error(), "hk_test_admin") {
		t.Fatalf("the error shows the key: %v", err)
	}
	env["HOOKD_ADMIN_KEY"] = testAdminKey
	if _, err := LoadConfig("serve", nil, func(k string) string { return env[k] }, io.Discard); err != nil {
		t.Fatal(err)
	}
}

// A lost admin key is replaced from the command line, straight on the
// database, while hookd runs.
func TestAdminKeyCreate(t *testing.T) {
	t.Parallel()
	env := backends(t)
	m := start(t, "serve", env)
	cfg, err := LoadConfig(modeCreateAdminKey, nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := (&Main{Config: cfg, Mode: modeCreateAdminKey, Stdout: &out}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	key := regexp.MustCompile(`(?m)^\s+(hk_\S+)$`).FindStringSubmatch(out.String())
	if key == nil {
		t.Fatalf("no key in %q", out.String())
	}
	var keys hookd.Page[hookd.APIKey]
	if status := newClient(t, m, key[1]).do("GET", "/v1/admin-keys", nil, &keys); status != 200 {
		t.Fatalf("the new key: GET /v1/admin-keys = %d", status)
	}
	if len(keys.Data) != 1 || !strings.HasPrefix(key[1], keys.Data[0].Prefix) {
		t.Fatalf("admin keys = %+v", keys.Data)
	}
}

func TestTrustedProxiesMustBeAddresses(t *testing.T) {
	t.Parallel()
	env := map[string]string{"HOOKD_TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/16"}
	cfg, err := LoadConfig("serve", nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || len(cfg.TrustedProxies) != 2 || cfg.TrustedProxies[0].String() != "10.0.0.1/32" {
		t.Fatalf("trusted proxies = %v, %v", cfg.TrustedProxies, err)
	}
	env["HOOKD_TRUSTED_PROXIES"] = "10.0.0.1,proxy.internal"
	if _, err := LoadConfig("serve", nil, func(k string) string { return env[k] }, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "HOOKD_TRUSTED_PROXIES") || !strings.Contains(err.Error(), "proxy.internal") {
		t.Fatalf("a host name: %v, want an error naming it", err)
	}
}

// Wrong API keys and wrong logins count together, per client; behind a
// trusted proxy, the client is the one X-Forwarded-For names. A right key
// always gets through, from a throttled client too: the client may be an
// address the app shares with whoever sends wrong keys.
func TestFailedAuthIsThrottledPerClient(t *testing.T) {
	t.Parallel()
	env := backends(t)
	env["HOOKD_TRUSTED_PROXIES"] = "127.0.0.1"
	m := start(t, "serve", env)
	base := "http://" + m.Addr()
	send := func(req *http.Request, client string) *http.Response {
		req.Header.Set("X-Forwarded-For", client)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	api := func(key, client string) int {
		req, _ := http.NewRequest("GET", base+"/v1/tenants", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		return send(req, client).StatusCode
	}
	for i := range 10 {
		if status := api("hk_wrong", "198.51.100.1"); status != http.StatusUnauthorized {
			t.Fatalf("wrong key #%d = %d", i+1, status)
		}
	}
	if status := api("hk_wrong", "198.51.100.1"); status != http.StatusTooManyRequests {
		t.Fatalf("wrong key #11 = %d, want 429", status)
	}
	if status := api(testAdminKey, "198.51.100.2"); status != http.StatusOK {
		t.Fatalf("another client behind the proxy = %d, want 200", status)
	}
	if status := api(testAdminKey, "198.51.100.1"); status != http.StatusOK {
		t.Fatalf("the right key from the throttled client = %d, want 200", status)
	}
	// The login form of the same client waits too.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(base + "/ui/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="(\w+)"`).FindSubmatch(page)
	if csrf == nil {
		t.Fatalf("no CSRF token in %s", page)
	}
	login := func(key string) int {
		req, _ := http.NewRequest("POST", base+"/ui/login", strings.NewReader(url.Values{"csrf": {string(csrf[1])}, "key": {key}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", "198.51.100.1")
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := login("hk_wrong"); status != http.StatusTooManyRequests {
		t.Fatalf("a wrong key at the login form from the throttled client = %d, want 429", status)
	}
	if status := login(testAdminKey); status != http.StatusSeeOther {
		t.Fatalf("the right key at the login form from the throttled client = %d, want 303 (logged in)", status)
	}
}
