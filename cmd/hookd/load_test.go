package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hookd.dev/hookd/hookdtest"
)

// Steady load for the fault cases that break something while emits go on
// and tolerate refusals: what was accepted must arrive, and what was
// refused must have been told to try again.

// load emits continuously from four emitters, keeping what was accepted.
type load struct {
	strict atomic.Bool // refusals from now on are counted in strictRefused too

	mu            sync.Mutex
	accepted      []string
	refused       map[string]int
	strictRefused map[string]int
	halt          chan struct{}
	emitters      sync.WaitGroup
}

func startLoad(base string) *load {
	l := &load{refused: map[string]int{}, strictRefused: map[string]int{}, halt: make(chan struct{})}
	for range 4 {
		l.emitters.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-l.halt:
					return
				case <-time.After(20 * time.Millisecond):
				}
				id, why := tryEmit(base, i)
				l.mu.Lock()
				if id != "" {
					l.accepted = append(l.accepted, id)
				} else {
					l.refused[why]++
					if l.strict.Load() {
						l.strictRefused[why]++
					}
				}
				l.mu.Unlock()
			}
		})
	}
	return l
}

func (l *load) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.accepted)
}

func (l *load) stop() (accepted []string, refused map[string]int) {
	close(l.halt)
	l.emitters.Wait()
	return l.accepted, l.refused
}

// tryEmit emits one message, and answers its id, or why it was not accepted.
func tryEmit(base string, n int) (id, why string) {
	body, _ := json.Marshal(map[string]any{"event_type": "load.test", "payload": map[string]int{"n": n}})
	req, _ := http.NewRequest("POST", base+"/v1/tenants/acme/messages", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testAdminKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "no answer"
	}
	defer resp.Body.Close()
	var msg message
	if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&msg) != nil {
		return "", fmt.Sprint(resp.StatusCode)
	}
	return msg.ID, ""
}

// onlyTryAgain fails the test for refusals other than 503: a client must be
// told to try again, never that something unknown went wrong.
func onlyTryAgain(t *testing.T, refused map[string]int, by string) {
	t.Helper()
	for why, n := range refused {
		if why != "503" {
			t.Errorf("%d emits answered %s by %s: a client must be told to try again (503)", n, why, by)
		}
	}
}

// deliveredOnceOrMore checks the invariant over the accepted messages and
// returns how many deliveries the receiver saw twice or more.
func deliveredOnceOrMore(t *testing.T, c *client, r *hookdtest.Receiver, accepted []string, timeout time.Duration) (duplicates int) {
	t.Helper()
	ok, failed := assertInvariant(t, c, r.TimesFor, accepted, timeout)
	if ok != len(accepted) || failed != 0 {
		t.Fatalf("%d succeeded, %d failed of %d accepted", ok, failed, len(accepted))
	}
	for _, id := range accepted {
		duplicates += max(r.TimesFor(id)-1, 0)
	}
	t.Logf("duplicates: %d of %d", duplicates, len(accepted))
	return duplicates
}
