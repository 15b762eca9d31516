package hookdtest_test

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"hookd.dev/hookd"
	"hookd.dev/hookd/hookdtest"
	"hookd.dev/hookd/models/storetest"
)

// backends are a PostgreSQL database of the test's own and Redis when the
// test run names them (HOOKD_TEST_DATABASE_URL, HOOKD_TEST_REDIS_URL).
func backends(t *testing.T) hookdtest.Options {
	return hookdtest.Options{DatabaseURL: storetest.New(t).URL, RedisURL: os.Getenv("HOOKD_TEST_REDIS_URL")}
}

func TestADeliveryArrivesVerified(t *testing.T) {
	t.Parallel()
	h := hookdtest.StartWith(t, backends(t))
	h.Subscribe(t, "acme", "invoice.paid")
	msg, err := h.Client.Emit(context.Background(), "acme", "invoice.paid", map[string]any{"id": "inv_1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := h.Receiver.Wait(t, 1)
	if len(got) != 1 || got[0].MessageID != msg.ID || string(got[0].Body) != `{"id":"inv_1"}` {
		t.Fatalf("received %+v, want message %s with its payload", got, msg.ID)
	}
	if h.Receiver.Rejected() != 0 {
		t.Fatalf("%d requests refused", h.Receiver.Rejected())
	}
}

// TestARetryIsSeen: the receiver's answers are the test's to choose; a
// failed attempt is retried on the quick schedule, and both are recorded.
func TestARetryIsSeen(t *testing.T) {
	t.Parallel()
	h := hookdtest.StartWith(t, backends(t))
	h.Receiver.Respond(func(n int) int {
		if n == 1 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	h.Subscribe(t, "acme", "invoice.paid")
	msg, err := h.Client.Emit(context.Background(), "acme", "invoice.paid", map[string]any{"id": "inv_2"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := h.Receiver.Wait(t, 1)
	if len(got) != 2 || got[0].Status != 503 || got[1].Status != 200 || h.Receiver.TimesFor(msg.ID) != 2 {
		t.Fatalf("received %+v, want a 503 then a 200 for %s", got, msg.ID)
	}
}

// TestAWrongSecretIsRefused: the receiver counts what it cannot verify,
// and records none of it.
func TestAWrongSecretIsRefused(t *testing.T) {
	t.Parallel()
	h := hookdtest.Start(t)
	other := hookdtest.NewReceiver(t)
	ctx := context.Background()
	h.Subscribe(t, "acme", "invoice.paid")
	if _, err := h.Client.CreateEndpoint(ctx, "acme", hookd.EndpointParams{
		URL: &h.Receiver.URL, EventTypes: []string{"invoice.paid"}, Secret: hookd.String(other.Secret()), // not h.Receiver's
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Client.Emit(ctx, "acme", "invoice.paid", map[string]any{}, nil); err != nil {
		t.Fatal(err)
	}
	h.Receiver.Wait(t, 1) // through the endpoint with the right secret
	for deadline := time.Now().Add(10 * time.Second); h.Receiver.Rejected() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the request signed with another secret was not refused")
		}
	}
	if n := len(h.Receiver.Deliveries()); n != 1 {
		t.Fatalf("%d deliveries recorded, want only the verified one", n)
	}
}
