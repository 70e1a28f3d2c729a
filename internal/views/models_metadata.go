package views

// MetadataForm is the metadata editor: each object as JSON text or as key/value rows, the
// fingerprint of the metadata it was rendered from, the reason, and any errors.
type MetadataForm struct {
	Heading   string // the user's id
	ActionURL string // /users/<path-escaped id>/metadata
	CancelURL string // /users/<path-escaped id>
	Mode      string // "json" or "rows"
	// JSONURL and RowsURL open the editor afresh in each mode (a GET; unsaved edits are not kept —
	// the form's own switch buttons keep them).
	JSONURL string
	RowsURL string
	Base    string // the hidden fingerprint
	Objects []MetadataObject
	Errors  map[string]string // field name → sentence
	Summary []ErrorItem       // the same sentences in page order, for the summary at the top
	Message string            // a sentence about the whole form, or ""
	// Reason is the reason or ticket reference as typed; ReasonRequired marks the field required.
	Reason         string
	ReasonRequired bool
}

// ErrorItem is one entry of a form's error summary: a link to the field and its sentence.
type ErrorItem struct {
	Field   string // the field's id
	Message string
}

// MetadataObject is one metadata object in the editor.
type MetadataObject struct {
	Name     string // user_metadata or app_metadata (also the JSON textarea's name)
	Hint     string // what the object is for
	JSON     string // the text, in JSON mode
	Rows     []MetadataRow
	RowsName string // the hidden field carrying the number of rows, in rows mode
}

// MetadataRow is one key/value row. Names are also the ids of the inputs.
type MetadataRow struct {
	Number     int // 1-based, for labels
	Key        string
	Type       string // string, number, boolean or json
	Value      string
	Remove     bool
	Multiline  bool // a JSON value gets a textarea, everything else a one-line input
	KeyName    string
	TypeName   string
	ValueName  string
	RemoveName string
}

// Hidden is one hidden form field.
type Hidden struct {
	Name  string
	Value string
}

// Span is a piece of a sentence; Code spans name keys and values.
type Span struct {
	Text string
	Code bool
}

// MetadataPreview is the step before saving: the exact PATCH body, its effect in words and a form
// that posts the same edit again with confirm=1.
type MetadataPreview struct {
	Heading   string
	ActionURL string
	CancelURL string
	Body      string   // indented JSON
	Effects   [][]Span // one sentence per changed key
	Kept      string   // "3 other keys are not sent and stay as they are.", or ""
	Reason    string
	Hidden    []Hidden // the edit, the fingerprint, the reason and the preview's digest
	Message   string
}

// MetadataConflict is the page shown when keys the edit touches changed since the form was opened:
// for each, the value then (theirs), the submitted one (mine) and the current one, and a choice.
type MetadataConflict struct {
	Heading   string
	ActionURL string
	CancelURL string
	Rows      []ConflictRow
	Hidden    []Hidden // the edit, the rebased fingerprint and the reason
}

// ConflictRow is one conflicting key. Values are indented JSON, "" when the key is not set.
type ConflictRow struct {
	Path    string // object.key
	Name    string // the radio group's name: resolve.<object>.<key>
	ID      string // a safe id prefix for the radios
	Theirs  string
	Mine    string
	Current string
}
