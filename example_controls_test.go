package hookd_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"time"

	"hookd.dev/hookd"
	"hookd.dev/hookd/dispatcher/signature"
)

// arrival is what a receiver got: a header it routes on, the message's id
// (webhook-id) and the body.
type arrival struct{ team, id, body string }

// newTeamReceiver verifies the signature and hands on the X-Team header,
// the webhook-id and the body of each request.
func newTeamReceiver(secret string, got chan<- arrival) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := signature.VerifyRequest(secret, r, 1<<20)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		got <- arrival{r.Header.Get("X-Team"), r.Header.Get("webhook-id"), string(body)}
	}))
}

func waitArrival(got <-chan arrival) arrival {
	select {
	case a := <-got:
		return a
	case <-time.After(10 * time.Second):
		return arrival{body: "nothing after 10s"}
	}
}

// An endpoint with delivery controls: it gets only large invoices (a CEL
// filter over the payload), with a header its receiver routes on, one at a
// time in order (fifo). Then a message sent to it again, say after the
// receiver lost it: the resend keeps the message's id (webhook-id), so the
// receiver can tell a repeat.
func ExampleClient_ResendMessage() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateEventType(ctx, hookd.EventTypeParams{Name: "ex-resend-message.invoice.paid"})
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-resend-message")})
	defer admin.DeleteTenant(ctx, "ex-resend-message")
	secret, _ := signature.NewSecret()
	got := make(chan arrival, 10)
	receiver := newTeamReceiver(secret, got)
	defer receiver.Close()
	ep, err := admin.CreateEndpoint(ctx, "ex-resend-message", hookd.EndpointParams{
		URL: hookd.String(receiver.URL), EventTypes: []string{"*"}, Secret: &secret,
		Filter:   hookd.String("data.amount >= 1000"),
		Headers:  map[string]string{"X-Team": "finance"},
		Ordering: hookd.String("fifo"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("filter:", ep.Filter, "| headers:", ep.Headers, "| ordering:", ep.Ordering)

	small, _ := admin.Emit(ctx, "ex-resend-message", "ex-resend-message.invoice.paid", map[string]int{"amount": 20}, nil)
	large, _ := admin.Emit(ctx, "ex-resend-message", "ex-resend-message.invoice.paid", map[string]int{"amount": 5000}, nil)
	fmt.Println("deliveries of the small invoice:", len(small.Deliveries), "of the large one:", len(large.Deliveries))
	a := waitArrival(got)
	fmt.Println("received:", a.team, a.id == large.ID, a.body)

	resent, err := admin.ResendMessage(ctx, "ex-resend-message", large.ID, hookd.ResendParams{EndpointID: ep.ID})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("resent:", len(resent), "new delivery:", resent[0].ID != large.Deliveries[0].ID, "same message:", resent[0].MessageID == large.ID)
	a = waitArrival(got)
	fmt.Println("received again:", a.team, a.id == large.ID, a.body)
	// Output:
	// filter: data.amount >= 1000 | headers: map[X-Team:finance] | ordering: fifo
	// deliveries of the small invoice: 0 of the large one: 1
	// received: finance true {"amount":5000}
	// resent: 1 new delivery: true same message: true
	// received again: finance true {"amount":5000}
}

// An endpoint registered after the events it wants, or whose receiver lost
// a day's worth: replaying a window sends it the messages of its event
// types accepted meanwhile, as new deliveries.
func ExampleClient_ReplayEndpoint() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateEventType(ctx, hookd.EventTypeParams{Name: "ex-replay-endpoint.order.placed"})
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-replay-endpoint")})
	defer admin.DeleteTenant(ctx, "ex-replay-endpoint")
	for _, order := range []string{"ord_1", "ord_2"} {
		msg, _ := admin.Emit(ctx, "ex-replay-endpoint", "ex-replay-endpoint.order.placed", map[string]string{"order": order}, nil)
		fmt.Println("emitted", order, "deliveries:", len(msg.Deliveries)) // no endpoint yet
	}
	secret, _ := signature.NewSecret()
	got := make(chan string, 10)
	receiver := newReceiver(secret, got)
	defer receiver.Close()
	ep, _ := admin.CreateEndpoint(ctx, "ex-replay-endpoint", hookd.EndpointParams{URL: hookd.String(receiver.URL), EventTypes: []string{"*"}, Secret: &secret})

	n, err := admin.ReplayEndpoint(ctx, "ex-replay-endpoint", ep.ID, hookd.ReplayParams{Since: time.Now().Add(-time.Hour)})
	fmt.Println("replayed:", n, err)
	received := []string{wait(got), wait(got)}
	slices.Sort(received)
	fmt.Println("received:", received)
	// A window needs its start.
	_, err = admin.ReplayEndpoint(ctx, "ex-replay-endpoint", ep.ID, hookd.ReplayParams{})
	fmt.Println(err)
	// Output:
	// emitted ord_1 deliveries: 0
	// emitted ord_2 deliveries: 0
	// replayed: 2 <nil>
	// received: [msg_ {"order":"ord_1"} msg_ {"order":"ord_2"}]
	// hookd: since is required: replay the messages accepted since this time (422 invalid)
}
