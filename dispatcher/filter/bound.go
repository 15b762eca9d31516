package filter

import (
	"fmt"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/checker"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/interpreter"
)

// CEL charges a call's cost after the call has run, and charges ==, != and
// in by the top level of their operands only. Lists joined with + share
// their halves, so an expression can double a list a few dozen times for a
// cost of 1 each and then compare it, doing 2^k steps in one call before
// any limit is looked at (k=20 ran for 0.6 s, k=40 would run for days). So
// these three operators weigh their operands first, at every depth and up
// to a bound, refuse to compare more than maxCompared values, and are
// charged what they weighed.

// maxCompared bounds the values one comparison may look at, both operands
// together. Walking a list joined 40 times over takes about 2 µs a value
// (each step descends the joins), so weighing 10,000 takes 20 ms.
const maxCompared = 10_000

// weightCost is what each value weighed costs: the cost limit then allows
// comparisons over 10,000 values in all per evaluation, whatever their
// number.
const weightCost = 10

// boundComparisons is a decorator that puts the operators that compare
// lists and maps element by element behind a weight check.
func boundComparisons(i interpreter.InterpretableV2) (interpreter.InterpretableV2, error) {
	call, ok := i.(interpreter.InterpretableCall)
	if !ok || len(call.Args()) != 2 {
		return i, nil
	}
	switch call.Function() {
	case operators.Equals, operators.NotEquals, operators.In:
		return boundedComparison{call}, nil
	}
	return i, nil
}

// boundedComparison evaluates ==, != or in as CEL does, once its operands
// have been weighed. It stays an InterpretableCall with the same function
// and arguments, so that cost tracking charges it through weighedCost.
type boundedComparison struct {
	interpreter.InterpretableCall
}

func (b boundedComparison) Exec(frame *interpreter.ExecutionFrame) ref.Val {
	args := b.Args()
	lhs := args[0].Exec(frame)
	if types.IsUnknownOrError(lhs) {
		return lhs
	}
	rhs := args[1].Exec(frame)
	if types.IsUnknownOrError(rhs) {
		return rhs
	}
	if compared(b.Function(), lhs, rhs) > maxCompared {
		return types.NewErr("a comparison would look at more than %d values", maxCompared)
	}
	switch b.Function() {
	case operators.Equals:
		return types.Equal(lhs, rhs)
	case operators.NotEquals:
		return types.Bool(types.Equal(lhs, rhs) != types.True)
	}
	if c, ok := rhs.(traits.Container); ok {
		return c.Contains(lhs)
	}
	return types.ValOrErr(rhs, "no such overload")
}

func (b boundedComparison) Eval(vars interpreter.Activation) ref.Val {
	return b.Exec(interpreter.AsFrame(vars))
}

// compared is how many values a comparison looks at, at most, counted up
// to a little past maxCompared. A key looked up in a map is one value.
func compared(function string, lhs, rhs ref.Val) int {
	n := weight(lhs, maxCompared)
	if _, isMap := rhs.(traits.Mapper); function == operators.In && isMap {
		return n + 1
	}
	return n + weight(rhs, maxCompared-n)
}

// weight counts v and the values a list or map holds, at every depth,
// stopping once the count passes limit.
func weight(v ref.Val, limit int) int {
	n := 1
	switch v := v.(type) {
	case traits.Mapper:
		for it := v.Iterator(); n <= limit && it.HasNext() == types.True; {
			n += 1 + weight(v.Get(it.Next()), limit-n)
		}
	case traits.Lister:
		for it := v.Iterator(); n <= limit && it.HasNext() == types.True; {
			n += weight(it.Next(), limit-n)
		}
	}
	return n
}

// weighedCost charges the comparisons what they weighed; every other call
// keeps CEL's own cost.
type weighedCost struct{}

func (weighedCost) CallCost(function, _ string, args []ref.Val, _ ref.Val) *uint64 {
	switch function {
	case operators.Equals, operators.NotEquals, operators.In:
		if len(args) == 2 {
			c := uint64(weightCost * compared(function, args[0], args[1])) //nolint:gosec // at most weightCost × (maxCompared + 2)
			return &c
		}
	}
	return nil
}

// nominalSize is the size the estimate at Compile gives every list, map and
// string of the payload: an expression that costs more than CostLimit with
// lists of ten items would fail on nearly every message.
const nominalSize = 10

// checkEstimate refuses an expression that cannot run within the cost
// limit on a modest payload, such as comprehensions nested four deep.
func checkEstimate(ast *cel.Ast) error {
	est, err := env.EstimateCost(ast, nominalSizes{})
	if err != nil {
		return fmt.Errorf("the filter's cost cannot be estimated: %w", err)
	}
	if est.Max > CostLimit {
		return fmt.Errorf("the filter would take up to %d steps on a payload whose lists hold %d items, more than the %d allowed",
			est.Max, nominalSize, CostLimit)
	}
	return nil
}

// nominalSizes is the estimator of checkEstimate.
type nominalSizes struct{}

func (nominalSizes) EstimateSize(checker.AstNode) *checker.SizeEstimate {
	return &checker.SizeEstimate{Min: 0, Max: nominalSize}
}

func (nominalSizes) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}
