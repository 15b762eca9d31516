package hookd_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"hookd.dev/hookd"
	"hookd.dev/hookd/dispatcher/signature"
)

// Registering a customer's endpoint for the event types it wants. Event
// types must exist first; "*" subscribes to all of them.
func ExampleClient_CreateEndpoint() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateEventType(ctx, hookd.EventTypeParams{Name: "ex-create-endpoint.invoice.paid"})
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-create-endpoint")})
	defer admin.DeleteTenant(ctx, "ex-create-endpoint")

	ep, err := admin.CreateEndpoint(ctx, "ex-create-endpoint", hookd.EndpointParams{
		URL:         hookd.String("https://billing.acme.example/hooks"),
		Description: hookd.String("Acme billing"),
		EventTypes:  []string{"ex-create-endpoint.invoice.paid"},
		RateLimit:   hookd.Int(10), // at most 10 requests a second
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ep.URL, ep.EventTypes, ep.Enabled, ep.SigningScheme, *ep.RateLimit)
	// An event type nobody registered is refused.
	_, err = admin.CreateEndpoint(ctx, "ex-create-endpoint", hookd.EndpointParams{
		URL: hookd.String("https://billing.acme.example/hooks"), EventTypes: []string{"ex-create-endpoint.never.registered"},
	})
	fmt.Println(err)
	// Output:
	// https://billing.acme.example/hooks [ex-create-endpoint.invoice.paid] true standard 10
	// hookd: unknown event type "ex-create-endpoint.never.registered" (422 invalid)
}

// Reading one endpoint back, say for a settings page: what it receives,
// and whether hookd disabled it.
func ExampleClient_GetEndpoint() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-get-endpoint")})
	defer admin.DeleteTenant(ctx, "ex-get-endpoint")
	created, _ := admin.CreateEndpoint(ctx, "ex-get-endpoint", hookd.EndpointParams{
		URL: hookd.String("https://crm.acme.example/hooks"), Description: hookd.String("Acme CRM"), EventTypes: []string{"*"},
	})

	ep, err := admin.GetEndpoint(ctx, "ex-get-endpoint", created.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ep.Description, ep.URL, ep.EventTypes)
	fmt.Printf("enabled: %v, disabled reason: %q, failing: %v\n", ep.Enabled, ep.DisabledReason, ep.FailingSince != nil)
	// Output:
	// Acme CRM https://crm.acme.example/hooks [*]
	// enabled: true, disabled reason: "", failing: false
}

// A tenant's endpoints, newest first.
func ExampleClient_ListEndpoints() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-list-endpoints")})
	defer admin.DeleteTenant(ctx, "ex-list-endpoints")
	for _, name := range []string{"billing", "crm"} {
		_, _ = admin.CreateEndpoint(ctx, "ex-list-endpoints", hookd.EndpointParams{
			URL: hookd.String("https://" + name + ".acme.example/hooks"), Description: &name, EventTypes: []string{"*"},
		})
	}

	page, err := admin.ListEndpoints(ctx, "ex-list-endpoints", hookd.ListParams{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ep := range page.Data {
		fmt.Println(ep.Description, ep.URL, ep.Enabled)
	}
	// Output:
	// crm https://crm.acme.example/hooks true
	// billing https://billing.acme.example/hooks true
}

// Pausing an endpoint while its receiver is being moved: a disabled
// endpoint gets no deliveries; enabled again, it gets what is emitted next.
func ExampleClient_UpdateEndpoint() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateEventType(ctx, hookd.EventTypeParams{Name: "ex-update-endpoint.ticket.opened"})
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-update-endpoint")})
	defer admin.DeleteTenant(ctx, "ex-update-endpoint")
	secret, _ := signature.NewSecret()
	got := make(chan string, 10)
	receiver := newReceiver(secret, got)
	defer receiver.Close()
	ep, _ := admin.CreateEndpoint(ctx, "ex-update-endpoint", hookd.EndpointParams{URL: hookd.String(receiver.URL), EventTypes: []string{"*"}, Secret: &secret})

	for _, enabled := range []bool{false, true} {
		ep, err := admin.UpdateEndpoint(ctx, "ex-update-endpoint", ep.ID, hookd.EndpointParams{Enabled: &enabled})
		if err != nil {
			fmt.Println(err)
			return
		}
		msg, _ := admin.Emit(ctx, "ex-update-endpoint", "ex-update-endpoint.ticket.opened", map[string]bool{"enabled": ep.Enabled}, nil)
		fmt.Println("enabled:", ep.Enabled, "deliveries:", len(msg.Deliveries))
	}
	fmt.Println("received:", wait(got))
	// Output:
	// enabled: false deliveries: 0
	// enabled: true deliveries: 1
	// received: msg_ {"enabled":true}
}

