package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hookd.dev/hookd/models"
)

// TestFaultEmbeddedDiskFull: the embedded database's disk fills up under
// load. Emits are then refused with 503 and a reason (nothing half
// stored), every message accepted before is delivered once there is room
// again, and the database is intact.
func TestFaultEmbeddedDiskFull(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mounting a small tmpfs needs root (CAP_SYS_ADMIN): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() }) // after hookd has stopped (cleanups run last first)
	env := map[string]string{
		"HOOKD_DATA_DIR": dir, "HOOKD_LISTEN": "127.0.0.1:0", "HOOKD_ADMIN_KEY": testAdminKey,
		"HOOKD_ALLOWED_NETWORKS": "127.0.0.1/32", "HOOKD_SWEEP_INTERVAL": "200ms", "HOOKD_RETRY_SCHEDULE": "1s,1s,2s,2s,5s,5s,10s",
		"HOOKD_LOG_LEVEL": "error",
	}
	m := start(t, "serve", env)
	c := newClient(t, m, testAdminKey)
	r := newCountingReceiver(t, 200*time.Millisecond) // a backlog when the disk fills
	setupLoad(c, r)

	pad := strings.Repeat("x", 16<<10)
	var accepted []string
	refusals := 0
	for i := 0; refusals < 20 && i < 2000; i++ {
		var out struct {
			ID    string
			Error struct{ Code, Message string }
		}
		status := c.do("POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "load.test", "payload": map[string]any{"n": i, "pad": pad}}, &out)
		switch status {
		case 201:
			accepted = append(accepted, out.ID)
		case 503:
			if !strings.Contains(out.Error.Message, "disk is full") {
				t.Fatalf("emit %d: 503 %q, want the reason", i, out.Error.Message)
			}
			refusals++
		default:
			t.Fatalf("emit %d answered %d %+v, want 201 or 503", i, status, out.Error)
		}
	}
	if refusals == 0 {
		t.Fatalf("the disk never filled: %d emits accepted", len(accepted))
	}
	t.Logf("%d emits accepted, then the disk was full; %d delivered so far", len(accepted), len(r.Times()))
	time.Sleep(2 * time.Second) // attempts fail to be recorded meanwhile

	if out, err := exec.Command("mount", "-o", "remount,size=256m", dir).CombinedOutput(); err != nil {
		t.Fatalf("make room: %v %s", err, out)
	}
	ok, failed := assertInvariant(t, c, r.TimesFor, accepted, 90*time.Second)
	if ok != len(accepted) || failed != 0 {
		t.Fatalf("%d succeeded, %d failed of %d accepted", ok, failed, len(accepted))
	}
	c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "load.test", "payload": map[string]any{}}, nil)

	db, err := models.Open(context.Background(), models.OpenOpts{SQLitePath: filepath.Join(dir, "hookd.db")})
	if err != nil {
		t.Fatal(err)
	}
	var check string
	if err := db.Raw("PRAGMA integrity_check").Scan(&check).Error; err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}
