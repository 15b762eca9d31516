package hookd

import (
	"context"
	"fmt"
)

// EventEmitter emits events: *Client over HTTP, *outbox.Emitter in process.
type EventEmitter interface {
	Emit(ctx context.Context, tenant, eventType string, payload any, opts *EmitOpts) (*Message, error)
}

// Hook wraps fn so that each call also emits what fn returns as an event of
// eventType to the owner's endpoints: the Go form of dj-webhooks'
// @hook(event=…) decorator. owner is the tenant (id or uid).
//
// If fn fails nothing is emitted. If the emit fails, the wrapped function
// returns fn's result together with the error, so the caller decides.
func Hook[A, P any](e EventEmitter, eventType string, fn func(ctx context.Context, args A) (P, error)) func(ctx context.Context, owner string, args A) (P, error) {
	return func(ctx context.Context, owner string, args A) (P, error) {
		payload, err := fn(ctx, args)
		if err != nil {
			return payload, err
		}
		if _, err := e.Emit(ctx, owner, eventType, payload, nil); err != nil {
			return payload, fmt.Errorf("emit %s to %s: %w", eventType, owner, err)
		}
		return payload, nil
	}
}
