package conformance

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// linkTests cover store.LinkStore.
func linkTests() []struct {
	name string
	fn   func(t *testing.T, s store.Store)
} {
	return []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"LinkAndUnlink", testLinkAndUnlink},
		{"LinkedKeysStayTaken", testLinkedKeysStayTaken},
		{"LinkErrors", testLinkErrors},
		{"LinkedIdentitiesInEveryRead", testLinkedInEveryRead},
		{"LinkedIdentitiesDeletedWithPrimary", testLinkedDeletedWithPrimary},
	}
}

// linkFixture creates a primary (every field set), a secondary database user with a role, a session
// and an authentication method, and a bystander.
func linkFixture(t *testing.T, s store.Store) (primary, secondary, other store.User) {
	t.Helper()
	ctx := t.Context()
	primary = fullUser()
	secondary = store.User{
		ID: "auth0|63d17c6ce99d3933163bddc2", Connection: "Username-Password-Authentication", Provider: "auth0",
		Email: "chuck718@example.com", EmailVerified: true, Username: "test-user84", PhoneNumber: "+15550000001",
		PhoneVerified: ptr(true), Name: "Chuck Two", GivenName: "Chuck", FamilyName: "Sanchez",
		Nickname: "Chucky", Picture: "https://example-picture-url.jpg",
		PasswordHash: "$2a$04$zyxwvutsrqponmlkjihgfeu5r9J3cgLyvPj3y1E8X6dI1fQy8w5e2a", Blocked: ptr(true),
		UserMetadata: []byte(`{"a":1}`), AppMetadata: []byte(`{"b":2}`), CreatedAt: base, UpdatedAt: base,
		LastLogin: ptr(base), LastIP: "203.0.113.9", LoginsCount: 3,
	}
	other = dbUser("other", "other@example.com")
	mustCreate(t, s, primary, secondary, other)
	mustDo(t, "CreateRole", s.CreateRole(ctx, store.Role{ID: "rol_1", Name: "r"}))
	mustDo(t, "AssignRoles", s.AssignRoles(ctx, secondary.ID, []string{"rol_1"}))
	mustDo(t, "CreateSession", s.CreateSession(ctx, store.Session{ID: "sess", UserID: secondary.ID, CreatedAt: base}))
	mustDo(t, "CreateAuthMethod", s.CreateAuthMethod(ctx, store.AuthMethod{ID: "m", UserID: secondary.ID, Type: "totp", CreatedAt: base}))
	return primary, secondary, other
}

