package tenant

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// Roles, role members, user roles and user permissions (contract §5.2).

var (
	errRoleNotFound = &apiError{Status: http.StatusNotFound, Message: "The role does not exist."} // no errorCode, as recorded
	errRoleExists   = &apiError{Status: http.StatusConflict, Code: "role_exists", Message: "A role with the same name already exists."}
)

type roleJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

func toRoleJSON(r store.Role) roleJSON { return roleJSON(r) }

func newRoleID() string { return "rol_" + randomString(16, alnum) }

// listRoles is GET /api/v2/roles: name_filter (case-insensitive substring), page/per_page and
// include_totals, whose envelope is {roles,start,limit,total} without length (recorded).
func (t *Tenant) listRoles(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if err := checkParams(r.URL.Query(), "page", "per_page", "include_totals", "name_filter"); err != nil {
		return err
	}
	pg, err := readPage(r, 50, 100)
	if err != nil {
		return err
	}
	all, err := t.store.ListRoles(r.Context())
	if err != nil {
		return err
	}
	filter := strings.ToLower(r.URL.Query().Get("name_filter"))
	roles := []roleJSON{}
	for _, x := range all {
		if filter == "" || strings.Contains(strings.ToLower(x.Name), filter) {
			roles = append(roles, toRoleJSON(x))
		}
	}
	writeRolePage(w, pg, roles)
	return nil
}

func writeRolePage(w http.ResponseWriter, pg pageParams, roles []roleJSON) {
	lo, hi := pg.window(len(roles))
	page := roles[lo:hi]
	if !pg.totals {
		writeJSON(w, http.StatusOK, page)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Roles []roleJSON `json:"roles"`
		Start int        `json:"start"`
		Limit int        `json:"limit"`
		Total int        `json:"total"`
	}{page, pg.page * pg.perPage, pg.perPage, len(roles)})
}

type roleBody struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

func (b roleBody) validate(create bool) error {
	if create && b.Name == nil {
		return invalidBody("'Missing required property: name' on property name (Role name).")
	}
	if b.Name != nil && (strings.TrimSpace(*b.Name) == "" || len(*b.Name) > 50) {
		return invalidBody("'String length must be between 1 and 50' on property name (Role name).")
	}
	if b.Description != nil && len(*b.Description) > 140 {
		return invalidBody("'String is too long (%d chars), maximum 140' on property description (Role description).", len(*b.Description))
	}
	return nil
}

// createRole is POST /api/v2/roles: 200 (not 201) with the role, as recorded.
func (t *Tenant) createRole(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var b roleBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	if err := b.validate(true); err != nil {
		return err
	}
	role := store.Role{ID: newRoleID(), Name: *b.Name}
	if b.Description != nil {
		role.Description = *b.Description
	}
	err := t.store.CreateRole(r.Context(), role)
	if errors.Is(err, store.ErrAlreadyExists) {
		return errRoleExists
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toRoleJSON(role))
	return nil
}

// getRole is GET /api/v2/roles/{id}.
func (t *Tenant) getRole(w http.ResponseWriter, r *http.Request, _ *principal) error {
	role, err := t.store.GetRole(r.Context(), r.PathValue("id"))
	if err != nil {
		return notFoundAs(err, errRoleNotFound)
	}
	writeJSON(w, http.StatusOK, toRoleJSON(role))
	return nil
}

// patchRole is PATCH /api/v2/roles/{id}.
func (t *Tenant) patchRole(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var b roleBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	if err := b.validate(false); err != nil {
		return err
	}
	role, err := t.store.UpdateRole(r.Context(), r.PathValue("id"), func(old store.Role) (store.Role, error) {
		if b.Name != nil {
			old.Name = *b.Name
		}
		if b.Description != nil {
			old.Description = *b.Description
		}
		return old, nil
	})
	switch {
	case errors.Is(err, store.ErrAlreadyExists):
		return errRoleExists
	case err != nil:
		return notFoundAs(err, errRoleNotFound)
	}
	writeJSON(w, http.StatusOK, toRoleJSON(role))
	return nil
}

