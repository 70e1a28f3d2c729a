package userstest

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/userdesk/userdesk/internal/mgmt"
)

// findingState is the fake's users-export jobs.
type findingState struct {
	jobs    map[string]*mgmt.Job
	files   map[string]string // job id → the export file (CSV text)
	nextJob int
}

// FindUsersByEmail returns the stored users whose email is exactly email (users-by-email is
// case-sensitive), in insertion order.
func (a *API) FindUsersByEmail(_ context.Context, email string) ([]mgmt.User, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "FindUsersByEmail", ID: email}); err != nil {
		return nil, err
	}
	out := []mgmt.User{}
	for _, id := range a.order {
		if u := a.users[id]; u.Email == email {
			out = append(out, clone(*u))
		}
	}
	return out, nil
}

// StartUsersExport stores a pending users-export job (id job_0000000000000001, …) for the
// connection, which must be one of Connections. Params records the request.
func (a *API) StartUsersExport(ctx context.Context, j mgmt.UsersExportJob) (*mgmt.Job, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "StartUsersExport", Params: j, CorrelationID: mgmt.CorrelationID(ctx)}); err != nil {
		return nil, err
	}
	job := &mgmt.Job{Type: "users_export", Status: mgmt.JobPending, ConnectionID: j.ConnectionID, Format: j.Format, Fields: j.Fields}
	if j.ConnectionID != "" {
		for _, c := range a.Connections {
			if c.ID == j.ConnectionID {
				job.Connection = c.Name
			}
		}
		if job.Connection == "" {
			return nil, &mgmt.Error{StatusCode: 400, Err: "Bad Request", Message: "The connection does not exist", ErrorCode: "inexistent_connection"}
		}
	}
	a.finding.nextJob++
	job.ID = fmt.Sprintf("job_%016d", a.finding.nextJob)
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	job.CreatedAt = &now
	if a.finding.jobs == nil {
		a.finding.jobs = map[string]*mgmt.Job{}
	}
	a.finding.jobs[job.ID] = job
	c := *job
	return &c, nil
}

// SetExportJob stores job (replacing one with the same id), e.g. to move it to processing, failed or
// completed. For a completed job, file is the CSV the download returns and Location is set.
func (a *API) SetExportJob(job mgmt.Job, file string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.finding.jobs == nil {
		a.finding.jobs = map[string]*mgmt.Job{}
		a.finding.files = map[string]string{}
	}
	if a.finding.files == nil {
		a.finding.files = map[string]string{}
	}
	if job.Status == mgmt.JobCompleted && job.Location == "" {
		job.Location = "https://exports.example/" + job.ID + "/signed-secret-token.csv.gz"
	}
	a.finding.jobs[job.ID] = &job
	a.finding.files[job.ID] = file
}

// ExportJob returns a copy of the stored export job with that id, if any.
func (a *API) ExportJob(id string) (mgmt.Job, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	j, ok := a.finding.jobs[id]
	if !ok {
		return mgmt.Job{}, false
	}
	return *j, true
}

// UsersExportJob returns the stored job or a 404 *mgmt.Error matching mgmt.ErrNotFound.
func (a *API) UsersExportJob(_ context.Context, id string) (*mgmt.Job, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "UsersExportJob", ID: id}); err != nil {
		return nil, err
	}
	j, ok := a.finding.jobs[id]
	if !ok {
		return nil, &mgmt.Error{StatusCode: 404, Err: "Not Found", Message: "The job does not exist.", ErrorCode: "inexistent_job"}
	}
	c := *j
	return &c, nil
}

// DownloadUsersExport returns the file SetExportJob stored for a completed job.
func (a *API) DownloadUsersExport(_ context.Context, job *mgmt.Job) (io.ReadCloser, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "DownloadUsersExport", ID: job.ID}); err != nil {
		return nil, err
	}
	if job.Location == "" {
		return nil, fmt.Errorf("userstest: the export has no download location yet (status %q)", job.Status)
	}
	return io.NopCloser(strings.NewReader(a.finding.files[job.ID])), nil
}
