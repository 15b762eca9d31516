package hookd_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"hookd.dev/hookd"
	"hookd.dev/hookd/dispatcher/signature"
)

// wait returns what the receiver got, or gives up after 10 s.
func wait(got <-chan string) string {
	select {
	case s := <-got:
		return s
	case <-time.After(10 * time.Second):
		return "nothing after 10s"
	}
}

// A tenant's receiver: it verifies the signature and hands the body on.
func newReceiver(secret string, got chan<- string) *httptest.Server {
	return newFlakyReceiver(secret, got, new(atomic.Int64))
}

func Example() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)

	// Once: an event type and a tenant (one of your customers).
	_, _ = admin.CreateEventType(ctx, hookd.EventTypeParams{Name: "invoice.paid"})
	_, _ = admin.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("example-acme")})

	// The tenant registers its endpoint (with its own key, or you on its behalf).
	secret, _ := signature.NewSecret()
	got := make(chan string, 1)
	receiver := newReceiver(secret, got)
	defer receiver.Close()
	_, err := admin.CreateEndpoint(ctx, "example-acme", hookd.EndpointParams{
		URL: hookd.String(receiver.URL), EventTypes: []string{"invoice.paid"}, Secret: &secret,
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// Your app emits; hookd signs, delivers and retries.
	msg, err := admin.Emit(ctx, "example-acme", "invoice.paid", map[string]any{"id": "inv_42", "amount": 1200}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("deliveries:", len(msg.Deliveries))
	fmt.Println("received:", wait(got))
	// Output:
	// deliveries: 1
	// received: msg_ {"amount":1200,"id":"inv_42"}
}

func ExampleHook() {
	ctx := context.Background()
	client := hookd.NewClient(hookdURL, adminKey)
	_, _ = client.CreateEventType(ctx, hookd.EventTypeParams{Name: "user.signed_up"})
	_, _ = client.CreateTenant(ctx, hookd.TenantParams{UID: hookd.String("example-hook")})
	secret, _ := signature.NewSecret()
	got := make(chan string, 1)
	receiver := newReceiver(secret, got)
	defer receiver.Close()
	if _, err := client.CreateEndpoint(ctx, "example-hook", hookd.EndpointParams{
		URL: hookd.String(receiver.URL), EventTypes: []string{"*"}, Secret: &secret,
	}); err != nil {
		fmt.Println(err)
		return
	}

	type User struct {
		Email string `json:"email"`
	}
	// signUp builds the payload; Hook emits it to the owner's endpoints.
	signUp := hookd.Hook(client, "user.signed_up", func(ctx context.Context, email string) (User, error) {
		return User{Email: email}, nil
	})
	user, err := signUp(ctx, "example-hook", "ada@example.com")
	fmt.Println(user.Email, err)
	fmt.Println("received:", wait(got))
	// Output:
	// ada@example.com <nil>
	// received: msg_ {"email":"ada@example.com"}
}

func ExampleIsNotFound() {
	client := hookd.NewClient(hookdURL, adminKey)
	_, err := client.GetTenant(context.Background(), "nobody")
	fmt.Println(hookd.IsNotFound(err))
	fmt.Println(err)
	// Output:
	// true
	// hookd: tenant "nobody" not found (404 not_found)
}

// Replacing a leaked admin key: make a new one, then revoke the old one. A
// key may revoke itself; here the new key retires itself again.
func ExampleClient_RevokeAdminKey() {
	ctx := context.Background()
	admin := hookd.NewClient(hookdURL, adminKey)
	key, err := admin.CreateAdminKey(ctx, "ops, rotated")
	if err != nil {
		fmt.Println(err)
		return
	}
	ops := hookd.NewClient(hookdURL, key)
	keys, err := ops.ListAdminKeys(ctx, hookd.ListParams{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, k := range keys.Data {
		if k.Name == "ops, rotated" && k.RevokedAt == nil {
			fmt.Println("listed:", k.Name)
			fmt.Println("revoke:", ops.RevokeAdminKey(ctx, k.ID))
		}
	}
	_, err = ops.ListAdminKeys(ctx, hookd.ListParams{})
	var apiErr *hookd.Error
	if errors.As(err, &apiErr) {
		fmt.Println("then:", apiErr.StatusCode, apiErr.Code)
	}
	// Output:
	// listed: ops, rotated
	// revoke: <nil>
	// then: 401 unauthorized
}
