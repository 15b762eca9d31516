package hookd_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"hookd.dev/hookd"
	"hookd.dev/hookd/dispatcher/signature"
)

// ---- admin keys

// A key for a deploy job that registers event types: an admin key, which
// hookd shows once.
func ExampleClient_CreateAdminKey() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	key, err := admin.CreateAdminKey(ctx, "ex-create-admin-key: deploy job")
	if err != nil {
		fmt.Println(err)
		return
	}

	deploy := hookd.NewClient(hookdURL, key)
	_, err = deploy.CreateEventType(ctx, hookd.EventTypeParams{Name: "ex-create-admin-key.deployed"})
	fmt.Println("registered:", err == nil || hookd.IsConflict(err))
	// Output:
	// registered: true
}

// Auditing the admin keys: hookd lists names and prefixes, never the keys,
// revoked ones included. Here the audit finds the key it made and retires it.
func ExampleClient_ListAdminKeys() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	key, _ := admin.CreateAdminKey(ctx, "ex-list-admin-keys: backups")

	keys, err := admin.ListAdminKeys(ctx, hookd.ListParams{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, k := range keys.Data {
		if k.Name == "ex-list-admin-keys: backups" && k.RevokedAt == nil {
			fmt.Println(k.Name, "| prefix matches:", strings.HasPrefix(key, k.Prefix))
			fmt.Println("revoke:", admin.RevokeAdminKey(ctx, k.ID))
		}
	}
	// Output:
	// ex-list-admin-keys: backups | prefix matches: true
	// revoke: <nil>
}

// ---- event types

// Registering the event types the app emits, at each start: on later starts
// they exist already. A schema makes hookd refuse payloads that do not match.
func ExampleClient_CreateEventType() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	et, err := admin.CreateEventType(ctx, hookd.EventTypeParams{
		Name:        "ex-create-event-type.invoice.paid",
		Description: "An invoice was paid",
		Schema:      json.RawMessage(`{"type": "object", "required": ["invoice", "amount"]}`),
	})
	if hookd.IsConflict(err) {
		et, err = admin.GetEventType(ctx, "ex-create-event-type.invoice.paid")
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(et.Name, "|", et.Description, "| schema:", et.Schema != nil)
	// Output:
	// ex-create-event-type.invoice.paid | An invoice was paid | schema: true
}

// One event type by name, archived or not.
func ExampleClient_GetEventType() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateEventType(ctx, hookd.EventTypeParams{Name: "ex-get-event-type.user.deleted", Description: "A user deleted their account"})

	et, err := admin.GetEventType(ctx, "ex-get-event-type.user.deleted")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(et.Name, "|", et.Description, "| archived:", et.ArchivedAt != nil)
	_, err = admin.GetEventType(ctx, "ex-get-event-type.user.gone")
	fmt.Println(hookd.IsNotFound(err))
	// Output:
	// ex-get-event-type.user.deleted | A user deleted their account | archived: false
	// true
}

// The live event types, by name, a page at a time; archived ones are left out.
func ExampleClient_ListEventTypes() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	for _, name := range []string{"ex-list-event-types.b", "ex-list-event-types.a", "ex-list-event-types.old"} {
		_, _ = admin.CreateEventType(ctx, hookd.EventTypeParams{Name: name})
	}
	_ = admin.ArchiveEventType(ctx, "ex-list-event-types.old")

	p := hookd.ListParams{Limit: 10}
	for {
		page, err := admin.ListEventTypes(ctx, p)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, et := range page.Data {
			if strings.HasPrefix(et.Name, "ex-list-event-types.") { // other examples' types aside
				fmt.Println(et.Name)
			}
		}
		if page.NextCursor == "" {
			break
		}
		p.Cursor = page.NextCursor
	}
	// Output:
	// ex-list-event-types.a
	// ex-list-event-types.b
}

