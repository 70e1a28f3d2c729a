package users_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/auditlog"
	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/users/userstest"
)

func exportEnv(t *testing.T) (*users.Service, *userstest.API, audit.Store) {
	t.Helper()
	api := userstest.New(searchConns())
	trail := audit.NewMemory()
	return &users.Service{API: api, Audit: auditlog.New(trail, nil)}, api, trail
}

func TestStartExport(t *testing.T) {
	svc, api, trail := exportEnv(t)
	job, err := svc.StartExport(context.Background(), users.ExportRequest{Connection: "google-oauth2", Fields: []string{"logins_count", "email", "identities[0].connection"}})
	if err != nil {
		t.Fatal(err)
	}
	calls := api.CallsTo("StartUsersExport")
	if len(calls) != 1 {
		t.Fatalf("export calls = %d", len(calls))
	}
	sent := calls[0].Params.(mgmt.UsersExportJob)
	want := mgmt.UsersExportJob{ConnectionID: "con_2", Format: "csv", Fields: []mgmt.ExportField{
		{Name: "email", ExportAs: "email"}, {Name: "identities[0].connection", ExportAs: "connection"}, {Name: "logins_count", ExportAs: "logins_count"}}}
	if !reflect.DeepEqual(sent, want) {
		t.Errorf("sent %+v\nwant %+v", sent, want)
	}
	es, _, _ := trail.Query(context.Background(), audit.Filter{})
	if len(es) != 1 {
		t.Fatalf("audit entries = %+v", es)
	}
	e := es[0]
	if e.Action != "users.export" || e.Outcome != audit.OutcomeSuccess || e.CorrelationID == "" || e.CorrelationID != calls[0].CorrelationID ||
		e.Detail != "started "+job.ID+" of connection google-oauth2" || len(e.Changes) != 2 ||
		e.Changes[1].After != `["email","identities[0].connection","logins_count"]` || e.Changes[0].After != `"google-oauth2"` {
		t.Errorf("audit entry = %+v", e)
	}
}

func TestStartExportAllConnections(t *testing.T) {
	svc, api, _ := exportEnv(t)
	if _, err := svc.StartExport(context.Background(), users.ExportRequest{Fields: users.DefaultExportFields()}); err != nil {
		t.Fatal(err)
	}
	sent := api.CallsTo("StartUsersExport")[0].Params.(mgmt.UsersExportJob)
	if sent.ConnectionID != "" || len(sent.Fields) != len(users.DefaultExportFields()) {
		t.Errorf("sent %+v, want every connection and the default fields", sent)
	}
	if n := len(api.CallsTo("ListConnections")); n != 0 {
		t.Errorf("listed connections %d times without a connection to resolve", n)
	}
}

func TestStartExportInvalid(t *testing.T) {
	for _, tt := range []struct {
		name  string
		req   users.ExportRequest
		field string
		msg   string
	}{
		{"no fields", users.ExportRequest{}, "fields", users.MsgExportFieldsRequired},
		{"unknown field", users.ExportRequest{Fields: []string{"email", "app_metadata"}}, "fields", users.MsgExportFieldUnknown},
		{"unknown connection", users.ExportRequest{Connection: "nope", Fields: []string{"email"}}, "connection", users.MsgExportConnectionUnknown},
	} {
		t.Run(tt.name, func(t *testing.T) {
			svc, api, trail := exportEnv(t)
			_, err := svc.StartExport(context.Background(), tt.req)
			var p *users.Problem
			if !errors.As(err, &p) || p.Status != http.StatusUnprocessableEntity || p.Fields[tt.field] != tt.msg {
				t.Fatalf("err = %v, want 422 with %s: %s", err, tt.field, tt.msg)
			}
			if n := len(api.CallsTo("StartUsersExport")); n != 0 {
				t.Error("an invalid export reached Auth0")
			}
			if es, _, _ := trail.Query(context.Background(), audit.Filter{}); len(es) != 0 {
				t.Errorf("an export that was never attempted was audited: %+v", es)
			}
		})
	}
}

func TestStartExportUpstreamFailureAudited(t *testing.T) {
	svc, api, trail := exportEnv(t)
	api.Fail = func(m string) error {
		if m == "StartUsersExport" {
			return &mgmt.Error{StatusCode: 429, Message: "Too many requests"}
		}
		return nil
	}
	_, err := svc.StartExport(context.Background(), users.ExportRequest{Fields: []string{"email"}})
	var p *users.Problem
	if !errors.As(err, &p) || p.Status != http.StatusServiceUnavailable {
		t.Fatalf("err = %v", err)
	}
	es, _, _ := trail.Query(context.Background(), audit.Filter{})
	if len(es) != 1 || es[0].Outcome != audit.OutcomeFailure || es[0].UpstreamStatus != 429 {
		t.Errorf("audit = %+v", es)
	}
}

