package users

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/mgmt"
)

// MaxMetadataBytes bounds one metadata textarea. Auth0 advises small metadata and a 10 KB profile
// (auth0-contract §3.8); 64 KiB leaves room without letting one form carry megabytes.
const MaxMetadataBytes = 64 << 10

// Kind says which metadata object a text is for; app_metadata has reserved keys.
type Kind int

const (
	UserMetadata Kind = iota
	AppMetadata
)

// reservedAppKeys are the keys Auth0 refuses in app_metadata (auth0-contract §3.8).
var reservedAppKeys = []string{"__tenant", "_id", "blocked", "clientID", "created_at", "email_verified", "email",
	"globalClientID", "global_client_id", "identities", "lastIP", "lastLogin", "loginsCount", "metadata",
	"multifactor_last_modified", "multifactor", "updated_at", "user_id"}

// MetadataForm is what the metadata form submits: the text of each textarea.
type MetadataForm struct {
	UserMetadata string
	AppMetadata  string
	// Reason is the staff member's reason or ticket reference, stored in the audit entry.
	Reason string
}

// ParseMetadata parses one textarea into a JSON object. The error is a *MetadataError whose message
// is a sentence for staff:
// a syntax error names its line and column (1-based, columns in characters), a non-object names
// the type it got, and keys containing '.' or '$' (at any depth) or reserved app_metadata keys are
// refused. Numbers keep their exact text (json.Number) so large integers survive the round trip.
func ParseMetadata(text string, kind Kind) (map[string]any, error) {
	if strings.TrimSpace(text) == "" {
		return nil, invalid("Enter a JSON object; {} means no keys.")
	}
	if len(text) > MaxMetadataBytes {
		return nil, invalid("This is too large; metadata is limited to %d KB here.", MaxMetadataBytes>>10)
	}
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
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, invalid(`Metadata must be a JSON object like {"key": "value"}, not %s.`, jsonType(v))
	}
	if path, ok := badKey(obj, ""); ok {
		return nil, invalid(`The key %q contains "." or "$", which Auth0 does not allow in metadata keys.`, path)
	}
	if kind == AppMetadata {
		for _, k := range sortedKeys(obj) {
			if slices.Contains(reservedAppKeys, k) {
				return nil, invalid("The key %q is reserved by Auth0 and cannot be set in app_metadata.", k)
			}
		}
	}
	return obj, nil
}

// MetadataError is why a metadata text was refused; Message is a sentence for staff.
type MetadataError struct{ Message string }

func (e *MetadataError) Error() string { return e.Message }

func invalid(format string, args ...any) error {
	return &MetadataError{Message: fmt.Sprintf(format, args...)}
}

// position converts a SyntaxError's byte offset into a 1-based line and column. Offset counts the
// bytes read when the error occurred, so the offending character is the one before it, except at an
// unexpected end of input, which is reported just past the last character.
func position(text string, se *json.SyntaxError) (line, col int) {
	pos := int(se.Offset)
	if se.Error() != "unexpected end of JSON input" && pos > 0 {
		pos--
	}
	pos = min(max(pos, 0), len(text))
	before := text[:pos]
	line = 1 + strings.Count(before, "\n")
	lineStart := strings.LastIndexByte(before, '\n') + 1
	col = 1 + utf8.RuneCountInString(before[lineStart:])
	return line, col
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "that"
}

// badKey finds the first key (in sorted order, depth first) containing '.' or '$' and returns its
// dotted path for the message.
func badKey(v any, prefix string) (string, bool) {
	switch t := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(t) {
			p := k
			if prefix != "" {
				p = prefix + "/" + k
			}
			if strings.ContainsAny(k, ".$") {
				return p, true
			}
			if path, ok := badKey(t[k], p); ok {
				return path, true
			}
		}
	case []any:
		for i, e := range t {
			if path, ok := badKey(e, fmt.Sprintf("%s[%d]", prefix, i)); ok {
				return path, true
			}
		}
	}
	return "", false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Diff returns the top-level patch that turns current into next under Auth0's metadata merge
// (auth0-contract §3.5: top-level keys merge, a nested object replaces the stored one whole, null
// deletes): keys added or changed in next with their new value, keys missing from next as nil (sent
// as null), unchanged keys left out. An empty result means there is nothing to send.
func Diff(current, next map[string]any) map[string]any {
	patch := map[string]any{}
	for k, nv := range next {
		cv, ok := current[k]
		if !ok || !jsonEqual(cv, nv) {
			patch[k] = nv
		}
	}
	for k := range current {
		if _, ok := next[k]; !ok {
			patch[k] = nil
		}
	}
	return patch
}

// jsonEqual compares two decoded JSON values by their meaning, so float64(1) (from the client) and
// json.Number("1") (from the form) are equal.
func jsonEqual(a, b any) bool {
	na, err1 := normalize(a)
	nb, err2 := normalize(b)
	return err1 == nil && err2 == nil && reflect.DeepEqual(na, nb)
}

func normalize(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}

