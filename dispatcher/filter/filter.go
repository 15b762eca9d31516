// Package filter decides which messages an endpoint receives beyond its
// event types: a CEL expression (https://cel.dev) over the message, such as
//
//	data.amount > 1000 && data.currency == "EUR"
//	event_type.startsWith("invoice.") && has(data.customer.vip) && data.customer.vip
//
// The expression sees two variables: data, the payload as JSON decodes it
// (objects are maps, numbers doubles that compare with integers), and
// event_type, a string. It must give a bool.
//
// Filters are written by tenants and run inside the app's emits, so each
// evaluation is bounded three ways (see bound.go): a cost limit, comparisons
// whose real work is counted before they run, and a deadline checked inside
// every comprehension. Compile also refuses an expression whose estimated
// cost is over the limit for any payload.
package filter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/interpreter"
)

// MaxLength bounds an expression's text.
const MaxLength = 4096

// CostLimit bounds one evaluation: about as many steps as a filter with a
// few dozen comparisons over a list of a hundred items takes. The worst
// expression within it ran for 12 ms here (TestEvaluationIsBoundedInTime).
const CostLimit = 100_000

// Timeout bounds one evaluation in time, whatever its cost: a filter that
// runs longer does not match. It is checked every interruptEvery iterations
// of a comprehension, the only construct in CEL that repeats.
const Timeout = 50 * time.Millisecond

// interruptEvery is how often a comprehension checks the deadline.
const interruptEvery = 100

// ErrTooCostly is the error of an evaluation stopped at the cost limit.
var ErrTooCostly = fmt.Errorf("the filter went over its cost limit (%d steps) and was stopped", CostLimit)

// ErrTimeout is the error of an evaluation stopped at its deadline.
var ErrTimeout = fmt.Errorf("the filter ran longer than %s and was stopped", Timeout)

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
	size    int           // an estimate of the heap it holds, for the cache
	timeout time.Duration // Timeout; longer in tests of the cost limit under the race detector
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
	if err := checkEstimate(ast); err != nil {
		return nil, err
	}
	program, err := env.Program(ast,
		cel.CostLimit(CostLimit),
		cel.CostTracking(weighedCost{}),
		cel.CustomDecoratorV2(boundComparisons),
		cel.InterruptCheckFrequency(interruptEvery),
	)
	if err != nil {
		return nil, err
	}
	return &Filter{program: program, size: programSize(expr), timeout: Timeout}, nil
}

// Match evaluates the filter against a message, for at most Timeout and
// not beyond ctx. A filter that fails at run time (a missing field without
// has(), a value of the wrong type, a cost over the limit, the deadline)
// does not match, and says why.
func (f *Filter) Match(ctx context.Context, eventType string, data any) (bool, error) {
	evalCtx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	out, _, err := f.program.ContextEval(evalCtx, map[string]any{"data": data, "event_type": eventType})
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return false, fmt.Errorf("the filter was stopped: %w", context.Cause(ctx))
	case errors.As(err, new(interpreter.EvalCancelledError)) && evalCtx.Err() == nil:
		return false, ErrTooCostly
	case evalCtx.Err() != nil:
		return false, ErrTimeout
	default:
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