func testLinkAndUnlink(t *testing.T, s store.Store) {
	ctx := t.Context()
	primary, secondary, other := linkFixture(t, s)
	_, before, err := s.ListUsers(ctx, store.Query{})
	mustDo(t, "ListUsers", err)

	at := base.Add(24 * time.Hour)
	got, err := s.LinkUser(ctx, primary.ID, secondary.ID, at)
	mustDo(t, "LinkUser", err)
	wantIdentity := store.LinkedIdentity{
		Connection: secondary.Connection, Provider: "auth0", UserID: "63d17c6ce99d3933163bddc2",
		Profile: store.ProfileOf(secondary), PasswordHash: secondary.PasswordHash, LinkedAt: at,
	}
	wantPrimary := primary
	wantPrimary.UpdatedAt = at
	wantPrimary.Linked = []store.LinkedIdentity{wantIdentity}
	assertUser(t, "LinkUser result", wantPrimary, got)
	assertUser(t, "primary after link", wantPrimary, mustGet(t, s, primary.ID))
	assertUser(t, "bystander after link", other, mustGet(t, s, other.ID))

	// The secondary is no user while linked.
	_, err = s.GetUser(ctx, secondary.ID)
	wantErr(t, "GetUser(linked secondary)", err, store.ErrNotFound)
	all, total, err := s.ListUsers(ctx, store.Query{})
	mustDo(t, "ListUsers", err)
	if slices.Contains(userIDs(all), secondary.ID) || total != before-1 || len(all) != before-1 {
		t.Errorf("ListUsers while linked = %v (total %d); want the %d users but the secondary", userIDs(all), total, before-1)
	}
	found, _, err := s.ListUsers(ctx, store.Query{Expr: store.Term{Field: "email", Value: secondary.Email}})
	if err != nil || len(found) != 0 {
		t.Errorf("search by the secondary's email while linked = %v, %v; want nothing", userIDs(found), err)
	}
	if us, err := s.UsersByEmail(ctx, secondary.Email); err != nil || len(us) != 0 {
		t.Errorf("UsersByEmail(secondary's email) while linked = %v, %v; want nothing", userIDs(us), err)
	}

	// Unlinking gives the account back: its id, connection, profile and password, created now, nothing else.
	at2 := at.Add(time.Hour)
	gotPrimary, restored, err := s.UnlinkIdentity(ctx, primary.ID, "auth0", "63d17c6ce99d3933163bddc2", at2)
	mustDo(t, "UnlinkIdentity", err)
	wantPrimary.Linked, wantPrimary.UpdatedAt = nil, at2
	assertUser(t, "UnlinkIdentity primary", wantPrimary, gotPrimary)
	assertUser(t, "primary after unlink", wantPrimary, mustGet(t, s, primary.ID))
	wantRestored := store.User{
		ID: secondary.ID, Connection: secondary.Connection, Provider: "auth0", Email: secondary.Email,
		EmailVerified: true, Username: secondary.Username, PhoneNumber: secondary.PhoneNumber,
		PhoneVerified: ptr(true), Name: secondary.Name, GivenName: secondary.GivenName,
		FamilyName: secondary.FamilyName, Nickname: secondary.Nickname, Picture: secondary.Picture,
		PasswordHash: secondary.PasswordHash, CreatedAt: at2, UpdatedAt: at2,
	}
	assertUser(t, "UnlinkIdentity restored", wantRestored, restored)
	assertUser(t, "restored user", wantRestored, mustGet(t, s, secondary.ID))
	assertUser(t, "bystander after unlink", other, mustGet(t, s, other.ID))
	all, total, err = s.ListUsers(ctx, store.Query{})
	if err != nil || !slices.Contains(userIDs(all), secondary.ID) || total != before {
		t.Errorf("ListUsers after unlink = %v (total %d), %v; want the secondary back, total %d", userIDs(all), total, err, before)
	}
	// What belonged to the secondary user went with it when it was linked.
	if rs, _ := s.UserRoles(ctx, secondary.ID); len(rs) != 0 {
		t.Errorf("restored user's roles = %v; the secondary's roles must go when it is linked", roleNames(rs))
	}
	if ss, _ := s.Sessions(ctx, secondary.ID); len(ss) != 0 {
		t.Errorf("restored user's sessions = %+v; want none", ss)
	}
	if ms, _ := s.AuthMethods(ctx, secondary.ID); len(ms) != 0 {
		t.Errorf("restored user's authentication methods = %+v; want none", ms)
	}
	members, n, err := s.RoleMembers(ctx, "rol_1", store.RoleMembersQuery{})
	if err != nil || n != 0 || len(members) != 0 {
		t.Errorf("role members = %v (%d), %v; want none", userIDs(members), n, err)
	}
	_, _, err = s.UnlinkIdentity(ctx, primary.ID, "auth0", "63d17c6ce99d3933163bddc2", at2)
	wantErr(t, "UnlinkIdentity again", err, store.ErrIdentityNotFound)

	// A social identity, linked then unlinked, keeps its provider, IsSocial and id (no password).
	social := store.User{ID: "google-oauth2|1234567890", Connection: "google-oauth2", Provider: "google-oauth2",
		IsSocial: true, Email: "chuck@gmail.com", EmailVerified: true, Name: "Chuck G", CreatedAt: base, UpdatedAt: base}
	mustCreate(t, s, social)
	got, err = s.LinkUser(ctx, primary.ID, social.ID, at2)
	mustDo(t, "LinkUser(social)", err)
	if len(got.Linked) != 1 || got.Linked[0].Provider != "google-oauth2" || got.Linked[0].UserID != "1234567890" ||
		!got.Linked[0].IsSocial || got.Linked[0].Connection != "google-oauth2" || got.Linked[0].PasswordHash != "" {
		t.Errorf("linked social identity = %+v", got.Linked)
	}
	_, restored, err = s.UnlinkIdentity(ctx, primary.ID, "google-oauth2", "1234567890", at2)
	mustDo(t, "UnlinkIdentity(social)", err)
	wantSocial := social
	wantSocial.CreatedAt, wantSocial.UpdatedAt = at2, at2
	assertUser(t, "restored social user", wantSocial, restored)
}

