package main

import (
	"context"
	"fmt"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// tracingWanted reports whether the standard OpenTelemetry variables ask
// for traces: an OTLP endpoint, or an exporter named by OTEL_TRACES_EXPORTER.
// Without them hookd makes no spans at all.
func tracingWanted(getenv func(string) string) bool {
	if e := getenv("OTEL_TRACES_EXPORTER"); e != "" {
		return e != "none"
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// startTracing installs a tracer provider that exports as the OTEL_*
// variables say (contrib's autoexport: OTLP over gRPC or http/protobuf, or
// the console), as service hookd (unless OTEL_SERVICE_NAME says otherwise),
// and W3C trace context as the propagator. It returns the provider's
// shutdown, which sends what is buffered.
func startTracing(ctx context.Context, mode string) (shutdown func(context.Context) error, err error) {
	exporter, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry exporter: %w", err)
	}
	resource, err := sdkresource.New(ctx,
		sdkresource.WithAttributes(
			attribute.String("service.name", "hookd"), attribute.String("service.version", version()),
			attribute.String("hookd.mode", mode)),
		sdkresource.WithFromEnv(), sdkresource.WithTelemetrySDK(), sdkresource.WithHost())
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry resource: %w", err)
	}
	provider := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(resource))
	otel.SetTracerProvider(provider)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return provider.Shutdown, nil
}
