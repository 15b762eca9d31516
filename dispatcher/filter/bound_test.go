package filter

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// doubled builds a list by doubling [[1]] k times, with a step such as
// "[a, a]" (nested lists) or "a + a" (joined lists, which share halves).
func doubled(k int, step string) string {
	return "[[1]]" + strings.Repeat(".map(a, "+step+")", k)
}

// bigString is a string of 2^k characters, built by doubling.
func bigString(k int) string {
	return `["ab"]` + strings.Repeat(".map(a, a + a)", k-1) + "[0]"
}

// manyBigStrings is a list of 2^14 references to a string of 2^17
// characters.
func manyBigStrings() string {
	return `[[` + bigString(17) + `]]` + strings.Repeat(".map(a, a + a)", 14) + `[0]`
}

func TestEvaluationIsBoundedInTime(t *testing.T) {
	t.Parallel()
	data, _ := Decode([]byte(`{"items": [1, 2, 3]}`))
	for name, expr := range map[string]string{
		// 2^k comparisons in one call, charged after it ran: minutes to days.
		"joined lists compared, k=20": doubled(20, "a + a") + " == " + doubled(20, "a + a"),
		"joined lists compared, k=40": doubled(40, "a + a") + " == " + doubled(40, "a + a"),
		"joined lists unequal, k=40":  doubled(40, "a + a") + " != " + doubled(40, "a + a"),
		"nested lists compared, k=40": doubled(40, "[a, a]") + " == " + doubled(40, "[a, a]"),
		"membership in a joined list": "2 in " + doubled(40, "a + a") + "[0]",
		"payload compared to a list":  "data.items == " + doubled(40, "a + a") + "[0]",
		// Each iteration counts the runes of 128 KiB for a cost of 1:
		// only the deadline stops it.
		"an expensive step repeated": manyBigStrings() + `.exists(s, size(s) == 0)`,
	} {
		f, err := Compile(expr)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		start := time.Now()
		got, err := f.Match(t.Context(), "x", data)
		took := time.Since(start)
		if got || err == nil {
			t.Errorf("%s = %v, %v; want no match and an error", name, got, err)
		}
		// The bound is generous for a loaded machine; unbounded, the joined
		// lists at k=40 would run for days.
		if took > 2*time.Second {
			t.Errorf("%s took %s", name, took)
		}
		t.Logf("%s: %s in %s", name, err, took.Round(time.Millisecond))
	}
}

func TestADeadlineStopsAFilter(t *testing.T) {
	t.Parallel()
	f, err := Compile(manyBigStrings() + `.exists(s, size(s) == 0)`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Match(t.Context(), "x", nil); !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
}

func TestComparisonsOfPayloadsStillWork(t *testing.T) {
	t.Parallel()
	data, _ := Decode([]byte(`{"tags": ["a", "b"], "m": {"k": [1, 2]}, "n": {"k": [1, 2]}}`))
	for expr, want := range map[string]bool{
		`data.tags == ["a", "b"]`:              true,
		`data.tags != ["a", "b"]`:              false,
		`"b" in data.tags`:                     true,
		`"k" in data.m`:                        true,
		`"z" in data.m`:                        false,
		`data.m == data.n`:                     true,
		`data.m.k == [1.0, 2]`:                 true,
		`[data.tags] == [["a", "b"]]`:          true,
		`data.tags + ["c"] == ["a", "b", "c"]`: true,
	} {
		f, err := Compile(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if got, err := f.Match(t.Context(), "x", data); got != want || err != nil {
			t.Errorf("%s = %v, %v; want %v", expr, got, err, want)
		}
	}
}

func TestCompileRefusesWhatCannotRunWithinTheLimit(t *testing.T) {
	t.Parallel()
	// Four comprehensions over the payload nested: 10^4 steps and more on
	// lists of ten items.
	expr := `data.a.exists(w, data.a.exists(x, data.a.exists(y, data.a.exists(z, w + x + y + z == 0))))`
	if _, err := Compile(expr); err == nil || !strings.Contains(err.Error(), "more than the 100000 allowed") {
		t.Fatalf("got %v, want the estimate refused", err)
	}
	// Two nested are fine.
	if _, err := Compile(`data.orders.exists(o, o.items.exists(i, i.sku == "A-1"))`); err != nil {
		t.Fatal(err)
	}
}

func TestTheCacheIsBoundedByItsFiltersSizes(t *testing.T) {
	t.Parallel()
	c := newLRU(100_000)
	long := strings.Repeat("event_type == 'x' || ", 100) + "true"
	for i := range 50 {
		expr := long + strings.Repeat(" ", i)
		f, err := Compile(expr)
		if err != nil {
			t.Fatal(err)
		}
		c.put(expr, f)
		if c.len > c.max {
			t.Fatalf("after %d filters the cache holds %d bytes, over %d", i+1, c.len, c.max)
		}
	}
	if n := c.order.Len(); n == 0 || n == 50 || n != len(c.byExpr) {
		t.Fatalf("the cache holds %d filters (%d by text)", n, len(c.byExpr))
	}
	// The most recent stays; the first is gone.
	if _, ok := c.get(long + strings.Repeat(" ", 49)); !ok {
		t.Error("the newest filter was dropped")
	}
	if _, ok := c.get(long); ok {
		t.Error("the oldest filter was kept")
	}
}
