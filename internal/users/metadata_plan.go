package users

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/userdesk/userdesk/internal/mgmt"
)

// MetadataObjects are the two metadata objects, in the order forms show them.
var MetadataObjects = []string{"user_metadata", "app_metadata"}

// ThreeWay computes what one edit of a metadata object sends and whether it collides with changes
// made since the form was rendered. base is the object the form was rendered from, mine what the
// staff member submitted, current what Auth0 holds now.
//
// The patch is computed against base, never against current: a key this edit did not touch is not
// sent, so another staff member's change to it survives. It holds the keys whose value differs
// from base (objects and arrays whole, because Auth0 merges only the top level), and null for keys
// removed from base; a top-level null in mine means removal too, and removing a key base did not
// have sends nothing. An empty object is never sent: clearing everything deletes key by key.
//
// conflicts are the patch keys whose current value is neither the base value (nobody else touched
// it) nor the value this edit sets (someone made the same change), sorted.
func ThreeWay(base, mine, current map[string]any) (patch map[string]any, conflicts []string) {
	patch = map[string]any{}
	for k, v := range mine {
		if v == nil {
			continue
		}
		if bv, ok := base[k]; !ok || !jsonEqual(bv, v) {
			patch[k] = v
		}
	}
	for k := range base {
		if v, ok := mine[k]; !ok || v == nil {
			patch[k] = nil
		}
	}
	for _, k := range sortedKeys(patch) {
		if !sameSlot(current, base, k) && !sameSlot(current, patch, k) {
			conflicts = append(conflicts, k)
		}
	}
	return patch, conflicts
}

// sameSlot reports whether key k holds the same value in a and b, where absent and null (a delete
// in a patch) are the same.
func sameSlot(a, b map[string]any, k string) bool {
	av, bv := a[k], b[k]
	if av == nil || bv == nil {
		return av == nil && bv == nil
	}
	return jsonEqual(av, bv)
}

// EffectOp is what a patch does to one key.
type EffectOp int

const (
	EffectAdd     EffectOp = iota // the key is new
	EffectChange                  // a scalar (or a value of another type) is replaced
	EffectReplace                 // the new value is an object or array, sent and stored whole
	EffectDelete                  // null deletes the key
)

// Effect is one patch key's effect, for the preview.
type Effect struct {
	Object string // user_metadata or app_metadata
	Key    string
	Op     EffectOp
	Before string // the value when the form was opened, compact JSON; "" when the key is new
	After  string // the value sent, compact JSON; "" for a delete
}

// Span is a piece of an effect's sentence; Code spans name keys and values.
type Span struct {
	Text string
	Code bool
}

// Words is the effect as a sentence, e.g. changes `user_metadata.theme` from "light" to "dark".
func (e Effect) Words() []Span {
	path := e.Object + "." + e.Key
	switch e.Op {
	case EffectAdd:
		return []Span{{Text: "adds "}, {Text: path, Code: true}, {Text: " with the value "}, {Text: clip(e.After), Code: true}}
	case EffectReplace:
		s := []Span{{Text: "replaces "}, {Text: path, Code: true}, {Text: " entirely with "}, {Text: clip(e.After), Code: true}}
		if e.Before != "" {
			s = append(s, Span{Text: " (it was "}, Span{Text: clip(e.Before), Code: true}, Span{Text: ")"})
		}
		return s
	case EffectDelete:
		return []Span{{Text: "null", Code: true}, {Text: " deletes "}, {Text: path, Code: true}, {Text: " (it was "}, {Text: clip(e.Before), Code: true}, {Text: ")"}}
	}
	return []Span{{Text: "changes "}, {Text: path, Code: true}, {Text: " from "}, {Text: clip(e.Before), Code: true}, {Text: " to "}, {Text: clip(e.After), Code: true}}
}