func testLinkedKeysStayTaken(t *testing.T, s store.Store) {
	ctx := t.Context()
	primary, secondary, other := linkFixture(t, s)
	_, err := s.LinkUser(ctx, primary.ID, secondary.ID, base)
	mustDo(t, "LinkUser", err)

	sameID := dbUser("63d17c6ce99d3933163bddc2", "fresh@example.com")
	wantErr(t, "CreateUser(the linked identity's id)", s.CreateUser(ctx, sameID), store.ErrAlreadyExists)
	sameEmail := dbUser("fresh1", secondary.Email)
	wantErr(t, "CreateUser(the linked identity's email, same connection)", s.CreateUser(ctx, sameEmail), store.ErrAlreadyExists)
	sameUsername := dbUser("fresh2", "fresh2@example.com")
	sameUsername.Username = secondary.Username
	wantErr(t, "CreateUser(the linked identity's username, same connection)", s.CreateUser(ctx, sameUsername), store.ErrAlreadyExists)
	wantErr(t, "CreateUsers(the linked identity's email)", s.CreateUsers(ctx, []store.User{sameEmail}), store.ErrAlreadyExists)
	_, err = s.UpdateUser(ctx, other.ID, func(u store.User) (store.User, error) {
		u.Email = secondary.Email
		return u, nil
	})
	wantErr(t, "UpdateUser(email → the linked identity's)", err, store.ErrAlreadyExists)
	_, err = s.UpdateUser(ctx, other.ID, func(u store.User) (store.User, error) {
		u.Username = secondary.Username
		return u, nil
	})
	wantErr(t, "UpdateUser(username → the linked identity's)", err, store.ErrAlreadyExists)
	assertUser(t, "bystander after refused updates", other, mustGet(t, s, other.ID))

	// The keys are taken only within the identity's connection, and updates that keep them work.
	elsewhere := dbUser("fresh3", secondary.Email)
	elsewhere.Connection = "Other-Database"
	elsewhere.Username = secondary.Username
	mustCreate(t, s, elsewhere)
	if _, err := s.UpdateUser(ctx, primary.ID, func(u store.User) (store.User, error) {
		u.Name = "Renamed"
		return u, nil
	}); err != nil {
		t.Errorf("UpdateUser(primary, name only): %v", err)
	}

	// After unlinking, the account owns them again, and nothing else got them meanwhile.
	_, _, err = s.UnlinkIdentity(ctx, primary.ID, "auth0", "63d17c6ce99d3933163bddc2", base)
	mustDo(t, "UnlinkIdentity", err)
	wantErr(t, "CreateUser(the restored user's email)", s.CreateUser(ctx, sameEmail), store.ErrAlreadyExists)
}

