package main

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/userdesk/userdesk/internal/mgmt"
)

// staffBrowser is a separate Chromium (own profile, own cookies), named who in failures, with the
// demo admin signed in.
func staffBrowser(t *testing.T, app *App, who string) *browser {
	t.Helper()
	b := newBrowser(t)
	b.who = who
	b.signIn(app)
	return b
}

// editJSON sets one key of one object in the JSON editor (keeping the rest of the text it shows)
// and opens the preview.
func editJSON(b *browser, object, key string, value any) {
	b.t.Helper()
	sel := "#" + object
	m := map[string]any{}
	if err := json.Unmarshal([]byte(b.value("read "+object, sel)), &m); err != nil {
		b.t.Fatalf("%s: %s is not JSON: %v", b.who, object, err)
	}
	m[key] = value
	text, _ := json.MarshalIndent(m, "", "  ")
	b.step("edit "+object+"."+key+" and preview",
		chromedp.SetValue(css(sel), string(text)),
		chromedp.Click(css("#save-metadata")),
		chromedp.WaitVisible(css(`[data-testid="metadata-patch"], [data-testid="metadata-conflicts"]`)),
	)
}

// confirmMetadata confirms the previewed edit and expects it saved.
func confirmMetadata(b *browser) {
	b.t.Helper()
	b.step("confirm", chromedp.Click(css("#confirm-metadata")), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	if got := b.text("flash", `[data-testid="flash"]`); got != "Metadata saved." {
		b.t.Fatalf("%s: flash after saving = %q", b.who, got)
	}
}

// stored is the user as the tenant holds it.
func stored(t *testing.T, app *App, id string) *mgmt.User {
	t.Helper()
	u, err := mgmtFor(t, app).Users.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestBrowserMetadataTwoStaff: two staff members, each in their own Chromium, open the same user's
// metadata editor. Editing different keys, both edits are kept; editing the same key, the second
// one gets the conflict page with theirs, mine and current, and nothing is overwritten.
func TestBrowserMetadataTwoStaff(t *testing.T) {
	app, _ := startTestApp(t, nil)
	cust := firstCustomer(t, app)
	editor := app.URL + "/users/" + url.PathEscape(cust.UserID) + "/metadata"
	a := staffBrowser(t, app, "staff A")
	b := staffBrowser(t, app, "staff B")
	open := func(s *browser) {
		s.step("open the editor", chromedp.Navigate(editor), chromedp.WaitVisible(css("#user_metadata")))
	}

	// Different keys: both open, A saves user_metadata.a_note, then B (form opened before A's save)
	// saves app_metadata.b_flag.
	open(a)
	open(b)
	editJSON(a, "user_metadata", "a_note", "from A")
	if body := a.text("preview", `[data-testid="metadata-patch"]`); !strings.Contains(body, `"a_note": "from A"`) || strings.Contains(body, "app_metadata") {
		t.Fatalf("A's preview body:\n%s", body)
	}
	confirmMetadata(a)
	editJSON(b, "app_metadata", "b_flag", true)
	if body := b.text("preview", `[data-testid="metadata-patch"]`); strings.Contains(body, "user_metadata") || !strings.Contains(body, `"b_flag": true`) {
		t.Fatalf("B's preview sends more than its own key:\n%s", body)
	}
	confirmMetadata(b)
	u := stored(t, app, cust.UserID)
	if u.UserMetadata["a_note"] != "from A" || u.AppMetadata["b_flag"] != true {
		t.Fatalf("an edit was lost: user_metadata %v, app_metadata %v", u.UserMetadata, u.AppMetadata)
	}
	for k := range cust.UserMetadata {
		if _, ok := u.UserMetadata[k]; !ok {
			t.Errorf("user_metadata.%s lost", k)
		}
	}

	// Same key: both open, A changes a_note, B's change to it conflicts.
	open(a)
	open(b)
	editJSON(a, "user_metadata", "a_note", "A again")
	confirmMetadata(a)
	editJSON(b, "user_metadata", "a_note", "B's version")
	if loc := b.text("conflict heading", "h1"); loc != "Someone else changed this metadata" {
		t.Fatalf("B did not get the conflict page: %q", loc)
	}
	cols := []string{
		b.text("theirs", `[data-testid="conflict-theirs"]`),
		b.text("mine", `[data-testid="conflict-mine"]`),
		b.text("current", `[data-testid="conflict-current"]`),
	}
	if want := []string{`"from A"`, `"B's version"`, `"A again"`}; strings.Join(cols, "|") != strings.Join(want, "|") {
		t.Fatalf("conflict columns = %q, want %q", cols, want)
	}
	if got := stored(t, app, cust.UserID).UserMetadata["a_note"]; got != "A again" {
		t.Fatalf("the conflict overwrote A's value: %v", got)
	}
	// Taking the current value leaves nothing to save.
	b.step("take current", chromedp.Click(css("#resolve-metadata")), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	if got := b.text("flash", `[data-testid="flash"]`); got != "No changes to save." {
		t.Errorf("after taking current: %q", got)
	}
	if got := stored(t, app, cust.UserID).UserMetadata["a_note"]; got != "A again" {
		t.Fatalf("A's value was overwritten: %v", got)
	}
}

// TestBrowserMetadataRowsWithoutJavaScript: with script execution disabled, the row editor adds a
// typed key, deletes one with its checkbox, shows a bad number next to its field with the summary
// at the top, switches to JSON and back keeping the edit, and saves after the preview.
func TestBrowserMetadataRowsWithoutJavaScript(t *testing.T) {
	app, _ := startTestApp(t, nil)
	cust := firstCustomer(t, app)
	editor := app.URL + "/users/" + url.PathEscape(cust.UserID) + "/metadata"
	s := staffBrowser(t, app, "staff")
	s.withoutJavaScript()
	// Seed a key to delete through the row editor.
	s.step("open JSON editor", chromedp.Navigate(editor), chromedp.WaitVisible(css("#user_metadata")))
	editJSON(s, "user_metadata", "to_remove", "x")
	confirmMetadata(s)

	s.step("open rows editor", chromedp.Navigate(editor+"?mode=rows"), chromedp.WaitVisible(css(`[data-testid="user_metadata-rows"]`)))
	n, err := strconv.Atoi(s.value("rows", `[name="user_metadata.rows"]`))
	if err != nil || n < 4 {
		t.Fatalf("user_metadata.rows = %d %v", n, err)
	}
	spare := n - 3 // the first of the three empty rows after the stored keys
	field := func(i int, part string) chromedp.CSS {
		return css(`[id="user_metadata.` + strconv.Itoa(i) + `.` + part + `"]`)
	}
	removeAt := -1
	for i := range spare {
		if s.value("key", string(field(i, "key"))) == "to_remove" {
			removeAt = i
		}
	}
	if removeAt < 0 {
		t.Fatal("the key to remove is not a row")
	}
	s.step("fill a row with a bad number and tick remove",
		chromedp.SendKeys(field(spare, "key"), "visits"),
		chromedp.SetValue(field(spare, "type"), "number"),
		chromedp.SendKeys(field(spare, "value"), "abc"),
		chromedp.Click(field(removeAt, "remove")),
		chromedp.Click(css("#save-metadata")),
		chromedp.WaitVisible(css("#error-summary")),
	)
	if got := s.text("field error", `[data-testid="error-user_metadata.`+strconv.Itoa(spare)+`.value"]`); got != `Enter a number such as 42 or -3.5; "abc" is not a number.` {
		t.Fatalf("error next to the value = %q", got)
	}
	if got := s.text("summary", "#error-summary"); !strings.Contains(got, "nothing was sent to Auth0") || !strings.Contains(got, `"abc" is not a number`) {
		t.Fatalf("summary = %q", got)
	}
	// Without script, app.js does not move the focus to the invalid field: proof it did not run.
	// (DevTools can still evaluate while the page's own scripts are disabled.)
	if focused := s.get("focus", chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`)); focused == "user_metadata."+strconv.Itoa(spare)+".value" {
		t.Fatalf("app.js ran (focus on %q): JavaScript is not disabled", focused)
	}
	s.step("fix the number, switch to JSON",
		chromedp.SetValue(field(spare, "value"), "7"),
		chromedp.Click(css("#switch-json")),
		chromedp.WaitVisible(css("#user_metadata")),
	)
	var asJSON map[string]any
	if err := json.Unmarshal([]byte(s.value("json", "#user_metadata")), &asJSON); err != nil {
		t.Fatal(err)
	}
	if _, still := asJSON["to_remove"]; still || asJSON["visits"] != float64(7) {
		t.Fatalf("switching to JSON lost the row edit: %v", asJSON)
	}
	s.step("back to rows, preview",
		chromedp.Click(css("#switch-rows")),
		chromedp.WaitVisible(css(`[data-testid="user_metadata-rows"]`)),
		chromedp.Click(css("#save-metadata")),
		chromedp.WaitVisible(css(`[data-testid="metadata-patch"]`)),
	)
	var body map[string]map[string]any
	if err := json.Unmarshal([]byte(s.text("body", `[data-testid="metadata-patch"]`)), &body); err != nil {
		t.Fatal(err)
	}
	if want := map[string]map[string]any{"user_metadata": {"to_remove": nil, "visits": float64(7)}}; !equalJSON(body, want) {
		t.Fatalf("PATCH body = %v, want %v", body, want)
	}
	effects := s.text("effects", `[data-testid="metadata-effects"]`)
	if !strings.Contains(effects, "null deletes user_metadata.to_remove") || !strings.Contains(effects, "adds user_metadata.visits with the value 7") {
		t.Errorf("effects = %q", effects)
	}
	confirmMetadata(s)
	u := stored(t, app, cust.UserID)
	if _, still := u.UserMetadata["to_remove"]; still || u.UserMetadata["visits"] != float64(7) {
		t.Fatalf("stored user_metadata = %v", u.UserMetadata)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