// Tightening an event type: a description and a schema, which later emits
// must match.
func ExampleClient_UpdateEventType() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateEventType(ctx, hookd.EventTypeParams{Name: "ex-update-event-type.order.placed"})
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-update-event-type")})
	defer admin.DeleteTenant(ctx, "ex-update-event-type")

	et, err := admin.UpdateEventType(ctx, "ex-update-event-type.order.placed", hookd.EventTypeUpdate{
		Description: hookd.String("An order was placed"),
		Schema:      json.RawMessage(`{"type": "object", "required": ["order"]}`),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(et.Description, "| schema:", et.Schema != nil)
	_, err = admin.Emit(ctx, "ex-update-event-type", "ex-update-event-type.order.placed", map[string]int{"amount": 12}, nil)
	var apiErr *hookd.Error
	if errors.As(err, &apiErr) {
		fmt.Println("emit without an order:", apiErr.StatusCode, apiErr.Code)
	}
	// Output:
	// An order was placed | schema: true
	// emit without an order: 422 invalid
}

// Retiring an event type: emits of it are refused, its history stays, and
// UpdateEventType with Archived false would bring it back.
func ExampleClient_ArchiveEventType() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateEventType(ctx, hookd.EventTypeParams{Name: "ex-archive-event-type.invoice.voided"})
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-archive-event-type")})
	defer admin.DeleteTenant(ctx, "ex-archive-event-type")

	fmt.Println("archive:", admin.ArchiveEventType(ctx, "ex-archive-event-type.invoice.voided"))
	_, err := admin.Emit(ctx, "ex-archive-event-type", "ex-archive-event-type.invoice.voided", map[string]string{"invoice": "inv_5"}, nil)
	fmt.Println(err)
	et, _ := admin.GetEventType(ctx, "ex-archive-event-type.invoice.voided")
	fmt.Println("archived:", et.ArchivedAt != nil)
	// Output:
	// archive: <nil>
	// hookd: event type "ex-archive-event-type.invoice.voided" is archived (422 invalid)
	// archived: true
}

// ---- operational endpoints

