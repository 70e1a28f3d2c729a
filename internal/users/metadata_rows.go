package users

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Value types of the key/value row editor.
const (
	TypeString  = "string"
	TypeNumber  = "number"
	TypeBoolean = "boolean"
	TypeJSON    = "json" // any JSON value: an object, an array, null, or a string with line breaks
)

// RowTypes are the row editor's value types, in the order the form offers them.
var RowTypes = []string{TypeString, TypeNumber, TypeBoolean, TypeJSON}

// MaxRows bounds the rows one metadata object's row editor may submit.
const MaxRows = 500

// MaxDepth bounds how deeply metadata values nest (security.md §4 step 4: size and depth limits).
const MaxDepth = 32

// Row is one key/value line of the row editor. Value is the text typed for Type; Remove is the
// row's "remove" checkbox. A row with neither key nor value is empty and ignored.
type Row struct {
	Key    string
	Type   string
	Value  string
	Remove bool
}

// Empty reports whether the row is an unused line of the editor.
func (r Row) Empty() bool { return r.Key == "" && strings.TrimSpace(r.Value) == "" }

// RowField is the form field name of one part ("key", "type", "value" or "remove") of row i of
// object ("user_metadata" or "app_metadata"); Problem.Fields uses the same names.
func RowField(object string, i int, part string) string {
	return object + "." + strconv.Itoa(i) + "." + part
}

// RowsOf turns a metadata object into rows, keys sorted. Each value gets the type that shows it
// best and round-trips exactly: a string with a control character (a line break, a tab) is shown as
// a JSON string literal, because a one-line text input cannot carry it.
func RowsOf(m map[string]any) []Row {
	rows := make([]Row, 0, len(m))
	for _, k := range sortedKeys(m) {
		rows = append(rows, rowOf(k, m[k]))
	}
	return rows
}

func rowOf(key string, v any) Row {
	switch t := v.(type) {
	case string:
		if !strings.ContainsFunc(t, isControl) {
			return Row{Key: key, Type: TypeString, Value: t}
		}
	case json.Number:
		return Row{Key: key, Type: TypeNumber, Value: t.String()}
	case float64, int, int64:
		return Row{Key: key, Type: TypeNumber, Value: compactJSON(t)}
	case bool:
		return Row{Key: key, Type: TypeBoolean, Value: strconv.FormatBool(t)}
	}
	return Row{Key: key, Type: TypeJSON, Value: prettyValue(v)}
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

var numberRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// ParseRows turns the rows of object (user_metadata or app_metadata) into a metadata object. Row
// errors are keyed by RowField names; an error about the whole object (too large) by object. Rows
// marked Remove and empty rows are left out, so their keys are deleted when they were stored.
func ParseRows(rows []Row, object string, kind Kind) (map[string]any, map[string]string) {
	errs := map[string]string{}
	if len(rows) > MaxRows {
		errs[object] = fmt.Sprintf("Use at most %d rows; edit larger objects as JSON.", MaxRows)
		return nil, errs
	}
	out := map[string]any{}
	seen := map[string]int{}
	for i, r := range rows {
		if r.Remove || r.Empty() {
			continue
		}
		keyField, valueField := RowField(object, i, "key"), RowField(object, i, "value")
		if msg := keyProblem(r.Key, kind); msg != "" {
			errs[keyField] = msg
		} else if j, dup := seen[r.Key]; dup {
			errs[keyField] = fmt.Sprintf("The key %q is already used in row %d.", r.Key, j+1)
		} else {
			seen[r.Key] = i
		}
		v, msg := parseValue(r.Type, r.Value)
		if msg != "" {
			errs[valueField] = msg
			continue
		}
		if _, bad := errs[keyField]; !bad {
			out[r.Key] = v
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if n := len(compactJSON(out)); n > MaxMetadataBytes {
		errs[object] = tooLarge()
		return nil, errs
	}
	return out, nil
}

// keyProblem is the sentence for an unusable top-level key, or "".
func keyProblem(key string, kind Kind) string {
	switch {
	case strings.TrimSpace(key) == "":
		return "Enter a key for this value."
	case strings.ContainsAny(key, ".$"):
		return fmt.Sprintf(`The key %q contains "." or "$", which Auth0 does not allow in metadata keys.`, key)
	case kind == AppMetadata && slices.Contains(reservedAppKeys, key):
		return fmt.Sprintf("The key %q is reserved by Auth0 and cannot be set in app_metadata.", key)
	}
	return ""
}

// parseValue reads one row's value text as its type; the string is the sentence when it cannot.
func parseValue(typ, text string) (any, string) {
	switch typ {
	case TypeString:
		return text, ""
	case TypeNumber:
		s := strings.TrimSpace(text)
		if !numberRE.MatchString(s) {
			return nil, fmt.Sprintf("Enter a number such as 42 or -3.5; %q is not a number.", text)
		}
		return json.Number(s), ""
	case TypeBoolean:
		switch strings.ToLower(strings.TrimSpace(text)) {
		case "true":
			return true, ""
		case "false":
			return false, ""
		}
		return nil, fmt.Sprintf("Enter true or false; %q is neither.", text)
	case TypeJSON:
		if strings.TrimSpace(text) == "" {
			return nil, `Enter a JSON value such as {"a": 1}, [1, 2], "text" or null.`
		}
		v, err := decodeJSON(text)
		if err != nil {
			return nil, err.Error()
		}
		if path, ok := badKey(v, ""); ok {
			return nil, fmt.Sprintf(`The key %q contains "." or "$", which Auth0 does not allow in metadata keys.`, path)
		}
		if depth(v) > MaxDepth {
			return nil, tooDeep()
		}
		return v, ""
	}
	return nil, "Choose a type: string, number, boolean or JSON."
}

// decodeJSON decodes one JSON value keeping numbers exact; a syntax error names its line and column.
func decodeJSON(text string) (any, error) {
	var probe any
	if err := json.Unmarshal([]byte(text), &probe); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := position(text, se)
			return nil, invalid("Invalid JSON at line %d, column %d: %s.", line, col, se.Error())
		}
		return nil, invalid("Invalid JSON: %s.", err.Error())
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, invalid("Invalid JSON: %s.", err.Error()) // unreachable after Unmarshal succeeded
	}
	return v, nil
}

// depth is how deeply v nests: 0 for a scalar, 1 for a flat object or array.
func depth(v any) int {
	d := 0
	switch t := v.(type) {
	case map[string]any:
		for _, e := range t {
			d = max(d, depth(e))
		}
		return d + 1
	case []any:
		for _, e := range t {
			d = max(d, depth(e))
		}
		return d + 1
	}
	return 0
}

func tooLarge() string {
	return fmt.Sprintf("This is too large; metadata is limited to %d KB here.", MaxMetadataBytes>>10)
}

func tooDeep() string {
	return fmt.Sprintf("This nests too deeply; metadata may nest at most %d levels here.", MaxDepth)
}

// compactJSON is v as compact JSON without HTML escaping (templ escapes on output).
func compactJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("(cannot show as JSON: %v)", err)
	}
	return strings.TrimRight(buf.String(), "\n")
}

// prettyValue is v as indented JSON without HTML escaping.
func prettyValue(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("(cannot show as JSON: %v)", err)
	}
	return strings.TrimRight(buf.String(), "\n")
}
