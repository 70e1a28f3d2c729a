package mgmt

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// DefaultPerPage is the page size sent when a List call leaves PerPage at 0 (Auth0's own default).
const DefaultPerPage = 50

// UserManager wraps the /api/v2/users and /api/v2/users-by-email endpoints.
type UserManager struct{ c *core }

// List returns one page of users, always with totals (include_totals=true). With a Q it searches with
// search_engine=v3; Auth0's search is eventually consistent and pages through at most 1,000 results.
//
// Scopes: read:users. See https://auth0.com/docs/api/management/v2/users/get-users
func (m *UserManager) List(ctx context.Context, p ListUsersParams) (*UserList, error) {
	q := url.Values{}
	q.Set("include_totals", "true")
	q.Set("per_page", strconv.Itoa(perPage(p.PerPage)))
	if p.Page > 0 {
		q.Set("page", strconv.Itoa(p.Page))
	}
	if p.Q != "" {
		q.Set("q", p.Q)
		q.Set("search_engine", "v3")
	}
	if p.Sort != "" {
		q.Set("sort", p.Sort)
	}
	var out UserList
	if err := m.c.do(ctx, http.MethodGet, m.c.endpoint("users"), q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Get returns the user with the given user_id (e.g. "auth0|63d17c4a8869daf88ed7db97"). A missing user
// is an *Error matching ErrNotFound.
//
// Scopes: read:users. See https://auth0.com/docs/api/management/v2/users/get-users-by-id
func (m *UserManager) Get(ctx context.Context, id string) (*User, error) {
	if err := checkID("user", id); err != nil {
		return nil, err
	}
	var out User
	if err := m.c.do(ctx, http.MethodGet, m.c.endpoint("users", id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Create creates a user in u.Connection and returns it as stored (201). A duplicate email or username
// is an *Error matching ErrConflict; a weak password or unknown connection matches ErrBadRequest.
// The outcome of a create that failed with a timeout or 5xx is unknown: look the user up before
// trying again.
//
// Scopes: create:users. See https://auth0.com/docs/api/management/v2/users/post-users
func (m *UserManager) Create(ctx context.Context, u *UserCreate) (*User, error) {
	var out User
	if err := m.c.do(ctx, http.MethodPost, m.c.endpoint("users"), nil, u, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Update patches the user and returns it as stored. Root attributes are replaced; user_metadata and
// app_metadata are merged on their top level only, and a nil value deletes that key.
//
// Scopes: update:users (or update:users_app_metadata). See
// https://auth0.com/docs/api/management/v2/users/patch-users-by-id
func (m *UserManager) Update(ctx context.Context, id string, u *UserUpdate) (*User, error) {
	if err := checkID("user", id); err != nil {
		return nil, err
	}
	var out User
	if err := m.c.do(ctx, http.MethodPatch, m.c.endpoint("users", id), nil, u, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete deletes the user. Auth0 answers 204 even when the user does not exist, so deleting twice is
// not an error.
//
// Scopes: delete:users. See https://auth0.com/docs/api/management/v2/users/delete-users-by-id
func (m *UserManager) Delete(ctx context.Context, id string) error {
	if err := checkID("user", id); err != nil {
		return err
	}
	return m.c.do(ctx, http.MethodDelete, m.c.endpoint("users", id), nil, nil, nil)
}

// ListByEmail returns every user (one per connection) whose email equals email. Unlike List it is
// immediately consistent. The match is case-sensitive and database connections store emails in lower
// case, so callers usually pass a lower-cased address.
//
// Scopes: read:users. See https://auth0.com/docs/api/management/v2/users-by-email/get-users-by-email
func (m *UserManager) ListByEmail(ctx context.Context, email string) ([]User, error) {
	q := url.Values{"email": {email}}
	var out []User
	if err := m.c.do(ctx, http.MethodGet, m.c.endpoint("users-by-email"), q, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func perPage(n int) int {
	if n <= 0 {
		return DefaultPerPage
	}
	return n
}