// Sentence is Words as plain text, code spans in backticks.
func (e Effect) Sentence() string {
	var b strings.Builder
	for _, s := range e.Words() {
		if s.Code {
			b.WriteString("`" + s.Text + "`")
		} else {
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

// clip shortens a long value for a sentence; the full value is in the PATCH body shown above it.
func clip(s string) string {
	const max = 120
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}

func effects(object string, base, patch map[string]any) []Effect {
	var out []Effect
	for _, k := range sortedKeys(patch) {
		e := Effect{Object: object, Key: k}
		if bv, ok := base[k]; ok {
			e.Before = compactJSON(bv)
		}
		v := patch[k]
		switch v.(type) {
		case nil:
			e.Op = EffectDelete
		case map[string]any, []any:
			e.Op = EffectReplace
		default:
			e.Op = EffectChange
			if e.Before == "" {
				e.Op = EffectAdd
			}
		}
		if v != nil {
			e.After = compactJSON(v)
		}
		if e.Op == EffectReplace && e.Before == "" {
			e.Op = EffectAdd
		}
		out = append(out, e)
	}
	return out
}

// MetadataPlan is what a metadata edit would send, for the preview and the save.
type MetadataPlan struct {
	User *mgmt.User // the user as re-read for this plan
	// Update holds only the changed keys; an object without changes is nil (not sent at all).
	Update *mgmt.UserUpdate
	// Body is the exact PATCH body, indented; Digest is the SHA-256 (hex) of the body as sent. A
	// confirmation carries the digest it was shown, so it can only send what was previewed.
	Body   string
	Digest string
	// Effects says what the PATCH does, key by key, user_metadata first; Kept counts the keys of
	// both objects that are not sent and stay as they are.
	Effects []Effect
	Kept    int
	// Mine is the edited metadata in full (what the confirmation form carries); Base is the
	// fingerprint it was edited from.
	Mine Snapshot
	Base string
}

// Empty reports whether there is nothing to send.
func (p *MetadataPlan) Empty() bool { return p.Update == nil }

// Conflict is one key this edit changes that someone else changed since the form was rendered.
// Values are indented JSON; "" means the key is not set.
type Conflict struct {
	Object, Key string
	Theirs      string // when the form was opened
	Mine        string // what this edit sets ("" = deletes)
	Current     string // in Auth0 now
}

// ConflictError is returned when keys this edit touches changed meanwhile; nothing was sent. Base
// is a fingerprint rebased on what the conflict page shows: the conflicting keys take their
// current value, every other key keeps the one the form was opened with. Resolving "take current"
// copies that value into mine; "keep mine" leaves mine as it is, and the next preview sends it.
type ConflictError struct {
	Conflicts []Conflict
	Mine      Snapshot
	Base      string
	User      *mgmt.User
}

func (e *ConflictError) Error() string {
	keys := make([]string, len(e.Conflicts))
	for i, c := range e.Conflicts {
		keys[i] = c.Object + "." + c.Key
	}
	return "users: metadata changed meanwhile: " + strings.Join(keys, ", ")
}

// Resolutions for conflicting keys, keyed by "object.key" in MetadataForm.Resolve.
const (
	KeepMine    = "mine"
	TakeCurrent = "current"
)

// PreviewMetadata validates the edit, re-reads the user and says what saving would send: a
// *MetadataPlan (Empty when nothing changed), a *Problem (422 invalid input, 400 damaged form, 403
// refused by the metadata write policy, which is audited), a *ConflictError (409), or ErrNoUser.
// Nothing is written to Auth0.
func (s *Service) PreviewMetadata(ctx context.Context, id string, f MetadataForm) (*MetadataPlan, error) {
	return s.planMetadata(ctx, id, f)
}

func (s *Service) planMetadata(ctx context.Context, id string, f MetadataForm) (*MetadataPlan, error) {
	mine, err := s.parseMetadataForm(f)
	if err != nil {
		return nil, err
	}
	base, err := ParseFingerprint(f.Base)
	if err != nil {
		return nil, &Problem{Status: http.StatusBadRequest, Err: err, Message: MsgStaleForm}
	}
	for field, choice := range f.Resolve {
		object, key, ok := strings.Cut(field, ".")
		if !ok || choice != TakeCurrent || (object != "user_metadata" && object != "app_metadata") {
			continue
		}
		m := mine.object(object)
		if v, ok := base.object(object)[key]; ok {
			m[key] = v
		} else {
			delete(m, key)
		}
	}

	u, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	cur := SnapshotOf(u)
	plan := &MetadataPlan{User: u, Mine: mine, Base: f.Base}
	upd := &mgmt.UserUpdate{}
	var conflicts []Conflict
	for _, object := range MetadataObjects {
		b, m, c := base.object(object), mine.object(object), cur.object(object)
		patch, keys := ThreeWay(b, m, c)
		for _, k := range keys {
			conflicts = append(conflicts, Conflict{Object: object, Key: k,
				Theirs: prettyOrAbsent(b, k), Mine: prettyOrAbsent(patch, k), Current: prettyOrAbsent(c, k)})
		}
		if len(patch) == 0 {
			plan.Kept += len(c)
			continue
		}
		for k := range c {
			if _, sent := patch[k]; !sent {
				plan.Kept++
			}
		}
		plan.Effects = append(plan.Effects, effects(object, b, patch)...)
		if object == "app_metadata" {
			upd.AppMetadata = patch
		} else {
			upd.UserMetadata = patch
		}
	}
	if len(conflicts) > 0 {
		rebased := Snapshot{User: cloneObject(base.User), App: cloneObject(base.App)}
		for _, c := range conflicts {
			r := rebased.object(c.Object)
			if r == nil {
				r = map[string]any{}
				if c.Object == "app_metadata" {
					rebased.App = r
				} else {
					rebased.User = r
				}
			}
			if v, ok := cur.object(c.Object)[c.Key]; ok {
				r[c.Key] = v
			} else {
				delete(r, c.Key)
			}
		}
		return nil, &ConflictError{Conflicts: conflicts, Mine: mine, Base: Fingerprint(rebased), User: u}
	}
	if upd.UserMetadata == nil && upd.AppMetadata == nil {
		return plan, nil
	}
	plan.Update = upd
	plan.Body = prettyValue(upd)
	sum := sha256.Sum256([]byte(compactJSON(upd)))
	plan.Digest = hex.EncodeToString(sum[:])
	if err := s.checkPolicy(ctx, id, u, upd, f.Reason); err != nil {
		return nil, err
	}
	return plan, nil
}

func prettyOrAbsent(m map[string]any, k string) string {
	v, ok := m[k]
	if !ok || v == nil {
		return ""
	}
	return prettyValue(v)
}

func cloneObject(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// parseMetadataForm parses both objects (rows or JSON text) and checks the reason; every problem is
// one 422 *Problem with a sentence per field.
func (s *Service) parseMetadataForm(f MetadataForm) (Snapshot, error) {
	fields := map[string]string{}
	parse := func(object, text string, rows []Row, kind Kind) map[string]any {
		if rows != nil {
			m, errs := ParseRows(rows, object, kind)
			for k, v := range errs {
				fields[k] = v
			}
			return m
		}
		m, err := ParseMetadata(text, kind)
		if err != nil {
			fields[object] = err.Error()
		}
		return m
	}
	mine := Snapshot{
		User: parse("user_metadata", f.UserMetadata, f.UserRows, UserMetadata),
		App:  parse("app_metadata", f.AppMetadata, f.AppRows, AppMetadata),
	}
	if msg := s.CheckReason(metadataAction, f.Reason); msg != "" {
		fields["reason"] = msg
	}
	if len(fields) > 0 {
		return Snapshot{}, &Problem{Status: http.StatusUnprocessableEntity, Fields: fields}
	}
	return mine, nil
}

// verifyAnswer lists the patch keys whose value in Auth0's answer to the PATCH is not what was sent
// (object.key, sorted); nil when the answer shows every change.
func verifyAnswer(upd *mgmt.UserUpdate, got *mgmt.User) []string {
	if got == nil {
		return nil
	}
	var bad []string
	check := func(object string, patch, have map[string]any) {
		for _, k := range sortedKeys(patch) {
			if !sameSlot(patch, have, k) {
				bad = append(bad, object+"."+k)
			}
		}
	}
	check("user_metadata", upd.UserMetadata, got.UserMetadata)
	check("app_metadata", upd.AppMetadata, got.AppMetadata)
	return bad
}

// MsgStaleForm is the sentence for a metadata form whose fingerprint is missing or damaged.
const MsgStaleForm = "This form does not say which metadata it was opened with, so your changes cannot be checked " +
	"against changes made meanwhile. Nothing was saved. Open the editor again and redo the change."

// MsgPreviewChanged is the sentence for a confirmation whose changes differ from the preview.
const MsgPreviewChanged = "The changes differ from the preview you confirmed, so nothing was saved. Check the preview again."

func mismatchDetail(keys []string) string {
	return fmt.Sprintf("Auth0's answer does not show the change to %s", strings.Join(keys, ", "))
}
