// Package userstest provides an in-memory users.API for tests: it keeps users and connections,
// records every call, and can be told to fail.
package userstest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
)

var _ users.API = (*API)(nil)

// Call is one recorded call: the method name and its arguments.
type Call struct {
	Method string // ListUsers, GetUser, CreateUser, UpdateUser, ListConnections
	ID     string // user id for GetUser and UpdateUser
	Params any    // mgmt.ListUsersParams, mgmt.ListConnectionsParams, *mgmt.UserCreate or *mgmt.UserUpdate (deep copies)
	// CorrelationID is mgmt.CorrelationID of the call's context: what the real client would send as
	// X-Correlation-ID on a write.
	CorrelationID string
}

// API is an in-memory Management API. Set the exported fields before use; it is safe for
// concurrent use. Users are stored by id; ListUsers ignores the query (it records it) unless
// Search is set.
type API struct {
	mu          sync.Mutex
	users       map[string]*mgmt.User
	order       []string
	Connections []mgmt.Connection
	// Fail, when it returns non-nil for a method name, makes that call fail with the error.
	Fail func(method string) error
	// Search, when set, filters ListUsers by the Lucene query the service built.
	Search func(q string, u mgmt.User) bool
	// Total, when non-zero, replaces the total ListUsers reports (to test paging past the data).
	Total  int
	calls  []Call
	nextID int
	// finding holds the export jobs of finding users (finding.go).
	finding findingState
	// page holds what the user page reads besides the user (userpage.go).
	page pageState
}

// New returns an API holding the given users and connections.
func New(conns []mgmt.Connection, us ...mgmt.User) *API {
	a := &API{users: map[string]*mgmt.User{}, Connections: conns}
	for _, u := range us {
		a.Put(u)
	}
	return a
}

// Put stores u (a copy), replacing a user with the same id.
func (a *API) Put(u mgmt.User) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.users == nil {
		a.users = map[string]*mgmt.User{}
	}
	if _, ok := a.users[u.UserID]; !ok {
		a.order = append(a.order, u.UserID)
	}
	c := clone(u)
	a.users[u.UserID] = &c
}

// User returns a copy of the stored user.
func (a *API) User(id string) (mgmt.User, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.users[id]
	if !ok {
		return mgmt.User{}, false
	}
	return clone(*u), true
}

// Calls returns the calls so far.
func (a *API) Calls() []Call {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.calls)
}

// CallsTo returns the recorded calls to one method.
func (a *API) CallsTo(method string) []Call {
	var out []Call
	for _, c := range a.Calls() {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Writes returns the recorded CreateUser and UpdateUser calls.
func (a *API) Writes() []Call {
	var out []Call
	for _, c := range a.Calls() {
		if c.Method == "CreateUser" || c.Method == "UpdateUser" {
			out = append(out, c)
		}
	}
	return out
}

func (a *API) record(c Call) error {
	a.calls = append(a.calls, c)
	if a.Fail != nil {
		return a.Fail(c.Method)
	}
	return nil
}

func notFound() error {
	return &mgmt.Error{StatusCode: 404, Err: "Not Found", Message: "The user does not exist.", ErrorCode: "inexistent_user"}
}

// ListUsers pages through the stored users in insertion order.
func (a *API) ListUsers(_ context.Context, p mgmt.ListUsersParams) (*mgmt.UserList, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "ListUsers", Params: p}); err != nil {
		return nil, err
	}
	var all []mgmt.User
	for _, id := range a.order {
		u := *a.users[id]
		if a.Search == nil || a.Search(p.Q, u) {
			all = append(all, clone(u))
		}
	}
	per := p.PerPage
	if per == 0 {
		per = 50
	}
	start := min(p.Page*per, len(all))
	end := min(start+per, len(all))
	total := len(all)
	if a.Total != 0 {
		total = a.Total
	}
	return &mgmt.UserList{Start: start, Limit: per, Length: end - start, Total: total, Users: all[start:end]}, nil
}

