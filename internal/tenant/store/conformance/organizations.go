package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// organizationTests cover store.OrganizationStore.
func organizationTests() []struct {
	name string
	fn   func(t *testing.T, s store.Store)
} {
	return []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Organizations", testOrganizations},
		{"OrganizationsPaging", testOrganizationsPaging},
		{"OrganizationMembers", testOrganizationMembers},
		{"UserOrganizations", testUserOrganizations},
		{"OrganizationMembershipCascades", testOrganizationCascades},
	}
}

func orgNames(orgs []store.Organization) []string {
	out := []string{}
	for _, o := range orgs {
		out = append(out, o.Name)
	}
	return out
}

func mustCreateOrg(t *testing.T, s store.Store, orgs ...store.Organization) {
	t.Helper()
	for _, o := range orgs {
		mustDo(t, "CreateOrganization "+o.Name, s.CreateOrganization(t.Context(), o))
	}
}

// orgEqual compares organizations field by field, raw JSON byte for byte and by nil-ness.
func orgEqual(a, b store.Organization) bool {
	return a.ID == b.ID && a.Name == b.Name && a.DisplayName == b.DisplayName &&
		equalValue(a.Branding, b.Branding) && equalValue(a.Metadata, b.Metadata)
}

func testOrganizations(t *testing.T, s store.Store) {
	ctx := t.Context()
	full := store.Organization{ID: "org_0000000000000002", Name: "globex", DisplayName: "Globex Corporation",
		Branding: json.RawMessage(`{"logo_url": "https://example.com/g.png", "colors": {"primary": "#0059d6", "page_background": "#000000"}}`),
		Metadata: json.RawMessage(`{"tier":"gold","region":"eu"}`)}
	bare := store.Organization{ID: "org_0000000000000001", Name: "acme"}
	mustCreateOrg(t, s, full, bare)
	wantErr(t, "duplicate organization name", s.CreateOrganization(ctx, store.Organization{ID: "org_x", Name: "acme"}), store.ErrAlreadyExists)
	wantErr(t, "duplicate organization id", s.CreateOrganization(ctx, store.Organization{ID: full.ID, Name: "other"}), store.ErrAlreadyExists)
	for _, want := range []store.Organization{full, bare} {
		got, err := s.GetOrganization(ctx, want.ID)
		if err != nil || !orgEqual(got, want) {
			t.Errorf("GetOrganization(%s) = %+v, %v; want %+v (JSON byte for byte, unset stays nil)", want.ID, got, err, want)
		}
	}
	_, err := s.GetOrganization(ctx, "org_missing")
	wantErr(t, "GetOrganization(missing)", err, store.ErrNotFound)

	list, total, err := s.ListOrganizations(ctx, store.OffsetPage{})
	if err != nil || total != 2 || !slices.Equal(orgNames(list), []string{"acme", "globex"}) {
		t.Errorf("ListOrganizations = %v (total %d), %v; want [acme globex] by name (total 2)", orgNames(list), total, err)
	}
	if len(list) == 2 && !orgEqual(list[1], full) {
		t.Errorf("listed organization %+v, want %+v", list[1], full)
	}

	mustDo(t, "DeleteOrganization", s.DeleteOrganization(ctx, bare.ID))
	_, err = s.GetOrganization(ctx, bare.ID)
	wantErr(t, "GetOrganization after delete", err, store.ErrNotFound)
	wantErr(t, "DeleteOrganization again", s.DeleteOrganization(ctx, bare.ID), store.ErrNotFound)
	// The name is free again.
	mustCreateOrg(t, s, store.Organization{ID: "org_0000000000000003", Name: "acme"})
	if _, total, _ := s.ListOrganizations(ctx, store.OffsetPage{}); total != 2 {
		t.Errorf("total after delete and re-create = %d, want 2", total)
	}
}

func testOrganizationsPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	list, total, err := s.ListOrganizations(ctx, store.OffsetPage{Limit: 10})
	if err != nil || total != 0 || list == nil || len(list) != 0 {
		t.Errorf("ListOrganizations of none = %#v (total %d), %v; want an empty, non-nil page", list, total, err)
	}
	names := []string{"echo", "alpha", "delta", "charlie", "bravo"}
	for i, n := range names {
		mustCreateOrg(t, s, store.Organization{ID: fmt.Sprintf("org_%016d", 9-i), Name: n})
	}
	slices.Sort(names)
	list, total, err = s.ListOrganizations(ctx, store.OffsetPage{Offset: 1, Limit: 2})
	if err != nil || total != 5 || !slices.Equal(orgNames(list), names[1:3]) {
		t.Errorf("ListOrganizations offset 1 limit 2 = %v (total %d), %v; want %v (total 5)", orgNames(list), total, err, names[1:3])
	}
	list, total, _ = s.ListOrganizations(ctx, store.OffsetPage{Offset: 4, Limit: 2})
	if total != 5 || !slices.Equal(orgNames(list), names[4:]) {
		t.Errorf("last page = %v (total %d), want %v", orgNames(list), total, names[4:])
	}
	list, total, _ = s.ListOrganizations(ctx, store.OffsetPage{Offset: 7, Limit: 2})
	if total != 5 || list == nil || len(list) != 0 {
		t.Errorf("page past the end = %#v (total %d), want empty and non-nil, total 5", list, total)
	}
	// The order is stable: walking every page gives every organization once.
	var walked []string
	for off := 0; off < 5; off += 2 {
		page, _, err := s.ListOrganizations(ctx, store.OffsetPage{Offset: off, Limit: 2})
		mustDo(t, "ListOrganizations", err)
		walked = append(walked, orgNames(page)...)
	}
	if !slices.Equal(walked, names) {
		t.Errorf("pages walked = %v, want %v", walked, names)
	}
}

