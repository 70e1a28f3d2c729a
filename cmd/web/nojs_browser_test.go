package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserListAndAuditWithoutJavaScript: with script execution disabled, the users list searches
// by email (the GET form and its canonical redirect), filters and sorts through plain links and
// forms, pages forward, shows a refused Lucene query next to the box, and the audit page filters by
// action with its GET form and pages.
func TestBrowserListAndAuditWithoutJavaScript(t *testing.T) {
	b := newBrowser(t)
	app, _ := startTestApp(t, nil)
	t.Cleanup(b.close) // the browser goes before the app shuts down
	cust := firstCustomer(t, app)
	b.withoutJavaScript()
	b.signIn(app)

	// Search by email with the form.
	b.step("users", chromedp.Navigate(app.URL+"/users"), chromedp.WaitVisible(css(`[data-testid="user-row"]`)))
	b.step("type the email", chromedp.SendKeys(css("#q"), cust.Email))
	loc := b.load("search", chromedp.Click(css("#search")))
	if want := app.URL + "/users?q=" + url.QueryEscape(cust.Email); loc != want {
		t.Errorf("search landed on %s, want the canonical %s", loc, want)
	}
	if rows := b.cells("email rows", `[data-testid="user-row"]`); len(rows) != 1 || rows[0][0] != cust.Email {
		t.Fatalf("email search rows = %v", rows)
	}

	// Filter: blocked users only (block the customer first, through the no-JS form).
	page := app.URL + "/users/" + url.PathEscape(cust.UserID)
	b.step("block form", chromedp.Navigate(page+"/block"), chromedp.WaitVisible(css("#submit-block")))
	b.load("block", chromedp.Click(css("#submit-block")))
	b.expectText("blocked", `[data-testid="flash"]`, "User blocked.")
	b.step("users", chromedp.Navigate(app.URL+"/users"), chromedp.WaitVisible(css("#blocked")))
	b.step("choose blocked", chromedp.SetValue(css("#blocked"), "true"))
	loc = b.load("apply the filter", chromedp.Click(css("#apply")))
	if !strings.Contains(loc, "blocked=true") {
		t.Errorf("filter URL %s", loc)
	}
	blockedRows := b.cells("blocked rows", `[data-testid="user-row"]`)
	found := false
	for _, r := range blockedRows {
		if !strings.Contains(r[6], "Blocked") {
			t.Errorf("row %v is not blocked", r)
		}
		found = found || r[0] == cust.Email
	}
	if !found {
		t.Errorf("the blocked customer is not among %d blocked rows", len(blockedRows))
	}

	// Sort by logins with the column header link, then page forward.
	b.step("clear filters", chromedp.Navigate(app.URL+"/users?connection=Username-Password-Authentication"), chromedp.WaitVisible(css("#sort-logins_count")))
	loc = b.load("sort by logins", chromedp.Click(css("#sort-logins_count")))
	if !strings.Contains(loc, "sort=logins_count%3A-1") {
		t.Errorf("sort URL %s", loc)
	}
	first := b.cells("page 1", `[data-testid="user-row"]`)
	loc = b.load("next page", chromedp.Click(css("#next-page")))
	if !strings.Contains(loc, "page=2") || !strings.Contains(loc, "sort=logins_count%3A-1") {
		t.Errorf("next page URL %s lost the page or the sort", loc)
	}
	second := b.cells("page 2", `[data-testid="user-row"]`)
	if len(first) != 50 || len(second) == 0 || first[0][0] == second[0][0] {
		t.Fatalf("paging: %d rows then %d rows", len(first), len(second))
	}
	if got := b.text("total", `[data-testid="total"]`); !strings.Contains(got, "Showing 51–") {
		t.Errorf("page 2 total = %q", got)
	}

	// A Lucene query Auth0 refuses: the reason next to the box, the summary at the top, the input kept.
	b.step("advanced query", chromedp.Navigate(app.URL+"/users"), chromedp.WaitVisible(css("#q")),
		chromedp.SendKeys(css("#q"), "email:("), chromedp.Click(css("#mode")))
	b.load("run it", chromedp.Click(css("#search")))
	b.step("summary", chromedp.WaitVisible(css("#error-summary")))
	if v := b.value("query kept", "#q"); v != "email:(" {
		t.Errorf("the query box holds %q", v)
	}
	if focused := b.get("focus", chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`)); focused == "q" {
		t.Fatal("app.js moved the focus to the search box: JavaScript is not disabled")
	}

	// The audit page: filter by action with the form; the block is there, the sign-in is not.
	b.step("audit", chromedp.Navigate(app.URL+"/audit"), chromedp.WaitVisible(css(`[data-testid="audit-row"]`)))
	b.step("choose user.block", chromedp.SetValue(css("#action"), "user.block"))
	loc = b.load("filter the audit", chromedp.Click(css("#audit-search")))
	if !strings.Contains(loc, "action=user.block") {
		t.Errorf("audit filter URL %s", loc)
	}
	rows := b.cells("audit rows", `[data-testid="audit-row"]`)
	if len(rows) != 1 || rows[0][2] != "user.block" || rows[0][3] != cust.Email {
		t.Fatalf("filtered audit rows = %v", rows)
	}
	if v := b.value("action kept", "#action"); v != "user.block" {
		t.Errorf("the action filter shows %q after filtering", v)
	}
	b.load("clear the filter", chromedp.Click(css(`form[data-testid="audit-filter"] a[href="/audit"]`)))
	all := b.cells("all audit rows", `[data-testid="audit-row"]`)
	var actions []string
	for _, r := range all {
		actions = append(actions, r[2])
	}
	if !strings.Contains(strings.Join(actions, " "), "session.login") || !strings.Contains(strings.Join(actions, " "), "user.block") {
		t.Errorf("unfiltered audit actions = %v", actions)
	}
}