// PrettyJSON renders a metadata object for a <pre> block or a textarea: two-space indent, keys
// sorted, no HTML escaping (templ escapes on output); a nil or empty object is "{}".
func PrettyJSON(m map[string]any) string {
	if len(m) == 0 {
		return "{}"
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return fmt.Sprintf("(cannot show as JSON: %v)", err)
	}
	return strings.TrimRight(buf.String(), "\n")
}

// SaveOutcome says what SaveMetadata did.
type SaveOutcome int

const (
	Saved    SaveOutcome = iota // one PATCH was sent and accepted
	NoChange                    // the texts equal the stored metadata; nothing was sent
)

// SaveMetadata parses both texts, re-reads the user and sends one PATCH with only the changed
// top-level keys of the changed object(s). Invalid input (including a missing reason when
// authz.EditMetadata requires one) is a *Problem (422) with a sentence per field and nothing is sent;
// ErrNoUser when the user is gone; upstream failures are explained with OpUpdate.
//
// The metadata write policy is enforced here, server-side: when the staff member's role (from the
// context) may not change one of the changed keys, nothing is sent, the refusal is audited as
// "authz.denied" with the attempted changes, and the *Problem (403) names the keys. Every PATCH is
// audited as "user.metadata_update" with one Change per changed key (before and after), the reason,
// the outcome, Auth0's status and the X-Correlation-ID, before SaveMetadata returns. When that entry
// cannot be written, a successful save returns Saved with ErrAuditFailed, and a failed one a
// *Problem with AuditFailed.
func (s *Service) SaveMetadata(ctx context.Context, id string, f MetadataForm) (SaveOutcome, error) {
	fields := map[string]string{}
	um, err := ParseMetadata(f.UserMetadata, UserMetadata)
	if err != nil {
		fields["user_metadata"] = err.Error()
	}
	am, err := ParseMetadata(f.AppMetadata, AppMetadata)
	if err != nil {
		fields["app_metadata"] = err.Error()
	}
	if msg := s.CheckReason(authz.EditMetadata, f.Reason); msg != "" {
		fields["reason"] = msg
	}
	if len(fields) > 0 {
		return 0, &Problem{Status: http.StatusUnprocessableEntity, Fields: fields}
	}

	cur, err := s.Get(ctx, id)
	if err != nil {
		return 0, err
	}
	upd := &mgmt.UserUpdate{}
	if d := Diff(cur.UserMetadata, um); len(d) > 0 {
		upd.UserMetadata = d
	}
	if d := Diff(cur.AppMetadata, am); len(d) > 0 {
		upd.AppMetadata = d
	}
	if upd.UserMetadata == nil && upd.AppMetadata == nil {
		return NoChange, nil
	}
	entry := audit.Entry{
		Action:       string(authz.EditMetadata),
		TargetUserID: id,
		TargetEmail:  cur.Email,
		Changes: append(metadataChanges("user_metadata", cur.UserMetadata, upd.UserMetadata),
			metadataChanges("app_metadata", cur.AppMetadata, upd.AppMetadata)...),
		Reason: strings.TrimSpace(f.Reason),
	}

	r := role(ctx)
	if forbidden := s.Policy.Forbidden(r, changedKeys(upd)); len(forbidden) > 0 {
		list := strings.Join(forbidden, ", ")
		entry.Action, entry.Outcome = auditDenied, audit.OutcomeDenied
		entry.Detail = fmt.Sprintf("%s: role %s may not change %s", authz.EditMetadata, roleName(r), list)
		p := &Problem{Status: http.StatusForbidden,
			Message: fmt.Sprintf("Your role (%s) may not change %s. Nothing was saved.", roleName(r), list)}
		if aerr := s.record(ctx, entry); aerr != nil {
			p.AuditFailed, p.Err = true, aerr
		}
		return 0, p
	}

	ctx, cid := withCorrelation(ctx)
	entry.CorrelationID = cid
	if _, err := s.API.UpdateUser(ctx, id, upd); err != nil {
		entry.Outcome, entry.UpstreamStatus, entry.Detail = upstreamResult(err, false)
		aerr := s.record(ctx, entry)
		if errors.Is(err, mgmt.ErrNotFound) {
			return 0, errors.Join(fmt.Errorf("%w: %w", ErrNoUser, err), aerr)
		}
		explained := Explain(OpUpdate, err)
		if aerr != nil {
			return 0, withAuditFailure(explained, aerr)
		}
		return 0, explained
	}
	// Auth0 answers a PATCH with 200 (auth0-contract §3); the client returns a user only for it.
	entry.Outcome, entry.UpstreamStatus = audit.OutcomeSuccess, http.StatusOK
	if aerr := s.record(ctx, entry); aerr != nil {
		return Saved, aerr
	}
	return Saved, nil
}

// auditDenied is auditlog.ActionDenied (not imported: auditlog is the adapter over this package's
// Auditor, and the name is part of the trail's stable vocabulary).
const auditDenied = "authz.denied"

func roleName(r authz.Role) string {
	if r == authz.None {
		return "no role"
	}
	return string(r)
}
