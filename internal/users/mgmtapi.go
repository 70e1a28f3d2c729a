package users

import (
	"context"

	"github.com/userdesk/userdesk/internal/mgmt"
)

// NewMgmtAPI adapts the Management API client to API.
func NewMgmtAPI(c *mgmt.Client) API { return mgmtAPI{c: c} }

type mgmtAPI struct{ c *mgmt.Client }

func (a mgmtAPI) ListUsers(ctx context.Context, p mgmt.ListUsersParams) (*mgmt.UserList, error) {
	return a.c.Users.List(ctx, p)
}

func (a mgmtAPI) GetUser(ctx context.Context, id string) (*mgmt.User, error) {
	return a.c.Users.Get(ctx, id)
}

func (a mgmtAPI) CreateUser(ctx context.Context, u *mgmt.UserCreate) (*mgmt.User, error) {
	return a.c.Users.Create(ctx, u)
}

func (a mgmtAPI) UpdateUser(ctx context.Context, id string, u *mgmt.UserUpdate) (*mgmt.User, error) {
	return a.c.Users.Update(ctx, id, u)
}

func (a mgmtAPI) ListConnections(ctx context.Context, p mgmt.ListConnectionsParams) (*mgmt.ConnectionList, error) {
	return a.c.Connections.List(ctx, p)
}
