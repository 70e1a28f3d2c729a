package tenant

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/subtle"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// Jobs: verification emails and user exports (contract §5.4, §5.8). An export streams every matching
// user (no 1,000-record cap) into a gzipped CSV or newline-delimited JSON file that the tenant serves
// at the job's location URL.

var errJobNotFound = &apiError{Status: http.StatusNotFound, Code: "inexistent_job", Message: "The job does not exist."}

const (
	maxExportFields = 30   // "You can export up to 30 fields" (Auth0 bulk export docs)
	exportBatch     = 1000 // users read per store call while exporting
)

// defaultExportFields are exported when the request names none [I: Auth0 documents "a predefined
// set of fields" without listing it].
var defaultExportFields = []exportField{
	{Name: "user_id"}, {Name: "email"}, {Name: "email_verified"}, {Name: "name"}, {Name: "nickname"},
	{Name: "created_at"}, {Name: "updated_at"}, {Name: "last_login"}, {Name: "logins_count"},
	{Name: "identities[0].connection"},
}

type exportField struct {
	Name     string `json:"name"`
	ExportAs string `json:"export_as,omitempty"`
}

func (f exportField) column() string { return firstNonEmpty(f.ExportAs, f.Name) }

func newJobID() string { return "job_" + randomString(16, alnum) }

// jobJSON is a job as Auth0 reports it; finished exports add location, percentage_done and
// time_left_seconds (GA1 job.go).
type jobJSON struct {
	Type            string          `json:"type"`
	Status          string          `json:"status"`
	ConnectionID    string          `json:"connection_id,omitempty"`
	Format          string          `json:"format,omitempty"`
	Limit           int             `json:"limit,omitempty"`
	Fields          json.RawMessage `json:"fields,omitempty"`
	Connection      string          `json:"connection,omitempty"`
	CreatedAt       string          `json:"created_at"`
	ID              string          `json:"id"`
	Location        string          `json:"location,omitempty"`
	PercentageDone  *int            `json:"percentage_done,omitempty"`
	TimeLeftSeconds *int            `json:"time_left_seconds,omitempty"`
}

func (t *Tenant) toJobJSON(j store.Job) jobJSON {
	out := jobJSON{Type: j.Type, Status: j.Status, ConnectionID: j.ConnectionID, Format: j.Format, Limit: j.Limit,
		Fields: j.Fields, Connection: j.Connection, CreatedAt: auth0Time(j.CreatedAt), ID: j.ID}
	if j.Type == "users_export" && j.Status == "completed" {
		done, left := 100, 0
		out.Location, out.PercentageDone, out.TimeLeftSeconds = t.exportURL(j), &done, &left
	}
	return out
}

func exportExt(format string) string {
	if format == "json" {
		return ".json.gz"
	}
	return ".csv.gz"
}

// exportURL is the download address of a finished export; the token makes it unguessable, like the
// pre-signed URL Auth0 returns, so it needs no bearer token.
func (t *Tenant) exportURL(j store.Job) string {
	return t.baseURL + "/exports/" + j.ID + "/" + j.FileToken + exportExt(j.Format)
}

// getJob is GET /api/v2/jobs/{id}.
func (t *Tenant) getJob(w http.ResponseWriter, r *http.Request, _ *principal) error {
	j, err := t.store.GetJob(r.Context(), r.PathValue("id"))
	if err != nil {
		return notFoundAs(err, errJobNotFound)
	}
	writeJSON(w, http.StatusOK, t.toJobJSON(j))
	return nil
}

// startJob runs fn in the background under the tenant's job context.
func (t *Tenant) startJob(fn func(ctx context.Context)) {
	t.support.jobs.Add(1)
	go func() {
		defer t.support.jobs.Done()
		fn(t.support.ctx)
	}()
}

// setJobStatus records a job's new status; failures are logged.
func (t *Tenant) setJobStatus(ctx context.Context, id string, fn func(j *store.Job)) {
	if _, err := t.store.UpdateJob(ctx, id, func(old store.Job) (store.Job, error) { fn(&old); return old, nil }); err != nil {
		t.log.ErrorContext(ctx, "tenant: update job", "job", id, "err", err)
	}
}

// --- verification email ---