// The operator's own endpoint for hookd's news about itself: here it hears
// that a tenant's endpoint was disabled, and by whom.
func ExampleClient_CreateOperationalEndpoint() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("ex-create-operational-endpoint")})
	defer admin.DeleteTenant(ctx, "ex-create-operational-endpoint")
	ep, _ := admin.CreateEndpoint(ctx, "ex-create-operational-endpoint", hookd.EndpointParams{URL: hookd.String("https://acme.example/hooks"), EventTypes: []string{"*"}})
	secret, _ := signature.NewSecret()
	got := make(chan string, 10)
	ops := newReceiver(secret, got)
	defer ops.Close()

	op, err := admin.CreateOperationalEndpoint(ctx, hookd.EndpointParams{
		URL: hookd.String(ops.URL), EventTypes: []string{hookd.OpEndpointDisabled}, Secret: &secret,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer admin.DeleteOperationalEndpoint(ctx, op.ID)
	_, _ = admin.UpdateEndpoint(ctx, "ex-create-operational-endpoint", ep.ID, hookd.EndpointParams{Enabled: hookd.Bool(false)})
	var event hookd.OperationalEvent
	_, body, _ := strings.Cut(wait(got), " ") // "msg_ {…}"
	_ = json.Unmarshal([]byte(body), &event)
	fmt.Println(event.Type, "by", event.Data["by"], event.Data["endpoint_id"] == ep.ID)
	// Output:
	// endpoint.disabled by api true
}

// The operator's endpoints, newest first.
func ExampleClient_ListOperationalEndpoints() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	op, _ := admin.CreateOperationalEndpoint(ctx, hookd.EndpointParams{
		URL: hookd.String("https://ops.example/pager"), Description: hookd.String("ex-list-operational-endpoints: pager"),
		EventTypes: []string{hookd.OpDeliveryFailed}, Enabled: hookd.Bool(false),
	})
	defer admin.DeleteOperationalEndpoint(ctx, op.ID)

	page, err := admin.ListOperationalEndpoints(ctx, hookd.ListParams{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ep := range page.Data {
		if strings.HasPrefix(ep.Description, "ex-list-operational-endpoints:") { // other examples' aside
			fmt.Println(ep.Description, ep.URL, ep.EventTypes, ep.Enabled)
		}
	}
	// Output:
	// ex-list-operational-endpoints: pager https://ops.example/pager [delivery.failed] false
}

// One of the operator's endpoints.
func ExampleClient_GetOperationalEndpoint() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	created, _ := admin.CreateOperationalEndpoint(ctx, hookd.EndpointParams{
		URL: hookd.String("https://ops.example/get"), EventTypes: []string{hookd.OpEndpointDisabled, hookd.OpEndpointEnabled}, Enabled: hookd.Bool(false),
	})
	defer admin.DeleteOperationalEndpoint(ctx, created.ID)

	op, err := admin.GetOperationalEndpoint(ctx, created.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(op.URL, op.EventTypes, op.Enabled, op.SigningScheme)
	// Output:
	// https://ops.example/get [endpoint.disabled endpoint.enabled] false standard
}

// Subscribing an operator's endpoint to every operational event.
func ExampleClient_UpdateOperationalEndpoint() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	created, _ := admin.CreateOperationalEndpoint(ctx, hookd.EndpointParams{
		URL: hookd.String("https://ops.example/update"), EventTypes: []string{hookd.OpDeliveryFailed}, Enabled: hookd.Bool(false),
	})
	defer admin.DeleteOperationalEndpoint(ctx, created.ID)

	op, err := admin.UpdateOperationalEndpoint(ctx, created.ID, hookd.EndpointParams{
		EventTypes: []string{"*"}, Description: hookd.String("everything, to the ops channel"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(op.Description, op.EventTypes)
	// Output:
	// everything, to the ops channel [*]
}

// Removing an operator's endpoint.
func ExampleClient_DeleteOperationalEndpoint() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	op, _ := admin.CreateOperationalEndpoint(ctx, hookd.EndpointParams{
		URL: hookd.String("https://ops.example/old"), EventTypes: []string{"*"}, Enabled: hookd.Bool(false),
	})

	fmt.Println("delete:", admin.DeleteOperationalEndpoint(ctx, op.ID))
	_, err := admin.GetOperationalEndpoint(ctx, op.ID)
	fmt.Println("found:", !hookd.IsNotFound(err))
	// Output:
	// delete: <nil>
	// found: false
}

// The secret an operator's receiver verifies with, generated by hookd
// when none was given.
func ExampleClient_OperationalEndpointSecretInfo() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	op, _ := admin.CreateOperationalEndpoint(ctx, hookd.EndpointParams{
		URL: hookd.String("https://ops.example/secret"), EventTypes: []string{"*"}, Enabled: hookd.Bool(false),
	})
	defer admin.DeleteOperationalEndpoint(ctx, op.ID)

	info, err := admin.OperationalEndpointSecretInfo(ctx, op.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(info.Scheme, strings.HasPrefix(info.Key, "whsec_"), "rotated:", info.PreviousKeyExpiresAt != nil)
	// Output:
	// standard true rotated: false
}

// Rotating an operator's endpoint's secret to one of the operator's: the
// receiver verifies with the new one at once, the old one signs beside it
// for a day.
func ExampleClient_RotateOperationalEndpointSecret() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	newSecret, _ := signature.NewSecret()
	got := make(chan string, 10)
	ops := newReceiver(newSecret, got)
	defer ops.Close()
	op, _ := admin.CreateOperationalEndpoint(ctx, hookd.EndpointParams{URL: hookd.String(ops.URL), EventTypes: []string{hookd.OpDeliveryFailed}})
	defer admin.DeleteOperationalEndpoint(ctx, op.ID)

	info, err := admin.RotateOperationalEndpointSecret(ctx, op.ID, newSecret)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("rotated:", info.Key == newSecret, "old one expires:", info.PreviousKeyExpiresAt != nil)
	_, _ = admin.TestOperationalEndpoint(ctx, op.ID)
	fmt.Println("ping verified:", strings.Contains(wait(got), `"type":"hookd.ping"`))
	// Output:
	// rotated: true old one expires: true
	// ping verified: true
}

// Checking an operator's endpoint: a signed hookd.ping goes to it.
func ExampleClient_TestOperationalEndpoint() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	secret, _ := signature.NewSecret()
	got := make(chan string, 10)
	ops := newReceiver(secret, got)
	defer ops.Close()
	op, _ := admin.CreateOperationalEndpoint(ctx, hookd.EndpointParams{URL: hookd.String(ops.URL), EventTypes: []string{hookd.OpDeliveryFailed}, Secret: &secret})
	defer admin.DeleteOperationalEndpoint(ctx, op.ID)

	msg, err := admin.TestOperationalEndpoint(ctx, op.ID)
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
