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
	"time"
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

// MetadataForm is one submitted metadata edit. Each object is either JSON text or, when its Rows
// slice is non-nil (even empty), the rows of the key/value editor.
type MetadataForm struct {
	UserMetadata string
	AppMetadata  string
	UserRows     []Row
	AppRows      []Row
	// Base is the fingerprint (Fingerprint) of the metadata the form was rendered from; required.
	Base string
	// Reason is the staff member's reason or ticket reference, stored in the audit entry.
	Reason string
	// Digest, on a confirmation, is the MetadataPlan.Digest the preview showed; "" skips the check.
	Digest string
	// Resolve holds the conflict page's choices, "object.key" → KeepMine or TakeCurrent.
	Resolve map[string]string
}

// ParseMetadata parses one textarea into a JSON object. The error is a *MetadataError whose message
// is a sentence for staff:
// a syntax error names its line and column (1-based, columns in characters), a non-object names
// the type it got, and keys containing '.' or '$' (at any depth) or reserved app_metadata keys are
// refused, as are objects nesting deeper than MaxDepth. Numbers keep their exact text
// (json.Number) so large integers survive the round trip.
func ParseMetadata(text string, kind Kind) (map[string]any, error) {
	if strings.TrimSpace(text) == "" {
		return nil, invalid("Enter a JSON object; {} means no keys.")
	}
	if len(text) > MaxMetadataBytes {
		return nil, invalid("%s", tooLarge())
	}
	v, err := decodeJSON(text)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, invalid(`Metadata must be a JSON object like {"key": "value"}, not %s.`, jsonType(v))
	}
	if path, ok := badKey(obj, ""); ok {
		return nil, invalid(`The key %q contains "." or "$", which Auth0 does not allow in metadata keys.`, path)
	}
	if depth(obj) > MaxDepth {
		return nil, invalid("%s", tooDeep())
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
	Saved    SaveOutcome = iota // one PATCH was sent, accepted, and its answer shows every change
	NoChange                    // the edit changes nothing; nothing was sent
	// SavedUnverified: the PATCH was accepted but Auth0's answer does not show every change (the
	// audit entry names the keys); the user page, re-read, shows what is stored.
	SavedUnverified
)

// metadataAction is the authz action (and audit action) of a metadata edit.
const metadataAction = authz.EditMetadata

// metadataLockWait bounds the wait for another save of the same user's metadata (one re-read and
// one PATCH, each under the client's per-call deadline).
const metadataLockWait = 30 * time.Second

// MsgMetadataLockFailed is shown when the per-user metadata lock could not be taken in time.
const MsgMetadataLockFailed = "Userdesk could not make sure that nobody else is saving this user's metadata at the same moment " +
	"(its database did not answer in time). Nothing was saved; try again."

// SaveMetadata sends the edit previewed by PreviewMetadata: it takes the user's metadata lock
// (MetadataLocks), re-reads the
// user and recomputes the plan (only the top-level keys changed against the form's base; keys this
// edit did not touch are never sent), then sends one PATCH. It fails like PreviewMetadata (422, 400,
// 403 audited, *ConflictError with nothing sent, ErrNoUser); a Digest that differs from the
// plan's is a 409 *Problem (MsgPreviewChanged) and nothing is sent. Upstream failures are explained
// with OpUpdate.
//
// Every PATCH is audited as "user.metadata_update" with one Change per sent key (before = the value
// re-read just before the PATCH, after = the value sent), the reason, the outcome, Auth0's status
// and the X-Correlation-ID, before SaveMetadata returns. When that entry cannot be written, a
// successful save returns its outcome with ErrAuditFailed, and a failed one a *Problem with
// AuditFailed.
func (s *Service) SaveMetadata(ctx context.Context, id string, f MetadataForm) (SaveOutcome, error) {
	if _, err := s.parseMetadataForm(f); err != nil {
		return 0, err // invalid input: no lock, no upstream call
	}
	lctx, cancel := context.WithTimeout(ctx, metadataLockWait)
	unlock, err := s.metadataLocker().Lock(lctx, "metadata:"+id)
	cancel()
	if err != nil {
		return 0, &Problem{Status: http.StatusServiceUnavailable, Message: MsgMetadataLockFailed, Err: err}
	}
	defer unlock()
	plan, err := s.planMetadata(ctx, id, f)
	if err != nil {
		return 0, err
	}
	if plan.Empty() {
		return NoChange, nil
	}
	if f.Digest != "" && f.Digest != plan.Digest {
		return 0, &Problem{Status: http.StatusConflict, Message: MsgPreviewChanged}
	}
	u, upd := plan.User, plan.Update
	entry := metadataEntry(id, u, upd, f.Reason)
	ctx, cid := withCorrelation(ctx)
	entry.CorrelationID = cid
	got, err := s.API.UpdateUser(ctx, id, upd)
	if err != nil {
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
	out := Saved
	if bad := verifyAnswer(upd, got); len(bad) > 0 {
		out, entry.Detail = SavedUnverified, mismatchDetail(bad)
	}
	if aerr := s.record(ctx, entry); aerr != nil {
		return out, aerr
	}
	return out, nil
}

func metadataEntry(id string, u *mgmt.User, upd *mgmt.UserUpdate, reason string) audit.Entry {
	return audit.Entry{
		Action:       string(metadataAction),
		TargetUserID: id,
		TargetEmail:  u.Email,
		Changes: append(metadataChanges("user_metadata", u.UserMetadata, upd.UserMetadata),
			metadataChanges("app_metadata", u.AppMetadata, upd.AppMetadata)...),
		Reason: strings.TrimSpace(reason),
	}
}

// checkPolicy enforces the metadata write policy server-side: when the staff member's role (from
// the context) may not change one of the keys, the refusal is audited as "authz.denied" with the
// attempted changes and the *Problem (403) names the keys.
func (s *Service) checkPolicy(ctx context.Context, id string, u *mgmt.User, upd *mgmt.UserUpdate, reason string) error {
	r := role(ctx)
	forbidden := s.Policy.Forbidden(r, changedKeys(upd))
	if len(forbidden) == 0 {
		return nil
	}
	list := strings.Join(forbidden, ", ")
	entry := metadataEntry(id, u, upd, reason)
	entry.Action, entry.Outcome = auditDenied, audit.OutcomeDenied
	entry.Detail = fmt.Sprintf("%s: role %s may not change %s", metadataAction, roleName(r), list)
	p := &Problem{Status: http.StatusForbidden,
		Message: fmt.Sprintf("Your role (%s) may not change %s. Nothing was saved.", roleName(r), list)}
	if aerr := s.record(ctx, entry); aerr != nil {
		p.AuditFailed, p.Err = true, aerr
	}
	return p
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
