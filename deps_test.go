package hookd_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSDKNeedsOnlyTheStandardLibrary: an app that imports hookd.dev/hookd
// to talk to hookd over HTTP pulls in nothing but the standard library.
func TestSDKNeedsOnlyTheStandardLibrary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "hookd.dev/hookd").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var beyond []string
	for _, p := range strings.Fields(string(out)) {
		if p != "hookd.dev/hookd" {
			beyond = append(beyond, p)
		}
	}
	if len(beyond) > 0 {
		t.Fatalf("hookd.dev/hookd imports %v beyond the standard library", beyond)
	}
}
