package main

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/tenant"
)

// axeSource returns axe-core's axe.min.js: from USERDESK_AXE_JS, or where scripts/ensure-axe installs
// it (<repo>/.cache/axe). The accessibility test runs only with browser tests on, and then a missing
// axe-core is a failure, never a skip: `make test` runs scripts/ensure-axe first.
func axeSource(t *testing.T) string {
	t.Helper()
	path := os.Getenv("USERDESK_AXE_JS")
	if path == "" {
		path = filepath.Join("..", "..", ".cache", "axe", "node_modules", "axe-core", "axe.min.js")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("axe-core is needed for the accessibility test: run ./scripts/ensure-axe (or set USERDESK_AXE_JS): %v", err)
	}
	if !strings.Contains(string(b[:min(len(b), 400)]), "axe") {
		t.Fatalf("%s does not look like axe-core", path)
	}
	return string(b)
}

// axeViolation is one failed axe rule on one page, with the nodes that fail it.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeRun evaluates axe-core in the page (through the DevTools protocol, so the page's CSP, which
// allows only our own nonce'd script, does not apply to it) and returns every violation.
const axeRun = `axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify({
	passed: r.passes.map(p => p.id),
	violations: r.violations.map(v => ({
		id: v.id, impact: v.impact || '', help: v.help,
		nodes: v.nodes.map(n => n.target.join(' ') + (n.failureSummary ? ' — ' + n.failureSummary.replace(/\s+/g, ' ') : ''))
	}))
}))`

// axeAudit checks pages of one browser with axe-core and remembers what it checked.
type axeAudit struct {
	b       *browser
	src     string
	checked []string
	// shots, when set (USERDESK_SCREENSHOTS), is a directory that gets a full-page PNG of every
	// checked page, to look at the pages as a person would.
	shots string
}

// check runs axe on the current page: a serious or critical violation fails the test (rule id, help,
// node targets); moderate and minor ones are logged.
func (a *axeAudit) check(name string) {
	a.b.t.Helper()
	// Injected and run in one evaluation, so both happen in the same document.
	script := "if (typeof window.axe !== 'object') {\n" + a.src + "\n}\n" + axeRun
	raw := a.b.get(name+": axe.run", chromedp.Evaluate[string](script, chromedp.EvalAwaitPromise))
	var res struct {
		Passed     []string       `json:"passed"`
		Violations []axeViolation `json:"violations"`
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		a.b.t.Fatalf("%s: axe result: %v\n%s", name, err, raw)
	}
	// Every page has text, a title and a language: these rules must have run and passed, or axe
	// checked nothing.
	for _, rule := range []string{"color-contrast", "document-title", "html-has-lang"} {
		if !slices.Contains(res.Passed, rule) && !slices.ContainsFunc(res.Violations, func(v axeViolation) bool { return v.ID == rule }) {
			a.b.t.Errorf("%s: axe did not check %s", name, rule)
		}
	}
	loc := a.b.get(name+": location", chromedp.Location())
	for _, v := range res.Violations {
		msg := name + " (" + loc + "): [" + v.Impact + "] " + v.ID + ": " + v.Help + "\n    " + strings.Join(v.Nodes, "\n    ")
		if v.Impact == "serious" || v.Impact == "critical" {
			a.b.t.Error(msg)
		} else {
			a.b.t.Log(msg)
		}
	}
	a.checked = append(a.checked, name)
	if a.shots != "" {
		png := read(a.b, name+": screenshot", chromedp.FullScreenshot(100))
		file := strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				return r
			}
			return '-'
		}, strings.ToLower(a.b.t.Name()+"-"+strconv.Itoa(len(a.checked))+"-"+name))
		if err := os.WriteFile(filepath.Join(a.shots, file+".png"), png, 0o644); err != nil {
			a.b.t.Fatal(err)
		}
	}
}

// a11yEnv is one signed-in Chromium with axe-core, against a fresh Userdesk and embedded tenant.
type a11yEnv struct {
	app  *App
	cust mgmt.User
	api  *mgmt.Client
	b    *browser
	a    *axeAudit
}

