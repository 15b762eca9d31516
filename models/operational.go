package models

import "slices"

// OperatorTenantID owns hookd's operational events, its news about itself
// for the operator: a tenant that migration 0009 makes and that the
// tenants' API and lists never show. Its endpoints are the operator's,
// managed through /v1/operational-endpoints, and receive these messages
// through the same pipeline as any other: signed, retried, recorded.
const OperatorTenantID = "ten_hookd_operational"

// The operational event types.
const (
	OpEndpointDisabled  = "endpoint.disabled"  // by a worker (410, or failing too long), the API or the admin UI
	OpEndpointEnabled   = "endpoint.enabled"   // by the API or the admin UI
	OpDeliveryFailed    = "delivery.failed"    // a delivery ended failed: its attempts are exhausted
	OpDeliveryRecovered = "delivery.recovered" // an endpoint that was failing succeeded again
)

// OperationalEventTypes are the event types an operational endpoint may
// subscribe to (or "*").
var OperationalEventTypes = []string{OpEndpointDisabled, OpEndpointEnabled, OpDeliveryFailed, OpDeliveryRecovered}

// validateOperationalEventTypes checks an operational endpoint's event types.
func validateOperationalEventTypes(names []string) error {
	if len(names) == 0 {
		return Errorf(CodeInvalid, `event_types must not be empty: name operational event types, or ["*"] for all`)
	}
	for _, name := range names {
		if name != AllEventTypes && !slices.Contains(OperationalEventTypes, name) {
			return Errorf(CodeInvalid, "unknown operational event type %q: want %v, or *", name, OperationalEventTypes)
		}
	}
	return nil
}
