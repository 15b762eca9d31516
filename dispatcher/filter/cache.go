package filter

import (
	"container/list"
	"sync"
)

// programSize estimates the heap a compiled expression holds: its plan
// grows with its text. Measured here (BenchmarkCompile's heap-B/filter):
// 9 KB for a filter of 90 characters, 27 KB for 900, 118 KB for 4,000.
func programSize(expr string) int {
	return 8<<10 + 40*len(expr)
}

// maxCacheBytes bounds the cache by the programs' estimated heap: some
// 7,000 short filters, or 400 of the longest.
const maxCacheBytes = 64 << 20

// cache holds compiled filters by their text, the least recently used
// dropped first: an emit evaluates the filters of its subscribers, and
// compiling one costs far more than evaluating it.
var cache = newLRU(maxCacheBytes)

// Cached is Compile, remembered.
func Cached(expr string) (*Filter, error) {
	if f, ok := cache.get(expr); ok {
		return f, nil
	}
	f, err := Compile(expr)
	if err != nil {
		return nil, err
	}
	cache.put(expr, f)
	return f, nil
}

// lru is a map of filters bounded by their estimated size.
type lru struct {
	mu       sync.Mutex
	max, len int
	order    *list.List // front: most recently used; values are *entry
	byExpr   map[string]*list.Element
}

type entry struct {
	expr   string
	filter *Filter
}

func newLRU(maxBytes int) *lru {
	return &lru{max: maxBytes, order: list.New(), byExpr: make(map[string]*list.Element)}
}

func (c *lru) get(expr string) (*Filter, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byExpr[expr]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*entry).filter, true
}

func (c *lru) put(expr string, f *Filter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byExpr[expr]; ok {
		return // compiled twice at once; keep the first
	}
	c.byExpr[expr] = c.order.PushFront(&entry{expr: expr, filter: f})
	c.len += f.size
	for c.len > c.max && c.order.Len() > 1 {
		oldest := c.order.Back()
		e := c.order.Remove(oldest).(*entry)
		delete(c.byExpr, e.expr)
		c.len -= e.filter.size
	}
}