// Removing an endpoint the customer no longer uses: it gets nothing more.
func ExampleClient_DeleteEndpoint() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateEventType(ctx, hookd.EventTypeParams{Name: "ex-delete-endpoint.ticket.closed"})
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-delete-endpoint")})
	defer admin.DeleteTenant(ctx, "ex-delete-endpoint")
	ep, _ := admin.CreateEndpoint(ctx, "ex-delete-endpoint", hookd.EndpointParams{URL: hookd.String("https://old.acme.example/hooks"), EventTypes: []string{"*"}})

	fmt.Println("delete:", admin.DeleteEndpoint(ctx, "ex-delete-endpoint", ep.ID))
	_, err := admin.GetEndpoint(ctx, "ex-delete-endpoint", ep.ID)
	fmt.Println("found:", !hookd.IsNotFound(err))
	msg, _ := admin.Emit(ctx, "ex-delete-endpoint", "ex-delete-endpoint.ticket.closed", map[string]int{"ticket": 7}, nil)
	fmt.Println("deliveries:", len(msg.Deliveries))
	// Output:
	// delete: <nil>
	// found: false
	// deliveries: 0
}

// The secret hookd generated for an endpoint, to configure its receiver
// with: here the endpoint is registered paused, its receiver started with
// the secret, and then the endpoint pointed at it and enabled.
func ExampleClient_EndpointSecret() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateEventType(ctx, hookd.EventTypeParams{Name: "ex-endpoint-secret.invoice.paid"})
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-endpoint-secret")})
	defer admin.DeleteTenant(ctx, "ex-endpoint-secret")
	ep, _ := admin.CreateEndpoint(ctx, "ex-endpoint-secret", hookd.EndpointParams{
		URL: hookd.String("https://acme.example/soon"), EventTypes: []string{"*"}, Enabled: hookd.Bool(false),
	})

	secret, err := admin.EndpointSecret(ctx, "ex-endpoint-secret", ep.ID)
	fmt.Println(strings.HasPrefix(secret, "whsec_"), err)
	got := make(chan string, 10)
	receiver := newReceiver(secret, got)
	defer receiver.Close()
	_, _ = admin.UpdateEndpoint(ctx, "ex-endpoint-secret", ep.ID, hookd.EndpointParams{URL: &receiver.URL, Enabled: hookd.Bool(true)})
	_, _ = admin.Emit(ctx, "ex-endpoint-secret", "ex-endpoint-secret.invoice.paid", map[string]string{"invoice": "inv_3"}, nil)
	fmt.Println("received:", wait(got))
	// Output:
	// true <nil>
	// received: msg_ {"invoice":"inv_3"}
}

// What an ed25519 endpoint's receiver verifies with: the public key only;
// the signing key never leaves hookd.
func ExampleClient_EndpointSecretInfo() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-endpoint-secret-info")})
	defer admin.DeleteTenant(ctx, "ex-endpoint-secret-info")
	ep, _ := admin.CreateEndpoint(ctx, "ex-endpoint-secret-info", hookd.EndpointParams{
		URL: hookd.String("https://acme.example/hooks"), EventTypes: []string{"*"}, SigningScheme: hookd.String("ed25519"),
	})

	info, err := admin.EndpointSecretInfo(ctx, "ex-endpoint-secret-info", ep.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("scheme:", info.Scheme)
	fmt.Println("public key:", strings.HasPrefix(info.PublicKey, "whpk_"), "secret shown:", info.Key != "")
	fmt.Println("rotated:", info.PreviousKeyExpiresAt != nil)
	// Output:
	// scheme: ed25519
	// public key: true secret shown: false
	// rotated: false
}

// Rotating an endpoint's secret, here to one the customer chose. In the
// standard scheme hookd signs with both secrets for a day, so the receiver
// can switch to the new one at once and nothing fails meanwhile.
func ExampleClient_RotateEndpointSecret() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateEventType(ctx, hookd.EventTypeParams{Name: "ex-rotate-endpoint-secret.invoice.paid"})
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-rotate-endpoint-secret")})
	defer admin.DeleteTenant(ctx, "ex-rotate-endpoint-secret")
	newSecret, _ := signature.NewSecret()
	got := make(chan string, 10)
	receiver := newReceiver(newSecret, got) // already verifies with the new secret
	defer receiver.Close()
	ep, _ := admin.CreateEndpoint(ctx, "ex-rotate-endpoint-secret", hookd.EndpointParams{URL: hookd.String(receiver.URL), EventTypes: []string{"*"}})

	key, err := admin.RotateEndpointSecret(ctx, "ex-rotate-endpoint-secret", ep.ID, newSecret)
	fmt.Println("rotated:", key == newSecret, err)
	_, _ = admin.Emit(ctx, "ex-rotate-endpoint-secret", "ex-rotate-endpoint-secret.invoice.paid", map[string]string{"invoice": "inv_4"}, nil)
	fmt.Println("received:", wait(got))
	// Output:
	// rotated: true <nil>
	// received: msg_ {"invoice":"inv_4"}
}

