package tenant

import (
	"context"
	"encoding/json"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// demoOrganizations are the organizations of a freshly seeded tenant (first start with Config.Seed),
// with fixed ids like the demo roles: one with full branding and metadata, one with a logo only, one
// bare, so every shape of the answer shows up.
var demoOrganizations = []store.Organization{
	{ID: "org_AcmeDemo00000001", Name: "acme", DisplayName: "Acme Corporation",
		Branding: json.RawMessage(`{"logo_url":"https://acme.example/logo.png","colors":{"primary":"#E4572E","page_background":"#FFFFFF"}}`),
		Metadata: json.RawMessage(`{"account_manager":"Dana Reyes","plan":"enterprise"}`)},
	{ID: "org_GlobexDemo000001", Name: "globex", DisplayName: "Globex Corporation",
		Branding: json.RawMessage(`{"logo_url":"https://globex.example/logo.png"}`),
		Metadata: json.RawMessage(`{"plan":"business"}`)},
	{ID: "org_InitechDemo00001", Name: "initech", DisplayName: "Initech"},
}

// demoMemberships says, for the first database users in user-id order (the same users seedSupport
// gives roles, MFA factors and sessions), which demo organizations (indexes into demoOrganizations)
// each joins: users 0 and 4 are in two, users 9 and later in none.
var demoMemberships = [][]int{{0, 1}, {1}, {2}, {0}, {1, 2}, {2}, {0}, {1}, {2}}

// seedOrganizations creates the demo organizations and memberships. The demo users are deterministic
// (seed.go), so every fresh tenant gets the same memberships.
func (t *Tenant) seedOrganizations(ctx context.Context) error {
	for _, o := range demoOrganizations {
		if err := t.store.CreateOrganization(ctx, o); err != nil {
			return err
		}
	}
	users, _, err := t.store.ListUsers(ctx, store.Query{Expr: store.Term{Field: "identities.connection", Value: DatabaseConnection},
		Limit: len(demoMemberships), NoTotal: true})
	if err != nil {
		return err
	}
	members := make([][]string, len(demoOrganizations))
	for i, u := range users {
		for _, o := range demoMemberships[i] {
			members[o] = append(members[o], u.ID)
		}
	}
	for i, o := range demoOrganizations {
		if len(members[i]) == 0 {
			continue
		}
		if err := t.store.AddOrganizationMembers(ctx, o.ID, members[i]); err != nil {
			return err
		}
	}
	return nil
}
