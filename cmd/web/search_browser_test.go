package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/userdesk/userdesk/internal/auditlog"
)

// TestBrowserFindingUsers drives Chromium through finding users against the embedded tenant (300
// seeded users, 250 in the database connection): search by email, by user id and by name prefix;
// filter by connection, sort by logins, change the page size; load the resulting URL fresh and get
// the same page; then run an export job to completion and download its CSV.
func TestBrowserFindingUsers(t *testing.T) {
	b := newBrowser(t)
	app, _ := startTestApp(t, nil)
	cust := firstCustomer(t, app)

	// navigated clicks sel and waits until a new page whose URL contains want has loaded.
	navigated := func(name, sel, want string) string {
		t.Helper()
		before := b.get(name+": location", chromedp.Location())
		loc := b.load(name, chromedp.Click(css(sel)))
		if loc == before || !strings.Contains(loc, want) {
			b.fail(name, fmt.Errorf("no page with %q loaded after clicking %s (loaded %s)", want, sel, loc))
		}
		return loc
	}
	// rows is the text of each result row's cells.
	rows := func(name string) [][]string {
		t.Helper()
		return b.cells(name, `[data-testid="user-row"]`)
	}

	b.signIn(app)

	// By email: the exact, immediately consistent look-up.
	b.step("type email", chromedp.SetValue(css("#q"), strings.ToUpper(cust.Email)))
	navigated("search by email", "#search", "q=")
	if got := b.text("understood", `[data-testid="understood"]`); !strings.Contains(got, "Exact email look-up") {
		t.Errorf("email search understood as %q", got)
	}
	if rs := rows("email rows"); len(rs) != 1 || rs[0][0] != cust.Email {
		t.Fatalf("email search rows = %v, want %s", rs, cust.Email)
	}

	// By user id: one row, the user itself.
	b.step("type user id", chromedp.SetValue(css("#q"), cust.UserID))
	navigated("search by id", "#search", url.QueryEscape(cust.UserID))
	if got := b.text("understood", `[data-testid="understood"]`); !strings.Contains(got, "User id look-up") {
		t.Errorf("id search understood as %q", got)
	}
	if rs := rows("id rows"); len(rs) != 1 || rs[0][0] != cust.Email {
		t.Fatalf("id search rows = %v, want %s", rs, cust.Email)
	}

	// By name prefix: every row's name or email starts with it.
	prefix := strings.ToLower(string([]rune(strings.Fields(cust.Name)[0])[:3]))
	b.step("type name prefix", chromedp.SetValue(css("#q"), prefix))
	navigated("search by name", "#search", "q="+url.QueryEscape(prefix))
	nameRows := rows("name rows")
	if len(nameRows) == 0 {
		t.Fatalf("name prefix %q found nobody", prefix)
	}
	found := false
	for _, r := range nameRows {
		if !strings.HasPrefix(strings.ToLower(r[1]), prefix) && !strings.HasPrefix(strings.ToLower(r[0]), prefix) {
			t.Errorf("row %v matches neither name nor email prefix %q", r, prefix)
		}
		found = found || r[0] == cust.Email
	}
	if !found {
		t.Errorf("the customer %s is not among the %q rows", cust.Email, prefix)
	}

	// Everyone in the database connection, sorted by logins (most first), 25 per page.
	b.step("clear the search box", chromedp.Clear(css("#q")))
	b.step("filter by connection", chromedp.SetValue(css("#connection"), "Username-Password-Authentication"))
	navigated("apply filter", "#apply", "connection=Username-Password-Authentication")
	navigated("sort by logins", "#sort-logins_count", "sort=logins_count%3A-1")
	b.step("page size 25", chromedp.SetValue(css("#per_page"), "25"))
	loc := navigated("apply page size", "#apply", "per_page=25")
	if !strings.Contains(loc, "sort=logins_count%3A-1") {
		t.Errorf("changing the page size lost the sort: %s", loc)
	}
	sorted := rows("sorted rows")
	if len(sorted) != 25 {
		t.Fatalf("rows = %d, want 25", len(sorted))
	}
	prev := -1
	for i, r := range sorted {
		if r[2] != "Username-Password-Authentication" {
			t.Errorf("row %d connection %q", i, r[2])
		}
		n, err := strconv.Atoi(r[5])
		if err != nil {
			t.Fatalf("row %d logins %q", i, r[5])
		}
		if prev >= 0 && n > prev {
			t.Errorf("row %d: %d logins after %d, not sorted most first", i, n, prev)
		}
		prev = n
	}
	if got := b.text("total", `[data-testid="total"]`); !strings.Contains(got, "Showing 1–25 of 250 users") {
		t.Errorf("total = %q", got)
	}
	if aria := b.get("aria-sort", chromedp.Evaluate[string](`document.querySelector('#sort-logins_count').closest('th').getAttribute('aria-sort')`)); aria != "descending" {
		t.Errorf("aria-sort = %q", aria)
	}

	// The URL alone reproduces the page.
	before := b.text("table", "table")
	b.step("load the URL fresh", chromedp.Navigate("about:blank"), chromedp.Navigate(loc), chromedp.WaitVisible(css("table")))
	if after := b.text("table", "table"); after != before {
		t.Errorf("the URL did not reproduce the table:\n%s\n---\n%s", before, after)
	}
	if v := b.value("connection", "#connection"); v != "Username-Password-Authentication" {
		t.Errorf("connection filter after reload = %q", v)
	}
	if v := b.value("per page", "#per_page"); v != "25" {
		t.Errorf("page size after reload = %q", v)
	}

	// Export the database connection, watch the job finish (the page reloads itself) and download.
	b.step("open export form",
		chromedp.Navigate(app.URL+"/users/exports?connection=Username-Password-Authentication"),
		chromedp.WaitVisible(css("#start-export")),
	)
	if v := b.value("export connection", "#connection"); v != "Username-Password-Authentication" {
		t.Errorf("export form connection = %q", v)
	}
	navigated("start export", "#start-export", "/users/exports/job_")
	b.step("wait for the export", chromedp.WaitVisible(css("#download-export")))
	if s := b.text("status", `[data-testid="export-status"]`); !strings.Contains(s, "Completed") {
		t.Errorf("status = %q", s)
	}
	href := b.get("download href", chromedp.Evaluate[string](`document.querySelector('#download-export').href`))
	raw := b.get("download", chromedp.Evaluate[string](`fetch(`+strconv.Quote(href)+`).then(async r => JSON.stringify({
		status: r.status, type: r.headers.get('content-type'), disposition: r.headers.get('content-disposition'), body: await r.text()}))`,
		chromedp.EvalAwaitPromise))
	var dl struct {
		Status      int
		Type        string
		Disposition string
		Body        string
	}
	if err := json.Unmarshal([]byte(raw), &dl); err != nil {
		t.Fatal(err)
	}
	if dl.Status != 200 || dl.Type != "text/csv; charset=utf-8" || !strings.HasPrefix(dl.Disposition, "attachment; filename=users-job_") {
		t.Errorf("download status %d type %q disposition %q", dl.Status, dl.Type, dl.Disposition)
	}
	lines := strings.Split(strings.TrimSpace(dl.Body), "\n")
	if lines[0] != "user_id,email,name,email_verified,blocked,connection,created_at,last_login,logins_count" {
		t.Errorf("CSV header = %q", lines[0])
	}
	if len(lines) != 251 {
		t.Errorf("CSV has %d rows, want 250 users", len(lines)-1)
	}
	if !strings.Contains(dl.Body, cust.UserID+","+cust.Email+",") {
		t.Errorf("CSV lacks the customer %s", cust.Email)
	}
	if strings.Contains(dl.Body, app.TenantURL) {
		t.Error("the CSV mentions the tenant's URL")
	}
	var started, downloaded bool
	for _, e := range trailEntries(t, app) {
		if e.Action == auditlog.ActionUsersExport {
			started = started || strings.HasPrefix(e.Detail, "started job_")
			downloaded = downloaded || strings.HasPrefix(e.Detail, "downloaded job_")
		}
	}
	if !started || !downloaded {
		t.Errorf("export audited: started %v, downloaded %v", started, downloaded)
	}
}