// createVerificationJob is POST /api/v2/jobs/verification-email: 201 with a pending job (recorded).
// The tenant has no email transport, so the job then fails, as the recorded one did on a tenant
// without an email provider, and the failure is logged as an "fn" (failed notification) event; a
// support agent can send the link of an email-verification ticket instead.
func (t *Tenant) createVerificationJob(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var b struct {
		UserID         string `json:"user_id"`
		ClientID       string `json:"client_id"`
		OrganizationID string `json:"organization_id"`
		Identity       *struct {
			UserID   string `json:"user_id"`
			Provider string `json:"provider"`
		} `json:"identity"`
	}
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	if b.UserID == "" {
		return invalidBody("'Missing required property: user_id' on property user_id (user_id of the user to send the verification email to.).")
	}
	u, err := t.store.GetUser(r.Context(), b.UserID)
	if err != nil {
		return notFoundAs(err, &apiError{Status: http.StatusBadRequest, Code: "inexistent_user", Message: "The user does not exist."})
	}
	if b.Identity != nil {
		provider, id, _ := strings.Cut(u.ID, "|")
		if b.Identity.Provider != provider || b.Identity.UserID != id {
			return invalidBody("'identity' does not match an identity of the user.")
		}
	}
	j := store.Job{ID: newJobID(), Type: "verification_email", Status: "pending", UserID: u.ID, ClientID: b.ClientID,
		CreatedAt: t.now().UTC().Truncate(time.Millisecond)}
	if err := t.store.CreateJob(r.Context(), j); err != nil {
		return err
	}
	ip, host, ua := clientIP(r), r.Host, r.UserAgent()
	t.startJob(func(ctx context.Context) {
		e := store.LogEvent{Type: "fn", Description: strp("To: " + u.Email), UserID: strp(u.ID), UserName: strp(u.Email),
			ClientID: strp(b.ClientID), IP: strp(ip), Hostname: strp(host), UserAgent: strp(ua)}
		e.Details, _ = marshal(map[string]string{"email_type": "verify_email", "to": u.Email,
			"error": "no email provider is configured for this tenant"})
		t.writeLog(ctx, e)
		t.setJobStatus(ctx, j.ID, func(j *store.Job) { j.Status = "failed" })
	})
	writeJSON(w, http.StatusCreated, t.toJobJSON(j))
	return nil
}

// --- users export ---

