//go:build !linux

package main

import (
	"os/exec"
	"time"
)

// inOwnProcessGroup leaves Chromium where it is: only Linux's test runs
// (Debian's chromium, in CI) wait for Chromium's helper processes.
func inOwnProcessGroup(*exec.Cmd) {}

// stopProcessGroup has nothing to wait for beyond the browser's process,
// which chromedp has waited for.
func stopProcessGroup(int, time.Duration) error { return nil }
