package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
)

// rowLinks returns the hrefs inside n.
func rowLinks(n *html.Node) []string {
	var links []string
	for d := range n.Descendants() {
		if d.Data == "a" {
			h, _ := attr(d, "href")
			links = append(links, h)
		}
	}
	return links
}

func hasTestID(n *html.Node, id string) bool {
	for d := range n.Descendants() {
		if v, _ := attr(d, "data-testid"); v == id {
			return true
		}
	}
	return false
}

// selected returns the value of the selected option of the <select> with that id.
func (p *page) selected(id string) string {
	p.t.Helper()
	sel := p.one("id", id)
	for d := range sel.Descendants() {
		if d.Data == "option" {
			if _, ok := attr(d, "selected"); ok {
				v, _ := attr(d, "value")
				return v
			}
		}
	}
	return "(none)"
}

func (p *page) checked(id string) bool {
	p.t.Helper()
	_, ok := attr(p.one("id", id), "checked")
	return ok
}

func TestUserListShowsRows(t *testing.T) {
	created := time.Date(2024, 1, 2, 3, 4, 0, 0, time.UTC)
	j := jane()
	j.CreatedAt = &created
	b := blockedBob()
	b.EmailVerified = ptr(false)
	env := newEnv(t, false, j, b)
	rec := env.get(t, "/users")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	p := parse(t, rec)
	rows := p.byAttr("data-testid", "user-row")
	if len(rows) != 2 {
		t.Fatalf("rows = %d, want 2", len(rows))
	}
	wantRows := []struct {
		text, href          string
		blocked, unverified bool
	}{
		{"jane@example.com Jane Doe Username-Password-Authentication 2024-01-02 03:04 UTC 2025-03-04 05:06 UTC 7", "/users/auth0%7Cabc", false, false},
		{"bob@example.com Bob google-oauth2 — never 0 Blocked Unverified", "/users/google-oauth2%7C123", true, true},
	}
	for i, w := range wantRows {
		if got := text(rows[i]); got != w.text {
			t.Errorf("row %d text = %q, want %q", i, got, w.text)
		}
		if links := rowLinks(rows[i]); !reflect.DeepEqual(links, []string{w.href}) {
			t.Errorf("row %d links = %v, want [%s]", i, links, w.href)
		}
		if hasTestID(rows[i], "blocked") != w.blocked || hasTestID(rows[i], "unverified") != w.unverified {
			t.Errorf("row %d badges: blocked %v unverified %v", i, hasTestID(rows[i], "blocked"), hasTestID(rows[i], "unverified"))
		}
	}
	if got := p.textOf("data-testid", "total"); got != "Showing 1–2 of 2 users" {
		t.Errorf("total = %q", got)
	}
	if p.href("id", "new-user") != "/users/new" || !p.has("id", "search") {
		t.Error("new-user link or search button missing")
	}
	if p.has("id", "next-page") || p.has("id", "prev-page") || p.has("id", "export-all") {
		t.Error("pager or export links on a single page")
	}
	if p.has("data-testid", "error-q") || p.has("data-testid", "alert") || p.has("id", "error-summary") {
		t.Error("error shown without an error")
	}
	if q := env.api.CallsTo("ListUsers")[0].Params.(mgmt.ListUsersParams); q != (mgmt.ListUsersParams{PerPage: 50}) {
		t.Errorf("list params = %+v", q)
	}
	// The connection filter offers the tenant's connections, sorted, read once.
	var opts []string
	for n := range p.one("id", "connection").Descendants() {
		if n.Data == "option" {
			opts = append(opts, text(n))
		}
	}
	if want := []string{"Any connection", "Staff-DB", "Username-Password-Authentication", "google-oauth2"}; !reflect.DeepEqual(opts, want) {
		t.Errorf("connection options = %v, want %v", opts, want)
	}
	if n := len(env.api.CallsTo("ListConnections")); n != 1 {
		t.Errorf("connections listed %d times", n)
	}
}

