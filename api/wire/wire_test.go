package wire

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"hookd.dev/hookd/models"
)

// TestEveryFieldIsCarried fills every field of each stored model and
// checks that its wire form has every field set: a field added to a wire
// type and forgotten here shows up as zero.
func TestEveryFieldIsCarried(t *testing.T) {
	for name, convert := range map[string]func() any{
		"Tenant":    func() any { return Tenant(filled[models.Tenant](t)) },
		"APIKey":    func() any { return APIKey(filled[models.APIKey](t)) },
		"EventType": func() any { return EventType(filled[models.EventType](t)) },
		"Endpoint":  func() any { return Endpoint(filled[models.Endpoint](t)) },
		"Message":   func() any { return Message(filled[models.Message](t)) },
		"Delivery":  func() any { return Delivery(filled[models.Delivery](t)) },
		"Attempt":   func() any { return Attempt(filled[models.Attempt](t)) },
	} {
		out := reflect.ValueOf(convert())
		for i := range out.NumField() {
			if out.Field(i).IsZero() {
				t.Errorf("%s.%s is not carried from the model", name, out.Type().Field(i).Name)
			}
		}
	}
}

// TestPayloadBytesAreKept checks that a message's payload is handed on as
// the bytes it was stored with (they are signed), not decoded and encoded
// again; the outbox's Emitter returns it so. (encoding/json compacts it when
// the API writes its answer.)
func TestPayloadBytesAreKept(t *testing.T) {
	payload := `{"b": 1,  "a": "\u00e9"}`
	if got := Message(&models.Message{ID: "msg_1", Payload: models.RawJSON(payload)}).Payload; string(got) != payload {
		t.Fatalf("payload = %s, want %s", got, payload)
	}
	if got, err := json.Marshal(Message(&models.Message{ID: "msg_1"})); err != nil || !json.Valid(got) {
		t.Fatalf("a message without a payload: %s, %v", got, err)
	}
}

// filled returns a T whose fields all hold something.
func filled[T any](t *testing.T) *T {
	var v T
	fill(t, reflect.ValueOf(&v).Elem())
	return &v
}

func fill(t *testing.T, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(`{"x":1}`) // valid JSON, for the payload and schema
	case reflect.Int, reflect.Int64:
		v.SetInt(7)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(t, v.Index(0))
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(reflect.ValueOf("k"), reflect.ValueOf("v"))
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fill(t, v.Field(i))
		}
	default:
		t.Fatalf("fill: no value for a %s", v.Type())
	}
}
