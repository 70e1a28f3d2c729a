package handlers_test

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/clientip"
	"github.com/userdesk/userdesk/internal/users"
)

func trailOf(t *testing.T, env *env) []audit.Entry {
	t.Helper()
	es, _, err := env.trail.Query(t.Context(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return es // newest first
}

// assertStaff checks the actor fields every entry written during a request carries.
func assertStaff(t *testing.T, e audit.Entry, role authz.Role, ip string) {
	t.Helper()
	if e.ActorIssuer != "https://idp.example/" || e.ActorSubject != "s1" || e.ActorEmail != "s1@corp.example" ||
		e.ActorRole != string(role) || e.ClientIP != ip || e.RequestID == "" || e.Time.IsZero() {
		t.Errorf("actor fields of %s: %+v", e.Action, e)
	}
}

// TestCreateThroughTheFormIsAudited: the create form's entry, every field.
func TestCreateThroughTheFormIsAudited(t *testing.T) {
	env := newEnv(t, false)
	rec := env.do(t, req{method: http.MethodPost, target: "/users", staff: "Sam", headers: map[string]string{roleHeader: "agent"},
		form: url.Values{"connection": {"Staff-DB"}, "email": {"new@example.com"}, "password": {"Pw-s3ntinel"},
			"email_verified": {"true"}, "reason": {"ZD-4711"}}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	es := trailOf(t, env)
	if len(es) != 1 {
		t.Fatalf("%d entries, want 1", len(es))
	}
	e := es[0]
	assertStaff(t, e, authz.Agent, "192.0.2.1")
	call := env.api.CallsTo("CreateUser")[0]
	id := strings.TrimSuffix(strings.TrimPrefix(rec.Header().Get("Location"), "/users/"), "?msg=created")
	id, _ = url.PathUnescape(id)
	if e.Action != "user.create" || e.TargetUserID != id || e.TargetEmail != "new@example.com" || e.Reason != "ZD-4711" ||
		e.Outcome != audit.OutcomeSuccess || e.UpstreamStatus != 201 || e.CorrelationID == "" || e.CorrelationID != call.CorrelationID {
		t.Errorf("entry = %+v (correlation id sent %q)", e, call.CorrelationID)
	}
	want := []audit.Change{{Field: "connection", After: `"Staff-DB"`}, {Field: "email", After: `"new@example.com"`}, {Field: "email_verified", After: "true"}}
	if !reflect.DeepEqual(e.Changes, want) {
		t.Errorf("changes = %+v", e.Changes)
	}
	if strings.Contains(fmt.Sprintf("%+v", e), "s3ntinel") {
		t.Error("the password is in the audit entry")
	}
}

// TestMetadataSaveThroughTheFormIsAudited: per-key before/after, outcome, status and correlation id.
func TestMetadataSaveThroughTheFormIsAudited(t *testing.T) {
	env := newEnv(t, false, jane())
	rec := env.post(t, "/users/auth0%7Cabc/metadata", url.Values{
		"user_metadata": {`{"color": "blue", "addr": {"city": "Paris"}}`},
		"app_metadata":  {`{"plan": "gold", "tier": 2}`},
		"reason":        {"called in, ticket 88"},
		"base":          {users.FingerprintOf(ptr(jane()))}, "confirm": {"1"},
	})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	es := trailOf(t, env)
	if len(es) != 1 {
		t.Fatalf("%d entries", len(es))
	}
	e := es[0]
	assertStaff(t, e, authz.Admin, "192.0.2.1")
	if e.Action != "user.metadata_update" || e.TargetUserID != "auth0|abc" || e.TargetEmail != "jane@example.com" ||
		e.Reason != "called in, ticket 88" || e.Outcome != audit.OutcomeSuccess || e.UpstreamStatus != 200 ||
		e.CorrelationID != env.api.CallsTo("UpdateUser")[0].CorrelationID || e.CorrelationID == "" {
		t.Errorf("entry = %+v", e)
	}
	want := []audit.Change{
		{Field: "user_metadata.color", Before: `"red"`, After: `"blue"`},
		{Field: "user_metadata.gone", Before: "1"},
		{Field: "app_metadata.tier", After: "2"},
	}
	if !reflect.DeepEqual(e.Changes, want) {
		t.Errorf("changes = %+v", e.Changes)
	}
	// The user page shows it, linking to the full trail for the user.
	p := parse(t, env.get(t, "/users/auth0%7Cabc"))
	if got := p.textOf("data-testid", "audit-action"); got != "user.metadata_update" {
		t.Errorf("user page audit action = %q", got)
	}
	if got := p.textOf("data-testid", "audit-changes"); !strings.Contains(got, `user_metadata.color : "red" → "blue"`) {
		t.Errorf("user page changes = %q", got)
	}
	if got := p.href("id", "user-audit-more"); got != "/audit?target=auth0%7Cabc" {
		t.Errorf("link to the user's trail = %q", got)
	}
}

// TestMetadataPolicyRefusalThroughTheForm: the form comes back with the keys named, nothing is sent
// upstream and the refusal is audited.
func TestMetadataPolicyRefusalThroughTheForm(t *testing.T) {
	env := newEnvWith(t, envOptions{policy: "app_metadata.plan=admin"}, jane())
	text := `{"plan": "platinum"}`
	rec := env.do(t, req{method: http.MethodPost, target: "/users/auth0%7Cabc/metadata", staff: "Sam",
		headers: map[string]string{roleHeader: "agent"},
		form: url.Values{"user_metadata": {users.PrettyJSON(jane().UserMetadata)}, "app_metadata": {text}, "reason": {"upgrade"},
			"base": {users.FingerprintOf(ptr(jane()))}}})
	if rec.Code != http.StatusForbidden {
		t.Fatalf("status %d", rec.Code)
	}
	p := parse(t, rec)
	if got := p.textOf("data-testid", "alert"); got != "Your role (agent) may not change app_metadata.plan. Nothing was saved." {
		t.Errorf("alert = %q", got)
	}
	if got := text2(p, "app_metadata"); strings.TrimSpace(got) != text {
		t.Errorf("textarea not kept: %q", got)
	}
	if p.value("reason") != "upgrade" {
		t.Errorf("reason not kept")
	}
	if w := env.api.Writes(); len(w) != 0 {
		t.Fatalf("Auth0 received a write: %+v", w)
	}
	es := trailOf(t, env)
	if len(es) != 1 {
		t.Fatalf("%d entries", len(es))
	}
	e := es[0]
	assertStaff(t, e, authz.Agent, "192.0.2.1")
	if e.Action != "authz.denied" || e.Outcome != audit.OutcomeDenied || e.TargetUserID != "auth0|abc" || e.Reason != "upgrade" ||
		!reflect.DeepEqual(e.Changes, []audit.Change{{Field: "app_metadata.plan", Before: `"gold"`, After: `"platinum"`}}) {
		t.Errorf("entry = %+v", e)
	}
}

func text2(p *page, id string) string { return text(p.one("id", id)) }

// TestReasonField: both forms carry it; when configured as required an empty one is refused.
func TestReasonField(t *testing.T) {
	env := newEnvWith(t, envOptions{reasonRequired: "user.metadata_update"}, jane())
	if p := parse(t, env.get(t, "/users/new")); !p.has("id", "reason") || strings.Contains(text(p.one("for", "reason")), "required") {
		t.Error("create form: optional reason field missing")
	}
	p := parse(t, env.get(t, "/users/auth0%7Cabc/metadata"))
	if !strings.Contains(text(p.one("for", "reason")), "(required)") || !hasAttr(p.one("id", "reason"), "required", "") {
		t.Error("metadata form: reason not marked required")
	}
	rec := env.post(t, "/users/auth0%7Cabc/metadata", url.Values{"user_metadata": {`{"color":"x"}`}, "app_metadata": {"{}"}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", rec.Code)
	}
	if got := parse(t, rec).textOf("data-testid", "error-reason"); got != users.MsgReasonRequired {
		t.Errorf("reason error = %q", got)
	}
	if c := env.api.Writes(); len(c) != 0 {
		t.Errorf("writes = %+v", c)
	}
}

// failingTrail fails every Append (the disk is full) but reads normally.
type failingTrail struct{ audit.Store }

func (failingTrail) Append(context.Context, audit.Entry) (audit.Entry, error) {
	return audit.Entry{}, errors.New("disk full")
}

// TestAuditWriteFailureIsShownAndLogged: the change is made, the page says its entry is missing,
// the log has an error line; a refusal says so too.
func TestAuditWriteFailureIsShownAndLogged(t *testing.T) {
	env := newEnvWith(t, envOptions{trail: failingTrail{audit.NewMemory()}}, jane())
	rec := env.post(t, "/users/auth0%7Cabc/metadata", url.Values{"user_metadata": {`{"color":"x"}`}, "app_metadata": {`{"plan":"gold"}`},
		"base": {users.FingerprintOf(ptr(jane()))}, "confirm": {"1"}})
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || loc != "/users/auth0%7Cabc?msg=metadata-saved-unaudited" {
		t.Fatalf("status %d Location %q", rec.Code, loc)
	}
	p := parse(t, env.get(t, rec.Header().Get("Location")))
	if p.textOf("data-testid", "flash") != "Metadata saved." || p.textOf("data-testid", "alert") != users.MsgAuditFailed {
		t.Error("the page does not say the audit entry is missing")
	}
	if len(env.api.Writes()) != 1 {
		t.Error("the change was not made")
	}
	rec = env.post(t, "/users", url.Values{"connection": {"Staff-DB"}, "email": {"n@example.com"}, "password": {"x"}})
	if loc := rec.Header().Get("Location"); !strings.HasSuffix(loc, "?msg=created-unaudited") {
		t.Errorf("create Location %q", loc)
	}
	rec = env.do(t, req{method: http.MethodGet, target: "/audit.csv", staff: "Sam", headers: map[string]string{roleHeader: "viewer"}})
	if rec.Code != http.StatusForbidden || !strings.Contains(parse(t, rec).textOf("data-testid", "error-message"), users.MsgAuditFailed) {
		t.Errorf("refusal page does not mention the missing entry: %d", rec.Code)
	}
	if n := strings.Count(env.logs.String(), "level=ERROR msg=audit_write_failed"); n != 3 {
		t.Errorf("%d audit_write_failed error lines, want 3:\n%s", n, env.logs)
	}
	// An export that cannot be recorded is refused.
	rec = env.get(t, "/audit.csv")
	if rec.Code != http.StatusServiceUnavailable || strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Errorf("unrecorded export: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
}

// TestClientIPFromTrustedProxiesOnly (security.md §6 #28): a spoofed X-Forwarded-For from a public
// peer is ignored; behind a trusted proxy the client from X-Forwarded-For is recorded.
func TestClientIPFromTrustedProxiesOnly(t *testing.T) {
	trusted, err := clientip.ParseTrusted("10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ peer, xff, want string }{
		{"203.0.113.9:4444", "198.51.100.1", "203.0.113.9"},
		{"127.0.0.1:4444", "198.51.100.1", "127.0.0.1"},
		{"10.0.0.5:4444", "198.51.100.1", "198.51.100.1"},
		{"10.0.0.5:4444", "6.6.6.6, 198.51.100.1", "198.51.100.1"},
	} {
		env := newEnvWith(t, envOptions{ip: clientip.Extractor(trusted)}, jane())
		hr := req{method: http.MethodPost, target: "/users/auth0%7Cabc/metadata", staff: "Sam",
			form:    url.Values{"user_metadata": {`{"color":"x"}`}, "app_metadata": {`{"plan":"gold"}`}},
			headers: map[string]string{"X-Forwarded-For": tc.xff, roleHeader: "viewer"}}
		hr.peer = tc.peer
		rec := env.do(t, hr)
		if rec.Code != http.StatusForbidden {
			t.Fatalf("status %d", rec.Code)
		}
		es := trailOf(t, env)
		if len(es) != 1 || es[0].ClientIP != tc.want {
			t.Errorf("peer %s XFF %q: recorded %+v, want IP %s", tc.peer, tc.xff, es, tc.want)
		}
		if !strings.Contains(env.logs.String(), "ip="+tc.want) {
			t.Errorf("peer %s XFF %q: request log lacks ip=%s", tc.peer, tc.xff, tc.want)
		}
	}
}

// seedTrail appends entries at known times: 60 creates by alice (one per minute), then a few others.
func seedTrail(t *testing.T, s audit.Store) time.Time {
	t.Helper()
	base := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	add := func(e audit.Entry) {
		if _, err := s.Append(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 60 {
		add(audit.Entry{Time: base.Add(time.Duration(i) * time.Minute), ActorIssuer: "https://idp.example/", ActorSubject: "alice",
			ActorEmail: "alice@corp.example", ActorRole: "agent", Action: "user.create", TargetUserID: fmt.Sprintf("auth0|n%02d", i),
			TargetEmail: fmt.Sprintf("n%02d@example.com", i), Outcome: audit.OutcomeSuccess, UpstreamStatus: 201, CorrelationID: fmt.Sprintf("cid%02d", i)})
	}
	add(audit.Entry{Time: base.Add(25 * time.Hour), ActorIssuer: "https://idp.example/", ActorSubject: "bob", ActorEmail: "bob@corp.example",
		ActorRole: "viewer", Action: "authz.denied", TargetUserID: "auth0|abc", Outcome: audit.OutcomeDenied, Detail: "user.metadata_update needs role agent"})
	add(audit.Entry{Time: base.Add(49 * time.Hour), ActorIssuer: "https://idp.example/", ActorSubject: "bob", ActorEmail: "bob@corp.example",
		ActorRole: "agent", Action: "user.metadata_update", TargetUserID: "auth0|abc", TargetEmail: "jane@example.com", Outcome: audit.OutcomeFailure,
		UpstreamStatus: 400, Changes: []audit.Change{{Field: "user_metadata.color", Before: `"red"`, After: `"<b>blue</b>"`}}})
	add(audit.Entry{Time: base.Add(50 * time.Hour), ActorIssuer: "https://idp.example/", ActorSubject: "carol", ActorEmail: "carol@corp.example",
		ActorRole: "admin", Action: "staff.sessions_end", TargetUserID: "bob", TargetEmail: "bob@corp.example", Outcome: audit.OutcomeSuccess})
	return base
}

func rowsOf(p *page) []string {
	var out []string
	for _, n := range p.byAttr("data-testid", "audit-row") {
		out = append(out, text(n))
	}
	return out
}

// TestAuditPageFilters: each filter narrows the list, newest first, with links to the user and the
// staff member; the filter is a bookmarkable GET.
func TestAuditPageFilters(t *testing.T) {
	env := newEnv(t, false, jane())
	seedTrail(t, env.trail)
	get := func(q string) *page {
		t.Helper()
		rec := env.do(t, req{method: http.MethodGet, target: "/audit" + q, staff: "Sam", headers: map[string]string{roleHeader: "viewer"}})
		if rec.Code != http.StatusOK {
			t.Fatalf("/audit%s: status %d", q, rec.Code)
		}
		return parse(t, rec)
	}

	p := get("")
	rows := rowsOf(p)
	if len(rows) != 50 || !strings.Contains(rows[0], "staff.sessions_end") || !strings.Contains(rows[1], "user.metadata_update") {
		t.Fatalf("first page: %d rows, first %q", len(rows), rows[:2])
	}
	if got := p.textOf("data-testid", "total"); got != "Showing 1–50 of 63 entries, newest first" {
		t.Errorf("total = %q", got)
	}
	if p.has("id", "audit-csv") {
		t.Error("a viewer is offered the CSV export")
	}
	if got := p.href("id", "next-page"); got != "/audit?page=2" {
		t.Errorf("next = %q", got)
	}
	if rows := rowsOf(get("?page=2")); len(rows) != 13 || !strings.Contains(rows[12], "n00@example.com") {
		t.Errorf("page 2: %d rows", len(rows))
	}

	// The staff-sessions entry's target is a staff member, not a user: no link to /users.
	first := p.byAttr("data-testid", "audit-row")[0]
	for n := range first.Descendants() {
		if v, ok := attr(n, "href"); ok && strings.HasPrefix(v, "/users/") {
			t.Errorf("staff target linked to %s", v)
		}
	}
	// A user target links to the user; the actor links to their entries.
	second := p.byAttr("data-testid", "audit-row")[1]
	links := map[string]bool{}
	for n := range second.Descendants() {
		if v, ok := attr(n, "href"); ok {
			links[v] = true
		}
	}
	if !links["/users/auth0%7Cabc"] || !links["/audit?actor=bob"] {
		t.Errorf("row links = %v", links)
	}
	if !strings.Contains(text(second), `user_metadata.color : "red" → "<b>blue</b>"`) || !strings.Contains(text(second), "HTTP 400") {
		t.Errorf("second row = %q", text(second))
	}

	for q, want := range map[string]int{
		"?actor=bob":                             2,
		"?actor=ALICE@corp.example":              50, // first page of 60
		"?target=auth0%7Cabc":                    2,
		"?action=authz.denied":                   1,
		"?outcome=failure":                       1,
		"?outcome=success&actor=carol":           1,
		"?from=2026-11-21&to=2026-11-21":         1, // the denial, 25 h after base
		"?from=2026-11-22":                       2,
		"?to=2026-11-20":                         50,
		"?actor=bob&action=user.metadata_update": 1,
		"?target=auth0%7Cn07&action=user.create": 1,
		"?actor=nobody":                          0,
	} {
		p := get(q)
		if got := len(rowsOf(p)); got != want {
			t.Errorf("/audit%s: %d rows, want %d", q, got, want)
		}
		if want == 0 && !p.has("data-testid", "empty") {
			t.Errorf("/audit%s: no empty state", q)
		}
	}
	// The form shows the filter as given, so the URL is the bookmark.
	p = get("?actor=bob&outcome=denied&from=2026-11-21")
	if p.value("actor") != "bob" || p.value("from") != "2026-11-21" || !hasAttr(optionNamed(p, "outcome", "denied"), "selected", "") {
		t.Error("filter form does not show the filter")
	}
	// Bad input is pointed out, not guessed at.
	rec := env.do(t, req{method: http.MethodGet, target: "/audit?from=yesterday&outcome=maybe", staff: "Sam"})
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("bad filter status %d", rec.Code)
	}
	bp := parse(t, rec)
	if bp.textOf("data-testid", "error-from") != "Enter a date as YYYY-MM-DD." || bp.textOf("data-testid", "error-outcome") != "Choose one of the listed outcomes." {
		t.Error("bad filter messages")
	}
}

func optionNamed(p *page, selectID, value string) *html.Node {
	for n := range p.one("id", selectID).Descendants() {
		if n.Data == "option" && hasAttr(n, "value", value) {
			return n
		}
	}
	p.t.Fatalf("no option %q in #%s", value, selectID)
	return nil
}

// TestAuditCSVExport: admins get the filtered trail as CSV (and the export is itself recorded);
// the page links to it with the same filter.
func TestAuditCSVExport(t *testing.T) {
	env := newEnv(t, false, jane())
	seedTrail(t, env.trail)
	p := parse(t, env.get(t, "/audit?actor=bob&outcome=failure"))
	if got := p.href("id", "audit-csv"); got != "/audit.csv?actor=bob&outcome=failure" {
		t.Errorf("CSV link = %q", got)
	}
	rec := env.get(t, "/audit.csv?actor=bob&outcome=failure")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(rec.Header().Get("Content-Disposition"), `attachment; filename="userdesk-audit-`) {
		t.Fatalf("status %d, headers %v", rec.Code, rec.Header())
	}
	records, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 2 || !reflect.DeepEqual(records[0], audit.CSVColumns()) {
		t.Fatalf("csv = %v", records)
	}
	row := map[string]string{}
	for i, c := range records[0] {
		row[c] = records[1][i]
	}
	if row["actor_subject"] != "bob" || row["action"] != "user.metadata_update" || row["outcome"] != "failure" ||
		row["upstream_status"] != "400" || row["target_user_id"] != "auth0|abc" || !strings.Contains(row["changes"], `"field":"user_metadata.color"`) {
		t.Errorf("row = %v", row)
	}
	es := trailOf(t, env)
	if e := es[0]; e.Action != "audit.export" || e.ActorSubject != "s1" || e.ActorRole != "admin" || e.Detail != "actor=bob outcome=failure" {
		t.Errorf("export not recorded: %+v", e)
	}
	// Everyone below admin is refused (the route matrix checks every role; here the page link).
	p = parse(t, env.do(t, req{method: http.MethodGet, target: "/audit", staff: "Sam", headers: map[string]string{roleHeader: "agent"}}))
	if p.has("id", "audit-csv") {
		t.Error("an agent is offered the CSV export")
	}
}

// TestStaffSessionsPageAndEnd: admins see active sessions (idle ones hidden) and can end all of one
// staff member's sessions; that is audited.
func TestStaffSessionsPageAndEnd(t *testing.T) {
	env := newEnv(t, false)
	putSession(t, env.sessions, "alice-1", "alice")
	putSession(t, env.sessions, "alice-2", "alice")
	putSession(t, env.sessions, "bob-1", "bob")
	now := time.Now()
	idle := now.Add(-2 * time.Hour)
	if err := env.sessions.Create(t.Context(), newIdleSession("idle-1", "dave", idle)); err != nil {
		t.Fatal(err)
	}
	p := parse(t, env.get(t, "/staff/sessions"))
	var staff []string
	for _, n := range p.byAttr("data-testid", "staff-session-staff") {
		staff = append(staff, text(n))
	}
	if len(staff) != 3 || strings.Contains(strings.Join(staff, " "), "dave") {
		t.Fatalf("sessions listed: %v", staff)
	}
	if got := p.byAttr("data-testid", "staff-session-ip"); len(got) != 3 || text(got[0]) != "198.51.100.7" {
		t.Errorf("IPs = %d", len(got))
	}
	if !p.has("id", "nav-staff-sessions") || !p.has("id", "nav-audit") {
		t.Error("navigation lacks the admin links")
	}

	rec := env.post(t, "/staff/sessions/end", url.Values{"issuer": {"https://idp.example/"}, "subject": {"alice"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/staff/sessions?msg=ended" {
		t.Fatalf("end: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	for _, id := range []string{"alice-1", "alice-2"} {
		if _, err := env.sessions.Get(t.Context(), id); err == nil {
			t.Errorf("session %s survived", id)
		}
	}
	if _, err := env.sessions.Get(t.Context(), "bob-1"); err != nil {
		t.Error("bob's session was ended")
	}
	es := trailOf(t, env)
	if len(es) != 1 {
		t.Fatalf("%d entries", len(es))
	}
	e := es[0]
	assertStaff(t, e, authz.Admin, "192.0.2.1")
	if e.Action != "staff.sessions_end" || e.TargetUserID != "alice" || e.TargetEmail != "alice@corp.example" ||
		e.Outcome != audit.OutcomeSuccess || e.Detail != "issuer https://idp.example/: 2 session(s) ended" {
		t.Errorf("entry = %+v", e)
	}
	if got := parse(t, env.get(t, "/staff/sessions?msg=ended")).textOf("data-testid", "flash"); !strings.Contains(got, "sessions were ended") {
		t.Errorf("flash = %q", got)
	}
	// An agent sees neither link.
	p = parse(t, env.do(t, req{method: http.MethodGet, target: "/users", staff: "Sam", headers: map[string]string{roleHeader: "agent"}}))
	if p.has("id", "nav-staff-sessions") || !p.has("id", "nav-audit") {
		t.Error("agent navigation")
	}
}

// TestRequestIDHeader: each response carries a fresh X-Request-ID; a client's own is not echoed.
func TestRequestIDHeader(t *testing.T) {
	env := newEnv(t, false)
	a := env.do(t, req{method: http.MethodGet, target: "/healthz", headers: map[string]string{"X-Request-ID": "evil\r\nid"}})
	b := env.do(t, req{method: http.MethodGet, target: "/healthz"})
	ida, idb := a.Header().Get("X-Request-ID"), b.Header().Get("X-Request-ID")
	if len(ida) != 16 || ida == idb || ida == "evil\r\nid" {
		t.Errorf("request ids %q %q", ida, idb)
	}
}
