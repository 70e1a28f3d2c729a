package handlers

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/views"
)

// FindingUsers is what the list and the export pages need from internal/users.
type FindingUsers interface {
	Search(ctx context.Context, p users.SearchParams) (*users.SearchResult, error)
	Connections(ctx context.Context) ([]mgmt.Connection, error)
	StartExport(ctx context.Context, r users.ExportRequest) (*mgmt.Job, error)
	ExportJob(ctx context.Context, id string) (*mgmt.Job, error)
	OpenExport(ctx context.Context, id string) (*users.ExportFile, error)
}

// searchParams reads the list's GET form: q, mode, connection, blocked, verified, sort, per_page,
// page. Anything unknown or malformed falls back to its default (users.SearchParams.Normalize).
func searchParams(c echo.Context) users.SearchParams {
	page, _ := strconv.Atoi(c.QueryParam("page"))
	per, _ := strconv.Atoi(c.QueryParam("per_page"))
	return users.SearchParams{
		Text:       c.QueryParam("q"),
		Mode:       c.QueryParam("mode"),
		Connection: c.QueryParam("connection"),
		Blocked:    c.QueryParam("blocked"),
		Verified:   c.QueryParam("verified"),
		Sort:       c.QueryParam("sort"),
		Page:       page,
		PerPage:    per,
	}.Normalize()
}

// searchURL is the list's URL for p: defaults are left out and the keys come sorted, so one search
// has one URL that can be bookmarked or pasted into a ticket.
func searchURL(p users.SearchParams) string {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("q", p.Text)
	set("mode", p.Mode)
	set("connection", p.Connection)
	set("blocked", p.Blocked)
	set("verified", p.Verified)
	set("sort", p.Sort)
	if p.PerPage != users.PerPage && p.PerPage != 0 {
		v.Set("per_page", strconv.Itoa(p.PerPage))
	}
	if p.Page > 1 {
		v.Set("page", strconv.Itoa(p.Page))
	}
	if len(v) == 0 {
		return "/users"
	}
	return "/users?" + v.Encode()
}

// sameQuery reports whether the request's query holds exactly the parameters of target's.
func sameQuery(got url.Values, target string) bool {
	_, raw, _ := strings.Cut(target, "?")
	want, err := url.ParseQuery(raw)
	return err == nil && maps.EqualFunc(got, want, slices.Equal[[]string])
}

// userList: GET /users — the search form, the count, the table and the pager. One round-trip of
// upstream calls: the search (or exact look-up) and the connections for the filter, concurrently.
// A query Auth0 refuses is a 400 page with Auth0's reason next to the search box and in the error
// summary.
func (h *handler) userList(c echo.Context) error {
	p := searchParams(c)
	once := listFlashParams(c.QueryParams())
	// A submitted GET form carries every field, empty or default ones too; send the browser to the
	// search's one canonical URL, so what is bookmarked or pasted is short and stable. A known
	// one-time message (?msg=deleted) survives that redirect; the pager and sort links do not carry it.
	canon := searchURL(p)
	if len(once) > 0 {
		sep := "?"
		if strings.Contains(canon, "?") {
			sep = "&"
		}
		canon += sep + once.Encode()
	}
	if !sameQuery(c.QueryParams(), canon) {
		return c.Redirect(http.StatusFound, canon)
	}
	flash, warning := listFlash(once)
	res, err := h.users.Search(c.Request().Context(), p)
	if err != nil {
		var pr *users.Problem
		if !errors.As(err, &pr) {
			return err
		}
		h.logProblem(c, pr)
		l := searchPage(&users.SearchResult{Params: p, Plan: users.BuildQuery(p)})
		l.QueryError, l.Message = pr.Fields["q"], pr.Message
		l.Flash, l.Warning = flash, warning
		l.CanCreate = allowed(c, authz.CreateUser)
		return h.render(c, pr.Status, "Users", views.UserListPage(l))
	}
	if res.ConnectionsErr != nil {
		var pr *users.Problem
		if errors.As(res.ConnectionsErr, &pr) {
			h.logProblem(c, pr)
		} else {
			h.log.WarnContext(c.Request().Context(), "listing connections failed", "err", res.ConnectionsErr.Error())
		}
	}
	l := searchPage(res)
	l.Flash, l.Warning = flash, warning
	l.CanCreate = allowed(c, authz.CreateUser)
	return h.render(c, http.StatusOK, "Users", views.UserListPage(l))
}

// listFlashParams returns the list's one-time message parameters (msg and audit) when msg is a code
// listFlash knows; anything else is left out, so the canonical redirect drops it.
func listFlashParams(q url.Values) url.Values {
	once := url.Values{}
	if flash, _ := listFlash(q); flash != "" {
		once.Set("msg", q.Get("msg"))
		if q.Get("audit") == "failed" {
			once.Set("audit", "failed")
		}
	}
	return once
}

// listFlash maps the users list's fixed ?msg= code to a confirmation (a user deleted from their
// page lands here: "deleted"), and audit=failed next to it to the warning that its audit entry is
// missing. Unknown codes show nothing: a URL cannot put words on the page.
func listFlash(q url.Values) (flash, warning string) {
	if q.Get("msg") == "deleted" {
		flash = "User deleted."
	}
	if q.Get("audit") == "failed" && flash != "" {
		warning = users.MsgAuditFailed
	}
	return flash, warning
}

