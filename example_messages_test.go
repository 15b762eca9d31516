package hookd_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"hookd.dev/hookd"
	"hookd.dev/hookd/dispatcher/signature"
)

// newFlakyReceiver is a tenant's receiver that answers 503 while failures
// is above zero, counting it down; then it verifies the signature and
// hands the body on.
func newFlakyReceiver(secret string, got chan<- string, failures *atomic.Int64) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failures.Add(-1) >= 0 {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		body, err := signature.VerifyRequest(secret, r, 1<<20)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		got <- fmt.Sprintf("%s %s", r.Header.Get("webhook-id")[:4], body)
	}))
}

// waitFor calls cond every 20 ms until it holds, for at most 10 s.
func waitFor(cond func() bool) {
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && !cond(); {
		time.Sleep(20 * time.Millisecond)
	}
}

// Emitting from code that may run twice (a retried job, a redelivered
// queue message): the idempotency key makes the second emit return the
// first message, so the customer is told once.
func ExampleClient_Emit() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateEventType(ctx, hookd.EventTypeParams{Name: "ex-emit.order.shipped"})
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-emit")})
	defer admin.DeleteTenant(ctx, "ex-emit")
	secret, _ := signature.NewSecret()
	got := make(chan string, 10)
	receiver := newReceiver(secret, got)
	defer receiver.Close()
	_, _ = admin.CreateEndpoint(ctx, "ex-emit", hookd.EndpointParams{
		URL: hookd.String(receiver.URL), EventTypes: []string{"ex-emit.order.shipped"}, Secret: &secret,
	})

	opts := &hookd.EmitOpts{IdempotencyKey: "order-1001-shipped"}
	first, err := admin.Emit(ctx, "ex-emit", "ex-emit.order.shipped", map[string]any{"order": 1001}, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	again, err := admin.Emit(ctx, "ex-emit", "ex-emit.order.shipped", map[string]any{"order": 1001}, opts)
	fmt.Println("same message:", again.ID == first.ID, err)
	fmt.Println("deliveries:", len(first.Deliveries))
	fmt.Println("received:", wait(got))
	// Output:
	// same message: true <nil>
	// deliveries: 1
	// received: msg_ {"order":1001}
}

// Looking a message up later, by the id Emit returned: what was sent, and
// to which endpoints.
func ExampleClient_GetMessage() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateEventType(ctx, hookd.EventTypeParams{Name: "ex-get-message.invoice.paid"})
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-get-message")})
	defer admin.DeleteTenant(ctx, "ex-get-message")
	secret, _ := signature.NewSecret()
	got := make(chan string, 10)
	receiver := newReceiver(secret, got)
	defer receiver.Close()
	ep, _ := admin.CreateEndpoint(ctx, "ex-get-message", hookd.EndpointParams{
		URL: hookd.String(receiver.URL), EventTypes: []string{"*"}, Secret: &secret,
	})
	sent, _ := admin.Emit(ctx, "ex-get-message", "ex-get-message.invoice.paid", json.RawMessage(`{"invoice": "inv_9", "amount": 990}`), nil)
	wait(got)

	msg, err := admin.GetMessage(ctx, "ex-get-message", sent.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(msg.EventType, string(msg.Payload))
	fmt.Println("deliveries:", len(msg.Deliveries), msg.Deliveries[0].EndpointID == ep.ID)
	// Output:
	// ex-get-message.invoice.paid {"invoice":"inv_9","amount":990}
	// deliveries: 1 true
}

// A tenant's messages, newest first, a page at a time.
func ExampleClient_ListMessages() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateEventType(ctx, hookd.EventTypeParams{Name: "ex-list-messages.order.placed"})
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-list-messages")})
	defer admin.DeleteTenant(ctx, "ex-list-messages")
	for order := 1; order <= 3; order++ {
		_, _ = admin.Emit(ctx, "ex-list-messages", "ex-list-messages.order.placed", map[string]int{"order": order}, nil)
	}

	p := hookd.ListParams{Limit: 2}
	for page := 1; ; page++ {
		msgs, err := admin.ListMessages(ctx, "ex-list-messages", p)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, m := range msgs.Data {
			fmt.Println("page", page, string(m.Payload))
		}
		if msgs.NextCursor == "" {
			break
		}
		p.Cursor = msgs.NextCursor
	}
	// Output:
	// page 1 {"order":3}
	// page 1 {"order":2}
	// page 2 {"order":1}
}