// GetUser returns the stored user or a 404 *mgmt.Error.
func (a *API) GetUser(_ context.Context, id string) (*mgmt.User, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "GetUser", ID: id}); err != nil {
		return nil, err
	}
	u, ok := a.users[id]
	if !ok {
		return nil, notFound()
	}
	c := clone(*u)
	return &c, nil
}

// CreateUser stores a new auth0 user; an email already used in the connection is a 409.
func (a *API) CreateUser(ctx context.Context, in *mgmt.UserCreate) (*mgmt.User, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	cp := *in
	if err := a.record(Call{Method: "CreateUser", Params: &cp, CorrelationID: mgmt.CorrelationID(ctx)}); err != nil {
		return nil, err
	}
	for _, u := range a.users {
		for _, idn := range u.Identities {
			if idn.Connection == in.Connection && strings.EqualFold(u.Email, in.Email) {
				return nil, &mgmt.Error{StatusCode: 409, Err: "Conflict", Message: "The user already exists.", ErrorCode: "auth0_idp_error"}
			}
		}
	}
	a.nextID++
	local := fmt.Sprintf("%024x", a.nextID)
	u := mgmt.User{
		UserID: "auth0|" + local, Email: strings.ToLower(in.Email), EmailVerified: in.EmailVerified, Name: in.Email,
		Identities: []mgmt.Identity{{Connection: in.Connection, UserID: local, Provider: "auth0"}},
	}
	a.users[u.UserID] = &u
	a.order = append(a.order, u.UserID)
	c := clone(u)
	return &c, nil
}

// UpdateUser applies metadata with Auth0's top-level merge (null deletes a key).
func (a *API) UpdateUser(ctx context.Context, id string, in *mgmt.UserUpdate) (*mgmt.User, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	cp := cloneUpdate(in)
	if err := a.record(Call{Method: "UpdateUser", ID: id, Params: cp, CorrelationID: mgmt.CorrelationID(ctx)}); err != nil {
		return nil, err
	}
	u, ok := a.users[id]
	if !ok {
		return nil, notFound()
	}
	applyRoot(u, in) // root attributes (userpage.go)
	u.UserMetadata = merge(u.UserMetadata, in.UserMetadata)
	u.AppMetadata = merge(u.AppMetadata, in.AppMetadata)
	c := clone(*u)
	return &c, nil
}

// ListConnections returns the connections whose strategy is listed (all when none is).
func (a *API) ListConnections(_ context.Context, p mgmt.ListConnectionsParams) (*mgmt.ConnectionList, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "ListConnections", Params: p}); err != nil {
		return nil, err
	}
	var out []mgmt.Connection
	for _, c := range a.Connections {
		if len(p.Strategy) == 0 || slices.Contains(p.Strategy, c.Strategy) {
			out = append(out, c)
		}
	}
	per := p.PerPage
	if per == 0 {
		per = 50
	}
	start := min(p.Page*per, len(out))
	end := min(start+per, len(out))
	return &mgmt.ConnectionList{Start: start, Limit: per, Total: len(out), Connections: out[start:end]}, nil
}

func merge(cur, patch map[string]any) map[string]any {
	if patch == nil {
		return cur
	}
	if cur == nil {
		cur = map[string]any{}
	}
	for k, v := range patch {
		if v == nil {
			delete(cur, k)
		} else {
			cur[k] = v
		}
	}
	if len(cur) == 0 {
		return nil
	}
	return cur
}

// clone deep-copies a user through JSON so callers cannot alias the store (and values look like
// what the real client decodes: float64 numbers, map[string]any objects).
func clone(u mgmt.User) mgmt.User {
	var out mgmt.User
	b, err := json.Marshal(u)
	if err != nil {
		panic(err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func cloneUpdate(u *mgmt.UserUpdate) *mgmt.UserUpdate {
	out := *u
	out.UserMetadata = cloneMap(u.UserMetadata)
	out.AppMetadata = cloneMap(u.AppMetadata)
	return &out
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}
