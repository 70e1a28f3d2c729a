package mgmt

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
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
	r := &request{method: http.MethodGet, route: routeUsers, u: m.c.endpoint("users"), query: q, out: &out}
	if err := m.c.do(ctx, r); err != nil {
		return nil, err
	}
	return &out, nil
}

// Get returns the user with the given user_id (e.g. "auth0|63d17c4a8869daf88ed7db97"). A missing user
// is an *Error matching ErrNotFound.
//
// Scopes: read:users. See https://auth0.com/docs/api/management/v2/users/get-users-by-id
func (m *UserManager) Get(ctx context.Context, id string) (*User, error) {
	return m.get(ctx, id, false)
}

func (m *UserManager) get(ctx context.Context, id string, skipBreaker bool) (*User, error) {
	if err := checkID("user", id); err != nil {
		return nil, err
	}
	var out User
	r := &request{method: http.MethodGet, route: routeUser, u: m.c.endpoint("users", id), out: &out, skipBreaker: skipBreaker}
	if err := m.c.do(ctx, r); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateResult is a successful Users.CreateWithResult.
type CreateResult struct {
	User *User
	// Reconciled is true when Auth0's answer to the POST was lost (transport error, timeout, 5xx)
	// and the client found the new user by looking it up: it was created, once.
	Reconciled bool
	// CorrelationID is the X-Correlation-ID the POST carried (from the context, or generated).
	CorrelationID string
	// Cause is the failure that made the client look (nil unless Reconciled).
	Cause error
}

// Create creates a user in u.Connection and returns it as stored (201). It is CreateWithResult
// without the details: a create whose answer was lost but that the lookup found is a success.
//
// Scopes: create:users (and read:users for the lookup). See
// https://auth0.com/docs/api/management/v2/users/post-users
func (m *UserManager) Create(ctx context.Context, u *UserCreate) (*User, error) {
	res, err := m.CreateWithResult(ctx, u)
	if err != nil {
		return nil, err
	}
	return res.User, nil
}

// CreateWithResult creates a user and never creates two. The POST is resent only after a 429,
// which Auth0 answers before applying anything. Failures:
//
//   - a definitive answer (400, 403, 409, a 429 the deadline left no room to wait out): that
//     *Error, as is: the user was not created (a duplicate matches ErrConflict, invalid input
//     ErrBadRequest with (*Error).Field);
//   - nothing sent (token failure, open breaker, client-side limiter): *CreateError matching
//     ErrNotCreated;
//   - an ambiguous failure (no answer, timeout, 5xx): the client looks the user up (see
//     CreateError) under a fresh deadline of the client's timeout, even if ctx is done, waiting
//     1 s first when the call timed out so that a request still in flight at Auth0 can land. Found
//     and created after the request started → success with Reconciled; otherwise *CreateError
//     matching ErrNotCreated or ErrCreateUnknown.
//
// The lookup by user_id assumes a database connection (id "auth0|"+UserID), the only kind Userdesk
// creates users in; the lookup by email uses users-by-email (immediately consistent, unlike search),
// lower-cased as database connections store it, and keeps only users with an identity in
// u.Connection. A create with neither email nor user_id cannot be looked up (CreateUnknown).
// Residual risk: a request that reaches Auth0 after the lookup (held longer than the settle delay
// by a proxy) is reported as not created.
func (m *UserManager) CreateWithResult(ctx context.Context, u *UserCreate) (*CreateResult, error) {
	if u == nil {
		return nil, errors.New("mgmt: create user: nil input")
	}
	cid := correlationFor(ctx)
	ctx = WithCorrelationID(ctx, cid)
	sentAt := m.c.now()
	var out User
	r := &request{method: http.MethodPost, route: routeUsers, u: m.c.endpoint("users"), in: u, out: &out}
	err := m.c.do(ctx, r)
	if err == nil {
		return &CreateResult{User: &out, CorrelationID: cid}, nil
	}
	var ae *Error
	if errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500 {
		return nil, err
	}
	if !r.sent {
		return nil, &CreateError{Outcome: CreateNotCreated, Err: err, CorrelationID: cid}
	}
	return m.reconcile(ctx, u, cid, sentAt, err)
}

// reconcile looks up the user an ambiguous create may have made.
func (m *UserManager) reconcile(ctx context.Context, u *UserCreate, cid string, sentAt time.Time, cause error) (*CreateResult, error) {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.c.timeout)
	defer cancel()
	if errors.Is(cause, context.DeadlineExceeded) {
		if err := m.c.sleep(lctx, createSettleDelay); err != nil {
			return nil, &CreateError{Outcome: CreateUnknown, Err: cause, LookupErr: err, CorrelationID: cid}
		}
	}
	found, err := m.lookupCreated(lctx, u)
	switch {
	case err != nil:
		return nil, &CreateError{Outcome: CreateUnknown, Err: cause, LookupErr: err, CorrelationID: cid}
	case found == nil:
		return nil, &CreateError{Outcome: CreateNotCreated, Err: cause, CorrelationID: cid}
	case found.CreatedAt != nil && found.CreatedAt.Before(sentAt.Add(-createClockSkew)):
		// Auth0 refuses a second user with the same email or id in a connection, so this
		// request cannot have made it.
		return nil, &CreateError{Outcome: CreateNotCreated, Err: cause, Existing: found, CorrelationID: cid}
	}
	return &CreateResult{User: found, Reconciled: true, CorrelationID: cid, Cause: cause}, nil
}

