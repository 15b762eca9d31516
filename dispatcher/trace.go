package dispatcher

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Tracing: an emit's trace goes with its deliveries, in each task's payload
// or with each local hand-off, so that one trace holds the API request, the
// emit and every attempt the emit caused (a retry is the child of the
// attempt before it). Spans go to the global tracer provider: none unless
// hookd was started with the OTLP variables (cmd/hookd).

const tracerName = "hookd.dev/hookd/dispatcher"

func tracer() trace.Tracer { return otel.Tracer(tracerName) }

// traceCarrier holds a span context as W3C trace context headers.
type traceCarrier map[string]string

// carry returns ctx's trace context for a delivery's next step, or nil.
func carry(ctx context.Context) traceCarrier {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return nil
	}
	c := traceCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, propagation.MapCarrier(c))
	return c
}

// resume returns ctx with the carried trace context as its parent.
func (c traceCarrier) resume(ctx context.Context) context.Context {
	if len(c) == 0 {
		return ctx
	}
	return otel.GetTextMapPropagator().Extract(ctx, propagation.MapCarrier(c))
}

// endSpan records err, if any, on the span and ends it.
func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
