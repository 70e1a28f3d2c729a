package tenant

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// Organizations: the subset of Auth0's /api/v2/organizations that Userdesk needs (create, list, get,
// delete; add, list and remove members) and GET /api/v2/users/{id}/organizations, recorded in
// TestUserManager_Organizations. Scopes per the Management API reference (docs/tenant.md lists them).

// registerOrganizationRoutes adds the organization routes to mux. Auth0's reference also accepts
// read:organizations_summary on the organization reads and create:organization_connections on the
// create; both concern features the tenant does not have (summaries, enabled connections), so only
// the main scope is accepted.
func (t *Tenant) registerOrganizationRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v2/organizations", t.api(t.listOrganizations, "read:organizations"))
	mux.Handle("POST /api/v2/organizations", t.api(t.createOrganization, "create:organizations"))
	mux.Handle("GET /api/v2/organizations/{id}", t.api(t.getOrganization, "read:organizations"))
	mux.Handle("DELETE /api/v2/organizations/{id}", t.api(t.deleteOrganization, "delete:organizations"))
	mux.Handle("GET /api/v2/organizations/{id}/members", t.api(t.listOrganizationMembers, "read:organization_members"))
	mux.Handle("POST /api/v2/organizations/{id}/members", t.api(t.addOrganizationMembers, "create:organization_members"))
	mux.Handle("DELETE /api/v2/organizations/{id}/members", t.api(t.removeOrganizationMembers, "delete:organization_members"))
	mux.Handle("GET /api/v2/users/{id}/organizations", t.api(t.listUserOrganizations, "read:organizations"))
}

var (
	// errOrgNotFound is Auth0's 404 for an unknown organization id: the message the Auth0 SDK test
	// suites assert (auth0.net, terraform-provider-auth0), no errorCode.
	errOrgNotFound = &apiError{Status: http.StatusNotFound, Message: "No organization found by that id or name"}
	// errOrgExists is the 409 for a taken name [I: wording after Auth0's "A connection with the same
	// name already exists"; no errorCode, as that one has none].
	errOrgExists = &apiError{Status: http.StatusConflict, Message: "An organization with the same name already exists."}
)

func newOrganizationID() string { return "org_" + randomString(16, alnum) }

// Limits from the Management API schema and reference: name 1–50 characters of a-z, 0-9, "_" and "-"
// (it may start with a digit); display_name 1–255 characters; metadata at most 25 string values of at
// most 255 characters; at most 10 members per add request.
const (
	maxOrgNameLen        = 50
	maxOrgDisplayNameLen = 255
	maxOrgMetadataKeys   = 25
	maxOrgMetadataValue  = 255
	maxMembersPerRequest = 10
)

var (
	orgNamePattern = regexp.MustCompile(`^[a-z0-9_-]+$`)
	hexColor       = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)
)

// orgJSON is an organization as the Management API returns it; keys never set are omitted (the
// recording has no "metadata" and no "branding.colors" for an organization created without them).
type orgJSON struct {
	Name        string          `json:"name"`
	DisplayName string          `json:"display_name,omitempty"`
	Branding    json.RawMessage `json:"branding,omitempty"`
	Metadata    json.RawMessage `json:"metadata,omitempty"`
	ID          string          `json:"id"`
}

func toOrgJSON(o store.Organization) orgJSON {
	return orgJSON{Name: o.Name, DisplayName: o.DisplayName, Branding: o.Branding, Metadata: o.Metadata, ID: o.ID}
}

func toOrgJSONs(orgs []store.Organization) []orgJSON {
	out := make([]orgJSON, 0, len(orgs))
	for _, o := range orgs {
		out = append(out, toOrgJSON(o))
	}
	return out
}

// orgBranding is the branding object of a create body; it is stored re-encoded from this struct, so
// what is stored is exactly what was validated.
type orgBranding struct {
	LogoURL *string    `json:"logo_url,omitempty"`
	Colors  *orgColors `json:"colors,omitempty"`
}

type orgColors struct {
	Primary        *string `json:"primary,omitempty"`
	PageBackground *string `json:"page_background,omitempty"`
}

