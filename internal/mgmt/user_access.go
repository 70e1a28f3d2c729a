package mgmt

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
)

// ListParams pages a list that the client always asks with totals (include_totals=true).
type ListParams struct {
	Page    int // 0-based
	PerPage int // 1..100; 0 = DefaultPerPage
}

func (p ListParams) query() url.Values {
	q := url.Values{}
	q.Set("include_totals", "true")
	q.Set("per_page", strconv.Itoa(perPage(p.PerPage)))
	if p.Page > 0 {
		q.Set("page", strconv.Itoa(p.Page))
	}
	return q
}

// Roles returns one page of the roles assigned to the user (the totals envelope; Total counts all
// of them).
//
// Scopes: read:users, read:roles or read:role_members (any of). See
// https://auth0.com/docs/api/management/v2/users/get-user-roles
func (m *UserManager) Roles(ctx context.Context, id string, p ListParams) (*RoleList, error) {
	if err := checkID("user", id); err != nil {
		return nil, err
	}
	var out RoleList
	if err := m.c.call(ctx, http.MethodGet, routeUserRoles, m.c.endpoint("users", id, "roles"), p.query(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AssignRoles assigns the roles (IDs "rol_…") to the user; roles it already has are kept. Auth0
// answers 204. Like every POST, it is resent only after a 429.
//
// Scopes: update:users or create:role_members. See
// https://auth0.com/docs/api/management/v2/users/post-user-roles
func (m *UserManager) AssignRoles(ctx context.Context, id string, roleIDs []string) error {
	if err := checkRoles("user", id, roleIDs); err != nil {
		return err
	}
	return m.c.call(ctx, http.MethodPost, routeUserRoles, m.c.endpoint("users", id, "roles"), nil, rolesBody{roleIDs}, nil)
}

// RemoveRoles removes the roles from the user (204). Removing a role the user does not have is not
// an error, so the DELETE is retried like a read.
//
// Scopes: update:users or delete:role_members. See
// https://auth0.com/docs/api/management/v2/users/delete-user-roles
func (m *UserManager) RemoveRoles(ctx context.Context, id string, roleIDs []string) error {
	if err := checkRoles("user", id, roleIDs); err != nil {
		return err
	}
	return m.c.call(ctx, http.MethodDelete, routeUserRoles, m.c.endpoint("users", id, "roles"), nil, rolesBody{roleIDs}, nil)
}

// rolesBody is {"roles":["rol_…"]}, the body of both role calls.
type rolesBody struct {
	Roles []string `json:"roles"`
}

// checkRoles checks the user ID and refuses an empty role list before anything is sent (Auth0
// answers it with a 400).
func checkRoles(kind, id string, roleIDs []string) error {
	if err := checkID(kind, id); err != nil {
		return err
	}
	if len(roleIDs) == 0 {
		return errors.New("mgmt: no role IDs given")
	}
	for _, r := range roleIDs {
		if err := checkID("role", r); err != nil {
			return err
		}
	}
	return nil
}

// Permissions returns one page of the user's permissions: those assigned directly and those its
// roles give, each with its Sources.
//
// Scopes: read:users. See https://auth0.com/docs/api/management/v2/users/get-permissions
func (m *UserManager) Permissions(ctx context.Context, id string, p ListParams) (*PermissionList, error) {
	if err := checkID("user", id); err != nil {
		return nil, err
	}
	var out PermissionList
	if err := m.c.call(ctx, http.MethodGet, routeUserPermissions, m.c.endpoint("users", id, "permissions"), p.query(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Permission is one permission of a user: an API scope (PermissionName) of the API identified by
// ResourceServerIdentifier, with where it comes from. Unknown keys are kept in Extra.
type Permission struct {
	PermissionName           string             `json:"permission_name,omitempty"`
	Description              string             `json:"description,omitempty"`
	ResourceServerName       string             `json:"resource_server_name,omitempty"`
	ResourceServerIdentifier string             `json:"resource_server_identifier,omitempty"`
	Sources                  []PermissionSource `json:"sources,omitempty"`

	// Extra holds every other key of the response.
	Extra map[string]json.RawMessage `json:"-"`
	zero  map[string]json.RawMessage // known keys that came as null, "" or []: see decodeObject
}

// PermissionSource says why a user has a permission: SourceType "DIRECT" (assigned to the user,
// SourceID and SourceName empty) or "ROLE" (SourceID and SourceName name the role).
type PermissionSource struct {
	SourceID   string `json:"source_id"`
	SourceName string `json:"source_name"`
	SourceType string `json:"source_type"`
}

// PermissionList is the include_totals envelope of GET /api/v2/users/{id}/permissions.
type PermissionList struct {
	Start       int          `json:"start"`
	Limit       int          `json:"limit"`
	Total       int          `json:"total"`
	Permissions []Permission `json:"permissions"`
}

type permissionAlias Permission

// UnmarshalJSON decodes a permission, keeping unknown keys in Extra.
func (p *Permission) UnmarshalJSON(data []byte) error {
	*p = Permission{}
	var err error
	p.Extra, p.zero, err = decodeObject(data, (*permissionAlias)(p))
	return err
}

// MarshalJSON encodes the permission as it came, Extra keys included.
func (p Permission) MarshalJSON() ([]byte, error) {
	return encodeObject(permissionAlias(p), reflect.TypeFor[permissionAlias](), p.Extra, p.zero)
}
