package users

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/auditlog"
	"github.com/userdesk/userdesk/internal/csvsafe"
	"github.com/userdesk/userdesk/internal/mgmt"
)

// Exports get past the search's 1,000-result cap: Auth0's users-exports job writes every user of a
// connection (or of the tenant) into a file (auth0-contract §5.8). An export takes a connection_id,
// not a query, so it holds the whole connection, not only the search's matches; the pages say so.
//
// Permission: starting, watching and downloading an export needs authz.ReadUsers, the permission
// that already shows every user page by page. The bulk copy is what makes it sensitive, so every
// start and every download is audited as auditlog.ActionUsersExport, and a download whose audit
// entry cannot be written is refused (fail closed).

// ExportFieldChoice is one column the export form offers.
type ExportFieldChoice struct {
	Name     string // Auth0's attribute path
	ExportAs string // the CSV column name
	Label    string // what the form shows
	Default  bool   // ticked on a fresh form
}

var exportFields = []ExportFieldChoice{
	{Name: "user_id", ExportAs: "user_id", Label: "User id", Default: true},
	{Name: "email", ExportAs: "email", Label: "Email", Default: true},
	{Name: "name", ExportAs: "name", Label: "Name", Default: true},
	{Name: "email_verified", ExportAs: "email_verified", Label: "Email verified", Default: true},
	{Name: "blocked", ExportAs: "blocked", Label: "Blocked", Default: true},
	{Name: "identities[0].connection", ExportAs: "connection", Label: "Connection", Default: true},
	{Name: "created_at", ExportAs: "created_at", Label: "Created", Default: true},
	{Name: "last_login", ExportAs: "last_login", Label: "Last login", Default: true},
	{Name: "logins_count", ExportAs: "logins_count", Label: "Logins", Default: true},
	{Name: "given_name", ExportAs: "given_name", Label: "Given name"},
	{Name: "family_name", ExportAs: "family_name", Label: "Family name"},
	{Name: "nickname", ExportAs: "nickname", Label: "Nickname"},
	{Name: "username", ExportAs: "username", Label: "Username"},
	{Name: "phone_number", ExportAs: "phone_number", Label: "Phone number"},
	{Name: "updated_at", ExportAs: "updated_at", Label: "Updated"},
	{Name: "last_ip", ExportAs: "last_ip", Label: "Last IP"},
}

// ExportFields returns the columns the export form offers, in order.
func ExportFields() []ExportFieldChoice { return slices.Clone(exportFields) }

// DefaultExportFields returns the names of the columns ticked on a fresh form.
func DefaultExportFields() []string {
	var out []string
	for _, f := range exportFields {
		if f.Default {
			out = append(out, f.Name)
		}
	}
	return out
}

// ExportRequest is the export form as submitted.
type ExportRequest struct {
	Connection string   // a connection name; "" exports every connection
	Fields     []string // names from ExportFields
}

// Sentences of the export pages.
const (
	MsgExportFieldsRequired    = "Choose at least one field to export."
	MsgExportFieldUnknown      = "Choose fields from the list."
	MsgExportConnectionUnknown = "Choose one of the tenant's connections, or all connections."
	MsgExportNotFinished       = "The export has not finished yet; its page shows the progress."
	MsgExportFailed            = "Auth0 could not complete this export. Start a new one."
	MsgExportNotCSV            = "This export is not a CSV file; start a new export from Userdesk."
)

// ErrNoExport is returned (wrapped) for a job id that is not a users export Auth0 knows.
var ErrNoExport = errors.New("users: no such export")

// jobIDPattern is Auth0's job id shape ("job_" and 16 characters, a little looser here); anything
// else is not sent to Auth0.
var jobIDPattern = regexp.MustCompile(`^job_[A-Za-z0-9]{1,64}$`)

// StartExport validates r, resolves the connection's id and starts a CSV users-export job with the
// chosen columns. Invalid input is a *Problem with Status 422 and Fields "fields" or "connection",
// before any upstream write. Every attempt that reached Auth0 is audited as "users.export"; when
// that entry cannot be written, the started job is returned with ErrAuditFailed.
func (s *Service) StartExport(ctx context.Context, r ExportRequest) (*mgmt.Job, error) {
	fields, errs := exportColumns(r.Fields)
	if errs != nil {
		return nil, &Problem{Status: http.StatusUnprocessableEntity, Fields: errs}
	}
	job := mgmt.UsersExportJob{Format: "csv", Fields: fields}
	conn := strings.TrimSpace(r.Connection)
	if conn != "" {
		conns, err := s.Connections(ctx)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(conns, func(c mgmt.Connection) bool { return c.Name == conn })
		if i < 0 || conns[i].ID == "" {
			return nil, &Problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{"connection": MsgExportConnectionUnknown}}
		}
		job.ConnectionID = conns[i].ID
	}
	ctx, cid := withCorrelation(ctx)
	started, err := s.API.StartUsersExport(ctx, job)
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	scope := "every connection"
	if conn != "" {
		scope = "connection " + conn
	}
	entry := audit.Entry{
		Action:        auditlog.ActionUsersExport,
		Changes:       []audit.Change{{Field: "export.connection", After: jsonValue(conn)}, {Field: "export.fields", After: jsonValue(names)}},
		CorrelationID: cid,
	}
	if err == nil && (started == nil || started.ID == "") {
		err = errors.New("users: Auth0 answered the export without a job id")
	}
	if err != nil {
		entry.Outcome, entry.UpstreamStatus, entry.Detail = upstreamResult(err, true)
		explained := Explain(OpRead, err)
		if aerr := s.record(ctx, entry); aerr != nil {
			return nil, withAuditFailure(explained, aerr)
		}
		return nil, explained
	}
	entry.Outcome, entry.UpstreamStatus = audit.OutcomeSuccess, http.StatusOK
	entry.Detail = short("started " + started.ID + " of " + scope)
	if aerr := s.record(ctx, entry); aerr != nil {
		return started, aerr
	}
	return started, nil
}