// searchPage is the list's view model.
func searchPage(res *users.SearchResult) views.UserSearch {
	p := res.Params
	l := views.UserSearch{
		Query:      p.Text,
		Lucene:     p.Mode == users.ModeLucene,
		Understood: understood(res.Plan, p),
		Sort:       p.Sort,
		Total:      res.Total,
		Page:       p.Page,
		LastPage:   res.LastPage(),
		Capped:     res.Capped(),
		Blocked:    triOptions(p.Blocked, "Blocked", "Not blocked"),
		Verified:   triOptions(p.Verified, "Verified", "Not verified"),
		SortBy:     map[string]views.SortHeader{},
	}
	if res.Plan.Lookup == users.LookupSearch {
		l.SentQuery = res.Plan.Q
	}
	l.Connections = []views.Option{{Value: "", Label: "Any connection", Selected: p.Connection == ""}}
	known := false
	for _, c := range res.Connections {
		l.Connections = append(l.Connections, views.Option{Value: c.Name, Label: c.Name, Selected: c.Name == p.Connection})
		known = known || c.Name == p.Connection
	}
	if p.Connection != "" && !known {
		// Keep a connection from a pasted link selectable even when the list is unavailable.
		l.Connections = append(l.Connections, views.Option{Value: p.Connection, Label: p.Connection, Selected: true})
	}
	if res.ConnectionsErr != nil {
		l.ConnectionsMessage = "The connection filter lists no connections: they could not be read from Auth0."
		var pr *users.Problem
		if errors.As(res.ConnectionsErr, &pr) && pr.Message != "" {
			l.ConnectionsMessage = "The connection filter lists no connections: " + pr.Message
		}
	}
	for _, n := range users.PageSizes() {
		l.PageSizes = append(l.PageSizes, views.Option{Value: strconv.Itoa(n), Label: strconv.Itoa(n), Selected: n == p.PerPage})
	}
	labels := map[string]string{"email": "Email", "created_at": "Created", "last_login": "Last login", "logins_count": "Logins"}
	field, desc, sorted := users.ParseSort(p.Sort)
	for _, f := range users.SortFields() {
		h := views.SortHeader{ID: "sort-" + f, Label: labels[f], Active: sorted && field == f, Desc: desc}
		next := p
		next.Page = 1
		switch {
		case h.Active && desc:
			next.Sort = f + ":1"
		case h.Active:
			next.Sort = f + ":-1"
		case f == "email":
			next.Sort = f + ":1" // A to Z first
		default:
			next.Sort = f + ":-1" // newest, latest, most first
		}
		h.URL = searchURL(next)
		l.SortBy[f] = h
	}
	for i := range res.Users {
		l.Rows = append(l.Rows, searchRow(&res.Users[i]))
	}
	if len(l.Rows) > 0 {
		l.From = (p.Page-1)*p.PerPage + 1
		l.To = l.From + len(l.Rows) - 1
	}
	if p.Page > 1 {
		prev := p
		prev.Page--
		l.PrevURL = searchURL(prev)
	}
	if p.Page < l.LastPage {
		next := p
		next.Page++
		l.NextURL = searchURL(next)
	}
	if l.Capped {
		l.ExportURL = exportFormURL(p, res.Total)
	}
	return l
}

// understood says how the search box was read.
func understood(plan users.Plan, p users.SearchParams) string {
	filtered := p.Connection != "" || p.Blocked != "" || p.Verified != ""
	switch plan.Kind {
	case users.KindEmail:
		s := "Exact email look-up (up to date; one user per connection)."
		if filtered {
			s += " The filters apply to the users it returns."
		}
		return s
	case users.KindUserID:
		s := "User id look-up (up to date)."
		if filtered {
			s += " The filters apply to the user it returns."
		}
		return s
	case users.KindPhone:
		return "Phone number search."
	case users.KindName:
		return "Names or emails starting with “" + p.Text + "”."
	case users.KindLucene:
		return "Lucene query."
	}
	return ""
}

func triOptions(cur, yes, no string) []views.Option {
	return []views.Option{
		{Value: "", Label: "Either", Selected: cur == ""},
		{Value: "true", Label: yes, Selected: cur == "true"},
		{Value: "false", Label: no, Selected: cur == "false"},
	}
}

func searchRow(u *mgmt.User) views.SearchRow {
	r := views.SearchRow{
		URL:        userURL(u.UserID),
		Email:      u.Email,
		Name:       u.Name,
		Created:    formatTime(u.CreatedAt, "—"),
		LastLogin:  formatTime(u.LastLogin, "never"),
		Logins:     count(u.LoginsCount),
		Blocked:    u.Blocked != nil && *u.Blocked,
		Unverified: u.Email != "" && u.EmailVerified != nil && !*u.EmailVerified,
	}
	if len(u.Identities) > 0 {
		r.Connection = u.Identities[0].Connection
	}
	return r
}

// logProblem records an explained upstream failure (the page shows only its sentence) and passes on
// how long Auth0 asked to wait as Retry-After.
func (h *handler) logProblem(c echo.Context, p *users.Problem) {
	setRetryAfter(c, p)
	if p.Err == nil {
		return
	}
	r := c.Request()
	h.log.WarnContext(r.Context(), "upstream problem", "method", r.Method, "path", r.URL.Path, "status", p.Status, "err", p.Err.Error())
}
