package progress

import (
	"bytes"
	"strings"
	"testing"
)

// Off a terminal, a meter writes whole lines (a log keeps them), not
// carriage returns, and says what was done at the end.
func TestAMeterOffATerminalWritesLines(t *testing.T) {
	var out bytes.Buffer
	m := New(&out, "seeding", "deliveries", 200)
	m.Set(100)
	m.Set(150) // within 10 s of the first report: not reported
	m.Set(200)
	m.Done()
	text := out.String()
	if strings.Contains(text, "\r") {
		t.Fatalf("carriage returns off a terminal: %q", text)
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "seeding: 100 of 200 deliveries (50%)") ||
		!strings.HasPrefix(lines[1], "seeding: 200 of 200 deliveries (100%)") || !strings.Contains(lines[1], " in ") {
		t.Fatalf("lines %q", lines)
	}
}

func TestAMeterWithoutATotalCounts(t *testing.T) {
	var out bytes.Buffer
	m := New(&out, "purging", "rows deleted", 0)
	m.Set(1500)
	m.Done()
	if !strings.Contains(out.String(), "purging: 1500 rows deleted") || strings.Contains(out.String(), "%") {
		t.Fatalf("%q", out.String())
	}
}
