package models_test

import (
	"strings"
	"testing"

	"hookd.dev/hookd/models"
)

func TestCheckPayloadDepthCountsOnlyObjectsAndArrays(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		payload string
		ok      bool
	}{
		{`{"a": [1, {"b": 2}]}`, true},                 // 3 levels
		{`[[[[1]]]]`, false},                           // 4
		{`{"s": "[[[[[[[[[{{{{{{{"}`, true},            // brackets inside a string
		{`{"s": "\"[[[[[[[", "t": ["\\", [1]]}`, true}, // escaped quote and backslash: 3
		{`{"s": "\\\"", "t": [[[1]]]}`, false},         // 4 after an escaped quote
		{`[{}, {}, {}, [], [], {"x": [1]}]`, true},     // wide, not deep
	} {
		err := models.CheckPayloadDepth([]byte(tc.payload), 3)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.payload, err, tc.ok)
		}
	}
	deep := strings.Repeat("[", 3000) + strings.Repeat("]", 3000)
	if err := models.CheckPayloadDepth([]byte(deep), models.DefaultMaxPayloadDepth); err == nil || !strings.Contains(err.Error(), "3000 levels") {
		t.Errorf("3000 levels: %v", err)
	}
}
