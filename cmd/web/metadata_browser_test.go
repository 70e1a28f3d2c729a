package main

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/userdesk/userdesk/internal/mgmt"
)

// staffBrowser is one signed-in staff member in their own Chromium (own profile, own cookies).
type staffBrowser struct {
	t    *testing.T
	name string
	ctx  context.Context
}

func (b *staffBrowser) fail(step string, err error) {
	b.t.Helper()
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	page, _ := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("main")))
	b.t.Fatalf("%s: %s: %v\nat %s\n%s", b.name, step, err, loc, page)
}

func (b *staffBrowser) do(step string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.fail(step, err)
	}
}

func (b *staffBrowser) text(step, sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.fail(step, err)
	}
	return v
}

func (b *staffBrowser) value(step, sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.fail(step, err)
	}
	return v
}

// signedInBrowser starts a separate Chromium and signs the demo admin in on the tenant's page.
func signedInBrowser(t *testing.T, app *App, name string) *staffBrowser {
	t.Helper()
	b := &staffBrowser{t: t, name: name, ctx: browserContext(t)}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	b.do("sign in",
		chromedp.Navigate(app.URL+"/"),
		chromedp.WaitVisible(css("#signin-link")),
		chromedp.Click(css("#signin-link")),
		chromedp.WaitVisible(css("#password")),
		chromedp.SendKeys(css("#email"), app.DemoEmail),
		chromedp.SendKeys(css("#password"), demoPassword),
		chromedp.Click(css("#signin")),
		chromedp.WaitVisible(css("#q")),
	)
	return b
}

// editJSON sets one key of one object in the JSON editor (keeping the rest of the text it shows)
// and opens the preview.
func (b *staffBrowser) editJSON(object, key string, value any) {
	b.t.Helper()
	sel := "#" + object
	m := map[string]any{}
	if err := json.Unmarshal([]byte(b.value("read "+object, sel)), &m); err != nil {
		b.t.Fatalf("%s: %s is not JSON: %v", b.name, object, err)
	}
	m[key] = value
	text, _ := json.MarshalIndent(m, "", "  ")
	b.do("edit "+object+"."+key+" and preview",
		chromedp.SetValue(chromedp.CSS(sel), string(text)),
		chromedp.Click(chromedp.CSS("#save-metadata")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="metadata-patch"], [data-testid="metadata-conflicts"]`)),
	)
}

func (b *staffBrowser) confirm() {
	b.t.Helper()
	b.do("confirm", chromedp.Click(chromedp.CSS("#confirm-metadata")), chromedp.WaitVisible(chromedp.CSS(`[data-testid="flash"]`)))
	if got := b.text("flash", `[data-testid="flash"]`); got != "Metadata saved." {
		b.t.Fatalf("%s: flash after saving = %q", b.name, got)
	}
}

func stored(t *testing.T, app *App, id string) *mgmt.User {
	t.Helper()
	cid, secret := app.tenant.ServiceAccount()
	c, err := mgmt.New(app.TenantURL, cid, secret)
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.Users.Get(t.Context(), id)
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
	a := signedInBrowser(t, app, "staff A")
	b := signedInBrowser(t, app, "staff B")
	open := func(s *staffBrowser) {
		s.do("open the editor", chromedp.Navigate(editor), chromedp.WaitVisible(chromedp.CSS("#user_metadata")))
	}

	// Different keys: both open, A saves user_metadata.a_note, then B (form opened before A's save)
	// saves app_metadata.b_flag.
	open(a)
	open(b)
	a.editJSON("user_metadata", "a_note", "from A")
	if body := a.text("preview", `[data-testid="metadata-patch"]`); !strings.Contains(body, `"a_note": "from A"`) || strings.Contains(body, "app_metadata") {
		t.Fatalf("A's preview body:\n%s", body)
	}
	a.confirm()
	b.editJSON("app_metadata", "b_flag", true)
	if body := b.text("preview", `[data-testid="metadata-patch"]`); strings.Contains(body, "user_metadata") || !strings.Contains(body, `"b_flag": true`) {
		t.Fatalf("B's preview sends more than its own key:\n%s", body)
	}
	b.confirm()
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
	a.editJSON("user_metadata", "a_note", "A again")
	a.confirm()
	b.editJSON("user_metadata", "a_note", "B's version")
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
	b.do("take current", chromedp.Click(chromedp.CSS("#resolve-metadata")), chromedp.WaitVisible(chromedp.CSS(`[data-testid="flash"]`)))
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
	s := signedInBrowser(t, app, "staff")
	s.do("disable JavaScript", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	// Seed a key to delete through the row editor.
	s.do("open JSON editor", chromedp.Navigate(editor), chromedp.WaitVisible(chromedp.CSS("#user_metadata")))
	s.editJSON("user_metadata", "to_remove", "x")
	s.confirm()

	s.do("open rows editor", chromedp.Navigate(editor+"?mode=rows"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="user_metadata-rows"]`)))
	n, err := strconv.Atoi(s.value("rows", `[name="user_metadata.rows"]`))
	if err != nil || n < 4 {
		t.Fatalf("user_metadata.rows = %d %v", n, err)
	}
	spare := n - 3 // the first of the three empty rows after the stored keys
	field := func(i int, part string) chromedp.CSS {
		return chromedp.CSS(`[id="user_metadata.` + strconv.Itoa(i) + `.` + part + `"]`)
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
	s.do("fill a row with a bad number and tick remove",
		chromedp.SendKeys(field(spare, "key"), "visits"),
		chromedp.SetValue(field(spare, "type"), "number"),
		chromedp.SendKeys(field(spare, "value"), "abc"),
		chromedp.Click(field(removeAt, "remove")),
		chromedp.Click(chromedp.CSS("#save-metadata")),
		chromedp.WaitVisible(chromedp.CSS("#error-summary")),
	)
	if got := s.text("field error", `[data-testid="error-user_metadata.`+strconv.Itoa(spare)+`.value"]`); got != `Enter a number such as 42 or -3.5; "abc" is not a number.` {
		t.Fatalf("error next to the value = %q", got)
	}
	if got := s.text("summary", "#error-summary"); !strings.Contains(got, "nothing was sent to Auth0") || !strings.Contains(got, `"abc" is not a number`) {
		t.Fatalf("summary = %q", got)
	}
	// Without script, app.js does not move the focus to the invalid field: proof it did not run.
	// (DevTools can still evaluate while the page's own scripts are disabled.)
	focused, err := chromedp.Run(s.ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
	if err != nil || focused == "user_metadata."+strconv.Itoa(spare)+".value" {
		t.Fatalf("app.js ran (focus on %q, %v): JavaScript is not disabled", focused, err)
	}
	s.do("fix the number, switch to JSON",
		chromedp.SetValue(field(spare, "value"), "7"),
		chromedp.Click(chromedp.CSS("#switch-json")),
		chromedp.WaitVisible(chromedp.CSS("#user_metadata")),
	)
	var asJSON map[string]any
	if err := json.Unmarshal([]byte(s.value("json", "#user_metadata")), &asJSON); err != nil {
		t.Fatal(err)
	}
	if _, still := asJSON["to_remove"]; still || asJSON["visits"] != float64(7) {
		t.Fatalf("switching to JSON lost the row edit: %v", asJSON)
	}
	s.do("back to rows, preview",
		chromedp.Click(chromedp.CSS("#switch-rows")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="user_metadata-rows"]`)),
		chromedp.Click(chromedp.CSS("#save-metadata")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="metadata-patch"]`)),
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
	s.confirm()
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
