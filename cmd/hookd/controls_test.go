package main

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"hookd.dev/hookd/hookdtest"
)

// TestDeliveryControlsEndToEnd: through the API of hookd serve, to
// receivers that verify every signature: the event type header on every
// request; the envelope, custom headers and a filter on one endpoint; a
// resend to it and a replay to an endpoint registered afterwards, each
// with the message's webhook-id.
func TestDeliveryControlsEndToEnd(t *testing.T) {
	t.Parallel()
	m := start(t, "serve", backends(t))
	c := newClient(t, m, testAdminKey)
	plain, shaped, late := hookdtest.NewReceiver(t), hookdtest.NewReceiver(t), hookdtest.NewReceiver(t)
	c.must(201, "POST", "/v1/event-types", map[string]any{"name": "invoice.paid"}, nil)
	c.must(201, "POST", "/v1/tenants", map[string]any{"uid": "acme"}, nil)
	c.must(201, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": plain.URL, "event_types": []string{"*"}, "secret": plain.Secret()}, nil)
	var ep struct {
		ID                string
		SecretHeaderNames []string `json:"secret_header_names"`
	}
	c.must(201, "POST", "/v1/tenants/acme/endpoints", map[string]any{
		"url": shaped.URL, "event_types": []string{"invoice.paid"}, "secret": shaped.Secret(),
		"envelope": true, "headers": map[string]string{"X-Team": "billing"},
		"secret_headers": map[string]string{"Authorization": "Basic c2VjcmV0"},
		"filter":         `data.amount > 1000`, "timeout": 3, "retry_schedule": []int{1, 2},
	}, &ep)
	if !slices.Equal(ep.SecretHeaderNames, []string{"Authorization"}) {
		t.Errorf("secret_header_names = %v", ep.SecretHeaderNames)
	}

	var ids []string
	start := time.Now().UTC().Add(-time.Second)
	for _, amount := range []int{10, 2000, 30} {
		var msg struct{ ID string }
		c.must(201, "POST", "/v1/tenants/acme/messages", map[string]any{"event_type": "invoice.paid", "payload": map[string]int{"amount": amount}}, &msg)
		ids = append(ids, msg.ID)
	}
	plain.Wait(t, 3)
	got := shaped.Wait(t, 1)
	d := got[0]
	if d.MessageID != ids[1] {
		t.Fatalf("the filtered endpoint got %s, want only %s (amount 2000)", d.MessageID, ids[1])
	}
	var env struct {
		Type      string
		Timestamp time.Time
		Data      json.RawMessage
	}
	if err := json.Unmarshal(d.Body, &env); err != nil || env.Type != "invoice.paid" || string(env.Data) != `{"amount":2000}` || env.Timestamp.IsZero() {
		t.Errorf("envelope: %s (%v)", d.Body, err)
	}
	if d.Header.Get("X-Team") != "billing" || d.Header.Get("Authorization") != "Basic c2VjcmV0" || d.Header.Get("webhook-event-type") != "invoice.paid" {
		t.Errorf("headers: %v", d.Header)
	}
	for _, p := range plain.Deliveries() {
		if p.Header.Get("webhook-event-type") != "invoice.paid" || p.Header.Get("X-Team") != "" {
			t.Errorf("the plain endpoint's headers: %v", p.Header)
		}
	}
	// The attempt shows the secret header redacted.
	var msg struct {
		Deliveries []struct {
			ID         string
			EndpointID string `json:"endpoint_id"`
		}
	}
	c.must(200, "GET", "/v1/tenants/acme/messages/"+ids[1], nil, &msg)
	for _, md := range msg.Deliveries {
		if md.EndpointID != ep.ID {
			continue
		}
		var full struct {
			Attempts []struct {
				RequestHeaders map[string]string `json:"request_headers"`
			}
		}
		// The receiver answered; the attempt is recorded just after.
		eventually(t, 10*time.Second, "the attempt recorded", func() bool {
			c.must(200, "GET", "/v1/tenants/acme/deliveries/"+md.ID, nil, &full)
			return len(full.Attempts) > 0
		})
		if h := full.Attempts[0].RequestHeaders; h["authorization"] != "[redacted]" || h["x-team"] != "billing" {
			t.Errorf("recorded request headers: %v", h)
		}
	}

	// Resend to the shaped endpoint: a new delivery, the same webhook-id.
	var resent struct {
		Deliveries []struct{ ID, MessageID string }
	}
	c.must(202, "POST", "/v1/tenants/acme/messages/"+ids[1]+"/resend", map[string]any{"endpoint_id": ep.ID}, &resent)
	if len(resent.Deliveries) != 1 {
		t.Fatalf("resend: %+v", resent)
	}
	eventually(t, 10*time.Second, "the resend to arrive", func() bool { return len(shaped.Deliveries()) == 2 })
	if again := shaped.Deliveries(); again[1].MessageID != ids[1] {
		t.Errorf("the resend arrived as %s, want webhook-id %s", again[1].MessageID, ids[1])
	}

	// A replay to an endpoint registered now sends every earlier message, in order.
	var lateEP struct{ ID string }
	c.must(201, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": late.URL, "event_types": []string{"invoice.paid"}, "secret": late.Secret()}, &lateEP)
	var replayed struct{ Replayed int }
	c.must(202, "POST", "/v1/tenants/acme/endpoints/"+lateEP.ID+"/replay", map[string]any{"since": start.Format(time.RFC3339Nano)}, &replayed)
	if replayed.Replayed != 3 {
		t.Fatalf("replayed %d, want 3", replayed.Replayed)
	}
	var order []string
	for _, d := range late.Wait(t, 3) {
		order = append(order, d.MessageID)
	}
	slices.Sort(order) // ids sort by acceptance; arrival order is free on an unordered endpoint
	if !slices.Equal(order, ids) {
		t.Errorf("replay delivered %v, want %v", order, ids)
	}
	if n := c.do("POST", "/v1/tenants/acme/endpoints/"+lateEP.ID+"/replay", map[string]any{}, nil); n != 422 {
		t.Errorf("a replay without since answered %d, want 422", n)
	}
}
