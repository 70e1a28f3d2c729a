package mgmt

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"
)

// JobManager wraps /api/v2/jobs: verification emails and user exports, and downloads finished
// exports.
type JobManager struct{ c *core }

// Job statuses.
const (
	JobPending    = "pending"
	JobProcessing = "processing"
	JobCompleted  = "completed"
	JobFailed     = "failed"
)

// Job is an Auth0 background job as POST /jobs/… and GET /jobs/{id} report it. Type is
// "verification_email", "users_export" or "users_import". A completed export carries Location, the
// URL of its gzipped file (see Download), PercentageDone and TimeLeftSeconds. Unknown keys (an
// import's "summary", ...) are kept in Extra.
type Job struct {
	ID              string        `json:"id,omitempty"` // "job_" and 16 characters
	Type            string        `json:"type,omitempty"`
	Status          string        `json:"status,omitempty"` // JobPending, JobProcessing, JobCompleted or JobFailed
	CreatedAt       *time.Time    `json:"created_at,omitempty"`
	ConnectionID    string        `json:"connection_id,omitempty"`
	Connection      string        `json:"connection,omitempty"` // the connection's name
	Format          string        `json:"format,omitempty"`     // export: "csv" or "json"
	Limit           int           `json:"limit,omitempty"`      // export: at most this many users (0 = all)
	Fields          []ExportField `json:"fields,omitempty"`
	Location        string        `json:"location,omitempty"` // completed export: the file's URL, a credential
	PercentageDone  *int          `json:"percentage_done,omitempty"`
	TimeLeftSeconds *int          `json:"time_left_seconds,omitempty"`

	// Extra holds every other key of the response.
	Extra map[string]json.RawMessage `json:"-"`
	zero  map[string]json.RawMessage // known keys that came as null, "" or 0: see decodeObject
}

// Done reports whether the job has finished, successfully or not.
func (j *Job) Done() bool { return j.Status == JobCompleted || j.Status == JobFailed }

// JobIdentity names one identity of a user: Provider ("auth0", "google-oauth2", ...) and the
// identity's own UserID (without the "provider|" prefix).
type JobIdentity struct {
	UserID   string `json:"user_id"`
	Provider string `json:"provider"`
}

// VerificationEmailJob is the body of POST /api/v2/jobs/verification-email.
type VerificationEmailJob struct {
	UserID         string       `json:"user_id"`
	ClientID       string       `json:"client_id,omitempty"` // the application whose email template and link are used
	Identity       *JobIdentity `json:"identity,omitempty"`  // a secondary identity to verify
	OrganizationID string       `json:"organization_id,omitempty"`
}

// ExportField is one column of an export: Name is a user attribute path ("email",
// "identities[0].connection", "app_metadata.plan"); ExportAs renames the column.
type ExportField struct {
	Name     string `json:"name"`
	ExportAs string `json:"export_as,omitempty"`
}

// UsersExportJob is the body of POST /api/v2/jobs/users-exports.
type UsersExportJob struct {
	ConnectionID string        `json:"connection_id,omitempty"` // "" = every connection
	Format       string        `json:"format,omitempty"`        // "csv" (Auth0's default) or "json" (one object per line)
	Limit        int           `json:"limit,omitempty"`         // 0 = every user
	Fields       []ExportField `json:"fields,omitempty"`        // nil = Auth0's default set
}

