package dispatcher

import (
	"sync"
	"time"
)

// A tenant whose endpoints answer slowly holds a worker for every request
// in flight, up to its endpoints' slots: three endpoints with ten slots
// each, answering after 12 s, held all 20 of a process's workers, and the
// other tenants' deliveries waited 2–10 s. So each pool of a process's
// workers (see handlers) lets one tenant hold at most a share of them with
// requests in flight; past it, the tenant's next deliveries wait their
// turn as a busy endpoint's do (given back, and tried again a moment later
// without using up an attempt), and the rest of the pool serves the others.

// tenantBusyAfter is how soon a delivery turned away for its tenant's
// share comes back: about one request of a slow endpoint's worth.
const tenantBusyAfter = time.Second

// tenantShares counts, by pool and tenant, the requests in flight.
type tenantShares struct {
	max int // in flight per tenant and pool

	mu       sync.Mutex
	inflight [2]map[string]int // by handlers, then tenant
}

func newTenantShares(perTenant int) *tenantShares {
	return &tenantShares{max: max(perTenant, 1), inflight: [2]map[string]int{{}, {}}}
}

// full reports whether the tenant holds its whole share of the pool: a
// delivery of it is not worth a claim now.
func (s *tenantShares) full(tenantID string, from handlers) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inflight[from][tenantID] >= s.max
}

// take takes a place in the tenant's share for one request, or answers a
// busyError when there is none; done gives it back, and must be called
// once (attemptClaimed's release, which calls it, runs once).
func (s *tenantShares) take(tenantID, endpointID string, from handlers) (done func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight[from][tenantID] >= s.max {
		return nil, &busyError{endpointID: endpointID, after: tenantBusyAfter}
	}
	s.inflight[from][tenantID]++
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.inflight[from][tenantID]--; s.inflight[from][tenantID] <= 0 {
			delete(s.inflight[from], tenantID)
		}
	}, nil
}