// visit loads path (an app path or a full URL), waits for wait, and checks the page.
func (e *a11yEnv) visit(name, path, wait string) {
	e.b.t.Helper()
	target := path
	if strings.HasPrefix(path, "/") {
		target = e.app.URL + path
	}
	e.b.step(name, chromedp.Navigate(target), chromedp.WaitVisible(css(wait)))
	e.a.check(name)
}

// newA11yEnv starts Userdesk and Chromium (failing when axe-core is missing); signIn signs the demo
// admin in first.
func newA11yEnv(t *testing.T, signIn bool) *a11yEnv {
	t.Helper()
	b := newBrowser(t)
	src := axeSource(t)
	app, _ := startTestApp(t, nil)
	// Close the browser before the app shuts down (cleanups run last-in first-out): a connection
	// Chromium opened ahead of time would otherwise hold the shutdown.
	t.Cleanup(b.close)
	e := &a11yEnv{app: app, cust: firstCustomer(t, app), api: mgmtFor(t, app), b: b, a: &axeAudit{b: b, src: src, shots: os.Getenv("USERDESK_SCREENSHOTS")}}
	if e.a.shots != "" {
		b.step("desktop viewport", chromedp.EmulateViewport(1280, 900))
	}
	if signIn {
		b.signIn(app)
	}
	t.Cleanup(func() { t.Logf("axe checked %d pages: %s", len(e.a.checked), strings.Join(e.a.checked, "; ")) })
	return e
}

// TestBrowserAccessibilitySignInAndSearch: axe-core finds no serious or critical violation on the
// sign-in pages (Userdesk's, the tenant's, the tenant's with an error), the users list (results,
// flash, exact search, empty search, invalid Lucene query), the export form and its progress page,
// and the create form with and without errors.
func TestBrowserAccessibilitySignInAndSearch(t *testing.T) {
	e := newA11yEnv(t, false)
	b, a, app := e.b, e.a, e.app

	e.visit("sign-in page", "/signin", "#signin-link")
	b.step("tenant sign-in page", chromedp.Click(css("#signin-link")), chromedp.WaitVisible(css("#password")))
	a.check("tenant sign-in page")
	b.step("tenant sign-in with a wrong password",
		chromedp.SendKeys(css("#email"), app.DemoEmail), chromedp.SendKeys(css("#password"), "wrong-password"),
		chromedp.Click(css("#signin")), chromedp.WaitVisible(css(`[data-testid="login-error"]`)))
	a.check("tenant sign-in error")
	b.step("sign in (the email is kept)",
		chromedp.SendKeys(css("#password"), demoPassword), chromedp.Click(css("#signin")), chromedp.WaitVisible(css("#q")))

	e.visit("users list", "/users", `[data-testid="user-row"]`)
	e.visit("users list, flash", "/users?msg=deleted", `[data-testid="user-row"]`)
	e.visit("search by email", "/users?q="+url.QueryEscape(e.cust.Email), `[data-testid="user-row"]`)
	e.visit("empty search", "/users?q="+url.QueryEscape("nobody-at-all-"+time.Now().Format("150405")+"@example.org"), `[data-testid="empty"]`)
	e.visit("bad Lucene query", "/users?mode=lucene&q="+url.QueryEscape(`email:(`), "#error-summary")
	e.visit("export form", "/users/exports?connection=Username-Password-Authentication", "#start-export")
	b.step("start export", chromedp.Click(css("#start-export")), chromedp.WaitVisible(css(`[data-testid="export-status"]`)))
	a.check("export progress")
	b.step("export done", chromedp.WaitVisible(css("#download-export")))
	a.check("export completed")

	e.visit("create form", "/users/new", "#create")
	b.step("create with errors", chromedp.Click(css("#create")), chromedp.WaitVisible(css(`[data-testid="error-email"]`)))
	a.check("create form with errors")
}