// TestUserListLookupPaths: each kind of text reaches the endpoint that answers it, and the exact
// look-ups never touch the lagging search index.
func TestUserListLookupPaths(t *testing.T) {
	tests := []struct {
		name       string
		query      string
		wantMethod string // the one user call made
		wantArg    string // its id/email or the q sent
		understood string
		rows       int
	}{
		{"email", "q=Jane%40Example.com", "FindUsersByEmail", "jane@example.com", "Exact email look-up (up to date; one user per connection).", 1},
		{"email with a filter", "q=jane%40example.com&blocked=true", "FindUsersByEmail", "jane@example.com",
			"Exact email look-up (up to date; one user per connection). The filters apply to the users it returns.", 0},
		{"database user id", "q=auth0%7Cabc", "GetUser", "auth0|abc", "User id look-up (up to date).", 1},
		{"social user id", "q=google-oauth2%7C123", "GetUser", "google-oauth2|123", "User id look-up (up to date).", 1},
		{"unknown user id", "q=auth0%7Cnobody", "GetUser", "auth0|nobody", "User id look-up (up to date).", 0},
		{"phone", "q=%2B1+415+555+0123", "ListUsers", `phone_number:"+14155550123"`, `Phone number search. Query sent to Auth0: phone_number:"+14155550123"`, 2},
		{"name prefix", "q=jan", "ListUsers", "name:jan* OR email:jan*", "Names or emails starting with “jan”. Query sent to Auth0: name:jan* OR email:jan*", 2},
		{"lucene", "q=email.domain%3A%22example.com%22&mode=lucene", "ListUsers", `email.domain:"example.com"`,
			`Lucene query. Query sent to Auth0: email.domain:"example.com"`, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, false, jane(), blockedBob())
			rec := env.get(t, "/users?"+tt.query)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var userCalls []string
			for _, c := range env.api.Calls() {
				switch c.Method {
				case "ListConnections":
				case "ListUsers":
					userCalls = append(userCalls, c.Method+" "+c.Params.(mgmt.ListUsersParams).Q)
				default:
					userCalls = append(userCalls, c.Method+" "+c.ID)
				}
			}
			if want := []string{tt.wantMethod + " " + tt.wantArg}; !reflect.DeepEqual(userCalls, want) {
				t.Errorf("calls = %q, want %q", userCalls, want)
			}
			p := parse(t, rec)
			if got := p.textOf("data-testid", "understood"); got != tt.understood {
				t.Errorf("understood = %q, want %q", got, tt.understood)
			}
			if n := len(p.byAttr("data-testid", "user-row")); n != tt.rows {
				t.Errorf("rows = %d, want %d", n, tt.rows)
			}
		})
	}
}

func TestUserListFiltersSortAndPageSizeAreURLs(t *testing.T) {
	var us []mgmt.User
	for i := range 120 {
		us = append(us, mgmt.User{UserID: fmt.Sprintf("auth0|%03d", i), Email: fmt.Sprintf("jan%03d@example.com", i)})
	}
	env := newEnv(t, false, us...)
	rec := env.get(t, "/users?q=jan&connection=Username-Password-Authentication&blocked=false&verified=true&sort=created_at:-1&per_page=25&page=2")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	sent := env.api.CallsTo("ListUsers")[0].Params.(mgmt.ListUsersParams)
	want := mgmt.ListUsersParams{
		Q:    `(name:jan* OR email:jan*) AND identities.connection:"Username-Password-Authentication" AND NOT blocked:true AND email_verified:true`,
		Page: 1, PerPage: 25, Sort: "created_at:-1",
	}
	if sent != want {
		t.Errorf("sent %+v\nwant %+v", sent, want)
	}
	p := parse(t, rec)
	if p.value("q") != "jan" || p.selected("connection") != "Username-Password-Authentication" || p.selected("blocked") != "false" ||
		p.selected("verified") != "true" || p.selected("per_page") != "25" || p.checked("mode") {
		t.Errorf("form does not reproduce the search: q %q conn %q blocked %q verified %q per_page %q",
			p.value("q"), p.selected("connection"), p.selected("blocked"), p.selected("verified"), p.selected("per_page"))
	}
	if v, _ := attr(p.one("name", "sort"), "value"); v != "created_at:-1" {
		t.Errorf("the form drops the sort: %q", v)
	}
	if f := p.one("id", "search-form"); !hasAttr(f, "method", "get") || !hasAttr(f, "action", "/users") {
		t.Error("the search form is not a GET form on /users")
	}
	if got := p.textOf("data-testid", "total"); got != "Showing 26–50 of 120 users" {
		t.Errorf("total = %q", got)
	}
	// Keys sorted, defaults left out: one search, one URL.
	u := func(page, sort string) string {
		return "/users?blocked=false&connection=Username-Password-Authentication" + page + "&per_page=25&q=jan&sort=" + sort + "&verified=true"
	}
	if prev, next := p.href("id", "prev-page"), p.href("id", "next-page"); prev != u("", "created_at%3A-1") || next != u("&page=3", "created_at%3A-1") {
		t.Errorf("prev %q\nnext %q", prev, next)
	}
	// Headers: the active column toggles its direction, the others start at their natural order;
	// both go back to page 1.
	headers := map[string]struct{ href, aria string }{
		"sort-created_at":   {u("", "created_at%3A1"), "descending"},
		"sort-email":        {u("", "email%3A1"), "none"},
		"sort-last_login":   {u("", "last_login%3A-1"), "none"},
		"sort-logins_count": {u("", "logins_count%3A-1"), "none"},
	}
	for id, w := range headers {
		if got := p.href("id", id); got != w.href {
			t.Errorf("%s href = %q, want %q", id, got, w.href)
		}
		if aria, _ := attr(p.one("id", id).Parent, "aria-sort"); aria != w.aria {
			t.Errorf("%s aria-sort = %q, want %q", id, aria, w.aria)
		}
	}

	// The link from a header, loaded fresh, sends what it says.
	env.get(t, p.href("id", "sort-created_at"))
	if got := env.api.CallsTo("ListUsers")[1].Params.(mgmt.ListUsersParams); got.Sort != "created_at:1" || got.Page != 0 || got.PerPage != 25 {
		t.Errorf("toggled sort sent %+v", got)
	}
}