func TestExportJob(t *testing.T) {
	svc, api, _ := exportEnv(t)
	ctx := context.Background()
	api.SetExportJob(mgmt.Job{ID: "job_verify00000001", Type: "verification_email", Status: mgmt.JobCompleted}, "")
	for _, id := range []string{"", "job_", "../users", "job_abc/def", "job_nope0000000000", "job_verify00000001"} {
		if _, err := svc.ExportJob(ctx, id); !errors.Is(err, users.ErrNoExport) {
			t.Errorf("ExportJob(%q) = %v, want ErrNoExport", id, err)
		}
	}
	if n := len(api.CallsTo("UsersExportJob")); n != 2 {
		t.Errorf("malformed ids reached Auth0: %d calls, want 2", n)
	}
	job, _ := svc.StartExport(ctx, users.ExportRequest{Fields: []string{"email"}})
	got, err := svc.ExportJob(ctx, job.ID)
	if err != nil || got.Status != mgmt.JobPending {
		t.Errorf("ExportJob = %+v, %v", got, err)
	}
}

func TestOpenExport(t *testing.T) {
	svc, api, trail := exportEnv(t)
	ctx := context.Background()
	job, _ := svc.StartExport(ctx, users.ExportRequest{Fields: []string{"email", "name", "phone_number"}})

	_, err := svc.OpenExport(ctx, job.ID)
	var p *users.Problem
	if !errors.As(err, &p) || p.Status != http.StatusConflict || p.Message != users.MsgExportNotFinished {
		t.Errorf("pending job download: %v", err)
	}
	j := *job
	j.Status = mgmt.JobFailed
	api.SetExportJob(j, "")
	if _, err := svc.OpenExport(ctx, job.ID); !errors.As(err, &p) || p.Message != users.MsgExportFailed {
		t.Errorf("failed job download: %v", err)
	}
	if n := len(api.CallsTo("DownloadUsersExport")); n != 0 {
		t.Errorf("unfinished jobs downloaded %d times", n)
	}

	j.Status = mgmt.JobCompleted
	api.SetExportJob(j, "email,name,phone_number\n"+
		"jane@example.com,Jane,\n"+
		"evil@example.com,\"=HYPERLINK(\"\"http://x\"\")\",+14155550123\n"+
		"bob@example.com,\"Bob, \"\"the\"\" builder\",\n")
	f, err := svc.OpenExport(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if err := f.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	want := "email,name,phone_number\n" +
		"jane@example.com,Jane,\n" +
		"evil@example.com,\"'=HYPERLINK(\"\"http://x\"\")\",'+14155550123\n" +
		"bob@example.com,\"Bob, \"\"the\"\" builder\",\n"
	if buf.String() != want {
		t.Errorf("CSV =\n%s\nwant\n%s", buf.String(), want)
	}
	if f.Name != "users-"+job.ID+".csv" {
		t.Errorf("file name %q", f.Name)
	}
	es, _, _ := trail.Query(ctx, audit.Filter{})
	if len(es) != 2 || es[0].Action != "users.export" || es[0].Detail != "downloaded "+job.ID+" of every connection" {
		t.Errorf("download not audited: %+v", es)
	}
}

// failingStore refuses every append.
type failingStore struct{ audit.Store }

func (failingStore) Append(context.Context, audit.Entry) (audit.Entry, error) {
	return audit.Entry{}, errors.New("disk full")
}

func TestOpenExportRefusedWithoutAudit(t *testing.T) {
	api := userstest.New(searchConns())
	api.SetExportJob(mgmt.Job{ID: "job_0000000000000009", Type: "users_export", Status: mgmt.JobCompleted, Format: "csv"}, "email\nx@example.com\n")
	svc := &users.Service{API: api, Audit: auditlog.New(failingStore{audit.NewMemory()}, nil)}
	_, err := svc.OpenExport(context.Background(), "job_0000000000000009")
	var p *users.Problem
	if !errors.As(err, &p) || p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Message, "audit entry") {
		t.Errorf("err = %v, want the download refused", err)
	}
}