// TestBrowserAccessibilityUserPage: axe-core finds no serious or critical violation on each section
// of the user page, every action form, their error states, the page after a write, and the role
// removal confirmation.
func TestBrowserAccessibilityUserPage(t *testing.T) {
	e := newA11yEnv(t, true)
	b, a, app, cust := e.b, e.a, e.app, e.cust
	page := "/users/" + url.PathEscape(cust.UserID)
	for _, tc := range []struct{ name, path, wait string }{
		{"profile section", "", "#signin-panel"},
		{"roles section", "/roles", "#assign-role"},
		{"logs section", "/logs", `[data-testid="section"] h2`},
		{"sessions section", "/sessions", `[data-testid="section"] h2`},
		{"raw JSON section", "/raw", `[data-testid="raw-json"]`},
		{"edit profile form", "/profile", "#submit-profile"},
		{"change email form", "/email", "#submit-email"},
		{"set password form", "/password", "#submit-password"},
		{"ticket form", "/ticket", "#submit-ticket"},
		{"verification email form", "/verify", "#submit-verify"},
		{"block form", "/block", "#submit-block"},
		{"clear brute-force blocks form", "/blocks/clear", "#submit-clear-blocks"},
		{"MFA reset form", "/mfa", "#submit-mfa"},
		{"revoke form", "/revoke", "#submit-revoke"},
		{"delete confirmation", "/delete", "#submit-delete"},
	} {
		e.visit(tc.name, page+tc.path, tc.wait)
	}
	b.step("delete typed wrong", chromedp.Navigate(app.URL+page+"/delete"), chromedp.WaitVisible(css("#confirm")),
		chromedp.SendKeys(css("#confirm"), "someone-else@example.org"), chromedp.Click(css("#submit-delete")),
		chromedp.WaitVisible(css("#error-summary")))
	a.check("delete confirmation with errors")
	b.step("password mismatch", chromedp.Navigate(app.URL+page+"/password"), chromedp.WaitVisible(css("#password")),
		chromedp.SendKeys(css("#password"), "Journey-Passw0rd!"), chromedp.SendKeys(css("#confirm"), "different"),
		chromedp.Click(css("#submit-password")), chromedp.WaitVisible(css("#error-summary")))
	a.check("set password with errors")
	b.step("block", chromedp.Navigate(app.URL+page+"/block"), chromedp.WaitVisible(css("#submit-block")),
		chromedp.Click(css("#submit-block")), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	a.check("profile after a write (flash, blocked)")
	e.visit("unblock form", page+"/unblock", "#submit-unblock")
	b.step("unblock", chromedp.Click(css("#submit-unblock")), chromedp.WaitVisible(css(`[data-testid="flash"]`)))

	roles, err := e.api.Roles.List(t.Context(), mgmt.RoleListParams{})
	if err != nil || len(roles.Roles) == 0 {
		t.Fatalf("tenant roles: %v %v", roles, err)
	}
	if len(roles.Roles) < 2 {
		t.Fatalf("the tenant has %d roles, want two to tick", len(roles.Roles))
	}
	role, role2 := roles.Roles[0].ID, roles.Roles[1].ID
	if err := e.api.Users.AssignRoles(t.Context(), cust.UserID, []string{role, role2}); err != nil {
		t.Fatal(err)
	}
	e.visit("roles section with two roles (tick to remove)", page+"/roles", `[data-testid="remove-roles-form"]`)
	sessions, err := e.api.Users.Sessions(t.Context(), cust.UserID)
	if err != nil || len(sessions) == 0 {
		t.Fatalf("the customer's sessions: %v %v; want the seeded one", sessions, err)
	}
	e.visit("sign out one session confirmation", page+"/sessions/revoke?session="+url.QueryEscape(sessions[0].ID), "#submit-revoke-session")
	// A second customer linked into this one: the profile offers Unlink, with its confirmation.
	other := otherCustomer(t, e.api, cust.UserID)
	e.visit("link another account form", page+"/identities/link", "#submit-link")
	if _, err := e.api.Users.Link(t.Context(), cust.UserID, mgmt.LinkRequest{Provider: "auth0", UserID: other.UserID}); err != nil {
		t.Fatalf("link a second customer: %v", err)
	}
	e.visit("profile with a linked identity", page, `[data-testid="unlink-identity"]`)
	e.visit("unlink confirmation", page+"/identities/unlink?provider=auth0&identity="+url.QueryEscape(strings.TrimPrefix(other.UserID, "auth0|")),
		"#submit-unlink")
	e.visit("removal confirmation of two roles", page+"/roles/remove?role="+url.QueryEscape(role)+"&role="+url.QueryEscape(role2),
		"#submit-role-remove")
}

// TestBrowserAccessibilityMetadataAuditAndErrors: axe-core finds no serious or critical violation
// in the metadata editor (JSON and rows modes, invalid input, preview, conflict page), the audit page
// (all and filtered), staff sessions, the 404 pages, the signed-out page and a viewer's 403 page.
func TestBrowserAccessibilityMetadataAuditAndErrors(t *testing.T) {
	e := newA11yEnv(t, true)
	b, a, app, cust := e.b, e.a, e.app, e.cust
	page := "/users/" + url.PathEscape(cust.UserID)

	e.visit("metadata editor, JSON", page+"/metadata", "#user_metadata")
	e.visit("metadata editor, rows", page+"/metadata?mode=rows", `[data-testid="user_metadata-rows"]`)
	editor := app.URL + page + "/metadata"
	b.step("metadata invalid JSON", chromedp.Navigate(editor), chromedp.WaitVisible(css("#user_metadata")),
		chromedp.SetValue(css("#user_metadata"), "{broken"), chromedp.Click(css("#save-metadata")), chromedp.WaitVisible(css("#error-summary")))
	a.check("metadata editor with errors")
	b.step("metadata preview", chromedp.Navigate(editor), chromedp.WaitVisible(css("#user_metadata")),
		chromedp.SetValue(css("#user_metadata"), `{"a11y_note": "first"}`), chromedp.Click(css("#save-metadata")),
		chromedp.WaitVisible(css(`[data-testid="metadata-patch"]`)))
	a.check("metadata preview")
	// Someone else sets the same key between the preview and the confirmation.
	if _, err := e.api.Users.Update(t.Context(), cust.UserID, &mgmt.UserUpdate{UserMetadata: map[string]any{"a11y_note": "theirs"}}); err != nil {
		t.Fatal(err)
	}
	b.step("metadata conflict", chromedp.Click(css("#confirm-metadata")), chromedp.WaitVisible(css(`[data-testid="metadata-conflicts"]`)))
	a.check("metadata conflict page")

	b.step("a block to audit", chromedp.Navigate(app.URL+page+"/block"), chromedp.WaitVisible(css("#submit-block")),
		chromedp.Click(css("#submit-block")), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	e.visit("audit page", "/audit", `[data-testid="audit-row"]`)
	e.visit("audit page, filtered", "/audit?action=user.block&target="+url.QueryEscape(cust.UserID), `[data-testid="audit-row"]`)
	e.visit("audit page, bad filter", "/audit?from=yesterday", "#error-summary, [aria-invalid=true]")
	e.visit("staff sessions", "/staff/sessions", `[data-testid="staff-session-row"]`)
	e.visit("user not found", "/users/"+url.PathEscape("auth0|does-not-exist"), `[data-testid="error-message"]`)
	e.visit("no such page", "/no-such-page", `[data-testid="error-message"]`)

	// 403: a viewer (read-only staff) opens the create form.
	viewer := "viewer-" + time.Now().Format("150405") + "@example.com"
	if _, err := e.api.Users.Create(t.Context(), &mgmt.UserCreate{Connection: tenant.StaffConnection, Email: viewer,
		Password: "Viewer-Passw0rd!", AppMetadata: map[string]any{"roles": []any{"viewer"}}}); err != nil {
		t.Fatal(err)
	}
	b.step("sign out", chromedp.Navigate(app.URL+"/users"), chromedp.WaitVisible(css("#signout")),
		chromedp.Click(css("#signout")), chromedp.WaitVisible(css("#signin-link")))
	a.check("signed out")
	b.step("sign in as viewer", chromedp.Click(css("#signin-link")), chromedp.WaitVisible(css("#password")),
		chromedp.SendKeys(css("#email"), viewer), chromedp.SendKeys(css("#password"), "Viewer-Passw0rd!"),
		chromedp.Click(css("#signin")), chromedp.WaitVisible(css("#q")))
	e.visit("user page as a viewer", page, "#signin-panel")
	e.visit("forbidden", "/users/new", `[data-testid="error-message"]`)
	if got := b.text("403 heading", "h1"); got == "" {
		t.Fatal("the 403 page has no heading")
	}
}