// TestUserListCanonicalURL: a submitted form (every field, empty ones too) lands on the search's one
// short URL, without asking Auth0 first; the canonical URL is served as is.
func TestUserListCanonicalURL(t *testing.T) {
	env := newEnv(t, false, jane())
	for target, want := range map[string]string{
		"/users?q=+jan+&mode=&connection=&blocked=&verified=true&per_page=50": "/users?q=jan&verified=true",
		"/users?q=&connection=&blocked=&verified=&per_page=50":                "/users",
		"/users?page=1&q=jan": "/users?q=jan",
		"/users?sort=app_metadata.plan:1&per_page=1000&page=-3&blocked=maybe": "/users",
		"/users?q=jan&page=400&per_page=100":                                  "/users?page=10&per_page=100&q=jan",
	} {
		rec := env.get(t, target)
		if rec.Code != http.StatusFound || rec.Header().Get("Location") != want {
			t.Errorf("GET %s: %d → %q, want 302 → %q", target, rec.Code, rec.Header().Get("Location"), want)
		}
	}
	if c := env.api.Calls(); len(c) != 0 {
		t.Errorf("redirects called Auth0: %+v", c)
	}
	for _, target := range []string{"/users", "/users?q=jan&verified=true", "/users?verified=true&q=jan"} {
		if rec := env.get(t, target); rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d, want the page", target, rec.Code)
		}
	}
}

func TestUserListIgnoresBadParameters(t *testing.T) {
	env := newEnv(t, false, jane())
	rec := env.get(t, "/users?sort=app_metadata.plan:1&per_page=1000&page=-3&blocked=maybe&mode=sql")
	if rec.Code != http.StatusFound {
		t.Fatalf("status %d", rec.Code)
	}
	rec = env.get(t, rec.Header().Get("Location"))
	if got := env.api.CallsTo("ListUsers")[0].Params.(mgmt.ListUsersParams); got != (mgmt.ListUsersParams{PerPage: 50}) {
		t.Errorf("sent %+v, want the defaults", got)
	}
	p := parse(t, rec)
	if p.selected("per_page") != "50" || p.selected("blocked") != "" || p.has("name", "sort") {
		t.Error("the form shows values that were ignored")
	}
}

func TestUserListEmptyState(t *testing.T) {
	env := newEnv(t, false, jane())
	env.api.Search = func(string, mgmt.User) bool { return false }
	p := parse(t, env.get(t, "/users?q=zzz"))
	if got := p.textOf("data-testid", "empty"); got != "No users match this search." {
		t.Errorf("empty state = %q", got)
	}
	if p.has("data-testid", "user-row") {
		t.Error("rows in empty state")
	}
	p = parse(t, env.get(t, "/users?blocked=true"))
	if got := p.textOf("data-testid", "empty"); got != "No users match this search." {
		t.Errorf("empty state with only a filter = %q", got)
	}
}

func TestUserListBadLuceneShowsAuth0Message(t *testing.T) {
	env := newEnv(t, false, jane())
	msg := "Query validation error: 'Unexpected token' on property q"
	env.api.Fail = func(m string) error {
		if m == "ListUsers" {
			return &mgmt.Error{StatusCode: 400, Err: "Bad Request", Message: msg, ErrorCode: "invalid_query_string"}
		}
		return nil
	}
	rec := env.get(t, "/users?q=name%3A%28&mode=lucene&blocked=true")
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", rec.Code)
	}
	p := parse(t, rec)
	if got := p.textOf("data-testid", "error-q"); got != msg {
		t.Errorf("error next to search box = %q", got)
	}
	summary := p.one("id", "error-summary")
	if !hasAttr(summary, "role", "alert") || !strings.Contains(text(summary), msg) || rowLinks(summary)[0] != "#q" {
		t.Errorf("error summary = %q", text(summary))
	}
	if p.value("q") != "name:(" || !p.checked("mode") || p.selected("blocked") != "true" {
		t.Error("the form lost the query, the advanced mode or the filter")
	}
	if v, _ := attr(p.one("id", "q"), "aria-invalid"); v != "true" {
		t.Error("search box not marked invalid")
	}
	if v, _ := attr(p.one("id", "q"), "aria-describedby"); v != "error-q search-help" {
		t.Errorf("search box aria-describedby = %q", v)
	}
}