// Rotating the secret of an hmac-sha256 endpoint, which carries one
// signature: the new secret is staged, and the answer tells the receiver
// when to switch to it.
func ExampleClient_RotateEndpointSecretInfo() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-rotate-endpoint-secret-info")})
	defer admin.DeleteTenant(ctx, "ex-rotate-endpoint-secret-info")
	ep, _ := admin.CreateEndpoint(ctx, "ex-rotate-endpoint-secret-info", hookd.EndpointParams{
		URL: hookd.String("https://legacy.acme.example/hooks"), EventTypes: []string{"*"}, SigningScheme: hookd.String("hmac-sha256"),
	})

	info, err := admin.RotateEndpointSecretInfo(ctx, "ex-rotate-endpoint-secret-info", ep.ID, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("scheme:", info.Scheme, "new secret:", info.Key != "")
	fmt.Println("it signs in:", time.Until(*info.ActiveFrom).Round(time.Hour))
	fmt.Println("when the old one stops:", info.ActiveFrom.Equal(*info.PreviousKeyExpiresAt))
	// Output:
	// scheme: hmac-sha256 new secret: true
	// it signs in: 24h0m0s
	// when the old one stops: true
}

// Checking that a new endpoint is reachable and verifies signatures: a
// hookd.ping goes to it, whatever event types it subscribes to.
func ExampleClient_TestEndpoint() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateEventType(ctx, hookd.EventTypeParams{Name: "ex-test-endpoint.invoice.paid"})
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-test-endpoint")})
	defer admin.DeleteTenant(ctx, "ex-test-endpoint")
	secret, _ := signature.NewSecret()
	got := make(chan string, 10)
	receiver := newReceiver(secret, got)
	defer receiver.Close()
	ep, _ := admin.CreateEndpoint(ctx, "ex-test-endpoint", hookd.EndpointParams{
		URL: hookd.String(receiver.URL), EventTypes: []string{"ex-test-endpoint.invoice.paid"}, Secret: &secret,
	})

	msg, err := admin.TestEndpoint(ctx, "ex-test-endpoint", ep.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(msg.EventType, "deliveries:", len(msg.Deliveries))
	fmt.Println("ping verified:", strings.Contains(wait(got), `"type":"hookd.ping"`))
	// Output:
	// hookd.ping deliveries: 1
	// ping verified: true
}

// After an outage of the customer's receiver, once it is back: resending
// what failed meanwhile (here, since an hour ago).
func ExampleClient_RecoverEndpoint() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateEventType(ctx, hookd.EventTypeParams{Name: "ex-recover-endpoint.order.shipped"})
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-recover-endpoint")})
	defer admin.DeleteTenant(ctx, "ex-recover-endpoint")
	secret, _ := signature.NewSecret()
	got := make(chan string, 10)
	var failures atomic.Int64
	failures.Store(math.MaxInt64) // the receiver is down
	receiver := newFlakyReceiver(secret, got, &failures)
	defer receiver.Close()
	ep, _ := admin.CreateEndpoint(ctx, "ex-recover-endpoint", hookd.EndpointParams{URL: hookd.String(receiver.URL), EventTypes: []string{"*"}, Secret: &secret})
	msg, _ := admin.Emit(ctx, "ex-recover-endpoint", "ex-recover-endpoint.order.shipped", map[string]string{"order": "ord_7"}, nil)
	waitFor(func() bool {
		d, _ := admin.GetDelivery(ctx, "ex-recover-endpoint", msg.Deliveries[0].ID)
		return d != nil && d.Status == hookd.StatusFailed
	})

	failures.Store(0) // it is back
	n, err := admin.RecoverEndpoint(ctx, "ex-recover-endpoint", ep.ID, time.Now().Add(-time.Hour))
	fmt.Println("recovered:", n, err)
	fmt.Println("received:", wait(got))
	// Output:
	// recovered: 1 <nil>
	// received: msg_ {"order":"ord_7"}
}