func testLinkErrors(t *testing.T, s store.Store) {
	ctx := t.Context()
	primary, secondary, other := linkFixture(t, s)
	cases := []struct {
		what                 string
		primaryID, secondary string
		want, notWant        error
	}{
		{"unknown primary", "auth0|ghost", secondary.ID, store.ErrNotFound, store.ErrSecondaryNotFound},
		{"unknown secondary", primary.ID, "auth0|ghost", store.ErrSecondaryNotFound, nil},
		{"itself", primary.ID, primary.ID, store.ErrInvalidLink, nil},
	}
	for _, c := range cases {
		_, err := s.LinkUser(ctx, c.primaryID, c.secondary, base)
		wantErr(t, "LinkUser("+c.what+")", err, c.want)
		if c.notWant != nil && errors.Is(err, c.notWant) {
			t.Errorf("LinkUser(%s): error %v must not be %v", c.what, err, c.notWant)
		}
	}
	// A secondary with linked identities of its own cannot be linked; nothing changes.
	_, err := s.LinkUser(ctx, primary.ID, secondary.ID, base)
	mustDo(t, "LinkUser", err)
	_, err = s.LinkUser(ctx, other.ID, primary.ID, base)
	wantErr(t, "LinkUser(secondary with linked identities)", err, store.ErrInvalidLink)
	if p := mustGet(t, s, primary.ID); len(p.Linked) != 1 {
		t.Errorf("primary after a refused link has %d linked identities; want 1", len(p.Linked))
	}
	assertUser(t, "bystander after a refused link", other, mustGet(t, s, other.ID))
	// A linked identity cannot be linked again: it is no user.
	_, err = s.LinkUser(ctx, other.ID, secondary.ID, base)
	wantErr(t, "LinkUser(already linked identity)", err, store.ErrSecondaryNotFound)

	_, _, err = s.UnlinkIdentity(ctx, "auth0|ghost", "auth0", "63d17c6ce99d3933163bddc2", base)
	wantErr(t, "UnlinkIdentity(unknown primary)", err, store.ErrNotFound)
	if errors.Is(err, store.ErrIdentityNotFound) {
		t.Errorf("UnlinkIdentity(unknown primary): error %v must not be ErrIdentityNotFound", err)
	}
	for _, c := range []struct{ what, provider, userID string }{
		{"unknown identity", "auth0", "ghost"},
		{"wrong provider", "google-oauth2", "63d17c6ce99d3933163bddc2"},
		{"the primary's own identity", "auth0", "63d17c4a8869daf88ed7db97"},
		{"another user's identity", "auth0", "other"},
	} {
		_, _, err := s.UnlinkIdentity(ctx, primary.ID, c.provider, c.userID, base)
		wantErr(t, "UnlinkIdentity("+c.what+")", err, store.ErrIdentityNotFound)
	}
	if p := mustGet(t, s, primary.ID); len(p.Linked) != 1 {
		t.Errorf("primary after refused unlinks has %d linked identities; want 1", len(p.Linked))
	}
}

