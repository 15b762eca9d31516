package filter

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestMatch(t *testing.T) {
	payload := []byte(`{"amount": 1500, "currency": "EUR", "customer": {"vip": true}, "items": [{"sku": "a"}, {"sku": "b"}]}`)
	data, err := Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		expr string
		want bool
	}{
		{`data.amount > 1000`, true},
		{`data.amount == 1500`, true},
		{`data.amount > 1000.5 && data.currency == "USD"`, false},
		{`event_type == "invoice.paid"`, true},
		{`event_type.startsWith("invoice.") && data.customer.vip`, true},
		{`has(data.refund) && data.refund`, false},
		{`data.items.exists(i, i.sku == "b")`, true},
		{`"b" in data.items.map(i, i.sku)`, true},
	} {
		f, err := Compile(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		got, err := f.Match(t.Context(), "invoice.paid", data)
		if err != nil || got != tc.want {
			t.Errorf("%s = %v, %v; want %v", tc.expr, got, err, tc.want)
		}
	}
}

func TestRunTimeErrorsDoNotMatch(t *testing.T) {
	data, _ := Decode([]byte(`{"amount": "high"}`))
	for _, expr := range []string{`data.missing == 1`, `data.amount > 10`} {
		f, err := Compile(expr)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := f.Match(t.Context(), "x", data); got || err == nil {
			t.Errorf("%s = %v, %v; want false and an error", expr, got, err)
		}
	}
}

func TestCompileRefuses(t *testing.T) {
	for expr, want := range map[string]string{
		``:                        "empty",
		`data.amount >`:           "Syntax error",
		`data.amount + 1`:         "true or false",
		`data.flag`:               "", // dyn: checked at run time
		`event_type + "x"`:        "true or false",
		`size(event_type)`:        "true or false",
		`unknown_var == 1`:        "undeclared reference",
		strings.Repeat("a", 5000): "at most 4096",
	} {
		_, err := Compile(expr)
		if want == "" {
			if err != nil {
				t.Errorf("%q: %v", expr, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40q: got %v, want an error with %q", expr, err, want)
		}
	}
}

func TestCostLimit(t *testing.T) {
	var items []string
	for range 2000 {
		items = append(items, `{"a": [1,2,3,4,5,6,7,8,9,10]}`)
	}
	data, err := Decode([]byte(`{"items": [` + strings.Join(items, ",") + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Compile(`data.items.all(i, data.items.exists(j, j.a.exists(x, x == 11)))`)
	if err != nil {
		t.Fatal(err)
	}
	f.timeout = time.Minute // the race detector makes the steps slow enough to meet the deadline first
	if got, err := f.Match(t.Context(), "x", data); got || err == nil || !strings.Contains(err.Error(), "cost") {
		t.Fatalf("got %v, %v; want the cost limit", got, err)
	}
}

func BenchmarkMatch(b *testing.B) {
	f, err := Cached(`data.amount > 1000 && data.currency == "EUR"`)
	if err != nil {
		b.Fatal(err)
	}
	payload := []byte(`{"amount": 1500, "currency": "EUR", "customer": {"id": "c_1", "vip": true}}`)
	for b.Loop() {
		data, _ := Decode(payload)
		if ok, err := f.Match(b.Context(), "invoice.paid", data); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkCompile reports the heap a compiled filter holds, which
// programSize estimates for the cache's bound.
func BenchmarkCompile(b *testing.B) {
	for _, n := range []int{4, 40, 180} {
		expr := strings.Repeat(`data.amount > 1000 && `, n) + "true"
		b.Run(fmt.Sprintf("len=%d", len(expr)), func(b *testing.B) {
			keep := make([]*Filter, 0, b.N)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				f, err := Compile(expr)
				if err != nil {
					b.Fatal(err)
				}
				keep = append(keep, f)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(len(keep)), "heap-B/filter")
			b.ReportMetric(float64(programSize(expr)), "estimate-B/filter")
		})
	}
}
