package authlimit_test

import (
	"strconv"
	"testing"
	"time"

	"hookd.dev/hookd/authlimit"
)

func TestAnAddressThatFailsTooOftenMustWait(t *testing.T) {
	t.Parallel()
	l := authlimit.New(authlimit.Config{Failures: 3, Refill: time.Hour})
	for i := range 3 {
		if w := l.RetryAfter("192.0.2.1"); w != 0 {
			t.Fatalf("after %d failures: wait %s, want none", i, w)
		}
		l.Fail("192.0.2.1")
	}
	if w := l.RetryAfter("192.0.2.1"); w <= 0 || w > time.Hour {
		t.Fatalf("after 3 failures: wait %s, want up to an hour", w)
	}
	// Other addresses are not affected; one IPv6 host is one /64.
	if w := l.RetryAfter("192.0.2.2"); w != 0 {
		t.Fatalf("another address must wait %s", w)
	}
	for i := range 3 {
		l.Fail("2001:db8:0:1::" + strconv.Itoa(i+1))
	}
	if w := l.RetryAfter("2001:db8:0:1::ffff"); w <= 0 {
		t.Fatal("an IPv6 host escaped the limit by changing address within its /64")
	}
	if w := l.RetryAfter("2001:db8:0:2::1"); w != 0 {
		t.Fatalf("another /64 must wait %s", w)
	}
}

func TestMemoryIsBounded(t *testing.T) {
	t.Parallel()
	l := authlimit.New(authlimit.Config{Failures: 2, Refill: time.Hour, MaxAddresses: 100})
	l.Fail("198.51.100.1")
	l.Fail("198.51.100.1")
	for i := range 1000 {
		l.Fail("10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256))
	}
	if n := l.Len(); n > 100 {
		t.Fatalf("remembers %d addresses, want at most 100", n)
	}
}