type orgCreateBody struct {
	Name        *string          `json:"name"`
	DisplayName *string          `json:"display_name"`
	Branding    *orgBranding     `json:"branding"`
	Metadata    *json.RawMessage `json:"metadata"`
}

// organization validates the body (Auth0's payload-validation wording) and returns the organization
// to store, without its id.
func (b orgCreateBody) organization() (store.Organization, error) {
	const (
		nameDesc     = "The name of this organization."
		displayDesc  = "Friendly name of this organization."
		logoDesc     = "URL of logo to display on login page."
		primaryDesc  = "HEX Color for primary elements."
		pageBackDesc = "HEX Color for background."
		metadataDesc = "Metadata associated with the organization, in the form of an object with string values (max 255 chars). Maximum of 25 metadata properties allowed."
	)
	var o store.Organization
	switch {
	case b.Name == nil:
		return o, invalidBody("'Missing required property: name' on property name (%s).", nameDesc)
	case len(*b.Name) < 1 || len(*b.Name) > maxOrgNameLen:
		return o, invalidBody("'String length must be between 1 and %d' on property name (%s).", maxOrgNameLen, nameDesc)
	case !orgNamePattern.MatchString(*b.Name):
		return o, invalidBody("'Object didn't pass validation for format organization-name: %s' on property name (%s).", *b.Name, nameDesc)
	}
	o.Name = *b.Name
	if b.DisplayName != nil {
		n := len([]rune(*b.DisplayName))
		if n < 1 || n > maxOrgDisplayNameLen {
			return o, invalidBody("'String length must be between 1 and %d' on property display_name (%s).", maxOrgDisplayNameLen, displayDesc)
		}
		o.DisplayName = *b.DisplayName
	}
	if br := b.Branding; br != nil {
		if br.LogoURL != nil {
			u, err := url.Parse(*br.LogoURL)
			if err != nil || u.Scheme != "https" || u.Host == "" {
				return o, invalidBody("'Object didn't pass validation for format strict-https-uri: %s' on property branding.logo_url (%s).", *br.LogoURL, logoDesc)
			}
		}
		if c := br.Colors; c != nil {
			for _, f := range []struct {
				v          *string
				name, desc string
			}{{c.Primary, "primary", primaryDesc}, {c.PageBackground, "page_background", pageBackDesc}} {
				if f.v == nil {
					return o, invalidBody("'Missing required property: %s' on property branding.colors.%s (%s).", f.name, f.name, f.desc)
				}
				if !hexColor.MatchString(*f.v) {
					return o, invalidBody("'String does not match pattern ^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$: %s' on property branding.colors.%s (%s).", *f.v, f.name, f.desc)
				}
			}
		}
		enc, err := marshal(br)
		if err != nil {
			return o, err
		}
		o.Branding = enc
	}
	if b.Metadata != nil && !bytes.Equal(bytes.TrimSpace(*b.Metadata), []byte("null")) {
		var md map[string]any
		if err := json.Unmarshal(*b.Metadata, &md); err != nil {
			return o, invalidBody("'Expected type object but found type %s' on property metadata (%s).", jsonKind(*b.Metadata), metadataDesc)
		}
		if len(md) > maxOrgMetadataKeys {
			return o, invalidBody("'Too many properties defined (%d), maximum %d' on property metadata (%s).", len(md), maxOrgMetadataKeys, metadataDesc)
		}
		keys := make([]string, 0, len(md))
		for k := range md {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			s, ok := md[k].(string)
			if !ok {
				return o, invalidBody("'Expected type string but found type %s' on property metadata.%s (%s).", jsonKind(mustMarshal(md[k])), k, metadataDesc)
			}
			if n := len([]rune(s)); n > maxOrgMetadataValue {
				return o, invalidBody("'String is too long (%d chars), maximum %d' on property metadata.%s (%s).", n, maxOrgMetadataValue, k, metadataDesc)
			}
		}
		enc, err := marshal(md)
		if err != nil {
			return o, err
		}
		o.Metadata = enc
	}
	return o, nil
}

