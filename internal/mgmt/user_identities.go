package mgmt

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// LinkRequest names the secondary account to link into a user (POST /users/{id}/identities).
type LinkRequest struct {
	Provider string `json:"provider"`
	// UserID is the secondary user's id, with or without the provider prefix ("auth0|63d…").
	UserID string `json:"user_id"`
	// ConnectionID is the secondary's connection, needed when several connections share a provider.
	ConnectionID string `json:"connection_id,omitempty"`
}

// Link makes the secondary user an identity of user id: the secondary disappears as a user of its
// own and its identity (with its profile as profileData) joins id's identities, which Auth0 returns
// (201). Sent again only after a 429.
//
// Scopes: update:users. See https://auth0.com/docs/api/management/v2/users/post-identities
func (m *UserManager) Link(ctx context.Context, id string, l LinkRequest) ([]Identity, error) {
	if err := checkID("user", id); err != nil {
		return nil, err
	}
	if l.Provider == "" || l.UserID == "" {
		return nil, fmt.Errorf("mgmt: linking into %q needs the secondary's provider and user id", id)
	}
	var out []Identity
	if err := m.c.call(ctx, http.MethodPost, routeUserIdentities, m.c.endpoint("users", id, "identities"), nil, l, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Unlink removes the identity (provider, identityUserID — the identity's user_id, without the
// provider prefix) from user id: it becomes a user of its own again, "<provider>|<identityUserID>".
// Auth0 answers 200 with id's remaining identities. Sent again only after a 429: a repeat after a
// lost answer would find the identity gone.
//
// Scopes: update:users. See https://auth0.com/docs/api/management/v2/users/delete-user-identity-by-user-id
func (m *UserManager) Unlink(ctx context.Context, id, provider, identityUserID string) ([]Identity, error) {
	if err := checkID("user", id); err != nil {
		return nil, err
	}
	if err := checkID("identity provider", provider); err != nil {
		return nil, err
	}
	if err := checkID("identity", identityUserID); err != nil {
		return nil, err
	}
	if strings.HasPrefix(identityUserID, provider+"|") {
		return nil, fmt.Errorf("mgmt: identity user id %q carries its provider prefix; pass the identity's user_id", identityUserID)
	}
	var out []Identity
	u := m.c.endpoint("users", id, "identities", provider, identityUserID)
	r := &request{method: http.MethodDelete, route: routeUserIdentity, u: u, out: &out, notIdempotent: true}
	if err := m.c.do(ctx, r); err != nil {
		return nil, err
	}
	return out, nil
}
