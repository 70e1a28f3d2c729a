package users_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/users/userstest"
)

// baseFor is the fingerprint a form rendered now would carry (read without recording a call).
func baseFor(api *userstest.API, id string) string {
	u, _ := api.User(id)
	return users.FingerprintOf(&u)
}

func obj(t *testing.T, s string) map[string]any {
	t.Helper()
	if s == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return m
}

// merge is Auth0's top-level merge (null deletes), to show what is stored after a PATCH.
func merge(cur, patch map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range cur {
		out[k] = v
	}
	for k, v := range patch {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func canon(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var n any
	_ = json.Unmarshal(b, &n)
	b, _ = json.Marshal(n)
	return string(b)
}

// TestThreeWay: the patch is computed against the base the form was rendered from, so a second
// editor never reverts the first one's keys; a key both touched differently is a conflict.
func TestThreeWay(t *testing.T) {
	tests := []struct {
		name                string
		base, mine, current string
		patch               string   // canonical JSON
		conflicts           []string // nil = none
		stored              string   // current after the patch, when there is no conflict
	}{
		{"two editors, different keys: both kept",
			`{"theme":"light","plan":"free"}`, `{"theme":"dark","plan":"free"}`, `{"theme":"light","plan":"pro"}`,
			`{"theme":"dark"}`, nil, `{"plan":"pro","theme":"dark"}`},
		{"two editors add different keys: both kept",
			`{}`, `{"a":1}`, `{"b":2}`, `{"a":1}`, nil, `{"a":1,"b":2}`},
		{"same key, different values: conflict",
			`{"theme":"light"}`, `{"theme":"dark"}`, `{"theme":"blue"}`, `{"theme":"dark"}`, []string{"theme"}, ""},
		{"same key, same new value: no conflict",
			`{"theme":"light"}`, `{"theme":"dark"}`, `{"theme":"dark"}`, `{"theme":"dark"}`, nil, `{"theme":"dark"}`},
		{"both add the same key differently: conflict",
			`{}`, `{"tier":1}`, `{"tier":2}`, `{"tier":1}`, []string{"tier"}, ""},
		{"key removed by the other editor, untouched here: stays removed",
			`{"a":1,"b":1}`, `{"a":2,"b":1}`, `{"a":1}`, `{"a":2}`, nil, `{"a":2}`},
		{"key removed by the other editor, changed here: conflict",
			`{"b":1}`, `{"b":2}`, `{}`, `{"b":2}`, []string{"b"}, ""},
		{"key I delete was changed meanwhile: conflict",
			`{"plan":"gold"}`, `{}`, `{"plan":"platinum"}`, `{"plan":null}`, []string{"plan"}, ""},
		{"key both deleted: no conflict",
			`{"plan":"gold","x":1}`, `{"x":1}`, `{"x":1}`, `{"plan":null}`, nil, `{"x":1}`},
		{"nested object replaced whole",
			`{"addr":{"city":"Paris","zip":"75001"},"k":1}`, `{"addr":{"city":"Paris","zip":"75002"},"k":1}`, `{"addr":{"city":"Paris","zip":"75001"},"k":1}`,
			`{"addr":{"city":"Paris","zip":"75002"}}`, nil, `{"addr":{"city":"Paris","zip":"75002"},"k":1}`},
		{"nested: other changed a sibling field of the same object: conflict on the whole key",
			`{"addr":{"city":"Paris","zip":"75001"}}`, `{"addr":{"city":"Paris","zip":"75002"}}`, `{"addr":{"city":"Lyon","zip":"75001"}}`,
			`{"addr":{"city":"Paris","zip":"75002"}}`, []string{"addr"}, ""},
		{"explicit null deletes; null for an absent key sends nothing",
			`{"a":1}`, `{"a":null,"ghost":null}`, `{"a":1}`, `{"a":null}`, nil, `{}`},
		{"clearing everything deletes key by key, never {}",
			`{"a":1,"b":2}`, `{}`, `{"a":1,"b":2,"c":3}`, `{"a":null,"b":null}`, nil, `{"c":3}`},
		{"unchanged: nothing sent even if others changed other keys",
			`{"a":{"b":[1,2]},"n":1.5}`, `{"n":1.5,"a":{"b":[1,2]}}`, `{"a":{"b":[1,2]},"n":1.5,"z":true}`, `{}`, nil, `{"a":{"b":[1,2]},"n":1.5,"z":true}`},
		{"number forms compare by value", `{"n":10}`, `{"n":1e1}`, `{"n":10}`, `{}`, nil, `{"n":10}`},
		{"array order matters", `{"a":[1,2]}`, `{"a":[2,1]}`, `{"a":[1,2]}`, `{"a":[2,1]}`, nil, `{"a":[2,1]}`},
		{"from no metadata at all", ``, `{"a":1}`, ``, `{"a":1}`, nil, `{"a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := obj(t, tt.current)
			mine, err := users.ParseMetadata(tt.mine, users.UserMetadata) // numbers as json.Number, like the form
			if err != nil {
				t.Fatal(err)
			}
			patch, conflicts := users.ThreeWay(obj(t, tt.base), mine, cur)
			if got := canon(t, patch); got != tt.patch {
				t.Errorf("patch = %s, want %s", got, tt.patch)
			}
			if !slices.Equal(conflicts, tt.conflicts) {
				t.Errorf("conflicts = %v, want %v", conflicts, tt.conflicts)
			}
			if tt.conflicts == nil {
				if got := canon(t, merge(cur, patch)); got != tt.stored {
					t.Errorf("stored after the PATCH = %s, want %s", got, tt.stored)
				}
			}
		})
	}
}

func TestParseRows(t *testing.T) {
	tests := []struct {
		name   string
		kind   users.Kind
		rows   []users.Row
		want   string            // canonical JSON when valid
		errors map[string]string // field → exact sentence
	}{
		{"every type", users.UserMetadata, []users.Row{
			{Key: "s", Type: "string", Value: " spaced "},
			{Key: "n", Type: "number", Value: "12345678901234567890"},
			{Key: "f", Type: "number", Value: " -3.5e2 "},
			{Key: "b", Type: "boolean", Value: "TRUE"},
			{Key: "j", Type: "json", Value: "{\n \"x\": [1, null]\n}"},
			{Key: "quoted", Type: "json", Value: `"line\nbreak"`},
		}, `{"b":true,"f":-3.5e2,"j":{"x":[1,null]},"n":12345678901234567890,"quoted":"line\nbreak","s":" spaced "}`, nil},
		{"empty and removed rows are left out", users.UserMetadata, []users.Row{
			{Key: "keep", Type: "string", Value: "1"},
			{Type: "string"},
			{Key: "gone", Type: "number", Value: "abc", Remove: true},
			{Type: "json", Value: "  "},
		}, `{"keep":"1"}`, nil},
		{"an empty string value is a value", users.UserMetadata, []users.Row{{Key: "blank", Type: "string"}}, `{"blank":""}`, nil},
		{"bad typed values", users.UserMetadata, []users.Row{
			{Key: "n", Type: "number", Value: "abc"},
			{Key: "n2", Type: "number", Value: "NaN"},
			{Key: "b", Type: "boolean", Value: "yes"},
			{Key: "j", Type: "json", Value: "{\n  \"a\": tru\n}"},
			{Key: "j2", Type: "json", Value: `{"a": {"$set": 1}}`},
			{Key: "t", Type: "date", Value: "x"},
		}, "", map[string]string{
			"user_metadata.0.value": `Enter a number such as 42 or -3.5; "abc" is not a number.`,
			"user_metadata.1.value": `Enter a number such as 42 or -3.5; "NaN" is not a number.`,
			"user_metadata.2.value": `Enter true or false; "yes" is neither.`,
			"user_metadata.3.value": "Invalid JSON at line 2, column 11: invalid character '\\n' in literal true (expecting 'e').",
			"user_metadata.4.value": `The key "a/$set" contains "." or "$", which Auth0 does not allow in metadata keys.`,
			"user_metadata.5.value": "Choose a type: string, number, boolean or JSON.",
		}},
		{"bad keys", users.AppMetadata, []users.Row{
			{Key: "a.b", Type: "string", Value: "1"},
			{Key: "$x", Type: "string", Value: "1"},
			{Key: "email", Type: "string", Value: "x@example.com"},
			{Key: "", Type: "string", Value: "orphan"},
			{Key: "plan", Type: "string", Value: "gold"},
			{Key: "plan", Type: "string", Value: "silver"},
			{Key: "j", Type: "json", Value: ""},
		}, "", map[string]string{
			"app_metadata.0.key":   `The key "a.b" contains "." or "$", which Auth0 does not allow in metadata keys.`,
			"app_metadata.1.key":   `The key "$x" contains "." or "$", which Auth0 does not allow in metadata keys.`,
			"app_metadata.2.key":   `The key "email" is reserved by Auth0 and cannot be set in app_metadata.`,
			"app_metadata.3.key":   "Enter a key for this value.",
			"app_metadata.5.key":   `The key "plan" is already used in row 5.`,
			"app_metadata.6.value": `Enter a JSON value such as {"a": 1}, [1, 2], "text" or null.`,
		}},
		{"oversize object", users.UserMetadata, []users.Row{{Key: "big", Type: "string", Value: strings.Repeat("x", users.MaxMetadataBytes)}},
			"", map[string]string{"user_metadata": "This is too large; metadata is limited to 64 KB here."}},
		{"too many rows", users.UserMetadata, make([]users.Row, users.MaxRows+1),
			"", map[string]string{"user_metadata": "Use at most 500 rows; edit larger objects as JSON."}},
		{"too deep", users.UserMetadata, []users.Row{{Key: "d", Type: "json", Value: strings.Repeat("[", 40) + strings.Repeat("]", 40)}},
			"", map[string]string{"user_metadata.0.value": "This nests too deeply; metadata may nest at most 32 levels here."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			object := "user_metadata"
			if tt.kind == users.AppMetadata {
				object = "app_metadata"
			}
			got, errs := users.ParseRows(tt.rows, object, tt.kind)
			if tt.errors != nil {
				if !reflect.DeepEqual(errs, tt.errors) {
					t.Errorf("errors:\n got %#v\nwant %#v", errs, tt.errors)
				}
				if got != nil {
					t.Errorf("got %v with errors", got)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("unexpected errors %v", errs)
			}
			b, _ := json.Marshal(got)
			if string(b) != tt.want {
				t.Errorf("got %s, want %s", b, tt.want)
			}
		})
	}
}

// TestRowsRoundTrip: metadata → rows → metadata and → JSON text → metadata lose nothing, exact
// number text included; a string with a line break becomes a JSON-typed row.
func TestRowsRoundTrip(t *testing.T) {
	m, err := users.ParseMetadata(`{"s":"x <b>&","e":"","nl":"a\nb","tab":"a\tb","n":12345678901234567890,"f":1.50,
		"b":false,"o":{"k":[1,{"z":null}]},"a":[],"u":"ünïcode ✓"}`, users.UserMetadata)
	if err != nil {
		t.Fatal(err)
	}
	rows := users.RowsOf(m)
	types := map[string]string{}
	for _, r := range rows {
		types[r.Key] = r.Type
	}
	want := map[string]string{"s": "string", "e": "string", "nl": "json", "tab": "json", "n": "number", "f": "number",
		"b": "boolean", "o": "json", "a": "json", "u": "string"}
	if !reflect.DeepEqual(types, want) {
		t.Errorf("types = %v, want %v", types, want)
	}
	back, errs := users.ParseRows(rows, "user_metadata", users.UserMetadata)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if a, b := canonNumbers(m), canonNumbers(back); a != b {
		t.Errorf("rows round trip:\n got %s\nwant %s", b, a)
	}
	again, err := users.ParseMetadata(users.PrettyJSON(back), users.UserMetadata)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := canonNumbers(m), canonNumbers(again); a != b {
		t.Errorf("JSON round trip:\n got %s\nwant %s", b, a)
	}
	if !slices.EqualFunc(users.RowsOf(again), rows, func(a, b users.Row) bool { return a == b }) {
		t.Errorf("rows differ after a JSON round trip")
	}
}

// canonNumbers marshals keeping json.Number text, so 1.50 stays 1.50.
func canonNumbers(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestFingerprint(t *testing.T) {
	u := &mgmt.User{UserMetadata: map[string]any{"n": json.Number("12345678901234567890"), "s": "<x>"}, AppMetadata: nil}
	tok := users.FingerprintOf(u)
	s, err := users.ParseFingerprint(tok)
	if err != nil {
		t.Fatal(err)
	}
	if got := canonNumbers(s.User); got != `{"n":12345678901234567890,"s":"\u003cx\u003e"}` || s.App != nil {
		t.Errorf("decoded %s / %v", got, s.App)
	}
	if users.FingerprintOf(u) != tok {
		t.Error("fingerprint is not deterministic")
	}
	other := &mgmt.User{UserMetadata: map[string]any{"n": json.Number("12345678901234567891"), "s": "<x>"}}
	if users.FingerprintOf(other) == tok {
		t.Error("different metadata, same fingerprint")
	}
	for name, bad := range map[string]string{
		"empty": "", "no prefix": strings.TrimPrefix(tok, "m1."), "truncated": tok[:len(tok)/2],
		"altered data": tok[:4] + flip(tok[4]) + tok[5:], "altered hash": tok[:len(tok)-2] + flip(tok[len(tok)-2]) + tok[len(tok)-1:],
		"not base64": "m1.!!!.???",
	} {
		if _, err := users.ParseFingerprint(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestEffectSentences(t *testing.T) {
	base := `{"theme":"light","plan":"gold","address":{"city":"Paris"},"n":1}`
	api := userstest.New(nil, mgmt.User{UserID: "auth0|e", AppMetadata: obj(t, base)})
	svc := &users.Service{API: api}
	plan, err := svc.PreviewMetadata(staffCtx(authz.Agent), "auth0|e", users.MetadataForm{Base: baseFor(api, "auth0|e"),
		UserMetadata: "{}", AppMetadata: `{"theme":"dark","address":{"city":"Lyon"},"tier":2,"n":1,"list":["<a>"]}`})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range plan.Effects {
		got = append(got, e.Sentence())
	}
	want := []string{
		"replaces `app_metadata.address` entirely with `{\"city\":\"Lyon\"}` (it was `{\"city\":\"Paris\"}`)",
		"adds `app_metadata.list` with the value `[\"<a>\"]`",
		"`null` deletes `app_metadata.plan` (it was `\"gold\"`)",
		"changes `app_metadata.theme` from `\"light\"` to `\"dark\"`",
		"adds `app_metadata.tier` with the value `2`",
	}
	if !slices.Equal(got, want) {
		t.Errorf("sentences:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if plan.Kept != 1 {
		t.Errorf("kept = %d, want 1 (n)", plan.Kept)
	}
	wantBody := "{\n  \"app_metadata\": {\n    \"address\": {\n      \"city\": \"Lyon\"\n    },\n    \"list\": [\n      \"<a>\"\n    ],\n    \"plan\": null,\n    \"theme\": \"dark\",\n    \"tier\": 2\n  }\n}"
	if plan.Body != wantBody {
		t.Errorf("body:\n%s\nwant\n%s", plan.Body, wantBody)
	}
	if len(plan.Digest) != 64 {
		t.Errorf("digest %q", plan.Digest)
	}
	if w := api.Writes(); len(w) != 0 {
		t.Errorf("a preview wrote: %+v", w)
	}
}

// TestTwoEditorsThroughTheService: A and B open the same user; A saves one key, then B saves
// another from the same (now stale) base: both survive. Then both edit the same key: the second
// gets a ConflictError with the three values and nothing is sent.
func TestTwoEditorsThroughTheService(t *testing.T) {
	api := userstest.New(nil, mgmt.User{UserID: "auth0|x", Email: "x@example.com", UserMetadata: map[string]any{"theme": "light", "lang": "en"}})
	svc, store := auditedService(api)
	opened := baseFor(api, "auth0|x")

	if out, err := svc.SaveMetadata(staffCtx(authz.Agent), "auth0|x", users.MetadataForm{Base: opened,
		UserMetadata: `{"theme":"dark","lang":"en"}`, AppMetadata: "{}"}); err != nil || out != users.Saved {
		t.Fatalf("A: %v %v", out, err)
	}
	if out, err := svc.SaveMetadata(staffCtx(authz.Agent), "auth0|x", users.MetadataForm{Base: opened,
		UserMetadata: `{"theme":"light","lang":"fr"}`, AppMetadata: "{}"}); err != nil || out != users.Saved {
		t.Fatalf("B: %v %v", out, err)
	}
	u, _ := api.User("auth0|x")
	if got := canon(t, u.UserMetadata); got != `{"lang":"fr","theme":"dark"}` {
		t.Fatalf("stored %s, want both edits", got)
	}
	if upd := api.Writes()[1].Params.(*mgmt.UserUpdate); canon(t, upd.UserMetadata) != `{"lang":"fr"}` || upd.AppMetadata != nil {
		t.Errorf("B sent %s / %v, want only lang", canon(t, upd.UserMetadata), upd.AppMetadata)
	}

	// Same key: both open now, A saves, B's save conflicts.
	opened = baseFor(api, "auth0|x")
	if _, err := svc.SaveMetadata(staffCtx(authz.Agent), "auth0|x", users.MetadataForm{Base: opened,
		UserMetadata: `{"theme":"blue","lang":"fr"}`, AppMetadata: "{}"}); err != nil {
		t.Fatal(err)
	}
	_, err := svc.SaveMetadata(staffCtx(authz.Agent), "auth0|x", users.MetadataForm{Base: opened,
		UserMetadata: `{"theme":"green","lang":"fr"}`, AppMetadata: "{}"})
	var ce *users.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a conflict", err)
	}
	if want := []users.Conflict{{Object: "user_metadata", Key: "theme", Theirs: `"dark"`, Mine: `"green"`, Current: `"blue"`}}; !reflect.DeepEqual(ce.Conflicts, want) {
		t.Errorf("conflicts = %+v", ce.Conflicts)
	}
	if n := len(api.Writes()); n != 3 {
		t.Fatalf("%d writes, want 3: the conflicting save sent something", n)
	}
	if n := len(entries(t, store)); n != 3 {
		t.Errorf("%d audit entries, want 3 (a conflict sends and records nothing)", n)
	}

	// Resolving: "take current" previews nothing to send; "keep mine" sends mine over current.
	form := users.MetadataForm{Base: ce.Base, UserMetadata: users.PrettyJSON(ce.Mine.User), AppMetadata: "{}",
		Resolve: map[string]string{"user_metadata.theme": users.TakeCurrent}}
	plan, err := svc.PreviewMetadata(staffCtx(authz.Agent), "auth0|x", form)
	if err != nil || !plan.Empty() {
		t.Fatalf("take current: %v %+v", err, plan)
	}
	form.Resolve = map[string]string{"user_metadata.theme": users.KeepMine}
	if plan, err = svc.PreviewMetadata(staffCtx(authz.Agent), "auth0|x", form); err != nil || plan.Body != "{\n  \"user_metadata\": {\n    \"theme\": \"green\"\n  }\n}" {
		t.Fatalf("keep mine: %v %+v", err, plan)
	}
	form.Digest = plan.Digest
	if out, err := svc.SaveMetadata(staffCtx(authz.Agent), "auth0|x", form); err != nil || out != users.Saved {
		t.Fatalf("keep mine save: %v %v", out, err)
	}
	u, _ = api.User("auth0|x")
	if got := canon(t, u.UserMetadata); got != `{"lang":"fr","theme":"green"}` {
		t.Errorf("stored %s", got)
	}
	e := entries(t, store)[0] // newest first
	if !reflect.DeepEqual(e.Changes, []audit.Change{{Field: "user_metadata.theme", Before: `"blue"`, After: `"green"`}}) {
		t.Errorf("audit changes = %+v, want before = the value overwritten", e.Changes)
	}
}

// TestSaveChecksThePreviewAndTheForm: a confirmation whose digest differs from what would be sent,
// or a form without a usable fingerprint, sends nothing.
func TestSaveChecksThePreviewAndTheForm(t *testing.T) {
	api := userstest.New(nil, metaUser())
	svc := &users.Service{API: api}
	f := users.MetadataForm{Base: baseFor(api, "auth0|abc"), UserMetadata: `{"color":"blue"}`, AppMetadata: `{"plan":"gold"}`,
		Digest: strings.Repeat("0", 64)}
	_, err := svc.SaveMetadata(staffCtx(authz.Agent), "auth0|abc", f)
	var p *users.Problem
	if !errors.As(err, &p) || p.Status != http.StatusConflict || p.Message != users.MsgPreviewChanged {
		t.Fatalf("digest mismatch: %v", err)
	}
	for _, base := range []string{"", "m1.garbage", baseFor(api, "auth0|abc")[:20]} {
		f := users.MetadataForm{Base: base, UserMetadata: `{"color":"blue"}`, AppMetadata: `{"plan":"gold"}`}
		_, err := svc.SaveMetadata(staffCtx(authz.Agent), "auth0|abc", f)
		if !errors.As(err, &p) || p.Status != http.StatusBadRequest || p.Message != users.MsgStaleForm {
			t.Errorf("base %q: %v", base, err)
		}
	}
	if w := api.Writes(); len(w) != 0 {
		t.Errorf("writes = %+v", w)
	}
	if n := len(api.CallsTo("GetUser")); n != 1 {
		t.Errorf("%d GETs, want 1 (only the digest check re-reads; a bad fingerprint stops before)", n)
	}
}

// TestRowsThroughTheService: a row edit sends only the changed key, typed.
func TestRowsThroughTheService(t *testing.T) {
	api := userstest.New(nil, metaUser())
	svc := &users.Service{API: api}
	rows := append(users.RowsOf(metaUser().UserMetadata), users.Row{Key: "age", Type: "number", Value: "42"})
	for i := range rows {
		if rows[i].Key == "color" {
			rows[i].Remove = true
		}
	}
	plan, err := svc.PreviewMetadata(staffCtx(authz.Agent), "auth0|abc", users.MetadataForm{Base: baseFor(api, "auth0|abc"),
		UserRows: rows, AppRows: users.RowsOf(metaUser().AppMetadata)})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Body != "{\n  \"user_metadata\": {\n    \"age\": 42,\n    \"color\": null\n  }\n}" {
		t.Errorf("body %s", plan.Body)
	}
	_, err = svc.PreviewMetadata(staffCtx(authz.Agent), "auth0|abc", users.MetadataForm{Base: baseFor(api, "auth0|abc"),
		UserRows: []users.Row{{Key: "age", Type: "number", Value: "abc"}}, AppRows: []users.Row{}})
	var p *users.Problem
	if !errors.As(err, &p) || p.Status != 422 || p.Fields["user_metadata.0.value"] == "" {
		t.Fatalf("bad row: %v", err)
	}
	if n := len(api.Calls()); n != 1 {
		t.Errorf("%d calls, want 1 (the first preview's GET)", n)
	}
}

// lyingAPI answers a PATCH with a user that does not show the change.
type lyingAPI struct{ *userstest.API }

func (l lyingAPI) UpdateUser(ctx context.Context, id string, u *mgmt.UserUpdate) (*mgmt.User, error) {
	got, err := l.API.UpdateUser(ctx, id, u)
	if err == nil {
		got.UserMetadata["color"] = "stale"
	}
	return got, err
}

func TestSaveVerifiesAuth0sAnswer(t *testing.T) {
	api := userstest.New(nil, metaUser())
	svc, store := auditedService(lyingAPI{api})
	out, err := svc.SaveMetadata(staffCtx(authz.Agent), "auth0|abc", users.MetadataForm{Base: baseFor(api, "auth0|abc"),
		UserMetadata: `{"color":"blue","addr":{"city":"Paris"},"gone":1}`, AppMetadata: `{"plan":"gold"}`})
	if err != nil || out != users.SavedUnverified {
		t.Fatalf("out %v err %v", out, err)
	}
	if e := entries(t, store)[0]; e.Outcome != audit.OutcomeSuccess || e.Detail != "Auth0's answer does not show the change to user_metadata.color" {
		t.Errorf("entry = %+v", e)
	}
}
