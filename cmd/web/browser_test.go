package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/userdesk/userdesk/internal/mgmt"
)

// browser is one headless Chromium (its own profile and cookies) driving a journey. Each helper
// fails the test with the step's name, the error, where the browser was and the page's body.
type browser struct {
	t   *testing.T
	ctx context.Context
	who string // names the browser in failures when a test drives several ("staff A")
}

// newBrowser starts headless Chromium, or skips when browser tests are off. `make test` (and so
// CI) turns them on; then a missing Chromium is a failure, not a skip. Chromium stops in a cleanup
// registered here; a test that must close it before its app shuts down (cleanups run last-in
// first-out) registers b.close again after starting the app.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	if v := os.Getenv("USERDESK_BROWSER_TESTS"); v == "" || v == "0" {
		t.Skip("browser tests are off; `make test` sets USERDESK_BROWSER_TESTS=1")
	}
	var bin string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Fatal("USERDESK_BROWSER_TESTS is on but no Chromium is installed (apt-get install -y chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return &browser{t: t, ctx: ctx}
}

// close stops Chromium, closing the connections it holds open (an idle one would hold an app's
// graceful shutdown).
func (b *browser) close() { _ = chromedp.Cancel(b.ctx) }

// css is the CSS selector sel.
func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// fail ends the test with err and the page the browser is on. The page is read with its own few
// seconds, so a step that used up the test's deadline still shows where it was stuck.
func (b *browser) fail(name string, err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	page, _ := chromedp.Run(ctx, chromedp.OuterHTML(css("body")))
	if b.who != "" {
		name = b.who + ": " + name
	}
	b.t.Fatalf("%s: %v\nat %s\n%s", name, err, loc, page)
}

// step runs actions.
func (b *browser) step(name string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.fail(name, err)
	}
}

// read runs an action that returns a value (a screenshot, an attribute).
func read[T any](b *browser, name string, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.fail(name, err)
	}
	return v
}

// get runs an action that returns a string (a location, an evaluated expression).
func (b *browser) get(name string, a chromedp.Action[string]) string {
	b.t.Helper()
	return read(b, name, a)
}

// text is the text of the first element matching sel.
func (b *browser) text(name, sel string) string {
	b.t.Helper()
	return b.get(name, chromedp.Text(css(sel)))
}

// value is the value of the first form field matching sel.
func (b *browser) value(name, sel string) string {
	b.t.Helper()
	return b.get(name, chromedp.Value(css(sel)))
}

// expectText fails unless the element's text contains want.
func (b *browser) expectText(name, sel, want string) {
	b.t.Helper()
	if got := b.text(name, sel); !strings.Contains(got, want) {
		b.t.Fatalf("%s: %s = %q, want it to contain %q", name, sel, got, want)
	}
}

// signIn signs the demo staff member in to app on the tenant's page.
func (b *browser) signIn(app *App) {
	b.t.Helper()
	b.signInAt(app.URL, app.DemoEmail)
}

// signInAt signs the staff member email (with the demo password) in to the Userdesk at base.
func (b *browser) signInAt(base, email string) {
	b.t.Helper()
	b.step("sign in at "+base,
		chromedp.Navigate(base+"/"), chromedp.WaitVisible(css("#signin-link")),
		chromedp.Click(css("#signin-link")), chromedp.WaitVisible(css("#password")),
		chromedp.SendKeys(css("#email"), email),
		chromedp.SendKeys(css("#password"), demoPassword),
		chromedp.Click(css("#signin")),
		chromedp.WaitVisible(css("#q")),
	)
}

// withoutJavaScript turns the page's own scripts off for the rest of the test. DevTools can still
// evaluate expressions, which the helpers use to read the page.
func (b *browser) withoutJavaScript() {
	b.t.Helper()
	b.step("disable JavaScript", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
}

// load runs steps that end in a page load (a click on a link or a submit button) and waits until a
// new document has loaded: the old one is marked first, so its elements cannot satisfy the wait.
// It returns the new document's location.
func (b *browser) load(name string, steps ...chromedp.Action[chromedp.Void]) string {
	b.t.Helper()
	b.step(name+": mark the page", chromedp.Evaluate[chromedp.Void](`document.documentElement.dataset.stale = "1"`))
	b.step(name, steps...)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		state, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](
			`(document.documentElement.dataset.stale ? "old" : document.readyState) + " " + location.href`))
		if ready, loc, _ := strings.Cut(state, " "); err == nil && ready == "complete" {
			return loc
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.fail(name, fmt.Errorf("no new page loaded"))
	return ""
}

