package dispatcher

import (
	"context"
	"fmt"
	"slices"

	"hookd.dev/hookd/dispatcher/filter"
	"hookd.dev/hookd/models"
)

// matching keeps the endpoints whose filter a message matches, each filter
// evaluated once; the payload is decoded only when one has a filter. The
// endpoints that deliver in order (FIFO) come last, so that the others can
// be claimed on write (see claimForLocal). A filter that fails at run time
// does not match: its endpoint misses the message, and the endpoint says why.
func (p *Pipeline) matching(ctx context.Context, eventType string, payload []byte, eps []models.Endpoint) []models.Endpoint {
	if !slices.ContainsFunc(eps, func(ep models.Endpoint) bool { return ep.Filter != "" || ep.FIFO() }) {
		return eps // the common case: nothing to evaluate or reorder
	}
	var data any
	decoded := false
	out := make([]models.Endpoint, 0, len(eps))
	for _, ep := range eps {
		if ep.Filter != "" {
			if !decoded {
				var err error
				if data, err = filter.Decode(payload); err != nil {
					// Validated JSON always decodes; refuse to guess if not.
					p.log.Error("payload does not decode for filters", "error", err)
					continue
				}
				decoded = true
			}
			if !p.matches(ctx, &ep, eventType, data) {
				continue
			}
		}
		out = append(out, ep)
	}
	slices.SortStableFunc(out, func(a, b models.Endpoint) int {
		switch {
		case a.FIFO() == b.FIFO():
			return 0
		case b.FIFO():
			return -1
		}
		return 1
	})
	return out
}

// matches evaluates an endpoint's filter. One that fails, or no longer
// compiles (it was stored by another version, or under other bounds),
// matches nothing, and the endpoint records why. An emit whose caller has
// gone stops evaluating, without blaming the filter.
func (p *Pipeline) matches(ctx context.Context, ep *models.Endpoint, eventType string, data any) bool {
	f, err := filter.Cached(ep.Filter)
	if err != nil {
		p.filterErr.note(ep, fmt.Errorf("the filter does not compile: %w", err))
		return false
	}
	ok, err := f.Match(ctx, eventType, data)
	if err != nil && ctx.Err() == nil {
		p.filterErr.note(ep, err)
	}
	return ok
}

// admits reports whether an endpoint's filter, if any, lets a message through.
func (p *Pipeline) admits(ctx context.Context, ep *models.Endpoint, msg *models.Message) bool {
	if ep.Filter == "" {
		return true
	}
	data, err := filter.Decode([]byte(msg.Payload))
	return err == nil && p.matches(ctx, ep, msg.EventType, data)
}

// Resend sends a stored message again, as new deliveries that keep the
// message's id (webhook-id), so that receivers can tell a repeat: to one
// endpoint of its tenant, or, with endpointID empty, to every enabled
// endpoint that subscribes to its event type now and whose filter it
// matches. A named endpoint gets it whatever it subscribes to.
func (p *Pipeline) Resend(ctx context.Context, tenantID, messageID, endpointID string) ([]models.Delivery, error) {
	msg, err := p.store.GetMessage(ctx, tenantID, messageID)
	if err != nil {
		return nil, err
	}
	var eps []models.Endpoint
	if endpointID != "" {
		ep, err := p.store.GetEndpoint(ctx, tenantID, endpointID)
		if err != nil {
			return nil, err
		}
		if !ep.Enabled {
			return nil, models.Errorf(models.CodeConflict, "endpoint %s is disabled; enable it before resending to it", ep.ID)
		}
		eps = []models.Endpoint{*ep}
	} else {
		if eps, err = p.store.Subscribers(ctx, nil, tenantID, msg.EventType); err != nil {
			return nil, err
		}
		eps = p.matching(ctx, msg.EventType, []byte(msg.Payload), eps)
		if len(eps) == 0 {
			return nil, models.Errorf(models.CodeConflict, "no enabled endpoint of tenant %s subscribes to %s (or matches the message with its filter)", tenantID, msg.EventType)
		}
	}
	if err := p.charge(ctx, tenantID, len(eps)); err != nil {
		return nil, err
	}
	t := p.store.Now()
	ds := make([]models.Delivery, len(eps))
	for i := range eps {
		ds[i] = newDelivery(t, msg, &eps[i], models.TriggerManual)
	}
	if err := p.store.WriteDeliveries(ctx, ds); err != nil {
		return nil, err
	}
	p.Enqueue(ctx, ds...)
	return ds, nil
}

// Replay sends an endpoint every message of its tenant accepted in a
// window, of the event types it subscribes to and matching its filter, as
// new deliveries in the messages' order: for a receiver that was down, or
// has just been registered. It returns how many it sent; a window of more
// than models.MaxReplay messages is refused.
func (p *Pipeline) Replay(ctx context.Context, tenantID, endpointID string, params models.ReplayParams) (int, error) {
	ep, err := p.store.GetEndpoint(ctx, tenantID, endpointID)
	if err != nil {
		return 0, err
	}
	if !ep.Enabled {
		return 0, models.Errorf(models.CodeConflict, "endpoint %s is disabled; enable it before replaying to it", ep.ID)
	}
	n, err := p.store.CheckReplay(ctx, tenantID, ep.EventTypes, params)
	if err != nil {
		return 0, err
	}
	// What the filter will skip is charged too: it is known only message by message.
	if err := p.charge(ctx, tenantID, n); err != nil {
		return 0, err
	}
	sent := 0
	for after := ""; ; {
		msgs, err := p.store.MessagesToReplay(ctx, tenantID, ep.EventTypes, params, after, replayPage)
		if err != nil {
			return sent, err
		}
		t := p.store.Now()
		var ds []models.Delivery
		for i := range msgs {
			if p.admits(ctx, ep, &msgs[i]) {
				ds = append(ds, newDelivery(t, &msgs[i], ep, models.TriggerManual))
			}
		}
		if err := p.store.WriteDeliveries(ctx, ds); err != nil {
			return sent, err
		}
		p.Enqueue(ctx, ds...)
		sent += len(ds)
		if len(msgs) < replayPage {
			return sent, nil
		}
		after = msgs[len(msgs)-1].ID
	}
}

// replayPage is how many messages a replay reads and writes at a time.
const replayPage = 500