// mustMarshal encodes a value decoded from JSON (it always encodes).
func mustMarshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// createOrganization is POST /api/v2/organizations: 201 with the organization (recorded).
func (t *Tenant) createOrganization(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var b orgCreateBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	o, err := b.organization()
	if err != nil {
		return err
	}
	o.ID = newOrganizationID()
	err = t.store.CreateOrganization(r.Context(), o)
	if errors.Is(err, store.ErrAlreadyExists) {
		return errOrgExists
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toOrgJSON(o))
	return nil
}

// getOrganization is GET /api/v2/organizations/{id}.
func (t *Tenant) getOrganization(w http.ResponseWriter, r *http.Request, _ *principal) error {
	o, err := t.store.GetOrganization(r.Context(), r.PathValue("id"))
	if err != nil {
		return notFoundAs(err, errOrgNotFound)
	}
	writeJSON(w, http.StatusOK, toOrgJSON(o))
	return nil
}

// deleteOrganization is DELETE /api/v2/organizations/{id}: 204 (recorded), the memberships go with it;
// 404 when there is no such organization [I: as GET answers it].
func (t *Tenant) deleteOrganization(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if err := t.store.DeleteOrganization(r.Context(), r.PathValue("id")); err != nil {
		return notFoundAs(err, errOrgNotFound)
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}

// orgPage reads page/per_page/include_totals (per_page 50 by default, at most 100) and refuses pages
// reaching past the first 1,000 records, as Auth0 does for organization members [R] and, by analogy,
// for the organization lists [I]. It returns the store page to read.
func orgPage(r *http.Request) (pageParams, store.OffsetPage, error) {
	if err := checkParams(r.URL.Query(), "page", "per_page", "include_totals"); err != nil {
		return pageParams{}, store.OffsetPage{}, err
	}
	pg, err := readPage(r, 50, 100)
	if err != nil {
		return pageParams{}, store.OffsetPage{}, err
	}
	if (pg.page+1)*pg.perPage > maxPagedRecords {
		return pageParams{}, store.OffsetPage{}, badRequest("invalid_paging",
			"Requesting page %d exceeds the allowed maximum of 1000 records.", pg.page)
	}
	// per_page=0 asks for the total only; the store's Limit 0 would mean "everything".
	return pg, store.OffsetPage{Offset: pg.page * pg.perPage, Limit: max(pg.perPage, 1)}, nil
}

// writeOrgPage writes items as a bare array, or with include_totals as {<key>,start,limit,total}
// (recorded for /users/{id}/organizations: start = page*per_page, limit = per_page).
func writeOrgPage[T any](w http.ResponseWriter, pg pageParams, key string, items []T, total int) {
	if pg.perPage == 0 {
		items = items[:0]
	}
	if !pg.totals {
		writeJSON(w, http.StatusOK, items)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{key: items, "start": pg.page * pg.perPage, "limit": pg.perPage, "total": total})
}

// listOrganizations is GET /api/v2/organizations: ordered by name [I: Auth0's order is not
// documented]; offset paging only (Auth0's checkpoint from/take is not implemented and answers 400).
func (t *Tenant) listOrganizations(w http.ResponseWriter, r *http.Request, _ *principal) error {
	pg, sp, err := orgPage(r)
	if err != nil {
		return err
	}
	orgs, total, err := t.store.ListOrganizations(r.Context(), sp)
	if err != nil {
		return err
	}
	writeOrgPage(w, pg, "organizations", toOrgJSONs(orgs), total)
	return nil
}

// listUserOrganizations is GET /api/v2/users/{id}/organizations (recorded): the user's organizations
// by name; 404 inexistent_user for an unknown user.
func (t *Tenant) listUserOrganizations(w http.ResponseWriter, r *http.Request, _ *principal) error {
	pg, sp, err := orgPage(r)
	if err != nil {
		return err
	}
	orgs, total, err := t.store.UserOrganizations(r.Context(), r.PathValue("id"), sp)
	if err != nil {
		return notFoundAs(err, errUserNotFound)
	}
	writeOrgPage(w, pg, "organizations", toOrgJSONs(orgs), total)
	return nil
}

// listOrganizationMembers is GET /api/v2/organizations/{id}/members: members ordered by user id, each
// {"user_id","email","picture","name"} (the user stub of role members; keys never set omitted).
func (t *Tenant) listOrganizationMembers(w http.ResponseWriter, r *http.Request, _ *principal) error {
	pg, sp, err := orgPage(r)
	if err != nil {
		return err
	}
	users, total, err := t.store.OrganizationMembers(r.Context(), r.PathValue("id"), sp)
	if err != nil {
		return notFoundAs(err, errOrgNotFound)
	}
	members := make([]roleMemberJSON, 0, len(users))
	for _, u := range users {
		members = append(members, roleMemberJSON{u.ID, u.Email, u.Picture, u.Name})
	}
	writeOrgPage(w, pg, "members", members, total)
	return nil
}

// membersBody reads {"members":["auth0|…", …]}: 1 to maxMembersPerRequest user ids for an add, at
// least one for a removal.
func membersBody(r *http.Request, add bool) ([]string, error) {
	desc := "List of user IDs to remove from the organization."
	if add {
		desc = "List of user IDs to add to the organization as members."
	}
	var b struct {
		Members *[]string `json:"members"`
	}
	if err := decodeBody(r, &b); err != nil {
		return nil, err
	}
	switch {
	case b.Members == nil:
		return nil, invalidBody("'Missing required property: members' on property members (%s).", desc)
	case len(*b.Members) == 0:
		return nil, invalidBody("'Array is too short (0), minimum 1' on property members (%s).", desc)
	case add && len(*b.Members) > maxMembersPerRequest:
		return nil, invalidBody("'Array is too long (%d), maximum %d' on property members (%s).", len(*b.Members), maxMembersPerRequest, desc)
	}
	return *b.Members, nil
}

// addOrganizationMembers is POST /api/v2/organizations/{id}/members: 204 (recorded). Unknown user ids
// refuse the whole request with 400 invalid_body naming them [I: wording after the reference's "One or
// more of the specified roles do not exist" of the invitation endpoint]; current members are ignored.
func (t *Tenant) addOrganizationMembers(w http.ResponseWriter, r *http.Request, _ *principal) error {
	ids, err := membersBody(r, true)
	if err != nil {
		return err
	}
	orgID := r.PathValue("id")
	if _, err := t.store.GetOrganization(r.Context(), orgID); err != nil {
		return notFoundAs(err, errOrgNotFound)
	}
	if missing, err := t.missingUsers(r.Context(), ids); err != nil {
		return err
	} else if len(missing) > 0 {
		return unknownMembers(missing)
	}
	err = t.store.AddOrganizationMembers(r.Context(), orgID, ids)
	switch {
	case errors.Is(err, store.ErrMemberNotFound): // a user deleted since the check above
		return unknownMembers(nil)
	case err != nil:
		return notFoundAs(err, errOrgNotFound)
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}

func unknownMembers(ids []string) error {
	msg := "One or more of the specified users do not exist"
	if len(ids) > 0 {
		msg += ": " + strings.Join(ids, ", ")
	}
	return badRequest("invalid_body", "%s", msg)
}

// missingUsers returns the ids, in request order and without repeats, that name no user.
func (t *Tenant) missingUsers(ctx context.Context, ids []string) ([]string, error) {
	var missing []string
	for _, id := range ids {
		_, err := t.store.GetUser(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if !slices.Contains(missing, id) {
				missing = append(missing, id)
			}
		case err != nil:
			return nil, fmt.Errorf("tenant: look up member %q: %w", id, err)
		}
	}
	return missing, nil
}

// removeOrganizationMembers is DELETE /api/v2/organizations/{id}/members: 204; ids that are not
// members are ignored [I].
func (t *Tenant) removeOrganizationMembers(w http.ResponseWriter, r *http.Request, _ *principal) error {
	ids, err := membersBody(r, false)
	if err != nil {
		return err
	}
	if err := t.store.RemoveOrganizationMembers(r.Context(), r.PathValue("id"), ids); err != nil {
		return notFoundAs(err, errOrgNotFound)
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}
