package dispatcher

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"hookd.dev/hookd/models"
)

// filterErrorEvery is how often one process records the failures of one
// endpoint's filter: a filter that fails on every message would otherwise
// write the endpoint's row at every emit.
const filterErrorEvery = time.Minute

// filterErrorStore is what filterErrors writes to; *models.Store is one.
type filterErrorStore interface {
	RecordFilterError(ctx context.Context, endpointID, expr, reason string) error
}

// filterErrors records why endpoints' filters fail at run time on the
// endpoint (FilterError), for its owner to see, off the emit's path: an
// emit hands the failure over and goes on; what finds the line full is
// only logged.
type filterErrors struct {
	store filterErrorStore
	log   *slog.Logger
	todo  chan filterError
	stop  chan struct{}
	done  chan struct{}

	mu   sync.Mutex
	last map[string]time.Time // endpoint id → when this process last recorded it
}

type filterError struct {
	endpointID, expr, reason string
}

func newFilterErrors(store filterErrorStore, log *slog.Logger) *filterErrors {
	f := &filterErrors{store: store, log: log, todo: make(chan filterError, 64),
		stop: make(chan struct{}), done: make(chan struct{}), last: make(map[string]time.Time)}
	go f.run()
	return f
}

// note hands over a filter's failure, unless this endpoint's was recorded
// within filterErrorEvery.
func (f *filterErrors) note(ep *models.Endpoint, err error) {
	now := time.Now()
	f.mu.Lock()
	if now.Sub(f.last[ep.ID]) < filterErrorEvery {
		f.mu.Unlock()
		return
	}
	if len(f.last) >= 10_000 { // forget what is past its interval
		for id, at := range f.last {
			if now.Sub(at) >= filterErrorEvery {
				delete(f.last, id)
			}
		}
	}
	f.last[ep.ID] = now
	f.mu.Unlock()
	f.log.Warn("endpoint filter failed; no delivery", "endpoint_id", ep.ID, "tenant_id", ep.TenantID, "error", err)
	select {
	case f.todo <- filterError{endpointID: ep.ID, expr: ep.Filter, reason: err.Error()}:
	default:
	}
}

func (f *filterErrors) run() {
	defer close(f.done)
	for {
		select {
		case <-f.stop:
			return
		case e := <-f.todo:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := f.store.RecordFilterError(ctx, e.endpointID, e.expr, e.reason); err != nil {
				f.log.Warn("could not record an endpoint's filter error", "endpoint_id", e.endpointID, "error", err)
			}
			cancel()
		}
	}
}

// Close stops recording; failures not yet written are dropped (they are in
// the log, and the next one is recorded).
func (f *filterErrors) Close() {
	close(f.stop)
	<-f.done
}