// deleteRole is DELETE /api/v2/roles/{id}: 200 {} (recorded), 404 when already gone.
func (t *Tenant) deleteRole(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if err := t.store.DeleteRole(r.Context(), r.PathValue("id")); err != nil {
		return notFoundAs(err, errRoleNotFound)
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// roleMemberJSON is the user stub of GET /roles/{id}/users (recorded).
type roleMemberJSON struct {
	UserID  string `json:"user_id"`
	Email   string `json:"email,omitempty"`
	Picture string `json:"picture,omitempty"`
	Name    string `json:"name,omitempty"`
}

// listRoleUsers is GET /api/v2/roles/{id}/users with offset paging (page/per_page/include_totals,
// envelope {users,start,limit,total}, at most the first 1,000 members) or checkpoint paging
// (take/from: {users,next?}, next absent on the last page; "from" is opaque: base64 of the last id).
func (t *Tenant) listRoleUsers(w http.ResponseWriter, r *http.Request, _ *principal) error {
	v := r.URL.Query()
	if err := checkParams(v, "page", "per_page", "include_totals", "from", "take"); err != nil {
		return err
	}
	pg, err := readPage(r, 50, 100)
	if err != nil {
		return err
	}
	roleID := r.PathValue("id")
	if v.Has("take") || v.Has("from") {
		take, err := intParam(v, "take", "Number of results per page. Defaults to 50.", 50, 1, 100)
		if err != nil {
			return err
		}
		var after string
		if f := v.Get("from"); f != "" {
			b, err := base64.RawURLEncoding.DecodeString(f)
			if err != nil || len(b) == 0 {
				return queryError("'Invalid checkpoint' on property from (Optional Id from which to start selection.).")
			}
			after = string(b)
		}
		users, _, err := t.store.RoleMembers(r.Context(), roleID, store.RoleMembersQuery{After: after, Limit: take + 1})
		if err != nil {
			return notFoundAs(err, errRoleNotFound)
		}
		body := struct {
			Users []roleMemberJSON `json:"users"`
			Next  string           `json:"next,omitempty"`
		}{Users: []roleMemberJSON{}}
		if len(users) > take {
			users = users[:take]
			body.Next = base64.RawURLEncoding.EncodeToString([]byte(users[take-1].ID))
		}
		for _, u := range users {
			body.Users = append(body.Users, roleMemberJSON{u.ID, u.Email, u.Picture, u.Name})
		}
		writeJSON(w, http.StatusOK, body)
		return nil
	}
	if (pg.page+1)*pg.perPage > maxPagedRecords {
		return badRequest("invalid_paging", "Requesting page %d exceeds the allowed maximum of 1000 records. To fetch results beyond 1000, use the checkpoint pagination method.", pg.page)
	}
	users, total, err := t.store.RoleMembers(r.Context(), roleID, store.RoleMembersQuery{Offset: pg.page * pg.perPage, Limit: pg.perPage})
	if err != nil {
		return notFoundAs(err, errRoleNotFound)
	}
	members := []roleMemberJSON{}
	if pg.perPage > 0 {
		for _, u := range users {
			members = append(members, roleMemberJSON{u.ID, u.Email, u.Picture, u.Name})
		}
	}
	if !pg.totals {
		writeJSON(w, http.StatusOK, members)
		return nil
	}
	writeJSON(w, http.StatusOK, struct {
		Users []roleMemberJSON `json:"users"`
		Start int              `json:"start"`
		Limit int              `json:"limit"`
		Total int              `json:"total"`
	}{members, pg.page * pg.perPage, pg.perPage, total})
	return nil
}

// addRoleUsers is POST /api/v2/roles/{id}/users {"users":[…]}: 200 {} (recorded).
func (t *Tenant) addRoleUsers(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var b struct {
		Users []string `json:"users"`
	}
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	if len(b.Users) == 0 {
		return invalidBody("'Array is too short (0), minimum 1' on property users (array of user_id's that will be assigned to the role).")
	}
	roleID := r.PathValue("id")
	if _, err := t.store.GetRole(r.Context(), roleID); err != nil {
		return notFoundAs(err, errRoleNotFound)
	}
	for _, id := range b.Users {
		if err := t.store.AssignRoles(r.Context(), id, []string{roleID}); err != nil {
			return notFoundAs(err, errUserNotFound)
		}
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// listUserRoles is GET /api/v2/users/{id}/roles (page/per_page/include_totals; recorded envelope
// {roles,start,limit,total}).
func (t *Tenant) listUserRoles(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if err := checkParams(r.URL.Query(), "page", "per_page", "include_totals"); err != nil {
		return err
	}
	pg, err := readPage(r, 50, 100)
	if err != nil {
		return err
	}
	roles, err := t.store.UserRoles(r.Context(), r.PathValue("id"))
	if err != nil {
		return notFoundAs(err, errUserNotFound)
	}
	out := make([]roleJSON, len(roles))
	for i, x := range roles {
		out[i] = toRoleJSON(x)
	}
	writeRolePage(w, pg, out)
	return nil
}

// rolesBody is {"roles":["rol_…", …]} (recorded).
func rolesBody(r *http.Request) ([]string, error) {
	var b struct {
		Roles []string `json:"roles"`
	}
	if err := decodeBody(r, &b); err != nil {
		return nil, err
	}
	if len(b.Roles) == 0 {
		return nil, invalidBody("'Array is too short (0), minimum 1' on property roles (List of roles IDs to associated with the user.).")
	}
	return b.Roles, nil
}

// assignUserRoles is POST /api/v2/users/{id}/roles: 204 (recorded).
func (t *Tenant) assignUserRoles(w http.ResponseWriter, r *http.Request, _ *principal) error {
	roles, err := rolesBody(r)
	if err != nil {
		return err
	}
	if _, err := t.userOr404(r); err != nil {
		return err
	}
	if err := t.store.AssignRoles(r.Context(), r.PathValue("id"), roles); err != nil {
		return notFoundAs(err, errRoleNotFound)
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}

// removeUserRoles is DELETE /api/v2/users/{id}/roles: 204 (recorded).
func (t *Tenant) removeUserRoles(w http.ResponseWriter, r *http.Request, _ *principal) error {
	roles, err := rolesBody(r)
	if err != nil {
		return err
	}
	if err := t.store.UnassignRoles(r.Context(), r.PathValue("id"), roles); err != nil {
		return notFoundAs(err, errUserNotFound)
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}

// --- permissions ---

type permissionSourceJSON struct {
	SourceID   string `json:"source_id"`
	SourceName string `json:"source_name"`
	SourceType string `json:"source_type"`
}

type userPermissionJSON struct {
	PermissionName           string                 `json:"permission_name"`
	Description              string                 `json:"description"`
	ResourceServerName       string                 `json:"resource_server_name"`
	ResourceServerIdentifier string                 `json:"resource_server_identifier"`
	Sources                  []permissionSourceJSON `json:"sources"`
}

// listUserPermissions is GET /api/v2/users/{id}/permissions: direct and role-given permissions with
// their sources; envelope {permissions,start,limit,total} (recorded).
func (t *Tenant) listUserPermissions(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if err := checkParams(r.URL.Query(), "page", "per_page", "include_totals"); err != nil {
		return err
	}
	pg, err := readPage(r, 50, 100)
	if err != nil {
		return err
	}
	perms, err := t.store.UserPermissions(r.Context(), r.PathValue("id"))
	if err != nil {
		return notFoundAs(err, errUserNotFound)
	}
	out := []userPermissionJSON{}
	for _, p := range perms {
		j := userPermissionJSON{PermissionName: p.PermissionName, Description: p.Description,
			ResourceServerName: p.ResourceServerName, ResourceServerIdentifier: p.ResourceServerIdentifier}
		for _, s := range p.Sources {
			j.Sources = append(j.Sources, permissionSourceJSON(s))
		}
		out = append(out, j)
	}
	lo, hi := pg.window(len(out))
	if !pg.totals {
		writeJSON(w, http.StatusOK, out[lo:hi])
		return nil
	}
	writeJSON(w, http.StatusOK, struct {
		Permissions []userPermissionJSON `json:"permissions"`
		Start       int                  `json:"start"`
		Limit       int                  `json:"limit"`
		Total       int                  `json:"total"`
	}{out[lo:hi], pg.page * pg.perPage, pg.perPage, len(out)})
	return nil
}

type permissionJSON struct {
	ResourceServerIdentifier string `json:"resource_server_identifier"`
	PermissionName           string `json:"permission_name"`
}

// permissionsBody reads {"permissions":[{resource_server_identifier, permission_name}]} and checks
// that each names a scope its resource server defines.
func (t *Tenant) permissionsBody(r *http.Request) ([]store.Permission, error) {
	var b struct {
		Permissions []permissionJSON `json:"permissions"`
	}
	if err := decodeBody(r, &b); err != nil {
		return nil, err
	}
	if len(b.Permissions) == 0 {
		return nil, invalidBody("'Array is too short (0), minimum 1' on property permissions (List of permissions to add to this user.).")
	}
	out := make([]store.Permission, len(b.Permissions))
	for i, p := range b.Permissions {
		rs, err := t.store.GetResourceServer(r.Context(), p.ResourceServerIdentifier)
		if errors.Is(err, store.ErrNotFound) {
			return nil, &apiError{Status: http.StatusNotFound, Code: "inexistent_resource_server",
				Message: "Resource server " + p.ResourceServerIdentifier + " does not exist."}
		}
		if err != nil {
			return nil, err
		}
		defined := false
		for _, s := range rs.Scopes {
			defined = defined || s.Value == p.PermissionName
		}
		if !defined {
			return nil, badRequest("invalid_body", "Permission %s does not exist for resource server %s.", p.PermissionName, p.ResourceServerIdentifier)
		}
		out[i] = store.Permission(p)
	}
	return out, nil
}

// addUserPermissions is POST /api/v2/users/{id}/permissions: 201 {} (recorded).
func (t *Tenant) addUserPermissions(w http.ResponseWriter, r *http.Request, _ *principal) error {
	ps, err := t.permissionsBody(r)
	if err != nil {
		return err
	}
	if err := t.store.AddUserPermissions(r.Context(), r.PathValue("id"), ps); err != nil {
		return notFoundAs(err, errUserNotFound)
	}
	writeJSON(w, http.StatusCreated, struct{}{})
	return nil
}

// removeUserPermissions is DELETE /api/v2/users/{id}/permissions: 204 (recorded).
func (t *Tenant) removeUserPermissions(w http.ResponseWriter, r *http.Request, _ *principal) error {
	ps, err := t.permissionsBody(r)
	if err != nil {
		return err
	}
	if err := t.store.RemoveUserPermissions(r.Context(), r.PathValue("id"), ps); err != nil {
		return notFoundAs(err, errUserNotFound)
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}

// rolePermissionJSON is a permission of GET /roles/{id}/permissions: a user permission without sources.
type rolePermissionJSON struct {
	PermissionName           string `json:"permission_name"`
	Description              string `json:"description"`
	ResourceServerName       string `json:"resource_server_name"`
	ResourceServerIdentifier string `json:"resource_server_identifier"`
}

// listRolePermissions is GET /api/v2/roles/{id}/permissions: the role's permissions ordered by API
// then name, a bare array or, with include_totals, {permissions,start,limit,total} like the user
// permissions endpoint [I: no recording; shape per the Management API reference].
func (t *Tenant) listRolePermissions(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if err := checkParams(r.URL.Query(), "page", "per_page", "include_totals"); err != nil {
		return err
	}
	pg, err := readPage(r, 50, 100)
	if err != nil {
		return err
	}
	perms, err := t.store.RolePermissions(r.Context(), r.PathValue("id"))
	if err != nil {
		return notFoundAs(err, errRoleNotFound)
	}
	out := make([]rolePermissionJSON, 0, len(perms))
	for _, p := range perms {
		out = append(out, rolePermissionJSON{PermissionName: p.PermissionName, Description: p.Description,
			ResourceServerName: p.ResourceServerName, ResourceServerIdentifier: p.ResourceServerIdentifier})
	}
	lo, hi := pg.window(len(out))
	if !pg.totals {
		writeJSON(w, http.StatusOK, out[lo:hi])
		return nil
	}
	writeJSON(w, http.StatusOK, struct {
		Permissions []rolePermissionJSON `json:"permissions"`
		Start       int                  `json:"start"`
		Limit       int                  `json:"limit"`
		Total       int                  `json:"total"`
	}{out[lo:hi], pg.page * pg.perPage, pg.perPage, len(out)})
	return nil
}

// addRolePermissions is POST /api/v2/roles/{id}/permissions with {"permissions":[...]}: 201 {} as
// for users [I: "201 Role permissions updated" in the reference, body not recorded]; 404 for an
// unknown role or API, 400 for a scope the API does not define.
func (t *Tenant) addRolePermissions(w http.ResponseWriter, r *http.Request, _ *principal) error {
	ps, err := t.permissionsBody(r)
	if err != nil {
		return err
	}
	if err := t.store.AddRolePermissions(r.Context(), r.PathValue("id"), ps); err != nil {
		return notFoundAs(err, errRoleNotFound)
	}
	writeJSON(w, http.StatusCreated, struct{}{})
	return nil
}

// removeRolePermissions is DELETE /api/v2/roles/{id}/permissions: 200 {} [I: "Role permissions
// successfully updated" in the reference, not recorded]; permissions the role lacks are ignored.
func (t *Tenant) removeRolePermissions(w http.ResponseWriter, r *http.Request, _ *principal) error {
	ps, err := t.permissionsBody(r)
	if err != nil {
		return err
	}
	if err := t.store.RemoveRolePermissions(r.Context(), r.PathValue("id"), ps); err != nil {
		return notFoundAs(err, errRoleNotFound)
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}
