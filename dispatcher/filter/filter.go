// Package filter decides which messages an endpoint receives beyond its
// event types: a CEL expression (https://cel.dev) over the message, such as
//
//	data.amount > 1000 && data.currency == "EUR"
//	event_type.startsWith("invoice.") && has(data.customer.vip) && data.customer.vip
//
// The expression sees two variables: data, the payload as JSON decodes it
// (objects are maps, numbers doubles that compare with integers), and
// event_type, a string. It must give a bool. CEL has no loops and no side
// effects, and its evaluation is bounded by a cost limit, so an endpoint's
// filter cannot hold up an emit.
package filter

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
)

// MaxLength bounds an expression's text.
const MaxLength = 4096

// costLimit bounds one evaluation: about as many steps as a filter with a
// few dozen comparisons over a list of a hundred items takes.
const costLimit = 100_000

// env declares what an expression may use; it is safe for concurrent use.
var env = func() *cel.Env {
	e, err := cel.NewEnv(
		cel.Variable("data", cel.DynType),
		cel.Variable("event_type", cel.StringType),
		cel.CrossTypeNumericComparisons(true),
		cel.ParserExpressionSizeLimit(MaxLength),
	)
	if err != nil {
		panic(err)
	}
	return e
}()

// Filter is a compiled expression.
type Filter struct {
	program cel.Program
}

// Compile checks an expression and prepares it. Its error says what is
// wrong and where, as CEL reports it.
func Compile(expr string) (*Filter, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, errors.New("the filter is empty")
	}
	if len(expr) > MaxLength {
		return nil, fmt.Errorf("the filter is %d characters long, at most %d are allowed", len(expr), MaxLength)
	}
	ast, issues := env.Compile(expr)
	if issues != nil && issues.Err() != nil {
		return nil, errors.New(strings.TrimSpace(issues.Err().Error()))
	}
	if !ast.OutputType().IsExactType(cel.BoolType) && !ast.OutputType().IsExactType(cel.DynType) {
		return nil, fmt.Errorf("the filter must give true or false, not a value of type %s", ast.OutputType())
	}
	program, err := env.Program(ast, cel.CostLimit(costLimit))
	if err != nil {
		return nil, err
	}
	return &Filter{program: program}, nil
}

// Match evaluates the filter against a message. A filter that fails at run
// time (a missing field without has(), a value of the wrong type, a cost
// over the limit) does not match, and says why.
func (f *Filter) Match(eventType string, data any) (bool, error) {
	out, _, err := f.program.Eval(map[string]any{"data": data, "event_type": eventType})
	if err != nil {
		return false, err
	}
	match, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("the filter gave %v, not true or false", out.Value())
	}
	return match, nil
}

// Decode reads a payload the way filters see it.
func Decode(payload []byte) (any, error) {
	var data any
	if err := json.Unmarshal(payload, &data); err != nil {
		return nil, err
	}
	return data, nil
}

// cache holds compiled filters by their text: an emit evaluates the
// filters of its subscribers, and compiling one costs far more than
// evaluating it.
var cache struct {
	sync.RWMutex
	m map[string]*Filter
}

// maxCached bounds the cache; past it, it starts over (filters change
// rarely, so the ones in use come back at once).
const maxCached = 10_000

// Cached is Compile, remembered.
func Cached(expr string) (*Filter, error) {
	cache.RLock()
	f, ok := cache.m[expr]
	cache.RUnlock()
	if ok {
		return f, nil
	}
	f, err := Compile(expr)
	if err != nil {
		return nil, err
	}
	cache.Lock()
	if cache.m == nil || len(cache.m) >= maxCached {
		cache.m = make(map[string]*Filter)
	}
	cache.m[expr] = f
	cache.Unlock()
	return f, nil
}
