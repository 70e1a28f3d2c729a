package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
)

const janeMeta = "/users/auth0%7Cabc/metadata"

// formOf returns what a browser would submit from the page's metadata form (the one posting to a
// .../metadata action), without any button: inputs (checked boxes and radios only), selected
// options and textareas.
func formOf(t *testing.T, p *page) url.Values {
	t.Helper()
	forms := p.all(func(n *html.Node) bool {
		a, _ := attr(n, "action")
		return n.Data == "form" && strings.HasSuffix(a, "/metadata")
	})
	if len(forms) != 1 {
		t.Fatalf("%d metadata forms on the page", len(forms))
	}
	v := url.Values{}
	for n := range forms[0].Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		name, ok := attr(n, "name")
		if !ok {
			continue
		}
		switch n.Data {
		case "input":
			typ, _ := attr(n, "type")
			val, _ := attr(n, "value")
			_, checked := attr(n, "checked")
			switch {
			case typ == "submit":
			case (typ == "checkbox" || typ == "radio") && !checked:
			default:
				v.Add(name, val)
			}
		case "textarea":
			var b strings.Builder
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				b.WriteString(c.Data)
			}
			v.Add(name, b.String())
		case "select":
			for o := range n.Descendants() {
				if _, sel := attr(o, "selected"); o.Data == "option" && sel {
					val, _ := attr(o, "value")
					v.Add(name, val)
				}
			}
		}
	}
	return v
}

// openEditor GETs the editor and returns what submitting it unchanged would send.
func openEditor(t *testing.T, env *env, target string) url.Values {
	t.Helper()
	rec := env.get(t, target)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d", target, rec.Code)
	}
	return formOf(t, parse(t, rec))
}

