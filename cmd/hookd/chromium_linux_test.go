package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// inOwnProcessGroup starts Chromium as the leader of a new process group,
// which its helper processes join, and has it killed if the test binary dies,
// as chromedp does by default.
func inOwnProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// stopProcessGroup kills every process of the group pgid and waits until
// none of them runs, for at most timeout.
//
// Chromium's crash handlers leave the group (they start sessions of their
// own), but they write to ~/.config/chromium, not to the test's profile, and
// exit with the browser.
func stopProcessGroup(pgid int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		live := liveInGroup(pgid)
		if len(live) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("chromium's processes %v still run %s after being killed", live, timeout)
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // ESRCH if they have just gone
		time.Sleep(20 * time.Millisecond)
	}
}

// liveInGroup lists the processes of the group pgid that have not exited.
// Zombies have: they write nothing, and an orphan stays one until whoever
// adopted it reaps it, which PID 1 in a container may never do; so the
// group is read from /proc rather than probed with kill(-pgid, 0).
func liveInGroup(pgid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var live []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // exited meanwhile
		}
		// "pid (comm) state ppid pgrp …", where comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, err := strconv.Atoi(f[2]); err == nil && g == pgid {
			live = append(live, pid)
		}
	}
	return live
}