// VerificationEmail asks Auth0 to send the user the verification email (the "resend verification
// email" action) and returns the pending job; Get tells whether it was sent. A POST: resent only
// after a 429.
//
// Scopes: update:users. See https://auth0.com/docs/api/management/v2/jobs/post-verification-email
func (m *JobManager) VerificationEmail(ctx context.Context, j VerificationEmailJob) (*Job, error) {
	if err := checkID("user", j.UserID); err != nil {
		return nil, err
	}
	var out Job
	if err := m.c.call(ctx, http.MethodPost, routeJobVerification, m.c.endpoint("jobs", "verification-email"), nil, j, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UsersExport starts an export of the users (of one connection, or all) into a file, which is how a
// search past Auth0's 1,000-result cap gets every row. Poll Get until the job is Done, then
// Download its file. A POST: resent only after a 429.
//
// Scopes: read:users. See https://auth0.com/docs/api/management/v2/jobs/post-users-exports
func (m *JobManager) UsersExport(ctx context.Context, j UsersExportJob) (*Job, error) {
	var out Job
	if err := m.c.call(ctx, http.MethodPost, routeJobExport, m.c.endpoint("jobs", "users-exports"), nil, j, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Get returns the job's current state. A missing job is an *Error matching ErrNotFound.
//
// Scopes: create:users or read:users. See https://auth0.com/docs/api/management/v2/jobs/get-jobs-by-id
func (m *JobManager) Get(ctx context.Context, id string) (*Job, error) {
	if err := checkID("job", id); err != nil {
		return nil, err
	}
	var out Job
	if err := m.c.call(ctx, http.MethodGet, routeJob, m.c.endpoint("jobs", id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// maxDownloadRedirects bounds the redirects an export download follows.
const maxDownloadRedirects = 5

// Download fetches the file of a completed export (job.Location) and returns it decompressed: CSV
// with a header row, or one JSON object per line. The caller must close it; the stream ends with
// ctx, and the client's timeout bounds only the wait for the response headers. A transport error,
// 502, 503, 504 or 429 before the headers is retried like a read.
//
// The Management API token is sent only when the location is on the tenant's own origin (scheme,
// host and port); Auth0 serves exports from a pre-signed URL on another host (S3), which gets no
// Authorization header, and neither does any redirect that leaves the tenant's origin. The location
// is itself a credential (its signature grants the file): errors never quote it. When the tenant is
// https, a plain-http location is refused, since the file holds personal data.
//
// Scopes: none beyond those of the job. See
// https://auth0.com/docs/manage-users/user-migration/bulk-user-exports
func (m *JobManager) Download(ctx context.Context, job *Job) (io.ReadCloser, error) {
	if job == nil || job.Location == "" {
		status := ""
		if job != nil {
			status = job.Status
		}
		return nil, fmt.Errorf("mgmt: the export has no download location yet (status %q)", status)
	}
	loc, err := url.Parse(job.Location)
	if err != nil || (loc.Scheme != "http" && loc.Scheme != "https") || loc.Host == "" {
		return nil, errors.New("mgmt: the export location is not an absolute http(s) URL")
	}
	if m.c.base.Scheme == "https" && loc.Scheme != "https" {
		return nil, errors.New("mgmt: the export location is not https; the file is not fetched in clear text")
	}
	tenant := origin(m.c.base)
	hc := *m.c.http
	hc.Timeout = 0 // the header timeout is ours; the body may take longer
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxDownloadRedirects {
			return fmt.Errorf("stopped after %d redirects", maxDownloadRedirects)
		}
		if m.c.base.Scheme == "https" && req.URL.Scheme != "https" {
			return errors.New("redirected to plain http")
		}
		// net/http forwards Authorization to the same host name on another port and to
		// subdomains; only the tenant's exact origin may have it.
		if origin(req.URL) != tenant {
			req.Header.Del("Authorization")
		}
		return nil
	}
	get := &request{method: http.MethodGet, route: routeJobDownload}
	for attempt := 0; ; attempt++ {
		body, err := m.fetch(ctx, &hc, loc, origin(loc) == tenant)
		if err == nil {
			return body, nil
		}
		wait, reason, ok := m.c.retryWait(get, err, attempt)
		if !ok || ctx.Err() != nil {
			return nil, err
		}
		m.c.metrics.Retry(routeJobDownload, reason)
		m.c.metrics.Wait(routeJobDownload, "retry", wait)
		if m.c.sleep(ctx, wait) != nil {
			return nil, err
		}
	}
}

// fetch is one download attempt.
func (m *JobManager) fetch(ctx context.Context, hc *http.Client, loc *url.URL, withToken bool) (io.ReadCloser, error) {
	rctx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(m.c.timeout, cancel)
	fail := func(err error) (io.ReadCloser, error) {
		timer.Stop()
		cancel()
		return nil, err
	}
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, loc.String(), nil)
	if err != nil {
		return fail(errors.New("mgmt: building the export download request failed"))
	}
	req.Header.Set("User-Agent", m.c.userAgent)
	// Set explicitly, so the transport hands over the bytes as stored instead of decoding a
	// Content-Encoding: gzip itself; the file is gunzipped below either way.
	req.Header.Set("Accept-Encoding", "gzip")
	accessToken := ""
	if withToken {
		tok, err := m.c.tokens.token(rctx)
		if err != nil {
			return fail(err)
		}
		accessToken = tok.AccessToken
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}

	start := time.Now()
	resp, err := hc.Do(req)
	inTime := timer.Stop()
	if err != nil || !inTime {
		m.c.metrics.Call(routeJobDownload, http.MethodGet, 0, time.Since(start))
		if resp != nil {
			resp.Body.Close()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error quotes the signed URL
		}
		if !inTime && ctx.Err() == nil {
			err = fmt.Errorf("no response within %s: %w", m.c.timeout, context.DeadlineExceeded)
		}
		return fail(&TransportError{Method: http.MethodGet, Endpoint: routeJobDownload, Err: err})
	}
	m.c.metrics.Call(routeJobDownload, http.MethodGet, resp.StatusCode, time.Since(start))
	closeAll := func() error {
		err := resp.Body.Close()
		cancel()
		return err
	}
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
		closeAll()
		if withToken {
			return nil, m.c.apiError(resp, raw, accessToken, "")
		}
		// Another host's body (S3's XML) is never copied into the error.
		e := &Error{StatusCode: resp.StatusCode, Err: http.StatusText(resp.StatusCode)}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			e.RetryAfter = retryAfter(resp.Header, m.c.now())
		}
		return nil, e
	}
	br := bufio.NewReader(resp.Body)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("mgmt: the export file is not valid gzip: %w", err)
		}
		return &download{Reader: zr, close: func() error { zr.Close(); return closeAll() }}, nil
	}
	return &download{Reader: br, close: closeAll}, nil
}

// download is the stream Download returns; Close releases the connection.
type download struct {
	io.Reader
	close func() error
}

func (d *download) Close() error { return d.close() }

// origin is "scheme://host:port" with the host lower-cased and the default port made explicit.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return strings.ToLower(u.Scheme) + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

type jobAlias Job

// UnmarshalJSON decodes a job, keeping unknown keys in Extra.
func (j *Job) UnmarshalJSON(data []byte) error {
	*j = Job{}
	var err error
	j.Extra, j.zero, err = decodeObject(data, (*jobAlias)(j))
	return err
}

// MarshalJSON encodes the job as it came, the timestamp in Auth0's layout.
func (j Job) MarshalJSON() ([]byte, error) {
	aux := struct {
		jobAlias
		CreatedAt *auth0Time `json:"created_at,omitempty"`
	}{jobAlias(j), (*auth0Time)(j.CreatedAt)}
	return encodeObject(aux, reflect.TypeFor[jobAlias](), j.Extra, j.zero)
}