// lookupCreated finds the user u describes in u.Connection: (nil, nil) when there is none.
func (m *UserManager) lookupCreated(ctx context.Context, u *UserCreate) (*User, error) {
	if u.UserID == "" && u.Email == "" {
		return nil, errors.New("mgmt: the create has neither email nor user_id to look the user up by")
	}
	if u.UserID != "" {
		got, err := m.get(ctx, "auth0|"+u.UserID, true)
		switch {
		case err == nil && hasIdentity(got, u.Connection, u.UserID):
			return got, nil
		case err != nil && !errors.Is(err, ErrNotFound):
			return nil, err
		}
		if u.Email == "" {
			return nil, nil
		}
	}
	emails := []string{strings.ToLower(u.Email)}
	if u.Email != emails[0] {
		emails = append(emails, u.Email)
	}
	for _, e := range emails {
		list, err := m.listByEmail(ctx, e, true)
		if err != nil {
			return nil, err
		}
		for i := range list {
			if hasIdentity(&list[i], u.Connection, u.UserID) {
				return &list[i], nil
			}
		}
	}
	return nil, nil
}

// hasIdentity reports whether usr has an identity in connection (with the given identity user_id,
// when not empty).
func hasIdentity(usr *User, connection, userID string) bool {
	for _, id := range usr.Identities {
		if id.Connection == connection && (userID == "" || id.UserID == userID) {
			return true
		}
	}
	return false
}

// Update patches the user and returns it as stored. Root attributes are replaced; user_metadata and
// app_metadata are merged on their top level only, and a nil value deletes that key. The PATCH is
// resent only after a 429 (Auth0 applied nothing; the body is the same), never after a 5xx or a
// lost answer, whose outcome is unknown.
//
// Scopes: update:users (or update:users_app_metadata). See
// https://auth0.com/docs/api/management/v2/users/patch-users-by-id
func (m *UserManager) Update(ctx context.Context, id string, u *UserUpdate) (*User, error) {
	if err := checkID("user", id); err != nil {
		return nil, err
	}
	var out User
	r := &request{method: http.MethodPatch, route: routeUser, u: m.c.endpoint("users", id), in: u, out: &out}
	if err := m.c.do(ctx, r); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete deletes the user. Auth0 answers 204 even when the user does not exist, so deleting twice is
// not an error, and the client retries a DELETE like a read.
//
// Scopes: delete:users. See https://auth0.com/docs/api/management/v2/users/delete-users-by-id
func (m *UserManager) Delete(ctx context.Context, id string) error {
	if err := checkID("user", id); err != nil {
		return err
	}
	return m.c.do(ctx, &request{method: http.MethodDelete, route: routeUser, u: m.c.endpoint("users", id)})
}

// ListByEmail returns every user (one per connection) whose email equals email. Unlike List it is
// immediately consistent. The match is case-sensitive and database connections store emails in lower
// case, so callers usually pass a lower-cased address.
//
// Scopes: read:users. See https://auth0.com/docs/api/management/v2/users-by-email/get-users-by-email
func (m *UserManager) ListByEmail(ctx context.Context, email string) ([]User, error) {
	return m.listByEmail(ctx, email, false)
}

func (m *UserManager) listByEmail(ctx context.Context, email string, skipBreaker bool) ([]User, error) {
	q := url.Values{"email": {email}}
	var out []User
	r := &request{method: http.MethodGet, route: routeUsersEmail, u: m.c.endpoint("users-by-email"), query: q, out: &out, skipBreaker: skipBreaker}
	if err := m.c.do(ctx, r); err != nil {
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
