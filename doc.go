// Package hookd is the Go SDK of hookd, the webhook delivery platform.
//
// Apps emit events to their customers' (tenants') endpoints through a
// Client, which speaks hookd's REST API:
//
//	client := hookd.NewClient("http://localhost:8080", os.Getenv("HOOKD_API_KEY"))
//	msg, err := client.Emit(ctx, "acme", "invoice.paid", invoice, nil)
//
// Hook turns a function that builds a payload into one that also emits it,
// the Go form of dj-webhooks' @hook decorator:
//
//	pay := hookd.Hook(client, "invoice.paid", func(ctx context.Context, id string) (Invoice, error) {
//		return markPaid(ctx, id)
//	})
//	invoice, err := pay(ctx, "acme", "inv_42") // emits invoice.paid to acme's endpoints
//
// The package needs the standard library only. Emitting in process,
// inside the app's own gorm transactions (the outbox pattern), is
// hookd.dev/hookd/outbox's; it brings hookd's storage and queue with it.
//
// Receivers verify what they get with hookd.dev/hookd/dispatcher/signature.
package hookd
