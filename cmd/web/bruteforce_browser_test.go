package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/tenant"
)

// TestBrowserBruteForceBlockCleared: ten wrong passwords on the tenant's sign-in page lock an account
// out (Auth0's brute-force protection: a block for that identifier from that IP, and even the right
// password is refused). Signed in as an admin, the user page lists the block, the "why can't this
// user sign in?" panel says so and offers the fix; clearing it removes the block in the tenant and the
// user signs in again.
//
// The account is in the staff connection: the customers' connection is enabled for no application
// in the embedded tenant, so no sign-in page can be reached for it, while the staff connection is the
// staff app's, whose sign-in page is Userdesk's own. Userdesk manages both connections' users alike.
func TestBrowserBruteForceBlockCleared(t *testing.T) {
	b := newBrowser(t)
	app, _ := startTestApp(t, nil)
	t.Cleanup(b.close) // the browser goes before the app shuts down
	api := mgmtFor(t, app)
	email := "locked-" + time.Now().Format("150405") + "@example.com"
	const password = "Right-Passw0rd!"
	victim, err := api.Users.Create(t.Context(), &mgmt.UserCreate{Connection: tenant.StaffConnection, Email: email,
		Password: password, AppMetadata: map[string]any{"roles": []any{"viewer"}}})
	if err != nil {
		t.Fatal(err)
	}

	// Ten wrong passwords from this browser (127.0.0.1).
	b.step("open the sign-in page", chromedp.Navigate(app.URL+"/"), chromedp.WaitVisible(css("#signin-link")),
		chromedp.Click(css("#signin-link")), chromedp.WaitVisible(css("#password")), chromedp.SendKeys(css("#email"), email))
	for i := range 10 {
		b.load("wrong password", chromedp.SendKeys(css("#password"), "wrong-"+strings.Repeat("x", i+1)), chromedp.Click(css("#signin")))
	}
	b.expectText("locked out", `[data-testid="login-error"]`, "blocked after multiple consecutive login attempts")
	b.load("the right password", chromedp.SendKeys(css("#password"), password), chromedp.Click(css("#signin")))
	b.expectText("still locked out", `[data-testid="login-error"]`, "blocked after multiple consecutive login attempts")
	blocks, err := api.UserBlocks.Get(t.Context(), victim.UserID)
	if err != nil || len(blocks) != 1 || blocks[0].Identifier != email || blocks[0].IP != "127.0.0.1" {
		t.Fatalf("tenant blocks after ten wrong passwords: %+v %v", blocks, err)
	}

	// An admin (another identifier, so not blocked) signs in on the same page.
	b.step("admin signs in", chromedp.Clear(css("#email")), chromedp.SendKeys(css("#email"), app.DemoEmail),
		chromedp.SendKeys(css("#password"), demoPassword), chromedp.Click(css("#signin")), chromedp.WaitVisible(css("#q")))
	page := app.URL + "/users/" + url.PathEscape(victim.UserID)
	b.step("user page", chromedp.Navigate(page), chromedp.WaitVisible(css(`[data-testid="blocks"]`)))
	row := b.cells("blocks", `[data-testid="blocks"] tbody tr`)
	if len(row) != 1 || row[0][0] != email || row[0][1] != "127.0.0.1" || row[0][2] != tenant.StaffConnection {
		t.Fatalf("blocks table = %v", row)
	}
	b.expectText("verdict", `[data-testid="signin-panel"]`, "Locked out after too many failed logins from 127.0.0.1 — clear the block.")

	// The panel's fix leads to the clear form; clearing says how many were cleared.
	fix := b.get("fix link", chromedp.Evaluate[string](`[...document.querySelectorAll('[data-testid="finding"]')]
		.filter(li => li.textContent.includes('Locked out')).map(li => li.querySelector('[data-testid="fix"]')?.id || '')[0] || ''`))
	if fix == "" {
		t.Fatal("the locked-out finding has no fix link")
	}
	b.load("open the fix", chromedp.Click(css("#"+fix)))
	b.step("clear form", chromedp.WaitVisible(css("#submit-clear-blocks")))
	b.load("clear the block", chromedp.Click(css("#submit-clear-blocks")))
	b.expectText("cleared", `[data-testid="flash"]`, "Cleared 1 brute-force block.")
	b.step("no blocks listed", chromedp.WaitVisible(css(`[data-testid="blocks-none"]`)))
	if panel := b.text("panel", `[data-testid="signin-panel"]`); strings.Contains(panel, "Locked out") {
		t.Errorf("the panel still says locked out:\n%s", panel)
	}
	if blocks, err := api.UserBlocks.Get(t.Context(), victim.UserID); err != nil || len(blocks) != 0 {
		t.Fatalf("tenant blocks after clearing: %+v %v", blocks, err)
	}
	var audited bool
	for _, e := range trailEntries(t, app) {
		audited = audited || (e.Action == "user.unblock" && e.TargetUserID == victim.UserID && len(e.Changes) > 0 && e.Changes[0].Field == "brute_force_blocks")
	}
	if !audited {
		t.Error("clearing the block is not in the audit trail")
	}

	// The user signs in again with the right password.
	b.load("sign out", chromedp.Click(css("#signout")))
	b.step("sign in page", chromedp.WaitVisible(css("#signin-link")), chromedp.Click(css("#signin-link")), chromedp.WaitVisible(css("#password")))
	b.step("the user signs in", chromedp.SendKeys(css("#email"), email), chromedp.SendKeys(css("#password"), password),
		chromedp.Click(css("#signin")), chromedp.WaitVisible(css("#q")))
	// The demo staff member is an admin; only the unlocked account is a viewer.
	if role := b.text("signed in as", `[data-testid="staff-role"]`); role != "viewer" {
		t.Errorf("signed in with role %q, want the unlocked viewer", role)
	}
}