func with(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

func effectsOf(p *page) []string {
	var out []string
	for _, n := range p.byAttr("data-testid", "metadata-effect") {
		out = append(out, text(n))
	}
	return out
}

// TestMetadataPreviewThenConfirm: the preview shows the exact PATCH body and its effect in words
// and sends nothing; confirming sends exactly that body, once, and the user page shows the record
// re-read with a success message.
func TestMetadataPreviewThenConfirm(t *testing.T) {
	env := newEnv(t, false, jane())
	form := openEditor(t, env, janeMeta)
	if form.Get("base") == "" || form.Get("mode") != "json" {
		t.Fatalf("editor form = %v", form)
	}
	edit := with(form,
		"user_metadata", `{"color": "blue", "addr": {"city": "Lyon"}}`,
		"app_metadata", `{"plan": "gold", "tier": 2}`,
		"reason", "TICKET-7")
	rec := env.post(t, janeMeta, edit)
	if rec.Code != http.StatusOK {
		t.Fatalf("preview: %d\n%s", rec.Code, rec.Body)
	}
	p := parse(t, rec)
	wantBody := `{
  "user_metadata": {
    "addr": {
      "city": "Lyon"
    },
    "color": "blue",
    "gone": null
  },
  "app_metadata": {
    "tier": 2
  }
}`
	if got := text(p.one("data-testid", "metadata-patch")); got != strings.Join(strings.Fields(wantBody), " ") {
		t.Errorf("PATCH body shown = %q", got)
	}
	wantWords := []string{
		`replaces user_metadata.addr entirely with {"city":"Lyon"} (it was {"city":"Paris"} )`,
		`changes user_metadata.color from "red" to "blue"`,
		`null deletes user_metadata.gone (it was 1 )`,
		`adds app_metadata.tier with the value 2`,
	}
	if got := effectsOf(p); !reflect.DeepEqual(got, wantWords) {
		t.Errorf("effects:\n%q\nwant\n%q", got, wantWords)
	}
	if got := p.textOf("data-testid", "metadata-kept"); got != "1 other key is not sent and stays as it is." {
		t.Errorf("kept = %q", got)
	}
	if got := p.textOf("data-testid", "metadata-reason"); got != "TICKET-7" {
		t.Errorf("reason shown = %q", got)
	}
	if w := env.api.Writes(); len(w) != 0 {
		t.Fatalf("the preview wrote: %+v", w)
	}

	confirm := formOf(t, p)
	if confirm.Get("digest") == "" || confirm.Get("base") != form.Get("base") || confirm.Get("reason") != "TICKET-7" {
		t.Fatalf("confirmation form = %v", confirm)
	}
	rec = env.post(t, janeMeta, with(confirm, "confirm", "1"))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/users/auth0%7Cabc?msg=metadata-saved" {
		t.Fatalf("confirm: %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	w := env.api.Writes()
	if len(w) != 1 {
		t.Fatalf("%d writes, want 1", len(w))
	}
	sent, _ := json.MarshalIndent(w[0].Params, "", "  ")
	if string(sent) != wantBody {
		t.Errorf("sent body:\n%s\nwant (the previewed body)\n%s", sent, wantBody)
	}
	page := parse(t, env.get(t, rec.Header().Get("Location")))
	if got := page.textOf("data-testid", "flash"); got != "Metadata saved." {
		t.Errorf("flash = %q", got)
	}
	if got := page.textOf("data-testid", "user-metadata-json"); got != `{ "addr": { "city": "Lyon" }, "color": "blue" }` {
		t.Errorf("user page shows %q", got)
	}
	if got := page.textOf("data-testid", "app-metadata-json"); got != `{ "plan": "gold", "tier": 2 }` {
		t.Errorf("user page shows %q", got)
	}
	// Back to editing from a preview keeps the edit, in the mode it was made in.
	rec = env.post(t, janeMeta, with(confirm, "op", "edit", "mode", "rows"))
	back := parse(t, rec)
	if rec.Code != http.StatusOK || back.value("app_metadata.1.key") != "tier" || back.value("app_metadata.1.value") != "2" {
		t.Errorf("back to editing lost the edit: %d", rec.Code)
	}
}

// TestMetadataConfirmSendsOnlyWhatWasPreviewed: a tampered confirmation (its digest no longer
// matches what would be sent) sends nothing.
func TestMetadataConfirmSendsOnlyWhatWasPreviewed(t *testing.T) {
	env := newEnv(t, false, jane())
	form := openEditor(t, env, janeMeta)
	p := parse(t, env.post(t, janeMeta, with(form, "app_metadata", `{"plan": "silver"}`)))
	confirm := formOf(t, p)
	rec := env.post(t, janeMeta, with(confirm, "confirm", "1", "app_metadata", `{"plan": "platinum"}`))
	if rec.Code != http.StatusConflict || !strings.Contains(parse(t, rec).textOf("data-testid", "alert"), users.MsgPreviewChanged) {
		t.Fatalf("tampered confirmation: %d", rec.Code)
	}
	if w := env.api.Writes(); len(w) != 0 {
		t.Fatalf("writes = %+v", w)
	}
}

// TestMetadataNoChange: submitting the editor unchanged sends nothing and says so.
func TestMetadataNoChange(t *testing.T) {
	env := newEnv(t, false, jane())
	for _, target := range []string{janeMeta, janeMeta + "?mode=rows"} {
		rec := env.post(t, janeMeta, openEditor(t, env, target))
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/users/auth0%7Cabc?msg=nochange" {
			t.Errorf("%s: %d %s", target, rec.Code, rec.Header().Get("Location"))
		}
	}
	if w := env.api.Writes(); len(w) != 0 {
		t.Fatalf("writes = %+v", w)
	}
}

// TestMetadataTwoStaffDifferentKeys: both open the form; each changes another key; both survive,
// because the second PATCH carries only its own key.
func TestMetadataTwoStaffDifferentKeys(t *testing.T) {
	env := newEnv(t, false, jane())
	a, b := openEditor(t, env, janeMeta), openEditor(t, env, janeMeta)
	save := func(f url.Values) {
		t.Helper()
		p := parse(t, env.post(t, janeMeta, f))
		if rec := env.post(t, janeMeta, with(formOf(t, p), "confirm", "1")); rec.Code != http.StatusSeeOther {
			t.Fatalf("save: %d\n%s", rec.Code, rec.Body)
		}
	}
	save(with(a, "user_metadata", `{"color": "blue", "addr": {"city": "Paris"}, "gone": 1}`))
	save(with(b, "app_metadata", `{"plan": "platinum"}`))
	u, _ := env.api.User("auth0|abc")
	if u.UserMetadata["color"] != "blue" || u.AppMetadata["plan"] != "platinum" {
		t.Fatalf("stored %v / %v: an edit was lost", u.UserMetadata, u.AppMetadata)
	}
	if upd := env.api.Writes()[1].Params.(*mgmt.UserUpdate); upd.UserMetadata != nil {
		t.Errorf("the second edit resent user_metadata: %v", upd.UserMetadata)
	}
}

// TestMetadataConflictPage: keys this edit touches changed after the form was opened → 409 with
// theirs, mine and current side by side, nothing sent; resolving re-previews, and "keep mine" then
// saves over the current value while "take current" leaves it.
func TestMetadataConflictPage(t *testing.T) {
	for _, stage := range []string{"at preview", "at confirmation"} {
		t.Run(stage, func(t *testing.T) {
			env := newEnv(t, false, jane())
			form := openEditor(t, env, janeMeta)
			edit := with(form, "app_metadata", `{"plan": "silver"}`)
			var rec *httptest.ResponseRecorder
			if stage == "at preview" {
				other(env, "platinum")
				rec = env.post(t, janeMeta, edit)
			} else {
				p := parse(t, env.post(t, janeMeta, edit))
				other(env, "platinum")
				rec = env.post(t, janeMeta, with(formOf(t, p), "confirm", "1"))
			}
			if rec.Code != http.StatusConflict {
				t.Fatalf("status %d, want 409\n%s", rec.Code, rec.Body)
			}
			if w := env.api.Writes(); len(w) != 1 { // the other editor's
				t.Fatalf("writes = %d: the conflicting edit was sent", len(w))
			}
			p := parse(t, rec)
			rows := p.byAttr("data-testid", "metadata-conflict")
			if len(rows) != 1 {
				t.Fatalf("%d conflict rows", len(rows))
			}
			cols := map[string]string{}
			for n := range rows[0].Descendants() {
				if id, ok := attr(n, "data-testid"); ok {
					cols[id] = text(n)
				}
			}
			if want := map[string]string{"conflict-theirs": `"gold"`, "conflict-mine": `"silver"`, "conflict-current": `"platinum"`}; !reflect.DeepEqual(cols, want) {
				t.Errorf("columns = %v, want %v", cols, want)
			}
			if !strings.Contains(p.textOf("data-testid", "conflict-summary"), "Nothing was saved") {
				t.Error("the conflict page does not say nothing was saved")
			}
			resolve := formOf(t, p)
			if resolve.Get("resolve.app_metadata.plan") != "current" {
				t.Errorf("default choice = %q, want current (nothing overwritten by default)", resolve.Get("resolve.app_metadata.plan"))
			}

			// Take current: nothing left to send.
			if rec := env.post(t, janeMeta, with(resolve, "op", "resolve")); rec.Code != http.StatusSeeOther ||
				!strings.HasSuffix(rec.Header().Get("Location"), "?msg=nochange") {
				t.Errorf("take current: %d %s", rec.Code, rec.Header().Get("Location"))
			}
			// Keep mine: the preview sends mine, the confirmation stores it.
			rec = env.post(t, janeMeta, with(resolve, "op", "resolve", "resolve.app_metadata.plan", "mine"))
			if rec.Code != http.StatusOK {
				t.Fatalf("keep mine: %d\n%s", rec.Code, rec.Body)
			}
			pv := parse(t, rec)
			if got := effectsOf(pv); !reflect.DeepEqual(got, []string{`changes app_metadata.plan from "platinum" to "silver"`}) {
				t.Errorf("keep mine preview = %q", got)
			}
			if rec := env.post(t, janeMeta, with(formOf(t, pv), "confirm", "1")); rec.Code != http.StatusSeeOther {
				t.Fatalf("keep mine confirm: %d", rec.Code)
			}
			if u, _ := env.api.User("auth0|abc"); u.AppMetadata["plan"] != "silver" {
				t.Errorf("stored %v", u.AppMetadata)
			}
		})
	}
}

// other is another staff member's save of app_metadata.plan, straight to the fake Auth0.
func other(env *env, plan string) {
	_, _ = env.api.UpdateUser(context.Background(), "auth0|abc", &mgmt.UserUpdate{AppMetadata: map[string]any{"plan": plan}})
}

// TestMetadataRowEditor: the row editor shows each key typed, round-trips through JSON and back,
// adds rows without script, and its edit previews as the same minimal PATCH.
func TestMetadataRowEditor(t *testing.T) {
	u := jane()
	u.UserMetadata["note"] = "two\nlines"
	u.UserMetadata["vip"] = true
	env := newEnv(t, false, u)
	rec := env.get(t, janeMeta+"?mode=rows")
	p := parse(t, rec)
	if rec.Code != http.StatusOK || p.href("id", "mode-json-link") != janeMeta+"?mode=json" {
		t.Fatalf("rows editor: %d", rec.Code)
	}
	form := formOf(t, p)
	wantRows := [][3]string{
		{"addr", "json", "{\n  \"city\": \"Paris\"\n}"}, {"color", "string", "red"}, {"gone", "number", "1"},
		{"note", "json", `"two\nlines"`}, {"vip", "boolean", "true"}, {"", "string", ""}, {"", "string", ""}, {"", "string", ""},
	}
	if form.Get("user_metadata.rows") != "8" {
		t.Fatalf("user_metadata.rows = %q", form.Get("user_metadata.rows"))
	}
	for i, w := range wantRows {
		got := [3]string{form.Get(users.RowField("user_metadata", i, "key")), form.Get(users.RowField("user_metadata", i, "type")),
			form.Get(users.RowField("user_metadata", i, "value"))}
		if got != w {
			t.Errorf("row %d = %q, want %q", i, got, w)
		}
	}
	if got := len(p.byAttr("data-testid", "metadata-row")); got != 8+4 {
		t.Errorf("%d rows shown, want 12 (5 + 3 spare, 1 + 3 spare)", got)
	}

	edit := with(form,
		"user_metadata.1.value", "blue", // color
		"user_metadata.2.remove", "1", // gone
		"user_metadata.5.key", "age", "user_metadata.5.type", "number", "user_metadata.5.value", "42",
		"app_metadata.1.key", "beta", "app_metadata.1.type", "boolean", "app_metadata.1.value", "false",
	)
	// Add rows: the edit stays and three more spare rows appear (after at least three spare ones).
	rec = env.post(t, janeMeta, with(edit, "op", "more"))
	more := formOf(t, parse(t, rec))
	if rec.Code != http.StatusOK || more.Get("user_metadata.rows") != "12" || more.Get("user_metadata.5.value") != "42" ||
		more.Get("user_metadata.2.remove") != "1" {
		t.Fatalf("add rows: %d rows=%s", rec.Code, more.Get("user_metadata.rows"))
	}
	// Switch to JSON: the rows become the equivalent object.
	rec = env.post(t, janeMeta, with(edit, "op", "json"))
	asJSON := formOf(t, parse(t, rec))
	wantUM := "{\n  \"addr\": {\n    \"city\": \"Paris\"\n  },\n  \"age\": 42,\n  \"color\": \"blue\",\n  \"note\": \"two\\nlines\",\n  \"vip\": true\n}"
	if rec.Code != http.StatusOK || asJSON.Get("mode") != "json" || asJSON.Get("user_metadata") != wantUM ||
		asJSON.Get("app_metadata") != "{\n  \"beta\": false,\n  \"plan\": \"gold\"\n}" || asJSON.Get("base") != form.Get("base") {
		t.Fatalf("switch to JSON: %d\n%v", rec.Code, asJSON)
	}
	// And back to rows: the same keys, types and values.
	rec = env.post(t, janeMeta, with(asJSON, "op", "rows"))
	asRows := formOf(t, parse(t, rec))
	for i, w := range [][3]string{{"addr", "json", ""}, {"age", "number", "42"}, {"color", "string", "blue"}, {"note", "json", `"two\nlines"`}, {"vip", "boolean", "true"}} {
		if k, ty := asRows.Get(users.RowField("user_metadata", i, "key")), asRows.Get(users.RowField("user_metadata", i, "type")); k != w[0] || ty != w[1] {
			t.Errorf("back to rows, row %d = %s/%s, want %s/%s", i, k, ty, w[0], w[1])
		}
		if w[2] != "" && asRows.Get(users.RowField("user_metadata", i, "value")) != w[2] {
			t.Errorf("back to rows, row %d value = %q", i, asRows.Get(users.RowField("user_metadata", i, "value")))
		}
	}
	// Both forms preview the same minimal PATCH.
	var bodies []string
	for _, f := range []url.Values{edit, asJSON, asRows} {
		rec := env.post(t, janeMeta, f)
		if rec.Code != http.StatusOK {
			t.Fatalf("preview: %d\n%s", rec.Code, rec.Body)
		}
		bodies = append(bodies, parse(t, rec).textOf("data-testid", "metadata-patch"))
	}
	want := `{ "user_metadata": { "age": 42, "color": "blue", "gone": null }, "app_metadata": { "beta": false } }`
	for i, b := range bodies {
		if b != want {
			t.Errorf("preview %d body = %s, want %s", i, b, want)
		}
	}
	if c := env.api.Writes(); len(c) != 0 {
		t.Errorf("writes = %+v", c)
	}
}

// TestMetadataInvalidInput: every kind of invalid input comes back as 422 with the sentence next to
// its field and in the summary at the top, the input kept, and no call to Auth0 at all.
func TestMetadataInvalidInput(t *testing.T) {
	rowsForm := func(kv ...string) url.Values {
		v := url.Values{"mode": {"rows"}, "user_metadata.rows": {"1"}, "app_metadata.rows": {"1"},
			"user_metadata.0.key": {"color"}, "user_metadata.0.type": {"string"}, "user_metadata.0.value": {"red"},
			"app_metadata.0.key": {"plan"}, "app_metadata.0.type": {"string"}, "app_metadata.0.value": {"gold"}}
		return with(v, kv...)
	}
	jsonForm := func(um, am string) url.Values {
		return url.Values{"user_metadata": {um}, "app_metadata": {am}}
	}
	tests := []struct {
		name  string
		form  url.Values
		field string
		msg   string
	}{
		{"malformed JSON", jsonForm("{\n  \"a\": 1,\n  \"b\": oops\n}", "{}"), "user_metadata",
			"Invalid JSON at line 3, column 8: invalid character 'o' looking for beginning of value."},
		{"dot in a key", jsonForm(`{"a.b": 1}`, "{}"), "user_metadata", `The key "a.b" contains "." or "$", which Auth0 does not allow in metadata keys.`},
		{"dollar in a nested key", jsonForm("{}", `{"x": {"$where": 1}}`), "app_metadata", `The key "x/$where" contains "." or "$", which Auth0 does not allow in metadata keys.`},
		{"reserved app_metadata key", jsonForm("{}", `{"blocked": true}`), "app_metadata", `The key "blocked" is reserved by Auth0 and cannot be set in app_metadata.`},
		{"oversize", jsonForm(`{"a": "`+strings.Repeat("x", users.MaxMetadataBytes)+`"}`, "{}"), "user_metadata", "This is too large; metadata is limited to 64 KB here."},
		{"not an object", jsonForm("[]", "{}"), "user_metadata", `Metadata must be a JSON object like {"key": "value"}, not an array.`},
		{"row: abc for a number", rowsForm("user_metadata.0.type", "number", "user_metadata.0.value", "abc"), "user_metadata.0.value",
			`Enter a number such as 42 or -3.5; "abc" is not a number.`},
		{"row: bad boolean", rowsForm("user_metadata.0.type", "boolean", "user_metadata.0.value", "yes"), "user_metadata.0.value", `Enter true or false; "yes" is neither.`},
		{"row: malformed JSON value", rowsForm("app_metadata.0.type", "json", "app_metadata.0.value", "{\"a\":"), "app_metadata.0.value",
			"Invalid JSON at line 1, column 6: unexpected end of JSON input."},
		{"row: dollar key", rowsForm("user_metadata.0.key", "$set"), "user_metadata.0.key", `The key "$set" contains "." or "$", which Auth0 does not allow in metadata keys.`},
		{"row: reserved app key", rowsForm("app_metadata.0.key", "user_id"), "app_metadata.0.key", `The key "user_id" is reserved by Auth0 and cannot be set in app_metadata.`},
		{"row: value without key", rowsForm("user_metadata.0.key", ""), "user_metadata.0.key", "Enter a key for this value."},
		{"row: oversize", rowsForm("user_metadata.0.value", strings.Repeat("x", users.MaxMetadataBytes)), "user_metadata", "This is too large; metadata is limited to 64 KB here."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, false, jane())
			form := with(tt.form, "base", users.FingerprintOf(ptr(jane())), "reason", "R-1")
			for _, op := range []string{"preview", "confirm"} {
				f := with(form, "op", op)
				if op == "confirm" {
					f = with(form, "confirm", "1")
				}
				rec := env.post(t, janeMeta, f)
				if rec.Code != http.StatusUnprocessableEntity {
					t.Fatalf("%s: status %d, want 422", op, rec.Code)
				}
				p := parse(t, rec)
				if got := p.textOf("data-testid", "error-"+tt.field); got != tt.msg {
					t.Errorf("%s: message next to %s = %q, want %q", op, tt.field, got, tt.msg)
				}
				sum := p.one("id", "error-summary")
				if role, _ := attr(sum, "role"); role != "alert" || !strings.Contains(text(sum), tt.msg) {
					t.Errorf("%s: summary = %q", op, text(sum))
				}
				var links []string
				for n := range sum.Descendants() {
					if h, ok := attr(n, "href"); ok {
						links = append(links, h)
					}
				}
				if !slices.Contains(links, "#"+tt.field) || !p.has("id", tt.field) {
					t.Errorf("%s: summary links %v, want #%s pointing at the field", op, links, tt.field)
				}
				if p.value("reason") != "R-1" {
					t.Errorf("%s: reason not kept", op)
				}
			}
			if c := env.api.Calls(); len(c) != 0 {
				t.Errorf("Auth0 was called: %+v", c)
			}
		})
	}
}

