package dispatcher

import (
	"context"
	"sync"
)

// intake holds the deliveries handed to this process's local workers, in
// one line per endpoint, and gives a worker the next delivery of an
// endpoint that has fewer than perEndpoint taken and not done. Work for a
// busy endpoint thus waits here as data: it holds no worker, is not turned
// into a queued retry for want of a place in the endpoint's slot line, and
// the other endpoints' deliveries go by it (endpoints take turns). What
// waits is bounded in deliveries and in payload bytes.
type intake struct {
	perEndpoint int

	mu     sync.Mutex
	more   *sync.Cond             // signalled when a delivery may be taken
	lines  map[string][]localItem // waiting, by endpoint, in the order given
	turns  []string               // endpoints with deliveries waiting, next first
	taken  map[string]int         // by endpoint: taken and not done
	room   int                    // places not promised (reserve)
	bytes  int64                  // payload bytes not promised
	freed  chan struct{}          // closed when places are next freed (roomFreed)
	closed bool
}

func newIntake(capacity int, bytes int64, perEndpoint int) *intake {
	in := &intake{
		perEndpoint: max(perEndpoint, 1), room: capacity, bytes: bytes,
		lines: map[string][]localItem{}, taken: map[string]int{},
	}
	in.more = sync.NewCond(&in.mu)
	return in
}

// reserve promises up to n places to deliveries whose payloads (held
// while they wait) have size bytes each, and answers how many.
func (in *intake) reserve(n, size int) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	k := min(n, in.room)
	if size > 0 {
		k = min(k, int(in.bytes/int64(size)))
	}
	k = max(k, 0)
	in.room -= k
	in.bytes -= int64(k * size)
	return k
}

// unreserve gives back places promised and not used.
func (in *intake) unreserve(n, size int) {
	in.mu.Lock()
	in.free(n, n*size)
	in.mu.Unlock()
}

// free makes n places and size bytes promisable again; with in.mu held.
func (in *intake) free(n, size int) {
	in.room += n
	in.bytes += int64(size)
	if in.freed != nil {
		close(in.freed)
		in.freed = nil
	}
}

// roomFreed returns a channel closed when places are next freed: ask for
// it before a reserve that may find no room, and no place freed between
// the two goes unseen.
func (in *intake) roomFreed() <-chan struct{} {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.freed == nil {
		in.freed = make(chan struct{})
	}
	return in.freed
}

// heldBytes is what a delivery waiting here holds of its payload.
func heldBytes(it localItem) int {
	if it.claim == nil {
		return 0 // read when it is claimed
	}
	return len(it.claim.Payload)
}

// put adds deliveries that reserve promised places to.
func (in *intake) put(items ...localItem) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, it := range items {
		id := it.delivery.EndpointID
		if len(in.lines[id]) == 0 {
			in.turns = append(in.turns, id)
		}
		in.lines[id] = append(in.lines[id], it)
		if len(in.lines[id]) <= in.perEndpoint-in.taken[id] {
			in.more.Signal()
		}
	}
}

// take waits for a delivery to take, and answers false once the intake is
// closed (see watch). The place it held is free again; done says it is
// handled.
func (in *intake) take() (localItem, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for !in.closed {
		for i, id := range in.turns {
			if in.taken[id] >= in.perEndpoint {
				continue
			}
			line := in.lines[id]
			it := line[0]
			in.taken[id]++
			in.free(1, heldBytes(it))
			in.turns = append(in.turns[:i:i], in.turns[i+1:]...)
			if len(line) == 1 {
				delete(in.lines, id)
			} else {
				in.lines[id] = line[1:]
				in.turns = append(in.turns, id) // its next turn after the others'
			}
			return it, true
		}
		in.more.Wait()
	}
	return localItem{}, false
}

// done says a delivery taken is handled: its endpoint's next may be taken.
func (in *intake) done(endpointID string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.taken[endpointID]--; in.taken[endpointID] <= 0 {
		delete(in.taken, endpointID)
	}
	if len(in.lines[endpointID]) > in.perEndpoint-in.taken[endpointID]-1 {
		in.more.Signal()
	}
}

// watch closes the intake when ctx ends: take answers false from then on.
func (in *intake) watch(ctx context.Context) {
	<-ctx.Done()
	in.mu.Lock()
	in.closed = true
	in.more.Broadcast()
	in.mu.Unlock()
}

// drain takes out every delivery still waiting.
func (in *intake) drain() []localItem {
	in.mu.Lock()
	defer in.mu.Unlock()
	var out []localItem
	for _, id := range in.turns {
		for _, it := range in.lines[id] {
			out = append(out, it)
			in.free(1, heldBytes(it))
		}
	}
	in.lines, in.turns = map[string][]localItem{}, nil
	return out
}
