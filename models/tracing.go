package models

import (
	"errors"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"
)

// statementSpans is a gorm plugin that makes each statement a client span
// of the global tracer provider, child of the statement's context: named
// by its kind and table, with its text and rows, never its arguments
// (secrets and payloads are among them). (gorm's own OpenTelemetry plugin
// imports the MySQL, ClickHouse and SQL Server drivers to name dialects.)
type statementSpans struct{}

func (statementSpans) Name() string { return "hookd:statement-spans" }

const spanKey = "hookd:span"

func (statementSpans) Initialize(db *gorm.DB) error {
	tracer := otel.Tracer("hookd.dev/hookd/models")
	system := db.Name()
	start := func(kind string) func(*gorm.DB) {
		return func(tx *gorm.DB) {
			name := "db." + kind
			if tx.Statement.Table != "" {
				name += " " + tx.Statement.Table
			}
			ctx, span := tracer.Start(tx.Statement.Context, name, trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.String("db.system.name", system)))
			tx.Statement.Context = ctx
			tx.InstanceSet(spanKey, span)
		}
	}
	end := func(tx *gorm.DB) {
		v, ok := tx.InstanceGet(spanKey)
		span, isSpan := v.(trace.Span)
		if !ok || !isSpan {
			return
		}
		span.SetAttributes(attribute.String("db.query.text", strings.TrimSpace(tx.Statement.SQL.String())),
			attribute.Int64("db.response.returned_rows", tx.Statement.RowsAffected))
		if err := tx.Error; err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
	cb := db.Callback()
	return errors.Join(
		cb.Create().Before("gorm:create").Register("hookd:span_start", start("insert")),
		cb.Create().After("gorm:create").Register("hookd:span_end", end),
		cb.Query().Before("gorm:query").Register("hookd:span_start", start("select")),
		cb.Query().After("gorm:query").Register("hookd:span_end", end),
		cb.Update().Before("gorm:update").Register("hookd:span_start", start("update")),
		cb.Update().After("gorm:update").Register("hookd:span_end", end),
		cb.Delete().Before("gorm:delete").Register("hookd:span_start", start("delete")),
		cb.Delete().After("gorm:delete").Register("hookd:span_end", end),
		cb.Row().Before("gorm:row").Register("hookd:span_start", start("query")),
		cb.Row().After("gorm:row").Register("hookd:span_end", end),
		cb.Raw().Before("gorm:raw").Register("hookd:span_start", start("exec")),
		cb.Raw().After("gorm:raw").Register("hookd:span_end", end),
	)
}
