package mgmt

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
)

// Organization is an Auth0 organization (a business customer of a B2B application). Unknown keys
// are kept in Extra.
type Organization struct {
	ID          string                `json:"id,omitempty"` // "org_" and 16 characters
	Name        string                `json:"name,omitempty"`
	DisplayName string                `json:"display_name,omitempty"`
	Branding    *OrganizationBranding `json:"branding,omitempty"`
	Metadata    map[string]string     `json:"metadata,omitempty"`

	// Extra holds every other key of the response.
	Extra map[string]json.RawMessage `json:"-"`
	zero  map[string]json.RawMessage // known keys that came as null or "": see decodeObject
}

// OrganizationBranding is an organization's logo and colours.
type OrganizationBranding struct {
	LogoURL string            `json:"logo_url,omitempty"`
	Colors  map[string]string `json:"colors,omitempty"`
}

// OrganizationList is the include_totals envelope of GET /api/v2/users/{id}/organizations.
type OrganizationList struct {
	Start         int            `json:"start"`
	Limit         int            `json:"limit"`
	Total         int            `json:"total"`
	Organizations []Organization `json:"organizations"`
}

// Organizations returns one page of the organizations the user is a member of, with totals.
//
// Scopes: read:organizations. See https://auth0.com/docs/api/management/v2/users/get-user-organizations
func (m *UserManager) Organizations(ctx context.Context, id string, p ListParams) (*OrganizationList, error) {
	if err := checkID("user", id); err != nil {
		return nil, err
	}
	var out OrganizationList
	if err := m.c.call(ctx, http.MethodGet, routeUserOrganizations, m.c.endpoint("users", id, "organizations"), p.query(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

type organizationAlias Organization

// UnmarshalJSON decodes an organization, keeping unknown keys in Extra.
func (o *Organization) UnmarshalJSON(data []byte) error {
	*o = Organization{}
	var err error
	o.Extra, o.zero, err = decodeObject(data, (*organizationAlias)(o))
	return err
}

// MarshalJSON encodes the organization as it came, Extra keys included.
func (o Organization) MarshalJSON() ([]byte, error) {
	return encodeObject(organizationAlias(o), reflect.TypeFor[organizationAlias](), o.Extra, o.zero)
}