// Finding what did not get through: the failed deliveries, here those of
// an endpoint that is down while another one answers.
func ExampleClient_ListDeliveries() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateEventType(ctx, hookd.EventTypeParams{Name: "ex-list-deliveries.user.created"})
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-list-deliveries")})
	defer admin.DeleteTenant(ctx, "ex-list-deliveries")
	secret, _ := signature.NewSecret()
	got := make(chan string, 10)
	var failures atomic.Int64
	failures.Store(math.MaxInt64) // down for good
	up, down := newReceiver(secret, got), newFlakyReceiver(secret, got, &failures)
	defer up.Close()
	defer down.Close()
	_, _ = admin.CreateEndpoint(ctx, "ex-list-deliveries", hookd.EndpointParams{URL: &up.URL, EventTypes: []string{"*"}, Secret: &secret})
	broken, _ := admin.CreateEndpoint(ctx, "ex-list-deliveries", hookd.EndpointParams{URL: &down.URL, EventTypes: []string{"*"}, Secret: &secret})
	_, _ = admin.Emit(ctx, "ex-list-deliveries", "ex-list-deliveries.user.created", map[string]string{"user": "ada"}, nil)

	var failed *hookd.Page[hookd.Delivery]
	waitFor(func() bool {
		failed, _ = admin.ListDeliveries(ctx, "ex-list-deliveries", hookd.DeliveryParams{Status: hookd.StatusFailed})
		return failed != nil && len(failed.Data) > 0
	})
	for _, d := range failed.Data {
		fmt.Println(d.EventType, d.Status, *d.LastStatusCode, "broken endpoint:", d.EndpointID == broken.ID)
	}
	// Output:
	// ex-list-deliveries.user.created failed 503 broken endpoint: true
}

// A delivery's attempts, to see why it took a while: here the receiver
// answered 503 once, and the scheduled retry got through.
func ExampleClient_GetDelivery() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateEventType(ctx, hookd.EventTypeParams{Name: "ex-get-delivery.invoice.paid"})
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-get-delivery")})
	defer admin.DeleteTenant(ctx, "ex-get-delivery")
	secret, _ := signature.NewSecret()
	got := make(chan string, 10)
	var failures atomic.Int64
	failures.Store(1)
	receiver := newFlakyReceiver(secret, got, &failures)
	defer receiver.Close()
	_, _ = admin.CreateEndpoint(ctx, "ex-get-delivery", hookd.EndpointParams{URL: hookd.String(receiver.URL), EventTypes: []string{"*"}, Secret: &secret})
	msg, _ := admin.Emit(ctx, "ex-get-delivery", "ex-get-delivery.invoice.paid", map[string]string{"invoice": "inv_1"}, nil)

	var d *hookd.Delivery
	waitFor(func() bool {
		d, _ = admin.GetDelivery(ctx, "ex-get-delivery", msg.Deliveries[0].ID)
		return d != nil && d.Status == hookd.StatusSucceeded
	})
	fmt.Println(d.Status, "after", d.AttemptCount, "attempts")
	for _, a := range d.Attempts {
		fmt.Println(a.Number, a.Trigger, *a.ResponseStatusCode)
	}
	// Output:
	// succeeded after 2 attempts
	// 1 scheduled 503
	// 2 scheduled 204
}

// Sending a delivery again, here at the customer's request after it lost
// what it got. The redelivery has the same webhook-id, so receivers that
// deduplicate on it are safe.
func ExampleClient_RetryDelivery() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateEventType(ctx, hookd.EventTypeParams{Name: "ex-retry-delivery.invoice.paid"})
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-retry-delivery")})
	defer admin.DeleteTenant(ctx, "ex-retry-delivery")
	secret, _ := signature.NewSecret()
	got := make(chan string, 10)
	receiver := newReceiver(secret, got)
	defer receiver.Close()
	_, _ = admin.CreateEndpoint(ctx, "ex-retry-delivery", hookd.EndpointParams{URL: hookd.String(receiver.URL), EventTypes: []string{"*"}, Secret: &secret})
	msg, _ := admin.Emit(ctx, "ex-retry-delivery", "ex-retry-delivery.invoice.paid", map[string]string{"invoice": "inv_2"}, nil)
	fmt.Println("received:", wait(got))
	id := msg.Deliveries[0].ID
	waitFor(func() bool {
		d, _ := admin.GetDelivery(ctx, "ex-retry-delivery", id)
		return d != nil && d.Status == hookd.StatusSucceeded
	})

	_, err := admin.RetryDelivery(ctx, "ex-retry-delivery", id)
	fmt.Println("retry:", err)
	fmt.Println("received again:", wait(got))
	// Output:
	// received: msg_ {"invoice":"inv_2"}
	// retry: <nil>
	// received again: msg_ {"invoice":"inv_2"}
}