// TestMetadataDamagedForm: a form without (or with a damaged) fingerprint cannot be checked for
// changes made meanwhile, so it is refused before any call, keeping the input.
func TestMetadataDamagedForm(t *testing.T) {
	env := newEnv(t, false, jane())
	for _, base := range []string{"", "m1.AAAA.BBBB", users.FingerprintOf(ptr(jane()))[:30]} {
		rec := env.post(t, janeMeta, url.Values{"user_metadata": {`{"color":"x"}`}, "app_metadata": {"{}"}, "base": {base}})
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("base %q: status %d", base, rec.Code)
		}
		p := parse(t, rec)
		if got := p.textOf("data-testid", "alert"); got != users.MsgStaleForm {
			t.Errorf("alert = %q", got)
		}
		if got := text(p.one("id", "user_metadata")); got != `{"color":"x"}` {
			t.Errorf("input not kept: %q", got)
		}
	}
	if c := env.api.Calls(); len(c) != 0 {
		t.Errorf("Auth0 was called: %+v", c)
	}
}

// TestMetadataPagesEscapeHostileValues: keys and values full of markup render as text on the
// editor (both modes), the preview and the conflict page.
func TestMetadataPagesEscapeHostileValues(t *testing.T) {
	u := jane()
	u.UserMetadata = map[string]any{}
	u.AppMetadata = map[string]any{}
	for i, p := range payloads {
		u.UserMetadata["k"+string(rune('a'+i))] = p
		u.AppMetadata[strings.NewReplacer(".", "_", "$", "_").Replace(p)] = map[string]any{"v": p}
	}
	env := newEnv(t, false, u)
	check := func(name string, rec *httptest.ResponseRecorder, want int) *page {
		t.Helper()
		if rec.Code != want {
			t.Fatalf("%s: status %d, want %d\n%s", name, rec.Code, want, rec.Body)
		}
		p := parse(t, rec)
		assertNoForeignScript(t, name, rec.Header().Get("Content-Security-Policy"), p)
		return p
	}
	check("editor (JSON)", env.get(t, janeMeta), 200)
	rows := check("editor (rows)", env.get(t, janeMeta+"?mode=rows"), 200)
	if got := rows.value("user_metadata.0.value"); got != payloads[0] {
		t.Errorf("row value = %q, want the payload as text", got)
	}
	form := formOf(t, rows)
	hostile := payloads[4]
	edit := with(form, "user_metadata.0.value", hostile, "reason", payloads[1])
	pv := check("preview", env.post(t, janeMeta, edit), 200)
	if got := effectsOf(pv); len(got) != 1 || !strings.Contains(got[0], hostile) {
		t.Errorf("effects = %q", got)
	}
	_, _ = env.api.UpdateUser(context.Background(), "auth0|abc", &mgmt.UserUpdate{UserMetadata: map[string]any{"ka": payloads[5]}})
	cp := check("conflict", env.post(t, janeMeta, edit), 409)
	if got := cp.textOf("data-testid", "conflict-current"); got != `"`+strings.ReplaceAll(payloads[5], `"`, `\"`)+`"` {
		t.Errorf("current = %q", got)
	}
	check("invalid", env.post(t, janeMeta, with(form, "user_metadata.0.type", "number", "user_metadata.0.value", hostile)), 422)
}

// TestMetadataFlashMessages: the fixed codes a save redirects with.
func TestMetadataFlashMessages(t *testing.T) {
	env := newEnv(t, false, jane())
	for code, want := range map[string][2]string{
		"metadata-saved":                {"Metadata saved.", ""},
		"metadata-unverified":           {"Metadata saved.", "Auth0's answer to the save did not show every change; check the metadata below."},
		"metadata-unverified-unaudited": {"Metadata saved.", "Auth0's answer to the save did not show every change; check the metadata below. " + users.MsgAuditFailed},
	} {
		p := parse(t, env.get(t, "/users/auth0%7Cabc?msg="+code))
		if got := p.textOf("data-testid", "flash"); got != want[0] {
			t.Errorf("%s: flash %q", code, got)
		}
		if want[1] != "" && p.textOf("data-testid", "alert") != want[1] {
			t.Errorf("%s: warning %q", code, p.textOf("data-testid", "alert"))
		}
	}
}

// janeBase is the fingerprint of jane()'s metadata, as the editor renders it.
func janeBase() string { return users.FingerprintOf(ptr(jane())) }