// cells returns the text of each cell of the rows matching sel.
func (b *browser) cells(name, sel string) [][]string {
	b.t.Helper()
	raw := b.get(name, chromedp.Evaluate[string](`JSON.stringify([...document.querySelectorAll(`+jsString(sel)+`)].map(r => [...r.cells].map(c => c.innerText.trim())))`))
	var out [][]string
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		b.fail(name, err)
	}
	return out
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// mgmtFor is a Management API client with the embedded tenant's full service account.
func mgmtFor(t *testing.T, app *App) *mgmt.Client {
	t.Helper()
	id, secret := app.tenant.ServiceAccount()
	c, err := mgmt.New(app.TenantURL, id, secret)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestBrowserJourney drives Chromium through what a support engineer does first: sign in on the
// tenant's page, search, open a user, edit metadata, try a duplicate create (error shown, form kept),
// then create a new user.
func TestBrowserJourney(t *testing.T) {
	b := newBrowser(t)
	app, _ := startTestApp(t, nil)
	cust := firstCustomer(t, app)

	b.step("open Userdesk", chromedp.Navigate(app.URL+"/"), chromedp.WaitVisible(css("#signin-link")))
	b.step("click Sign in", chromedp.Click(css("#signin-link")), chromedp.WaitVisible(css("#password")))
	if loc := b.get("location", chromedp.Location()); !strings.HasPrefix(loc, app.TenantURL+"/") {
		t.Fatalf("sign-in page is not the tenant's: %s", loc)
	}
	b.step("submit credentials",
		chromedp.SendKeys(css("#email"), app.DemoEmail),
		chromedp.SendKeys(css("#password"), demoPassword),
		chromedp.Click(css("#signin")),
		chromedp.WaitVisible(css("#q")),
	)
	if loc := b.get("location", chromedp.Location()); !strings.HasPrefix(loc, app.URL+"/users") {
		t.Fatalf("after sign-in landed on %s", loc)
	}

	b.step("search",
		chromedp.SendKeys(css("#q"), cust.Email),
		chromedp.Click(css("#search")),
		chromedp.WaitVisible(css(`[data-testid="user-row"] a`)),
	)
	if text := b.text("result row", `[data-testid="user-row"]`); !strings.Contains(text, cust.Email) {
		t.Fatalf("search result row %q lacks %s", text, cust.Email)
	}
	b.step("open user", chromedp.Click(css(`[data-testid="user-row"] a`)), chromedp.WaitVisible(css("#edit-metadata")))
	if text := b.text("user page", "body"); !strings.Contains(text, cust.Email) || !strings.Contains(text, cust.UserID) {
		t.Fatalf("user page lacks the email or id:\n%s", text)
	}

	// Edit user_metadata: keep what is there and add one key.
	b.step("open metadata form", chromedp.Click(css("#edit-metadata")), chromedp.WaitVisible(css("#user_metadata")))
	current := b.value("metadata textarea", "#user_metadata")
	um := map[string]any{}
	if strings.TrimSpace(current) != "" {
		if err := json.Unmarshal([]byte(current), &um); err != nil {
			t.Fatalf("metadata textarea is not JSON: %v\n%s", err, current)
		}
	}
	um["support_note"] = "called about billing"
	edited, _ := json.MarshalIndent(um, "", "  ")
	b.step("save metadata",
		chromedp.SetValue(css("#user_metadata"), string(edited)),
		chromedp.Click(css("#save-metadata")),
		chromedp.WaitVisible(css("#confirm-metadata")), // the preview of the PATCH
		chromedp.Click(css("#confirm-metadata")),
		chromedp.WaitVisible(css(`[data-testid="flash"]`)),
	)
	if text := b.text("flash", `[data-testid="flash"]`); !strings.Contains(text, "Metadata saved") {
		t.Fatalf("flash after saving: %q", text)
	}
	if text := b.text("metadata", `[data-testid="user-metadata-json"]`); !strings.Contains(text, "called about billing") {
		t.Fatalf("user page does not show the saved metadata: %s", text)
	}

	// A duplicate create shows the error next to the email field and keeps the form filled in.
	b.step("duplicate create",
		chromedp.Click(css("#nav-new-user")),
		chromedp.WaitVisible(css("#create")),
		chromedp.SetValue(css("#connection"), "Username-Password-Authentication"),
		chromedp.SendKeys(css("#email"), cust.Email),
		chromedp.SendKeys(css("#username"), "journey"+time.Now().Format("150405")), // the demo connection requires one
		chromedp.SendKeys(css("#password"), "Str0ng-Password!"),
		chromedp.Click(css("#create")),
		chromedp.WaitVisible(css(`[data-testid="error-email"]`)),
	)
	if text := b.text("email error", `[data-testid="error-email"]`); !strings.Contains(strings.ToLower(text), "already exists") {
		t.Fatalf("duplicate create error: %q", text)
	}
	if v := b.value("email value", "#email"); v != cust.Email {
		t.Fatalf("email field not kept after the error: %q", v)
	}

	newEmail := "journey-" + time.Now().Format("150405") + "@example.org"
	b.step("create a new user",
		chromedp.SetValue(css("#email"), newEmail),
		chromedp.SendKeys(css("#password"), "Str0ng-Password!"),
		chromedp.Click(css("#create")),
		chromedp.WaitVisible(css(`[data-testid="flash"]`)),
	)
	if text := b.text("after create", "body"); !strings.Contains(text, "User created") || !strings.Contains(text, newEmail) {
		t.Fatalf("after create:\n%s", text)
	}

	// The tenant really holds both changes.
	c := mgmtFor(t, app)
	got, err := c.Users.Get(t.Context(), cust.UserID)
	if err != nil || got.UserMetadata["support_note"] != "called about billing" {
		t.Fatalf("metadata not stored upstream: %v %v", got, err)
	}
	for k := range cust.UserMetadata {
		if _, ok := got.UserMetadata[k]; !ok {
			t.Errorf("metadata key %q lost by the edit", k)
		}
	}
	l, err := c.Users.List(t.Context(), mgmt.ListUsersParams{Q: `email:"` + newEmail + `"`})
	if err != nil || l.Total != 1 {
		t.Fatalf("new user not found upstream: %v %v", l, err)
	}
}
