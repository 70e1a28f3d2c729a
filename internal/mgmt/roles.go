package mgmt

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
)

// RoleManager wraps the /api/v2/roles endpoints a support console reads.
type RoleManager struct{ c *core }

// Role is an Auth0 role. Unknown keys are kept in Extra.
type Role struct {
	ID          string `json:"id,omitempty"` // "rol_" and 16 characters
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`

	// Extra holds every other key of the response.
	Extra map[string]json.RawMessage `json:"-"`
	zero  map[string]json.RawMessage // known keys that came as null or "": see decodeObject
}

// RoleList is the include_totals envelope of GET /api/v2/roles and GET /api/v2/users/{id}/roles
// (no "length" key).
type RoleList struct {
	Start int    `json:"start"`
	Limit int    `json:"limit"`
	Total int    `json:"total"`
	Roles []Role `json:"roles"`
}

// RoleListParams are the query parameters of GET /api/v2/roles. The client always sends
// include_totals=true.
type RoleListParams struct {
	NameFilter string // case-insensitive part of the role name
	Page       int    // 0-based
	PerPage    int    // 1..100; 0 = DefaultPerPage
}

// List returns one page of the tenant's roles (the role picker), with totals.
//
// Scopes: read:roles. See https://auth0.com/docs/api/management/v2/roles/get-roles
func (m *RoleManager) List(ctx context.Context, p RoleListParams) (*RoleList, error) {
	q := url.Values{}
	q.Set("include_totals", "true")
	q.Set("per_page", strconv.Itoa(perPage(p.PerPage)))
	if p.Page > 0 {
		q.Set("page", strconv.Itoa(p.Page))
	}
	if p.NameFilter != "" {
		q.Set("name_filter", p.NameFilter)
	}
	var out RoleList
	if err := m.c.call(ctx, http.MethodGet, routeRoles, m.c.endpoint("roles"), q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Get returns the role. A missing role is an *Error matching ErrNotFound (Auth0's body has no
// errorCode here).
//
// Scopes: read:roles. See https://auth0.com/docs/api/management/v2/roles/get-roles-by-id
func (m *RoleManager) Get(ctx context.Context, id string) (*Role, error) {
	if err := checkID("role", id); err != nil {
		return nil, err
	}
	var out Role
	if err := m.c.call(ctx, http.MethodGet, routeRole, m.c.endpoint("roles", id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

type roleAlias Role

// UnmarshalJSON decodes a role, keeping unknown keys in Extra.
func (r *Role) UnmarshalJSON(data []byte) error {
	*r = Role{}
	var err error
	r.Extra, r.zero, err = decodeObject(data, (*roleAlias)(r))
	return err
}

// MarshalJSON encodes the role as it came, Extra keys included.
func (r Role) MarshalJSON() ([]byte, error) {
	return encodeObject(roleAlias(r), reflect.TypeFor[roleAlias](), r.Extra, r.zero)
}
