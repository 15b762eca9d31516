package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// The text form of the API's answers: a page's data as a table of chosen
// columns, an object as one field a line in the API's order, then each of
// its lists of objects (a message's deliveries, a delivery's attempts) as
// a table.

// renderText writes raw JSON, a page or an object, as text.
func renderText(w io.Writer, raw []byte, columns []string) error {
	var page struct {
		Data       []json.RawMessage `json:"data"`
		NextCursor string            `json:"next_cursor"`
	}
	if json.Unmarshal(raw, &page) == nil && page.Data != nil {
		if err := renderTable(w, page.Data, columns); err != nil {
			return err
		}
		if page.NextCursor != "" {
			fmt.Fprintf(w, "(more: --cursor %s)\n", page.NextCursor)
		}
		return nil
	}
	fields, err := objectFields(raw)
	if err != nil {
		_, err = fmt.Fprintln(w, string(raw))
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	var lists []field
	for _, f := range fields {
		if isObjectList(f.value) {
			lists = append(lists, f)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\n", f.name, cell(f.value, 0))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, l := range lists {
		var items []json.RawMessage
		_ = json.Unmarshal(l.value, &items)
		fmt.Fprintf(w, "\n%s\n", strings.ToUpper(l.name))
		if err := renderTable(w, items, nil); err != nil {
			return err
		}
	}
	return nil
}

// renderTable writes objects as rows of the columns given, or, when none
// are, of the first object's fields that are neither lists nor objects.
func renderTable(w io.Writer, items []json.RawMessage, columns []string) error {
	pick := len(columns) == 0
	rows := make([]map[string]json.RawMessage, 0, len(items))
	for i, item := range items {
		fields, err := objectFields(item)
		if err != nil {
			return err
		}
		row := map[string]json.RawMessage{}
		for _, f := range fields {
			row[f.name] = f.value
			if i == 0 && pick {
				if v := bytes.TrimSpace(f.value); len(v) == 0 || v[0] != '{' && v[0] != '[' {
					columns = append(columns, f.name)
				}
			}
		}
		rows = append(rows, row)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(columns, "\t")))
	for _, row := range rows {
		cells := make([]string, len(columns))
		for i, col := range columns {
			cells[i] = cell(row[col], 60)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// field is one field of a JSON object.
type field struct {
	name  string
	value json.RawMessage
}

// objectFields returns an object's fields in their order.
func objectFields(raw []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	var fields []field
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		fields = append(fields, field{name: t.(string), value: v})
	}
	return fields, nil
}

func isObjectList(v json.RawMessage) bool {
	var items []json.RawMessage
	if json.Unmarshal(v, &items) != nil || len(items) == 0 {
		return false
	}
	first := bytes.TrimSpace(items[0])
	return len(first) > 0 && first[0] == '{'
}

// cell is a JSON value as text: a string as it is, null empty, a list of
// strings comma-separated, anything else compact JSON; longer than max
// (when not 0) it is cut, and line breaks are escaped.
func cell(v json.RawMessage, max int) string {
	var s string
	var list []string
	switch {
	case len(v) == 0 || string(v) == "null":
		return ""
	case json.Unmarshal(v, &s) == nil:
	case json.Unmarshal(v, &list) == nil:
		s = strings.Join(list, ",")
	default:
		var compact bytes.Buffer
		if json.Compact(&compact, v) != nil {
			return string(v)
		}
		s = compact.String()
	}
	s = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", " ").Replace(s)
	if max > 0 && len([]rune(s)) > max {
		s = string([]rune(s)[:max-1]) + "…"
	}
	return s
}
