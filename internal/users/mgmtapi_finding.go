package users

import (
	"context"
	"io"

	"github.com/userdesk/userdesk/internal/mgmt"
)

// The Management API calls of finding users (FindingAPI).

func (a mgmtAPI) FindUsersByEmail(ctx context.Context, email string) ([]mgmt.User, error) {
	return a.c.Users.ListByEmail(ctx, email)
}

func (a mgmtAPI) StartUsersExport(ctx context.Context, j mgmt.UsersExportJob) (*mgmt.Job, error) {
	return a.c.Jobs.UsersExport(ctx, j)
}

func (a mgmtAPI) UsersExportJob(ctx context.Context, id string) (*mgmt.Job, error) {
	return a.c.Jobs.Get(ctx, id)
}

func (a mgmtAPI) DownloadUsersExport(ctx context.Context, job *mgmt.Job) (io.ReadCloser, error) {
	return a.c.Jobs.Download(ctx, job)
}
