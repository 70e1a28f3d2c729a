package handlers_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
)

func TestExportForm(t *testing.T) {
	env := newEnv(t, false)
	rec := env.get(t, "/users/exports?connection=google-oauth2&q=jan&total=250000")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	p := parse(t, rec)
	if p.selected("connection") != "google-oauth2" {
		t.Errorf("connection = %q, want the search's", p.selected("connection"))
	}
	var checked []string
	for _, n := range p.byAttr("name", "field") {
		if _, ok := attr(n, "checked"); ok {
			v, _ := attr(n, "value")
			checked = append(checked, v)
		}
	}
	if !reflect.DeepEqual(checked, users.DefaultExportFields()) {
		t.Errorf("checked fields = %v, want the defaults", checked)
	}
	scope := p.textOf("data-testid", "export-scope")
	if !strings.Contains(scope, "not only the users that match a search") || !strings.Contains(scope, "jan matched 250,000 users") {
		t.Errorf("scope = %q", scope)
	}
	if f := p.all(func(n *html.Node) bool { return n.Data == "form" && hasAttr(n, "action", "/users/exports") })[0]; !hasAttr(f, "method", "post") {
		t.Error("the export form is not a POST")
	}
	if n := len(env.api.CallsTo("StartUsersExport")); n != 0 {
		t.Error("showing the form started an export")
	}
}