// testLinkedInEveryRead: ListUsers pages (filtered or not, each plan), UsersByEmail, UpdateUser and
// RoleMembers carry each user's own linked identities, in link order.
func testLinkedInEveryRead(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := dbUser("a", "a@example.com"), dbUser("b", "b@example.com")
	a1, a2, b1 := dbUser("a1", "a1@example.com"), dbUser("a2", "a2@example.com"), dbUser("b1", "b1@example.com")
	plain := dbUser("c", "c@example.com")
	mustCreate(t, s, a, b, a1, a2, b1, plain)
	for _, l := range [][2]string{{a.ID, a2.ID}, {b.ID, b1.ID}, {a.ID, a1.ID}} {
		_, err := s.LinkUser(ctx, l[0], l[1], base)
		mustDo(t, "LinkUser", err)
	}
	want := map[string][]string{a.ID: {"a2", "a1"}, b.ID: {"b1"}, plain.ID: nil}
	check := func(what string, us []store.User) {
		t.Helper()
		if len(us) == 0 {
			t.Errorf("%s: no users", what)
		}
		for _, u := range us {
			var got []string
			for _, li := range u.Linked {
				got = append(got, li.UserID)
			}
			if !reflect.DeepEqual(got, want[u.ID]) {
				t.Errorf("%s: %s linked = %v, want %v", what, u.ID, got, want[u.ID])
			}
			if want[u.ID] == nil && u.Linked != nil {
				t.Errorf("%s: %s Linked = %#v, want nil", what, u.ID, u.Linked)
			}
		}
	}
	all, total, err := s.ListUsers(ctx, store.Query{})
	mustDo(t, "ListUsers", err)
	if total != 3 {
		t.Errorf("ListUsers total = %d, want 3 (linked identities are no users)", total)
	}
	check("ListUsers", all)
	page, _, err := s.ListUsers(ctx, store.Query{Offset: 1, Limit: 2, Sort: "email", Desc: true})
	mustDo(t, "ListUsers page", err)
	check("ListUsers page", page)
	found, _, err := s.ListUsers(ctx, store.Query{Expr: store.Term{Field: "email", Value: "a@example.com"}, Limit: 10})
	mustDo(t, "ListUsers search", err)
	check("ListUsers search", found)
	keyset, _, err := s.ListUsers(ctx, store.Query{After: a.ID, Limit: 5, NoTotal: true})
	mustDo(t, "ListUsers keyset", err)
	check("ListUsers keyset", keyset)
	byEmail, err := s.UsersByEmail(ctx, "a@example.com")
	mustDo(t, "UsersByEmail", err)
	check("UsersByEmail", byEmail)
	var seen []store.LinkedIdentity
	updated, err := s.UpdateUser(ctx, a.ID, func(old store.User) (store.User, error) {
		seen = old.Linked
		old.Linked = nil // ignored: only LinkUser and UnlinkIdentity change Linked
		old.Nickname = "renamed"
		return old, nil
	})
	mustDo(t, "UpdateUser", err)
	if len(seen) != 2 {
		t.Errorf("UpdateUser gave fn %d linked identities, want 2", len(seen))
	}
	check("UpdateUser", []store.User{updated, mustGet(t, s, a.ID)})
	mustDo(t, "CreateRole", s.CreateRole(ctx, store.Role{ID: "rol_1", Name: "r"}))
	mustDo(t, "AssignRoles", s.AssignRoles(ctx, a.ID, []string{"rol_1"}))
	mustDo(t, "AssignRoles", s.AssignRoles(ctx, plain.ID, []string{"rol_1"}))
	members, _, err := s.RoleMembers(ctx, "rol_1", store.RoleMembersQuery{})
	mustDo(t, "RoleMembers", err)
	check("RoleMembers", members)
}

func testLinkedDeletedWithPrimary(t *testing.T, s store.Store) {
	ctx := t.Context()
	primary, secondary, other := linkFixture(t, s)
	_, err := s.LinkUser(ctx, primary.ID, secondary.ID, base)
	mustDo(t, "LinkUser", err)
	mustDo(t, "DeleteUser(primary)", s.DeleteUser(ctx, primary.ID))
	_, err = s.GetUser(ctx, secondary.ID)
	wantErr(t, "GetUser(linked secondary of a deleted primary)", err, store.ErrNotFound)
	all, total, err := s.ListUsers(ctx, store.Query{})
	if err != nil || total != 1 || !reflect.DeepEqual(userIDs(all), []string{other.ID}) {
		t.Errorf("ListUsers after deleting the primary = %v (total %d), %v; want only the bystander", userIDs(all), total, err)
	}
	// The identity's keys are free again: a new account may take its id, email and username.
	again := dbUser("63d17c6ce99d3933163bddc2", secondary.Email)
	again.Username = secondary.Username
	mustCreate(t, s, again)
	// Recreating the primary does not bring its linked identities back.
	mustCreate(t, s, primary)
	if p := mustGet(t, s, primary.ID); p.Linked != nil {
		t.Errorf("recreated primary has linked identities %+v", p.Linked)
	}
}