var exportFieldName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_\-]*(\[\d+\])?(\.[A-Za-z0-9_\-]+(\[\d+\])?)*$`)

// createExportJob is POST /api/v2/jobs/users-exports: 200 with the pending job (recorded).
func (t *Tenant) createExportJob(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var b struct {
		ConnectionID string        `json:"connection_id"`
		Format       string        `json:"format"`
		Limit        *int          `json:"limit"`
		Fields       []exportField `json:"fields"`
	}
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	switch b.Format {
	case "":
		b.Format = "csv"
	case "csv", "json":
	default:
		return invalidBody("'No enum match for: \"%s\"' on property format (Format of the file. Must be `json` or `csv`.).", b.Format)
	}
	if b.Limit != nil && *b.Limit < 1 {
		return invalidBody("'Value %d is less than minimum 1' on property limit (Limit the number of records.).", *b.Limit)
	}
	if len(b.Fields) > maxExportFields {
		return invalidBody("'Array is too long (%d), maximum %d' on property fields (List of fields to be included in the CSV. Defaults to a predefined set of fields.).", len(b.Fields), maxExportFields)
	}
	fields := b.Fields
	if len(fields) == 0 {
		fields = defaultExportFields
	}
	for _, f := range fields {
		if !exportFieldName.MatchString(f.Name) {
			return invalidBody("'Invalid field name: %s' on property fields.", f.Name)
		}
		if b.Format == "csv" && (f.Name == "user_metadata" || f.Name == "app_metadata") {
			return invalidBody("CSV exports cannot include the whole %s object: name each metadata field, e.g. %s.plan.", f.Name, f.Name)
		}
	}
	j := store.Job{ID: newJobID(), Type: "users_export", Status: "pending", Format: b.Format,
		CreatedAt: t.now().UTC().Truncate(time.Millisecond), FileToken: randomString(32, alnum)}
	if b.Limit != nil {
		j.Limit = *b.Limit
	}
	if b.ConnectionID != "" {
		c, err := t.store.GetConnection(r.Context(), b.ConnectionID)
		if err != nil {
			return notFoundAs(err, &apiError{Status: http.StatusBadRequest, Code: "inexistent_connection", Message: "The connection does not exist"})
		}
		j.ConnectionID, j.Connection = c.ID, c.Name
	}
	var err error
	if j.Fields, err = marshal(fields); err != nil {
		return err
	}
	if err := t.store.CreateJob(r.Context(), j); err != nil {
		return err
	}
	t.startJob(func(ctx context.Context) { t.runExport(ctx, j, fields) })
	writeJSON(w, http.StatusOK, t.toJobJSON(j))
	return nil
}

// runExport writes the export file of j and completes (or fails) the job.
func (t *Tenant) runExport(ctx context.Context, j store.Job, fields []exportField) {
	t.setJobStatus(ctx, j.ID, func(x *store.Job) { x.Status = "processing" })
	data, n, err := t.exportUsers(ctx, j, fields)
	if err == nil {
		err = t.store.PutJobFile(ctx, j.ID, data)
	}
	if err != nil {
		t.log.ErrorContext(ctx, "tenant: users export", "job", j.ID, "err", err)
		t.setJobStatus(ctx, j.ID, func(x *store.Job) { x.Status = "failed" })
		return
	}
	t.setJobStatus(ctx, j.ID, func(x *store.Job) { x.Status, x.Exported = "completed", n })
}

// exportUsers streams the users (of the job's connection, ordered by user id, at most Limit) into a
// gzipped file: CSV with a header row of the column names, or one JSON object per line. Users are
// read exportBatch at a time with a user-id cursor (store.Query.After).
func (t *Tenant) exportUsers(ctx context.Context, j store.Job, fields []exportField) ([]byte, int, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	var cw *csv.Writer
	if j.Format == "csv" {
		cw = csv.NewWriter(zw)
		header := make([]string, len(fields))
		for i, f := range fields {
			header[i] = f.column()
		}
		if err := cw.Write(header); err != nil {
			return nil, 0, err
		}
	}
	q := store.Query{Limit: exportBatch, NoTotal: true}
	if j.Connection != "" {
		q.Expr = store.Term{Field: "identities.connection", Value: j.Connection}
	}
	written := 0
	for {
		if j.Limit > 0 {
			q.Limit = min(exportBatch, j.Limit-written)
			if q.Limit == 0 {
				break
			}
		}
		users, _, err := t.store.ListUsers(ctx, q)
		if err != nil {
			return nil, 0, err
		}
		for _, u := range users {
			doc, err := userDocument(u)
			if err != nil {
				return nil, 0, err
			}
			if cw != nil {
				row := make([]string, len(fields))
				for i, f := range fields {
					row[i] = csvValue(lookupPath(doc, f.Name))
				}
				if err := cw.Write(row); err != nil {
					return nil, 0, err
				}
			} else {
				obj := map[string]any{}
				for _, f := range fields {
					if v, ok := lookupPath(doc, f.Name); ok {
						obj[f.column()] = v
					}
				}
				line, err := marshal(obj)
				if err != nil {
					return nil, 0, err
				}
				if _, err := zw.Write(append(line, '\n')); err != nil {
					return nil, 0, err
				}
			}
			written++
		}
		if len(users) < q.Limit {
			break
		}
		// Keyset paging: the next batch starts after the last user id, so each batch costs the same
		// however deep the export is (offset paging would re-walk every earlier user: quadratic).
		q.After = users[len(users)-1].ID
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return nil, 0, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), written, nil
}

// userDocument is the user as the Management API shows it, decoded into generic JSON values.
func userDocument(u store.User) (map[string]any, error) {
	b, err := marshal(toUserJSON(u))
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	err = json.Unmarshal(b, &doc)
	return doc, err
}

// lookupPath resolves "a.b", "identities[0].connection" in doc.
func lookupPath(doc map[string]any, path string) (any, bool) {
	var cur any = doc
	for _, seg := range strings.Split(path, ".") {
		name, idx, hasIdx := strings.Cut(seg, "[")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[name]; !ok {
			return nil, false
		}
		if hasIdx {
			i, err := strconv.Atoi(strings.TrimSuffix(idx, "]"))
			arr, ok := cur.([]any)
			if err != nil || !ok || i >= len(arr) {
				return nil, false
			}
			cur = arr[i]
		}
	}
	return cur, true
}

// csvValue renders a value for a CSV cell: strings as they are, other values as JSON, missing as "".
func csvValue(v any, ok bool) string {
	if !ok || v == nil {
		return ""
	}
	if s, isStr := v.(string); isStr {
		return s
	}
	b, err := marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// handleExportDownload is GET /exports/{job}/{token}.{csv|json}.gz, the location of a finished export.
func (t *Tenant) handleExportDownload(w http.ResponseWriter, r *http.Request) {
	j, err := t.store.GetJob(r.Context(), r.PathValue("job"))
	want := ""
	if err == nil && j.Type == "users_export" && j.Status == "completed" {
		want = j.FileToken + exportExt(j.Format)
	}
	if want == "" || subtle.ConstantTimeCompare([]byte(r.PathValue("file")), []byte(want)) != 1 {
		http.NotFound(w, r)
		return
	}
	data, err := t.store.GetJobFile(r.Context(), j.ID)
	if err != nil {
		t.log.ErrorContext(r.Context(), "tenant: export download", "job", j.ID, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", j.ID+exportExt(j.Format)))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}
