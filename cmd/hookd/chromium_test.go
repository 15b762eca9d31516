package main

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's chromium. Without it the browser test is
// skipped on a developer's machine and fails in CI, which installs it.
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI needs chromium for the browser test (apt-get install chromium)")
	}
	t.Skip("no chromium on this machine: install Debian's chromium package to run the browser test")
	return ""
}

// chromiumStopTimeout bounds the wait for Chromium's processes to exit once
// killed; they exit within milliseconds unless the machine is stuck.
const chromiumStopTimeout = 30 * time.Second

// newBrowser starts headless Chromium for the test, and stops it when the
// test ends. Every browser test starts its browser here.
//
// The profile directory is removed only once every Chromium process has
// exited. chromedp waits for the browser's own process, but Chromium's
// network service, storage service, GPU and renderer processes outlive it by
// a second or more (more on a loaded machine) and keep writing to the
// profile: removing it under them failed the tests with "unlinkat
// …/Default: directory not empty" after every step had passed (#23).
// Chromium therefore runs in a process group of its own, which the cleanup
// kills and waits for.
func newBrowser(t *testing.T, chromium string) context.Context {
	t.Helper()
	// Made before the cleanup below is registered, so removed after it has
	// run: cleanups run last registered, first run.
	profile := t.TempDir()
	var cmd *exec.Cmd // Chromium's process, the leader of its group
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 900),
		chromedp.ModifyCmdFunc(func(c *exec.Cmd) {
			inOwnProcessGroup(c)
			cmd = c
		}))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()      // kills the browser's process and waits for it
		cancelAlloc() // waits for the allocator's goroutines
		if cmd == nil || cmd.Process == nil {
			return // never started
		}
		if err := stopProcessGroup(cmd.Process.Pid, chromiumStopTimeout); err != nil {
			t.Error(err)
		}
	})
	if err := chromedp.Run(ctx); err != nil { // start the browser outside the steps' time limits
		t.Fatal(err)
	}
	return ctx
}
