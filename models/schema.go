package models

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compileSchema compiles an event type's JSON Schema. Only the document
// itself is read: references to other URLs are not fetched.
func compileSchema(raw string) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(raw))
	if err != nil {
		return nil, Errorf(CodeInvalid, "schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("event-type.json", doc); err != nil {
		return nil, Errorf(CodeInvalid, "schema: %v", err)
	}
	sch, err := c.Compile("event-type.json")
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
