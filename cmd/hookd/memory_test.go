package main

import (
	"math"
	"os"
	"runtime/debug"
	"testing"
)

func TestTuneMemory(t *testing.T) {
	gc := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(gc); debug.SetMemoryLimit(limit) })
	debug.SetMemoryLimit(math.MaxInt64)

	tuneMemory(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("GC percent without GOGC: %d, want %d", got, defaultGCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		if got := debug.SetMemoryLimit(-1); got == math.MaxInt64 || got <= 0 {
			t.Errorf("soft memory limit without GOMEMLIMIT: %d, want a share of the memory", got)
		}
	}

	tuneMemory(func(k string) string { return map[string]string{"GOGC": "50"}[k] })
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent with GOGC set: %d, want it left alone", got)
	}
}