func TestExportStart(t *testing.T) {
	env := newEnv(t, false)
	rec := env.post(t, "/users/exports", url.Values{"connection": {"google-oauth2"}, "field": {"email", "blocked"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	calls := env.api.CallsTo("StartUsersExport")
	if len(calls) != 1 {
		t.Fatalf("export calls = %d", len(calls))
	}
	sent := calls[0].Params.(mgmt.UsersExportJob)
	if sent.ConnectionID != "con_2" || sent.Format != "csv" ||
		!reflect.DeepEqual(sent.Fields, []mgmt.ExportField{{Name: "email", ExportAs: "email"}, {Name: "blocked", ExportAs: "blocked"}}) {
		t.Errorf("sent %+v", sent)
	}
	if loc := rec.Header().Get("Location"); loc != "/users/exports/job_0000000000000001?msg=started" {
		t.Errorf("redirect to %q", loc)
	}
	es, _, _ := env.trail.Query(t.Context(), audit.Filter{})
	if len(es) != 1 || es[0].Action != "users.export" || es[0].Outcome != audit.OutcomeSuccess || es[0].ActorSubject != "s1" ||
		es[0].Detail != "started job_0000000000000001 of connection google-oauth2" || es[0].CorrelationID != calls[0].CorrelationID {
		t.Errorf("audit = %+v", es)
	}

	// A viewer may export too (authz.ReadUsers), and is audited with their role.
	rec = env.do(t, req{method: http.MethodPost, target: "/users/exports", form: url.Values{"field": {"email"}}, staff: "Vic",
		headers: map[string]string{roleHeader: string(authz.Viewer), subjectHeader: "v1"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("viewer export: status %d", rec.Code)
	}
	es, _, _ = env.trail.Query(t.Context(), audit.Filter{Actor: "v1"})
	if len(es) != 1 || es[0].ActorRole != "viewer" || es[0].Action != "users.export" {
		t.Errorf("viewer export audit = %+v", es)
	}
}

func TestExportStartInvalid(t *testing.T) {
	env := newEnv(t, false)
	rec := env.post(t, "/users/exports", url.Values{"connection": {"Staff-DB"}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", rec.Code)
	}
	p := parse(t, rec)
	if got := p.textOf("data-testid", "error-fields"); got != users.MsgExportFieldsRequired {
		t.Errorf("fields error = %q", got)
	}
	if s := p.one("id", "error-summary"); !hasAttr(s, "role", "alert") || !strings.Contains(text(s), users.MsgExportFieldsRequired) {
		t.Error("no error summary")
	}
	if p.selected("connection") != "Staff-DB" {
		t.Error("the chosen connection was not kept")
	}
	if n := len(env.api.CallsTo("StartUsersExport")); n != 0 {
		t.Error("an invalid export reached Auth0")
	}

	rec = env.post(t, "/users/exports", url.Values{"connection": {"nope"}, "field": {"email", "name"}})
	p = parse(t, rec)
	if rec.Code != http.StatusUnprocessableEntity || p.textOf("data-testid", "error-connection") != users.MsgExportConnectionUnknown {
		t.Errorf("unknown connection: %d", rec.Code)
	}
	if !p.checked("field-1") || !p.checked("field-2") || p.checked("field-0") {
		t.Error("the chosen fields were not kept")
	}
}

func TestExportProgressStates(t *testing.T) {
	env := newEnv(t, false)
	env.post(t, "/users/exports", url.Values{"connection": {"google-oauth2"}, "field": {"email"}})
	const id = "job_0000000000000001"
	job, _ := env.api.ExportJob(id)

	type want struct {
		status, text string
		refresh      string
		download     bool
		failed       bool
	}
	check := func(name, target string, w want) *page {
		t.Helper()
		rec := env.get(t, target)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", name, rec.Code)
		}
		if got := rec.Header().Get("Refresh"); got != w.refresh {
			t.Errorf("%s: Refresh = %q, want %q", name, got, w.refresh)
		}
		if strings.Contains(rec.Body.String(), "signed-secret-token") || strings.Contains(rec.Body.String(), "exports.example") {
			t.Errorf("%s: the page shows the file's location", name)
		}
		p := parse(t, rec)
		st := p.one("data-testid", "export-status")
		if v, _ := attr(st, "data-status"); v != w.status || text(st) != w.text {
			t.Errorf("%s: status %q %q, want %q %q", name, v, text(st), w.status, w.text)
		}
		if p.has("id", "download-export") != w.download || p.has("data-testid", "export-failed") != w.failed {
			t.Errorf("%s: download link %v, failure %v", name, p.has("id", "download-export"), p.has("data-testid", "export-failed"))
		}
		return p
	}

	p := check("pending", "/users/exports/"+id+"?msg=started", want{status: "pending", text: "Waiting to start", refresh: "2"})
	if got := p.textOf("data-testid", "flash"); got != "Export started." {
		t.Errorf("flash = %q", got)
	}
	if p.href("id", "stop-refresh") != "/users/exports/"+id+"?refresh=0" {
		t.Error("no way to stop the reloading")
	}
	p = check("pending, not reloading", "/users/exports/"+id+"?refresh=0", want{status: "pending", text: "Waiting to start"})
	if p.href("id", "refresh") != "/users/exports/"+id {
		t.Error("no manual refresh link")
	}

	job.Status, job.PercentageDone = mgmt.JobProcessing, ptr(40)
	env.api.SetExportJob(job, "")
	check("processing", "/users/exports/"+id, want{status: "processing", text: "Exporting (40%)", refresh: "2"})

	job.Status = mgmt.JobCompleted
	env.api.SetExportJob(job, "email\na@example.com\n")
	p = check("completed", "/users/exports/"+id, want{status: "completed", text: "Completed", download: true})
	if p.href("id", "download-export") != "/users/exports/"+id+"/download" {
		t.Errorf("download link = %q", p.href("id", "download-export"))
	}

	job.Status = mgmt.JobFailed
	env.api.SetExportJob(job, "")
	check("failed", "/users/exports/"+id, want{status: "failed", text: "Failed", failed: true})

	for _, bad := range []string{"/users/exports/job_nothere0000000", "/users/exports/not-a-job", "/users/exports/job_9%2F..%2Fx"} {
		if rec := env.get(t, bad); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", bad, rec.Code)
		}
	}
	env.api.SetExportJob(mgmt.Job{ID: "job_verification0001", Type: "verification_email", Status: mgmt.JobPending}, "")
	if rec := env.get(t, "/users/exports/job_verification0001"); rec.Code != http.StatusNotFound {
		t.Errorf("another kind of job shown: %d", rec.Code)
	}
}

func TestExportDownload(t *testing.T) {
	env := newEnv(t, false)
	env.post(t, "/users/exports", url.Values{"field": {"email", "name"}})
	const id = "job_0000000000000001"
	job, _ := env.api.ExportJob(id)

	rec := env.get(t, "/users/exports/"+id+"/download")
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), users.MsgExportNotFinished) {
		t.Errorf("download of a pending job: %d", rec.Code)
	}

	job.Status = mgmt.JobCompleted
	env.api.SetExportJob(job, "email,name\njane@example.com,Jane\nevil@example.com,=cmd|'/c calc'!A1\n")
	rec = env.get(t, "/users/exports/"+id+"/download")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	h := rec.Header()
	if h.Get("Content-Type") != "text/csv; charset=utf-8" || h.Get("Content-Disposition") != `attachment; filename=users-`+id+`.csv` ||
		h.Get("Cache-Control") != "no-store" {
		t.Errorf("headers = %v", h)
	}
	if got, want := rec.Body.String(), "email,name\njane@example.com,Jane\nevil@example.com,'=cmd|'/c calc'!A1\n"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
	for k, vs := range h {
		for _, v := range vs {
			if strings.Contains(v, "exports.example") || strings.Contains(v, "signed-secret-token") {
				t.Errorf("header %s exposes the file's location: %q", k, v)
			}
		}
	}
	es, _, _ := env.trail.Query(t.Context(), audit.Filter{Action: "users.export"})
	if len(es) != 2 || es[0].Detail != "downloaded "+id+" of every connection" || es[0].Outcome != audit.OutcomeSuccess {
		t.Errorf("download audit = %+v", es)
	}
}