func testOrganizationMembers(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateOrg(t, s, store.Organization{ID: "org_a", Name: "acme"}, store.Organization{ID: "org_b", Name: "bravo"})
	var ids []string
	for i := 5; i >= 1; i-- {
		u := dbUser(fmt.Sprintf("m%d", i), fmt.Sprintf("m%d@example.com", i))
		u.Name, u.Picture = fmt.Sprintf("Member %d", i), "https://example.com/p.png"
		mustCreate(t, s, u)
		ids = append(ids, u.ID)
	}
	slices.Sort(ids)
	members, total, err := s.OrganizationMembers(ctx, "org_a", store.OffsetPage{})
	if err != nil || total != 0 || members == nil || len(members) != 0 {
		t.Errorf("OrganizationMembers of an empty organization = %#v (total %d), %v; want an empty, non-nil page", members, total, err)
	}

	mustDo(t, "AddOrganizationMembers", s.AddOrganizationMembers(ctx, "org_a", []string{ids[4], ids[0], ids[2]}))
	mustDo(t, "AddOrganizationMembers again (idempotent)", s.AddOrganizationMembers(ctx, "org_a", []string{ids[0], ids[1], ids[3]}))
	members, total, err = s.OrganizationMembers(ctx, "org_a", store.OffsetPage{})
	if err != nil || total != 5 || !slices.Equal(userIDs(members), ids) {
		t.Errorf("OrganizationMembers = %v (total %d), %v; want %v by user id (total 5)", userIDs(members), total, err, ids)
	}
	if len(members) > 0 {
		assertUser(t, "member", mustGet(t, s, members[0].ID), members[0])
	}
	members, total, err = s.OrganizationMembers(ctx, "org_a", store.OffsetPage{Offset: 1, Limit: 2})
	if err != nil || total != 5 || !slices.Equal(userIDs(members), ids[1:3]) {
		t.Errorf("OrganizationMembers offset 1 limit 2 = %v (total %d), %v; want %v (total 5)", userIDs(members), total, err, ids[1:3])
	}
	members, total, _ = s.OrganizationMembers(ctx, "org_a", store.OffsetPage{Offset: 5, Limit: 2})
	if total != 5 || members == nil || len(members) != 0 {
		t.Errorf("members page past the end = %#v (total %d), want empty and non-nil", members, total)
	}

	// A missing user refuses the whole call; a missing organization is told apart from it.
	err = s.AddOrganizationMembers(ctx, "org_b", []string{ids[0], "auth0|ghost"})
	wantErr(t, "AddOrganizationMembers with a missing user", err, store.ErrMemberNotFound)
	if _, total, _ := s.OrganizationMembers(ctx, "org_b", store.OffsetPage{}); total != 0 {
		t.Errorf("a refused AddOrganizationMembers added %d members", total)
	}
	err = s.AddOrganizationMembers(ctx, "org_missing", []string{ids[0]})
	wantErr(t, "AddOrganizationMembers to a missing organization", err, store.ErrNotFound)
	if errors.Is(err, store.ErrMemberNotFound) {
		t.Errorf("a missing organization reported as a missing member: %v", err)
	}

	mustDo(t, "RemoveOrganizationMembers", s.RemoveOrganizationMembers(ctx, "org_a", []string{ids[1], "auth0|not-a-member", ids[3]}))
	members, total, _ = s.OrganizationMembers(ctx, "org_a", store.OffsetPage{})
	if want := []string{ids[0], ids[2], ids[4]}; total != 3 || !slices.Equal(userIDs(members), want) {
		t.Errorf("OrganizationMembers after removal = %v (total %d), want %v", userIDs(members), total, want)
	}
	wantErr(t, "RemoveOrganizationMembers from a missing organization",
		s.RemoveOrganizationMembers(ctx, "org_missing", []string{ids[0]}), store.ErrNotFound)
	_, _, err = s.OrganizationMembers(ctx, "org_missing", store.OffsetPage{})
	wantErr(t, "OrganizationMembers(missing organization)", err, store.ErrNotFound)
	// Removing a member does not delete the user.
	mustGet(t, s, ids[1])
}

func testUserOrganizations(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, other := dbUser("member", "member@example.com"), dbUser("other", "other@example.com")
	mustCreate(t, s, u, other)
	orgs, total, err := s.UserOrganizations(ctx, u.ID, store.OffsetPage{Limit: 50})
	if err != nil || total != 0 || orgs == nil || len(orgs) != 0 {
		t.Errorf("UserOrganizations of a user in none = %#v (total %d), %v; want an empty, non-nil page", orgs, total, err)
	}
	withBranding := store.Organization{ID: "org_3", Name: "charlie", DisplayName: "Charlie Ltd",
		Branding: json.RawMessage(`{"logo_url":"https://example.com/c.gif"}`), Metadata: json.RawMessage(`{"k":"v"}`)}
	mustCreateOrg(t, s, withBranding, store.Organization{ID: "org_1", Name: "bravo"},
		store.Organization{ID: "org_2", Name: "alpha"}, store.Organization{ID: "org_4", Name: "delta"})
	for _, id := range []string{"org_3", "org_1", "org_2"} {
		mustDo(t, "AddOrganizationMembers", s.AddOrganizationMembers(ctx, id, []string{u.ID}))
	}
	mustDo(t, "AddOrganizationMembers (other user)", s.AddOrganizationMembers(ctx, "org_4", []string{other.ID}))
	orgs, total, err = s.UserOrganizations(ctx, u.ID, store.OffsetPage{})
	if err != nil || total != 3 || !slices.Equal(orgNames(orgs), []string{"alpha", "bravo", "charlie"}) {
		t.Errorf("UserOrganizations = %v (total %d), %v; want [alpha bravo charlie] by name (total 3)", orgNames(orgs), total, err)
	}
	if len(orgs) == 3 && !orgEqual(orgs[2], withBranding) {
		t.Errorf("UserOrganizations element %+v, want the whole organization %+v", orgs[2], withBranding)
	}
	orgs, total, _ = s.UserOrganizations(ctx, u.ID, store.OffsetPage{Offset: 1, Limit: 1})
	if total != 3 || !slices.Equal(orgNames(orgs), []string{"bravo"}) {
		t.Errorf("UserOrganizations offset 1 limit 1 = %v (total %d), want [bravo] (total 3)", orgNames(orgs), total)
	}
	orgs, total, _ = s.UserOrganizations(ctx, u.ID, store.OffsetPage{Offset: 3, Limit: 1})
	if total != 3 || orgs == nil || len(orgs) != 0 {
		t.Errorf("UserOrganizations past the end = %#v (total %d), want empty and non-nil", orgs, total)
	}
	_, _, err = s.UserOrganizations(ctx, "auth0|ghost", store.OffsetPage{})
	wantErr(t, "UserOrganizations(unknown user)", err, store.ErrNotFound)
}

func testOrganizationCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	gone, stays, linked := dbUser("gone", "gone@example.com"), dbUser("stays", "stays@example.com"), dbUser("linked", "linked@example.com")
	mustCreate(t, s, gone, stays, linked)
	mustCreateOrg(t, s, store.Organization{ID: "org_a", Name: "acme"}, store.Organization{ID: "org_b", Name: "bravo"})
	for _, o := range []string{"org_a", "org_b"} {
		mustDo(t, "AddOrganizationMembers", s.AddOrganizationMembers(ctx, o, []string{gone.ID, stays.ID, linked.ID}))
	}
	members := func(org string) []string {
		t.Helper()
		ms, total, err := s.OrganizationMembers(ctx, org, store.OffsetPage{})
		mustDo(t, "OrganizationMembers", err)
		if total != len(ms) {
			t.Errorf("OrganizationMembers(%s) total %d for %d members", org, total, len(ms))
		}
		return userIDs(ms)
	}
	userOrgs := func(id string) []string {
		t.Helper()
		orgs, total, err := s.UserOrganizations(ctx, id, store.OffsetPage{})
		mustDo(t, "UserOrganizations", err)
		if total != len(orgs) {
			t.Errorf("UserOrganizations(%s) total %d for %d organizations", id, total, len(orgs))
		}
		return orgNames(orgs)
	}

	// Deleting a user ends its memberships only.
	mustDo(t, "DeleteUser", s.DeleteUser(ctx, gone.ID))
	for _, o := range []string{"org_a", "org_b"} {
		if got, want := members(o), []string{linked.ID, stays.ID}; !slices.Equal(got, want) {
			t.Errorf("members of %s after deleting a member = %v, want %v", o, got, want)
		}
	}
	mustCreate(t, s, gone)
	if got := userOrgs(gone.ID); len(got) != 0 {
		t.Errorf("a re-created user is still in %v", got)
	}

	// Linking a member into another account ends the secondary's memberships (its record is gone).
	_, err := s.LinkUser(ctx, gone.ID, linked.ID, base)
	mustDo(t, "LinkUser", err)
	if got, want := members("org_a"), []string{stays.ID}; !slices.Equal(got, want) {
		t.Errorf("members after linking a member away = %v, want %v", got, want)
	}

	// Deleting an organization ends its memberships only; the users stay.
	mustDo(t, "DeleteOrganization", s.DeleteOrganization(ctx, "org_a"))
	if got, want := userOrgs(stays.ID), []string{"bravo"}; !reflect.DeepEqual(got, want) {
		t.Errorf("organizations of a member after deleting one = %v, want %v", got, want)
	}
	mustGet(t, s, stays.ID)
	mustCreateOrg(t, s, store.Organization{ID: "org_a", Name: "acme"})
	if got := members("org_a"); len(got) != 0 {
		t.Errorf("a re-created organization has members %v", got)
	}
}
