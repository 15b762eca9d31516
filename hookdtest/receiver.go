package hookdtest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"hookd.dev/hookd/dispatcher/signature"
)

// Receiver is a webhook endpoint for tests: it verifies each request's
// Standard Webhooks signature with Secret and records what it got.
// Requests with a bad signature, or a body that is not JSON, are refused
// with 401 and counted, not recorded.
type Receiver struct {
	URL string // where hookd posts; any path below it works too

	srv *httptest.Server

	mu        sync.Mutex
	secret    string
	got       []Delivery
	times     map[string]int  // webhook-id → verified requests
	answered  map[string]bool // webhook-ids answered 2xx at least once
	rejected  int
	respond   func(n int) int
	delivered chan struct{} // closed and replaced at each verified request
}

// Delivery is one verified request.
type Delivery struct {
	MessageID string          // webhook-id: the message's id, the same for each attempt
	Body      json.RawMessage // the payload, byte for byte
	Header    http.Header
	Status    int // what the receiver answered
}

// NewReceiver starts a Receiver with a new secret; it stops at the end of
// the test.
func NewReceiver(t testing.TB) *Receiver {
	t.Helper()
	r, err := newReceiver()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

func newReceiver() (*Receiver, error) {
	secret, err := signature.NewSecret()
	if err != nil {
		return nil, err
	}
	r := &Receiver{secret: secret, times: map[string]int{}, answered: map[string]bool{}, delivered: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	r.URL = r.srv.URL
	return r, nil
}

// Secret is the signing secret (whsec_…) the receiver verifies with: give
// it to the endpoint.
func (r *Receiver) Secret() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.secret
}

// SetSecret makes the receiver verify with another secret, as a receiver
// does once its endpoint's secret is rotated.
func (r *Receiver) SetSecret(secret string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret = secret
}

// Close stops the receiver.
func (r *Receiver) Close() { r.srv.Close() }

// Respond sets the status the receiver answers to its n-th verified
// request (from 1); it may also sleep, to play a slow receiver. The default
// answers 200.
func (r *Receiver) Respond(status func(n int) int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.respond = status
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := signature.VerifyRequest(r.Secret(), req, 1<<20)
	if err != nil || !json.Valid(body) {
		r.mu.Lock()
		r.rejected++
		r.mu.Unlock()
		http.Error(w, "bad signature or body", http.StatusUnauthorized)
		return
	}
	r.mu.Lock()
	n := len(r.got) + 1
	respond := r.respond
	r.mu.Unlock()
	status := http.StatusOK
	if respond != nil {
		status = respond(n) // outside the lock: it may sleep
	}
	id := req.Header.Get(signature.HeaderID)
	r.mu.Lock()
	r.got = append(r.got, Delivery{MessageID: id, Body: body, Header: req.Header.Clone(), Status: status})
	r.times[id]++
	if status >= 200 && status < 300 {
		r.answered[id] = true
	}
	close(r.delivered)
	r.delivered = make(chan struct{})
	r.mu.Unlock()
	w.WriteHeader(status)
	fmt.Fprintf(w, "answer %d", status)
}

// Deliveries returns the verified requests so far, in the order they came.
func (r *Receiver) Deliveries() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// Times returns how many verified requests came for each message id.
func (r *Receiver) Times() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.times)
}

// TimesFor returns how many verified requests came for one message id.
func (r *Receiver) TimesFor(messageID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.times[messageID]
}

// Rejected returns how many requests were refused for a bad signature or
// body.
func (r *Receiver) Rejected() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rejected
}

// WaitTimeout is how long Wait waits.
const WaitTimeout = 30 * time.Second

// Wait waits until n distinct messages have been answered 2xx, and
// returns the verified requests so far; it fails the test after
// WaitTimeout.
func (r *Receiver) Wait(t testing.TB, n int) []Delivery {
	t.Helper()
	deadline := time.After(WaitTimeout)
	for {
		r.mu.Lock()
		got := len(r.answered)
		next := r.delivered
		r.mu.Unlock()
		if got >= n {
			return r.Deliveries()
		}
		select {
		case <-next:
		case <-deadline:
			t.Fatalf("hookdtest: %d of %d messages delivered after %s (%d requests refused)", got, n, WaitTimeout, r.Rejected())
			return nil
		}
	}
}
