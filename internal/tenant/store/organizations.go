package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// Organizations (Auth0 Management API /organizations and /users/{id}/organizations): named groups of
// users. A membership belongs to both its organization and its user: deleting either removes it, and
// so does linking the user into another account (LinkUser removes the secondary user's records).

// ErrMemberNotFound: AddOrganizationMembers was given a user id that names no user. It wraps
// ErrNotFound, so test for it first to tell a missing user from a missing organization.
var ErrMemberNotFound = fmt.Errorf("organization member: %w", ErrNotFound)

// Organization is an Auth0 organization. ID is "org_" + 16 characters; Name is unique. Empty strings
// and nil RawMessages mean "never set"; the HTTP layer omits them, as Auth0 does.
type Organization struct {
	ID          string
	Name        string
	DisplayName string
	// Branding is the branding JSON object ({"logo_url"?, "colors"?: {"primary", "page_background"}})
	// exactly as given, or nil.
	Branding json.RawMessage
	// Metadata is the metadata JSON object (string values) exactly as given, or nil.
	Metadata json.RawMessage
}

// OffsetPage selects a page of an ordered list: Offset items are skipped, then at most Limit are
// returned (Limit 0 = no limit).
type OffsetPage struct {
	Offset int
	Limit  int
}

// OrganizationStore is the part of Store behind the organization endpoints. Lists return a page and
// the number of all items, in an order that does not change between calls (so pages do not overlap);
// an empty page is an empty, non-nil slice.
type OrganizationStore interface {
	// CreateOrganization stores o; ErrAlreadyExists when its id or name is taken.
	CreateOrganization(ctx context.Context, o Organization) error
	// GetOrganization returns the organization with that id, or ErrNotFound.
	GetOrganization(ctx context.Context, id string) (Organization, error)
	// ListOrganizations returns a page of all organizations ordered by name then id, and their number.
	ListOrganizations(ctx context.Context, p OffsetPage) ([]Organization, int, error)
	// DeleteOrganization removes the organization with its memberships; ErrNotFound when missing.
	DeleteOrganization(ctx context.Context, id string) error

	// AddOrganizationMembers makes the users members (current members are ignored), in one
	// transaction: ErrNotFound when the organization is missing, ErrMemberNotFound when any user is;
	// nothing is added then.
	AddOrganizationMembers(ctx context.Context, orgID string, userIDs []string) error
	// RemoveOrganizationMembers ends those memberships; ids that are not members (or not users) are
	// ignored. ErrNotFound when the organization is missing.
	RemoveOrganizationMembers(ctx context.Context, orgID string, userIDs []string) error
	// OrganizationMembers returns a page of the organization's members ordered by user id (full users,
	// as GetUser returns them) and the number of members; ErrNotFound when the organization is missing.
	OrganizationMembers(ctx context.Context, orgID string, p OffsetPage) ([]User, int, error)
	// UserOrganizations returns a page of the organizations the user belongs to, ordered by name then
	// id, and their number; ErrNotFound when the user is missing.
	UserOrganizations(ctx context.Context, userID string, p OffsetPage) ([]Organization, int, error)
}
