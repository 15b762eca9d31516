package dispatcher

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// batcher groups the work of concurrent callers: each caller hands over one
// item and waits; a few flushers take whatever is waiting (up to max) and
// handle it in one go — one statement, one transaction, one round trip.
// After the first item a flusher lingers a moment for more (while one batch
// is written the next one gathers), so that under load batches grow and the
// cost per item falls, while a lone caller waits at most the linger.
type batcher[T, R any] struct {
	name   string // of the batch's span
	in     chan batchItem[T, R]
	flush  func(ctx context.Context, items []T) ([]R, error)
	max    int
	linger time.Duration
	stop   chan struct{}
	wg     sync.WaitGroup
}

type batchItem[T, R any] struct {
	v    T
	done chan batchResult[R]
	from trace.SpanContext // the submitter's span, linked from the batch's
}

type batchResult[R any] struct {
	r   R
	err error
}

// newBatcher starts flushers goroutines that call flush with up to max
// items, gathered for at most linger after the first; flush returns one
// result per item, or an error for all of them. Each flush is a span named
// name (none for ""), linked to the spans of the items' submitters. Close
// stops them.
func newBatcher[T, R any](name string, flushers, max int, linger time.Duration, flush func(context.Context, []T) ([]R, error)) *batcher[T, R] {
	b := &batcher[T, R]{
		name: name, in: make(chan batchItem[T, R], max*flushers), flush: flush, max: max, linger: linger, stop: make(chan struct{}),
	}
	for range flushers {
		b.wg.Go(b.loop)
	}
	return b
}

// submit hands v over and waits for its result. The write goes on even if
// ctx ends first, since it may share a transaction with others.
func (b *batcher[T, R]) submit(ctx context.Context, v T) (R, error) {
	item := batchItem[T, R]{v: v, done: make(chan batchResult[R], 1), from: trace.SpanContextFromContext(ctx)}
	var zero R
	select {
	case b.in <- item:
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-b.stop:
		return zero, errStopped
	}
	select {
	case res := <-item.done:
		return res.r, res.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// post hands v over without waiting for its result; it blocks only while
// the flushers are that far behind.
func (b *batcher[T, R]) post(v T) {
	select {
	case b.in <- batchItem[T, R]{v: v, done: make(chan batchResult[R], 1)}:
	case <-b.stop:
	}
}

func (b *batcher[T, R]) loop() {
	items := make([]batchItem[T, R], 0, b.max)
	for {
		items = items[:0]
		select {
		case <-b.stop:
			return
		case it := <-b.in:
			items = append(items, it)
		}
		b.gather(&items)
		b.write(items)
	}
}

// write flushes the items in one go and answers each.
func (b *batcher[T, R]) write(items []batchItem[T, R]) {
	values := make([]T, len(items))
	var links []trace.Link
	for i, it := range items {
		values[i] = it.v
		if it.from.IsValid() { // only when tracing is on
			links = append(links, trace.Link{SpanContext: it.from})
		}
	}
	ctx := context.Background()
	var span trace.Span
	if b.name != "" {
		ctx, span = tracer().Start(ctx, b.name,
			trace.WithLinks(links...), trace.WithAttributes(attribute.Int("hookd.batch_size", len(items))))
	}
	results, err := b.flush(ctx, values)
	if span != nil {
		endSpan(span, err)
	}
	for i, it := range items {
		if err != nil {
			it.done <- batchResult[R]{err: err}
			continue
		}
		it.done <- batchResult[R]{r: results[i]}
	}
}

// gather adds to items what arrives within the linger, up to max.
func (b *batcher[T, R]) gather(items *[]batchItem[T, R]) {
	if b.linger <= 0 {
		for len(*items) < b.max {
			select {
			case it := <-b.in:
				*items = append(*items, it)
			default:
				return
			}
		}
		return
	}
	timer := time.NewTimer(b.linger)
	defer timer.Stop()
	for len(*items) < b.max {
		select {
		case it := <-b.in:
			*items = append(*items, it)
		case <-timer.C:
			return
		}
	}
}

// Close stops the flushers once the batches they hold are written, then
// writes what is still waiting (a posted item has nobody to retry it).
// Callers that submit afterwards get errStopped.
func (b *batcher[T, R]) Close() {
	close(b.stop)
	b.wg.Wait()
	for {
		var items []batchItem[T, R]
	drain:
		for len(items) < b.max {
			select {
			case it := <-b.in:
				items = append(items, it)
			default:
				break drain
			}
		}
		if len(items) == 0 {
			return
		}
		b.write(items)
	}
}

var errStopped = errors.New("hookd is shutting down")