// exportColumns turns the chosen names into export fields, in the form's order.
func exportColumns(names []string) ([]mgmt.ExportField, map[string]string) {
	if len(names) == 0 {
		return nil, map[string]string{"fields": MsgExportFieldsRequired}
	}
	var out []mgmt.ExportField
	for _, f := range exportFields {
		if slices.Contains(names, f.Name) {
			out = append(out, mgmt.ExportField{Name: f.Name, ExportAs: f.ExportAs})
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(exportFields, func(f ExportFieldChoice) bool { return f.Name == n }) {
			return nil, map[string]string{"fields": MsgExportFieldUnknown}
		}
	}
	return out, nil
}

// ExportJob returns the users-export job with that id: ErrNoExport for an id that is malformed,
// unknown to Auth0 or of another kind of job, a *Problem for other failures.
func (s *Service) ExportJob(ctx context.Context, id string) (*mgmt.Job, error) {
	if !jobIDPattern.MatchString(id) {
		return nil, ErrNoExport
	}
	job, err := s.API.UsersExportJob(ctx, id)
	switch {
	case errors.Is(err, mgmt.ErrNotFound):
		return nil, fmt.Errorf("%w: %w", ErrNoExport, err)
	case err != nil:
		return nil, Explain(OpRead, err)
	case job.Type != "users_export":
		return nil, ErrNoExport
	}
	return job, nil
}

// ExportFile is an open, completed export. Close it.
type ExportFile struct {
	// Name is the file name for Content-Disposition: users-<job id>.csv.
	Name string
	body io.ReadCloser
}

// Close releases the download.
func (f *ExportFile) Close() error { return f.body.Close() }

// OpenExport starts the download of a completed CSV export and records it in the audit trail. The
// file comes through Userdesk: the job's location (a credential) and the Management API token never
// reach the browser. A job still running is a 409 *Problem, a failed one 409 too; an audit entry
// that cannot be written refuses the download (503, MsgAuditFailed).
func (s *Service) OpenExport(ctx context.Context, id string) (*ExportFile, error) {
	job, err := s.ExportJob(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case job.Status == mgmt.JobFailed:
		return nil, &Problem{Status: http.StatusConflict, Message: MsgExportFailed}
	case job.Status != mgmt.JobCompleted:
		return nil, &Problem{Status: http.StatusConflict, Message: MsgExportNotFinished}
	case job.Format != "" && job.Format != "csv":
		return nil, &Problem{Status: http.StatusConflict, Message: MsgExportNotCSV}
	}
	body, err := s.API.DownloadUsersExport(ctx, job)
	if err != nil {
		return nil, Explain(OpRead, err)
	}
	entry := audit.Entry{Action: auditlog.ActionUsersExport, Outcome: audit.OutcomeSuccess, UpstreamStatus: http.StatusOK,
		Detail: short("downloaded " + job.ID + " of " + orAll(job.Connection))}
	if aerr := s.record(ctx, entry); aerr != nil {
		body.Close()
		return nil, &Problem{Status: http.StatusServiceUnavailable, Message: MsgAuditFailed, Err: aerr}
	}
	return &ExportFile{Name: "users-" + job.ID + ".csv", body: body}, nil
}

func orAll(conn string) string {
	if conn == "" {
		return "every connection"
	}
	return "connection " + conn
}

// WriteCSV copies the export to w as RFC 4180 CSV, each cell made inert for spreadsheets: a cell
// starting with = + - @, a tab, CR or LF (or their full-width forms) gets a leading single quote, so
// a name like =HYPERLINK(…) is shown as text instead of evaluated (CSV injection, ASVS 5 1.2.10).
// The header row passes through the same way.
func (f *ExportFile) WriteCSV(w io.Writer) error {
	r := csv.NewReader(f.body)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	cw := csv.NewWriter(w)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("users: export file: %w", err)
		}
		for i, cell := range rec {
			rec[i] = csvsafe.Cell(cell)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