// TestUserListCapOffersExport: past 1,000 matches the list says so and offers an export of the
// search's connection; a page beyond the cap is never requested.
func TestUserListCapOffersExport(t *testing.T) {
	var us []mgmt.User
	for i := range 1000 {
		us = append(us, mgmt.User{UserID: fmt.Sprintf("auth0|%04d", i), Email: fmt.Sprintf("u%04d@example.com", i)})
	}
	env := newEnv(t, false, us...)
	env.api.Total = 250000
	rec := env.get(t, "/users?q=u&connection=Username-Password-Authentication&page=25")
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusFound || loc != "/users?connection=Username-Password-Authentication&page=20&q=u" {
		t.Fatalf("page past the cap: %d → %q, want the last page Auth0 serves", rec.Code, loc)
	}
	rec = env.get(t, rec.Header().Get("Location"))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if got := env.api.CallsTo("ListUsers")[0].Params.(mgmt.ListUsersParams); got.Page != 19 || got.PerPage != 50 {
		t.Errorf("sent page %d per_page %d, want the last page Auth0 serves (19, 50)", got.Page, got.PerPage)
	}
	p := parse(t, rec)
	total := p.textOf("data-testid", "total")
	if !strings.HasPrefix(total, "Showing the first 1,000 of 250,000 users (rows 951–1000)") || !strings.Contains(total, "Export all") {
		t.Errorf("cap message = %q", total)
	}
	wantExport := "/users/exports?" + url.Values{"connection": {"Username-Password-Authentication"}, "q": {"u"}, "total": {"250000"}}.Encode()
	if got := p.href("id", "export-all"); got != wantExport {
		t.Errorf("export link = %q, want %q", got, wantExport)
	}
	if p.has("id", "next-page") {
		t.Error("a next page past the cap is offered")
	}
}

func TestUserListConnectionsFailureStillSearches(t *testing.T) {
	env := newEnv(t, false, jane())
	env.api.Fail = func(m string) error {
		if m == "ListConnections" {
			return &mgmt.Error{StatusCode: 429, Message: "Too many requests"}
		}
		return nil
	}
	rec := env.get(t, "/users?connection=Staff-DB")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	p := parse(t, rec)
	if !strings.Contains(p.textOf("data-testid", "connections-message"), users.MsgRateLimited) {
		t.Errorf("connections message = %q", p.textOf("data-testid", "connections-message"))
	}
	if p.selected("connection") != "Staff-DB" {
		t.Error("the pasted connection filter is not kept")
	}
}

func TestUserListRateLimitedIsNotA500(t *testing.T) {
	env := newEnv(t, false)
	env.api.Fail = func(string) error { return &mgmt.Error{StatusCode: 429, Message: "Too many requests"} }
	rec := env.get(t, "/users")
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d", rec.Code)
	}
	if got := parse(t, rec).textOf("data-testid", "alert"); got != users.MsgRateLimited {
		t.Errorf("alert = %q", got)
	}
	if rec.Header().Get("Retry-After") != "" {
		t.Error("Retry-After sent without a known wait")
	}

	env.api.Fail = func(string) error { return &mgmt.Error{StatusCode: 429, RetryAfter: 2100 * time.Millisecond} }
	rec = env.get(t, "/users")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "3" {
		t.Fatalf("status %d, Retry-After %q; want 503 and 3", rec.Code, rec.Header().Get("Retry-After"))
	}
	if got := parse(t, rec).textOf("data-testid", "alert"); got != "Auth0 is rate limiting requests; try again in 3 s." {
		t.Errorf("alert = %q", got)
	}
}

// TestUserListEscapesHostileValues: what the box, the filters and the rows carry is text, never markup.
func TestUserListEscapesHostileValues(t *testing.T) {
	evil := mgmt.User{UserID: "auth0|x", Email: `"><script>alert(1)</script>@example.com`, Name: `<img src=x onerror=alert(1)>`,
		Identities: []mgmt.Identity{{Connection: `<b>conn</b>`}}}
	env := newEnv(t, false, evil)
	rec := env.get(t, "/users?q=%22%3E%3Cscript%3Ealert(2)%3C%2Fscript%3E&connection=%3Cscript%3E")
	body := rec.Body.String()
	for _, bad := range []string{"<script>alert", "<img src=x", "<b>conn"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q unescaped", bad)
		}
	}
	p := parse(t, rec)
	if p.value("q") != `"><script>alert(2)</script>` {
		t.Errorf("search box = %q", p.value("q"))
	}
}
