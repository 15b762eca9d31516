package models

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaURL names an event type's schema inside the compiler. It is neutral
// on purpose: a file path would show the server's working directory in
// every error message, and would make relative $refs name local files.
const schemaURL = "https://hookd.invalid/event-type.json"

// errNoFetch is what the schema loader answers for every document.
var errNoFetch = errors.New("hookd fetches no documents")

// noFetch is the compiler's loader: it loads nothing, neither files nor URLs,
// so a schema cannot make hookd read the server's disk or the network. The
// standard meta-schemas are built into the library and need no loader.
type noFetch struct{}

func (noFetch) Load(string) (any, error) { return nil, errNoFetch }

// compileSchema compiles an event type's JSON Schema. Only the document
// itself is read: a $ref to anything outside it is refused.
func compileSchema(raw string) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(raw))
	if err != nil {
		return nil, Errorf(CodeInvalid, "schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noFetch{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, Errorf(CodeInvalid, "schema: %v", err)
	}
	sch, err := c.Compile(schemaURL)
	var loadErr *jsonschema.LoadURLError // it has no Unwrap
	if errors.As(err, &loadErr) && errors.Is(loadErr.Err, errNoFetch) {
		return nil, Errorf(CodeInvalid, "schema refers to %q, outside itself; hookd fetches no files or URLs: "+
			"put the definitions in the schema itself (\"$defs\", \"$ref\": \"#/$defs/…\")", loadErr.URL)
	}
	if err != nil {
		return nil, Errorf(CodeInvalid, "schema is not a valid JSON Schema: %v", err)
	}
	return sch, nil
}

// ValidateSchema checks a payload against an event type's schema, caching
// the compiled schema per event type version.
func (s *Store) ValidateSchema(et *EventType, payload []byte) error {
	if et.Schema == nil || *et.Schema == "" {
		return nil
	}
	key := et.Name + "@" + et.UpdatedAt.String()
	var sch *jsonschema.Schema
	if cached, ok := s.schemas.Load(key); ok {
		sch, _ = cached.(*jsonschema.Schema)
	} else {
		compiled, err := compileSchema(string(*et.Schema))
		if err != nil {
			return fmt.Errorf("event type %s: %w", et.Name, err)
		}
		s.schemas.Store(key, compiled)
		sch = compiled
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return Errorf(CodeInvalid, "payload is not JSON: %v", err)
	}
	if err := sch.Validate(doc); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return Errorf(CodeInvalid, "payload does not match the schema of %s: %s", et.Name, oneLine(ve.Error()))
		}
		return Errorf(CodeInvalid, "payload does not match the schema of %s: %v", et.Name, err)
	}
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
