// Package conformance is the behaviour every store.Store backend must show; a backend's tests call Run.
package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// Run runs every conformance test. newStore must return a fresh, empty store for each subtest and
// arrange (t.Cleanup) for it to be closed.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"UserRoundTrip", testUserRoundTrip},
		{"UserTimestampsUTCMillis", testUserTimestamps},
		{"UserNotFound", testUserNotFound},
		{"UserDelete", testUserDelete},
		{"UserUniqueKeys", testUserUniqueKeys},
		{"UserUpdate", testUserUpdate},
		{"UserUpdateErrors", testUserUpdateErrors},
		{"UsersByEmail", testUsersByEmail},
		{"CreateUsersBatch", testCreateUsers},
		{"ListUsersSearch", testListUsersSearch},
		{"ListUsersUnsupported", testListUsersUnsupported},
		{"ListUsersSortAndPage", testListUsersSortAndPage},
		{"ListUsersKeyset", testListUsersKeyset},
		{"Connections", testConnections},
		{"Clients", testClients},
		{"ClientGrants", testClientGrants},
		{"SigningKeys", testSigningKeys},
		{"AuthCodes", testAuthCodes},
		{"Settings", testSettings},
	}
	tests = append(tests, supportTests()...)      // support.go
	tests = append(tests, linkTests()...)         // identities.go
	tests = append(tests, organizationTests()...) // organizations.go
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

// base is a timestamp with millisecond precision in UTC, the form Auth0 reports and stores return.
var base = time.Date(2023, 1, 25, 19, 0, 26, 187_000_000, time.UTC)

func ptr[T any](v T) *T { return &v }

// dbUser returns a minimal database-connection user; only the never-set fields stay zero.
func dbUser(id, email string) store.User {
	return store.User{
		ID:         "auth0|" + id,
		Connection: "Username-Password-Authentication",
		Provider:   "auth0",
		Email:      email,
		CreatedAt:  base,
		UpdatedAt:  base,
	}
}

// fullUser sets every field, so a round trip exercises every column.
func fullUser() store.User {
	return store.User{
		ID:                "auth0|63d17c4a8869daf88ed7db97",
		Connection:        "Username-Password-Authentication",
		Provider:          "auth0",
		IsSocial:          false,
		Email:             "chuck@example.com",
		EmailVerified:     true,
		Username:          "chuck",
		PhoneNumber:       "+15551234567",
		PhoneVerified:     ptr(false),
		Name:              "Chuck Norris",
		GivenName:         "Chuck",
		FamilyName:        "Norris",
		Nickname:          "chuck",
		Picture:           "https://s.gravatar.com/avatar/0b79e7da7bc7877560620cf8f2cc93ae?s=480&r=pg",
		PasswordHash:      "$2a$04$abcdefghijklmnopqrstuu5r9J3cgLyvPj3y1E8X6dI1fQy8w5e2a",
		Blocked:           ptr(false),
		UserMetadata:      json.RawMessage(`{"theme": "dark", "langs": ["en", "fr"]}`),
		AppMetadata:       json.RawMessage(`{"plan":"gold","level":3}`),
		CreatedAt:         base,
		UpdatedAt:         base.Add(time.Hour),
		LastLogin:         ptr(base.Add(2 * time.Hour)),
		LastIP:            "203.0.113.7",
		LoginsCount:       7,
		LastPasswordReset: ptr(base.Add(3 * time.Hour)),
	}
}

// userDiff lists the fields where got differs from want: times by instant and location, pointers
// and raw JSON by nil-ness and value (raw JSON byte for byte).
func userDiff(want, got store.User) []string {
	var diffs []string
	wv, gv := reflect.ValueOf(want), reflect.ValueOf(got)
	for i := range wv.NumField() {
		name := wv.Type().Field(i).Name
		w, g := wv.Field(i).Interface(), gv.Field(i).Interface()
		if !equalValue(w, g) {
			diffs = append(diffs, fmt.Sprintf("%s: got %s, want %s", name, show(g), show(w)))
		}
	}
	return diffs
}

func equalValue(w, g any) bool {
	switch w := w.(type) {
	case time.Time:
		g := g.(time.Time)
		return w.Equal(g) && w.Location() == g.Location()
	case *time.Time:
		g := g.(*time.Time)
		if w == nil || g == nil {
			return w == nil && g == nil
		}
		return equalValue(*w, *g)
	case json.RawMessage:
		g := g.(json.RawMessage)
		return (w == nil) == (g == nil) && bytes.Equal(w, g)
	case []string:
		g := g.([]string)
		return (w == nil) == (g == nil) && slices.Equal(w, g)
	}
	return reflect.DeepEqual(w, g)
}

func show(v any) string {
	switch v := v.(type) {
	case json.RawMessage:
		if v == nil {
			return "nil"
		}
		return "`" + string(v) + "`"
	case *time.Time:
		if v == nil {
			return "nil"
		}
		return v.Format(time.RFC3339Nano) + " (" + v.Location().String() + ")"
	case time.Time:
		return v.Format(time.RFC3339Nano) + " (" + v.Location().String() + ")"
	case *bool:
		if v == nil {
			return "nil"
		}
		return fmt.Sprint(*v)
	}
	return fmt.Sprintf("%#v", v)
}

func assertUser(t *testing.T, what string, want, got store.User) {
	t.Helper()
	if d := userDiff(want, got); len(d) > 0 {
		t.Errorf("%s: user differs:\n  %s", what, strings.Join(d, "\n  "))
	}
}

func mustCreate(t *testing.T, s store.Store, us ...store.User) {
	t.Helper()
	for _, u := range us {
		if err := s.CreateUser(t.Context(), u); err != nil {
			t.Fatalf("CreateUser(%s): %v", u.ID, err)
		}
	}
}

func mustGet(t *testing.T, s store.Store, id string) store.User {
	t.Helper()
	u, err := s.GetUser(t.Context(), id)
	if err != nil {
		t.Fatalf("GetUser(%s): %v", id, err)
	}
	return u
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

func userIDs(us []store.User) []string {
	ids := make([]string, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	return ids
}

func testUserRoundTrip(t *testing.T, s store.Store) {
	full := fullUser()
	minimal := dbUser("minimal", "min@example.com")
	social := store.User{
		ID: "google-oauth2|1234567890", Connection: "google-oauth2", Provider: "google-oauth2",
		IsSocial: true, Email: "Social@Example.com", EmailVerified: true, Name: "Social Person",
		PhoneVerified: ptr(true), Blocked: ptr(true),
		UserMetadata: json.RawMessage(`{}`), AppMetadata: json.RawMessage(`{"roles":[]}`),
		CreatedAt: base, UpdatedAt: base,
	}
	mustCreate(t, s, full, minimal, social)

	assertUser(t, "full user", full, mustGet(t, s, full.ID))
	got := mustGet(t, s, minimal.ID)
	assertUser(t, "minimal user", minimal, got)
	if got.UserMetadata != nil || got.AppMetadata != nil {
		t.Errorf("never-set metadata came back non-nil: %q, %q", got.UserMetadata, got.AppMetadata)
	}
	if got.PhoneVerified != nil || got.Blocked != nil || got.LastLogin != nil || got.LastPasswordReset != nil {
		t.Errorf("never-set pointer fields came back set: %+v", got)
	}
	got = mustGet(t, s, social.ID)
	assertUser(t, "social user", social, got)
	if string(got.UserMetadata) != "{}" {
		t.Errorf("empty metadata object came back as %q, want {}", got.UserMetadata)
	}
}

func testUserTimestamps(t *testing.T, s store.Store) {
	zone := time.FixedZone("CEST", 2*60*60)
	in := time.Date(2024, 6, 1, 12, 30, 45, 123_456_789, zone)
	u := dbUser("ts", "ts@example.com")
	u.CreatedAt, u.UpdatedAt, u.LastLogin, u.LastPasswordReset = in, in, &in, &in
	mustCreate(t, s, u)
	got := mustGet(t, s, u.ID)
	want := time.Date(2024, 6, 1, 10, 30, 45, 123_000_000, time.UTC)
	for name, v := range map[string]time.Time{
		"CreatedAt": got.CreatedAt, "UpdatedAt": got.UpdatedAt,
		"LastLogin": *got.LastLogin, "LastPasswordReset": *got.LastPasswordReset,
	} {
		if !v.Equal(want) || v.Location() != time.UTC {
			t.Errorf("%s = %s (%s), want %s in UTC (millisecond precision)", name, v.Format(time.RFC3339Nano), v.Location(), want.Format(time.RFC3339Nano))
		}
	}
}

func testUserNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetUser(ctx, "auth0|missing")
	wantErr(t, "GetUser(missing)", err, store.ErrNotFound)
	wantErr(t, "DeleteUser(missing)", s.DeleteUser(ctx, "auth0|missing"), store.ErrNotFound)
	called := false
	_, err = s.UpdateUser(ctx, "auth0|missing", func(old store.User) (store.User, error) {
		called = true
		return old, nil
	})
	wantErr(t, "UpdateUser(missing)", err, store.ErrNotFound)
	if called {
		t.Error("UpdateUser called fn for a missing user")
	}
}

func testUserDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := dbUser("a", "a@example.com"), dbUser("b", "b@example.com")
	mustCreate(t, s, a, b)
	if err := s.DeleteUser(ctx, a.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := s.GetUser(ctx, a.ID)
	wantErr(t, "GetUser after delete", err, store.ErrNotFound)
	wantErr(t, "second DeleteUser", s.DeleteUser(ctx, a.ID), store.ErrNotFound)
	mustGet(t, s, b.ID)
	// The email is free again once its user is gone.
	if err := s.CreateUser(ctx, dbUser("a2", "a@example.com")); err != nil {
		t.Errorf("re-using a deleted user's email: %v", err)
	}
}

func testUserUniqueKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := dbUser("1", "jane@example.com")
	first.Username = "jane"
	mustCreate(t, s, first)

	sameID := dbUser("1", "other@example.com")
	wantErr(t, "duplicate user id", s.CreateUser(ctx, sameID), store.ErrAlreadyExists)

	sameEmail := dbUser("2", "jane@example.com")
	wantErr(t, "duplicate email in the connection", s.CreateUser(ctx, sameEmail), store.ErrAlreadyExists)

	sameUsername := dbUser("3", "jane2@example.com")
	sameUsername.Username = "jane"
	wantErr(t, "duplicate username in the connection", s.CreateUser(ctx, sameUsername), store.ErrAlreadyExists)

	otherConn := dbUser("4", "jane@example.com")
	otherConn.Connection = "other-db"
	otherConn.Username = "jane"
	if err := s.CreateUser(ctx, otherConn); err != nil {
		t.Errorf("same email and username in another connection: %v", err)
	}
	// Users without email or username do not collide on the empty value.
	for _, id := range []string{"5", "6"} {
		u := dbUser(id, "")
		if err := s.CreateUser(ctx, u); err != nil {
			t.Errorf("second user without email/username: %v", err)
		}
	}
	// The failed inserts left nothing behind.
	for _, id := range []string{"auth0|2", "auth0|3"} {
		_, err := s.GetUser(ctx, id)
		wantErr(t, "GetUser of rejected "+id, err, store.ErrNotFound)
	}
	if got := mustGet(t, s, first.ID); got.Email != "jane@example.com" {
		t.Errorf("duplicate id insert changed the stored user: email %q", got.Email)
	}
}

func testUserUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := fullUser()
	mustCreate(t, s, u)
	later := base.Add(24 * time.Hour)
	var seen store.User
	got, err := s.UpdateUser(ctx, u.ID, func(old store.User) (store.User, error) {
		seen = old
		old.Name = "Carlos Ray Norris"
		old.Email = "carlos@example.com"
		old.Blocked = ptr(true)
		old.PhoneVerified = nil
		old.UserMetadata = json.RawMessage(`{"theme":"light"}`)
		old.AppMetadata = nil
		old.LastLogin = &later
		old.LoginsCount++
		old.UpdatedAt = later
		return old, nil
	})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	assertUser(t, "fn argument", u, seen)
	want := u
	want.Name, want.Email, want.Blocked, want.PhoneVerified = "Carlos Ray Norris", "carlos@example.com", ptr(true), nil
	want.UserMetadata, want.AppMetadata = json.RawMessage(`{"theme":"light"}`), nil
	want.LastLogin, want.LoginsCount, want.UpdatedAt = &later, 8, later
	assertUser(t, "UpdateUser result", want, got)
	assertUser(t, "GetUser after update", want, mustGet(t, s, u.ID))

	// The old email is free, the new one is taken.
	other := dbUser("other", "chuck@example.com")
	other.Connection = u.Connection
	if err := s.CreateUser(ctx, other); err != nil {
		t.Errorf("creating a user with the email released by an update: %v", err)
	}
	clash := dbUser("clash", "carlos@example.com")
	wantErr(t, "creating a user with the email taken by an update", s.CreateUser(ctx, clash), store.ErrAlreadyExists)
	// A search sees the new values, not the old ones.
	found, _, err := s.ListUsers(ctx, store.Query{Expr: store.Term{Field: "name", Value: "carlos ray norris"}})
	if err != nil || len(found) != 1 || found[0].ID != u.ID {
		t.Errorf("search by the updated name: %v, %v", userIDs(found), err)
	}
}

func testUserUpdateErrors(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := dbUser("a", "a@example.com")
	a.Username = "alice"
	b := dbUser("b", "b@example.com")
	b.Username = "bob"
	c := dbUser("c", "c@example.com")
	c.Connection = "other-db"
	mustCreate(t, s, a, b, c)

	errBoom := errors.New("boom")
	_, err := s.UpdateUser(ctx, a.ID, func(old store.User) (store.User, error) {
		old.Name = "changed"
		return old, errBoom
	})
	if err != errBoom && !errors.Is(err, errBoom) {
		t.Errorf("fn error: got %v, want %v", err, errBoom)
	}
	assertUser(t, "user after a failed fn", a, mustGet(t, s, a.ID))

	_, err = s.UpdateUser(ctx, a.ID, func(old store.User) (store.User, error) {
		old.Email = "b@example.com"
		old.Name = "changed"
		return old, nil
	})
	wantErr(t, "update to an email taken in the connection", err, store.ErrAlreadyExists)
	assertUser(t, "user after the email clash", a, mustGet(t, s, a.ID))

	_, err = s.UpdateUser(ctx, a.ID, func(old store.User) (store.User, error) {
		old.Username = "bob"
		return old, nil
	})
	wantErr(t, "update to a username taken in the connection", err, store.ErrAlreadyExists)
	assertUser(t, "user after the username clash", a, mustGet(t, s, a.ID))

	got, err := s.UpdateUser(ctx, a.ID, func(old store.User) (store.User, error) {
		old.Email = "c@example.com" // taken only in other-db
		return old, nil
	})
	if err != nil || got.Email != "c@example.com" {
		t.Errorf("update to an email used in another connection: %v, %q", err, got.Email)
	}
}

func testUsersByEmail(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := dbUser("a", "shared@example.com")
	g := store.User{ID: "google-oauth2|1", Connection: "google-oauth2", Provider: "google-oauth2",
		IsSocial: true, Email: "shared@example.com", CreatedAt: base, UpdatedAt: base}
	o := dbUser("o", "other@example.com")
	mustCreate(t, s, a, g, o)

	got, err := s.UsersByEmail(ctx, "shared@example.com")
	if err != nil {
		t.Fatalf("UsersByEmail: %v", err)
	}
	ids := userIDs(got)
	sort.Strings(ids)
	if want := []string{a.ID, g.ID}; !slices.Equal(ids, want) {
		t.Errorf("UsersByEmail = %v, want %v", ids, want)
	}
	for _, u := range got {
		if u.ID == g.ID {
			assertUser(t, "UsersByEmail social user", g, u)
		}
	}
	for _, email := range []string{"nobody@example.com", "shared@example", "SHARED@example.com"} {
		got, err := s.UsersByEmail(ctx, email)
		if err != nil || len(got) != 0 {
			t.Errorf("UsersByEmail(%q) = %v, %v; want none (exact, case-sensitive)", email, userIDs(got), err)
		}
	}
}

func testCreateUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 1200
	us := make([]store.User, n)
	for i := range us {
		us[i] = dbUser(fmt.Sprintf("bulk%05d", i), fmt.Sprintf("bulk%05d@example.com", i))
		us[i].CreatedAt = base.Add(time.Duration(i) * time.Second)
		us[i].AppMetadata = json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))
	}
	if err := s.CreateUsers(ctx, us); err != nil {
		t.Fatalf("CreateUsers: %v", err)
	}
	_, total, err := s.ListUsers(ctx, store.Query{Limit: 1})
	if err != nil || total != n {
		t.Fatalf("total after CreateUsers = %d, %v; want %d", total, err, n)
	}
	for _, i := range []int{0, 499, 500, 1199} {
		assertUser(t, fmt.Sprintf("bulk user %d", i), us[i], mustGet(t, s, us[i].ID))
	}
	// A batch containing a taken key is refused with ErrAlreadyExists.
	dup := []store.User{dbUser("new1", "new1@example.com"), dbUser("bulk00007", "x@example.com")}
	wantErr(t, "CreateUsers with a taken id", s.CreateUsers(ctx, dup), store.ErrAlreadyExists)
	if err := s.CreateUsers(ctx, nil); err != nil {
		t.Errorf("CreateUsers(nil): %v", err)
	}
}

// searchFixture is the population the search tests query. IDs sort in the order listed.
func searchFixture() []store.User {
	mk := func(id string, f func(u *store.User)) store.User {
		u := store.User{ID: id, Connection: "Username-Password-Authentication", Provider: "auth0",
			CreatedAt: base, UpdatedAt: base}
		f(&u)
		return u
	}
	return []store.User{
		mk("auth0|01", func(u *store.User) {
			u.Email, u.Name, u.GivenName, u.FamilyName, u.Nickname = "Jane@Example.com", "Jane Doe", "Jane", "Doe", "JD"
			u.Username, u.LoginsCount, u.EmailVerified = "JSmith", 3, true
			u.PhoneNumber = "+15550001"
			u.PhoneVerified = ptr(true)
			u.LastIP = "203.0.113.7"
			u.Blocked = ptr(true)
			u.CreatedAt = time.Date(2023, 1, 10, 8, 0, 0, 0, time.UTC)
			u.LastLogin = ptr(time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC))
			u.UserMetadata = json.RawMessage(`{"plan":"gold","tags":["vip","beta"],"address":{"city":"Paris"}}`)
			u.AppMetadata = json.RawMessage(`{"admin":true,"level":42,"code":"42"}`)
		}),
		mk("auth0|02", func(u *store.User) {
			u.Email, u.Name, u.GivenName, u.FamilyName, u.Nickname = "john.doe@example.org", "John Doe", "John", "Doe", "johnny"
			u.Username, u.LoginsCount = "jsmith", 5
			u.Blocked = ptr(false)
			u.PhoneNumber, u.PhoneVerified = "+15550002", ptr(false)
			u.LastIP = "2001:db8::1"
			u.CreatedAt = time.Date(2023, 1, 10, 23, 59, 59, 999_000_000, time.UTC)
			u.UserMetadata = json.RawMessage(`{"plan":"Gold","address":"Paris","addresses":[{"city":"Rome","zip":"00100"},{"city":"Oslo","tags":["home","work"]}]}`)
			u.AppMetadata = json.RawMessage(`{"admin":false,"level":42.5}`)
		}),
		mk("auth0|03", func(u *store.User) {
			u.Email, u.Name, u.Nickname = "zoe@example.com", "Zoë Ålund", "zoë"
			u.LoginsCount = 2
			u.LastIP = "203.0.113.70"
			u.CreatedAt = time.Date(2023, 1, 11, 0, 0, 0, 0, time.UTC)
			u.AppMetadata = json.RawMessage(`{"addresses":[{"city":"Paris"}],"contacts":[{"emails":["a@example.com","b@example.com"]}]}`)
			u.LastLogin = ptr(time.Date(2023, 2, 1, 0, 0, 0, 0, time.UTC))
		}),
		mk("google-oauth2|04", func(u *store.User) {
			u.Connection, u.Provider, u.IsSocial = "google-oauth2", "google-oauth2", true
			u.Email, u.Name, u.EmailVerified = "jane@example.com", "Jane Google", true
			u.CreatedAt = time.Date(2023, 2, 1, 0, 0, 0, 0, time.UTC)
			u.AppMetadata = json.RawMessage(`{"admin":"true"}`)
		}),
	}
}

func testListUsersSearch(t *testing.T, s store.Store) {
	for _, u := range searchFixture() {
		mustCreate(t, s, u)
	}
	const (
		u1 = "auth0|01"
		u2 = "auth0|02"
		u3 = "auth0|03"
		g4 = "google-oauth2|04"
	)
	term := func(field, value string) store.Term { return store.Term{Field: field, Value: value} }
	cases := []struct {
		name string
		expr store.Expr
		want []string
	}{
		{"nil matches all", nil, []string{u1, u2, u3, g4}},
		{"email exact, case-insensitive", term("email", "jane@example.com"), []string{u1, g4}},
		{"email exact, upper-case query", term("email", "JANE@EXAMPLE.COM"), []string{u1, g4}},
		{"email exact needs the whole value", term("email", "jane@example"), nil},
		{"email prefix", store.Term{Field: "email", Value: "JOHN", Prefix: true}, []string{u2}},
		{"email suffix", store.Term{Field: "email", Value: "@EXAMPLE.ORG", Suffix: true}, []string{u2}},
		{"email contains", store.Term{Field: "email", Value: "doe@", Contains: true}, []string{u2}},
		{"name exact", term("name", "jane doe"), []string{u1}},
		{"name prefix", store.Term{Field: "name", Value: "ja", Prefix: true}, []string{u1, g4}},
		{"name prefix non-ASCII", store.Term{Field: "name", Value: "ZOË", Prefix: true}, []string{u3}},
		{"name suffix non-ASCII", store.Term{Field: "name", Value: "ålund", Suffix: true}, []string{u3}},
		{"name contains", store.Term{Field: "name", Value: "DOE", Contains: true}, []string{u1, u2}},
		{"given_name", term("given_name", "JOHN"), []string{u2}},
		{"family_name", term("family_name", "doe"), []string{u1, u2}},
		{"nickname", term("nickname", "jd"), []string{u1}},
		{"nickname prefix", store.Term{Field: "nickname", Value: "JOHN", Prefix: true}, []string{u2}},
		{"username is case-sensitive", term("username", "jsmith"), []string{u2}},
		{"username exact other case", term("username", "JSmith"), []string{u1}},
		{"username prefix case-sensitive", store.Term{Field: "username", Value: "JS", Prefix: true}, []string{u1}},
		{"user_id exact", term("user_id", u3), []string{u3}},
		{"user_id is not tokenized", term("user_id", "auth0"), nil},
		{"user_id prefix", store.Term{Field: "user_id", Value: "auth0|", Prefix: true}, []string{u1, u2, u3}},
		{"user_id is case-sensitive", store.Term{Field: "user_id", Value: "AUTH0|", Prefix: true}, nil},
		{"user_id suffix", store.Term{Field: "user_id", Value: "|04", Suffix: true}, []string{g4}},
		{"phone_number", term("phone_number", "+15550001"), []string{u1}},
		{"identities.connection", term("identities.connection", "google-oauth2"), []string{g4}},
		{"identities.provider", term("identities.provider", "auth0"), []string{u1, u2, u3}},
		{"blocked true", term("blocked", "true"), []string{u1}},
		{"blocked false excludes never-set", term("blocked", "false"), []string{u2}},
		{"email_verified", term("email_verified", "true"), []string{u1, g4}},
		{"email_verified false", term("email_verified", "false"), []string{u2, u3}},
		{"logins_count", term("logins_count", "5"), []string{u2}},
		{"metadata string", term("user_metadata.plan", "gold"), []string{u1}},
		{"metadata string is case-sensitive", term("user_metadata.plan", "Gold"), []string{u2}},
		{"metadata nested path", term("user_metadata.address.city", "Paris"), []string{u1}},
		{"metadata scalar, not an object", term("user_metadata.address", "Paris"), []string{u2}},
		{"metadata array element", term("user_metadata.tags", "beta"), []string{u1}},
		{"metadata bool true", term("app_metadata.admin", "true"), []string{u1, g4}},
		{"metadata bool false", term("app_metadata.admin", "false"), []string{u2}},
		{"metadata integer", term("app_metadata.level", "42"), []string{u1}},
		{"metadata string that looks like a number", term("app_metadata.code", "42"), []string{u1}},
		{"metadata float", term("app_metadata.level", "42.5"), []string{u2}},
		{"metadata missing key", term("app_metadata.nothing", "x"), nil},
		{"metadata array of objects", term("user_metadata.addresses.city", "Oslo"), []string{u2}},
		{"metadata array of objects, any element", term("user_metadata.addresses.zip", "00100"), []string{u2}},
		{"metadata array of objects is case-sensitive", term("user_metadata.addresses.city", "oslo"), nil},
		{"metadata array of objects, array leaf", term("user_metadata.addresses.tags", "work"), []string{u2}},
		{"metadata array of objects in app_metadata", term("app_metadata.addresses.city", "Paris"), []string{u3}},
		{"metadata array of objects, then array", term("app_metadata.contacts.emails", "b@example.com"), []string{u3}},
		{"metadata object is not an array of objects", term("user_metadata.address.city", "Oslo"), nil},
		{"last_ip exact", term("last_ip", "203.0.113.7"), []string{u1}},
		{"last_ip exact IPv6", term("last_ip", "2001:db8::1"), []string{u2}},
		{"last_ip prefix", store.Term{Field: "last_ip", Value: "203.0.113.", Prefix: true}, []string{u1, u3}},
		{"exists last_ip", store.Exists{Field: "last_ip"}, []string{u1, u2, u3}},
		{"phone_verified true", term("phone_verified", "true"), []string{u1}},
		{"phone_verified false excludes never-set", term("phone_verified", "false"), []string{u2}},
		{"not phone_verified includes never-set", store.Not{X: term("phone_verified", "true")}, []string{u2, u3, g4}},
		{"exists phone_verified", store.Exists{Field: "phone_verified"}, []string{u1, u2}},
		{"and", store.And{term("family_name", "doe"), term("blocked", "true")}, []string{u1}},
		{"or", store.Or{term("nickname", "zoë"), term("username", "jsmith")}, []string{u2, u3}},
		{"not", store.Not{X: term("family_name", "doe")}, []string{u3, g4}},
		{"not blocked includes never-set", store.Not{X: term("blocked", "true")}, []string{u2, u3, g4}},
		{"not metadata includes users without it", store.Not{X: term("user_metadata.plan", "gold")}, []string{u2, u3, g4}},
		{"nested", store.And{
			store.Or{term("email", "jane@example.com"), term("nickname", "johnny")},
			store.Not{X: term("identities.connection", "google-oauth2")},
		}, []string{u1, u2}},
		{"empty and", store.And{}, []string{u1, u2, u3, g4}},
		{"empty or", store.Or{}, nil},
		{"range logins_count inclusive", store.Range{Field: "logins_count", Lo: "2", Hi: "3", LoIncl: true, HiIncl: true}, []string{u1, u3}},
		{"range logins_count exclusive", store.Range{Field: "logins_count", Lo: "2", Hi: "5"}, []string{u1}},
		{"range logins_count open low", store.Range{Field: "logins_count", Hi: "2", HiIncl: true}, []string{u3, g4}},
		{"range logins_count open high", store.Range{Field: "logins_count", Lo: "3"}, []string{u2}},
		{"range created_at whole day", store.Range{Field: "created_at", Lo: "2023-01-10", Hi: "2023-01-10", LoIncl: true, HiIncl: true}, []string{u1, u2}},
		{"range created_at exclusive day", store.Range{Field: "created_at", Lo: "2023-01-10", Hi: "2023-02"}, []string{u3}},
		{"range created_at month", store.Range{Field: "created_at", Lo: "2023-01", Hi: "2023-01", LoIncl: true, HiIncl: true}, []string{u1, u2, u3}},
		{"range created_at RFC 3339", store.Range{Field: "created_at", Lo: "2023-01-10T08:00:00Z", Hi: "2023-01-11T00:00:00.000Z", LoIncl: false, HiIncl: true}, []string{u2, u3}},
		{"range created_at RFC 3339 with zone", store.Range{Field: "created_at", Lo: "2023-01-10T09:00:00+01:00", LoIncl: true, Hi: "2023-01-10T10:00:00+01:00"}, []string{u1}},
		{"range last_login excludes never-set", store.Range{Field: "last_login", Hi: "2023-12-31", HiIncl: true}, []string{u1, u3}},
		{"range last_login bounded", store.Range{Field: "last_login", Lo: "2023-02-15", LoIncl: true}, []string{u1}},
		{"not range includes never-set", store.Not{X: store.Range{Field: "last_login", Lo: "2023-02-15", LoIncl: true}}, []string{u2, u3, g4}},
		{"range updated_at", store.Range{Field: "updated_at", Lo: "2023", LoIncl: true}, []string{u1, u2, u3, g4}},
		{"exists username", store.Exists{Field: "username"}, []string{u1, u2}},
		{"exists blocked", store.Exists{Field: "blocked"}, []string{u1, u2}},
		{"exists last_login", store.Exists{Field: "last_login"}, []string{u1, u3}},
		{"exists logins_count", store.Exists{Field: "logins_count"}, []string{u1, u2, u3}},
		{"not exists logins_count", store.Not{X: store.Exists{Field: "logins_count"}}, []string{g4}},
		{"exists metadata key", store.Exists{Field: "user_metadata.tags"}, []string{u1}},
		{"exists app_metadata key", store.Exists{Field: "app_metadata.admin"}, []string{u1, u2, g4}},
		{"exists phone_number", store.Exists{Field: "phone_number"}, []string{u1, u2}},
		{"exists nickname", store.Exists{Field: "nickname"}, []string{u1, u2, u3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := s.ListUsers(t.Context(), store.Query{Expr: tc.expr})
			if err != nil {
				t.Fatalf("ListUsers: %v", err)
			}
			if ids := userIDs(got); !slices.Equal(ids, tc.want) && !(len(ids) == 0 && len(tc.want) == 0) {
				t.Errorf("ids = %v, want %v", ids, tc.want)
			}
			if total != len(tc.want) {
				t.Errorf("total = %d, want %d", total, len(tc.want))
			}
		})
	}
	// Full records come back from a search, not just ids.
	got, _, err := s.ListUsers(t.Context(), store.Query{Expr: term("user_id", u1)})
	if err != nil || len(got) != 1 {
		t.Fatalf("ListUsers(user_id) = %v, %v", userIDs(got), err)
	}
	assertUser(t, "searched user", searchFixture()[0], got[0])
}

func testListUsersUnsupported(t *testing.T, s store.Store) {
	mustCreate(t, s, dbUser("a", "a@example.com"))
	cases := []struct {
		name string
		q    store.Query
	}{
		{"unknown term field", store.Query{Expr: store.Term{Field: "favourite_colour", Value: "x"}}},
		{"unknown field inside and", store.Query{Expr: store.And{store.Term{Field: "email", Value: "a@example.com"}, store.Term{Field: "bogus", Value: "x"}}}},
		{"unknown field inside not", store.Query{Expr: store.Not{X: store.Exists{Field: "bogus"}}}},
		{"wildcard on metadata", store.Query{Expr: store.Term{Field: "user_metadata.plan", Value: "go", Prefix: true}}},
		{"range on a text field", store.Query{Expr: store.Range{Field: "email", Lo: "a", Hi: "b"}}},
		{"range on metadata", store.Query{Expr: store.Range{Field: "app_metadata.level", Lo: "1"}}},
		{"bad date bound", store.Query{Expr: store.Range{Field: "created_at", Lo: "yesterday"}}},
		{"bad integer bound", store.Query{Expr: store.Range{Field: "logins_count", Lo: "many"}}},
		{"bad boolean", store.Query{Expr: store.Term{Field: "blocked", Value: "yes"}}},
		{"sort by unknown field", store.Query{Sort: "favourite_colour"}},
		{"sort by metadata", store.Query{Sort: "user_metadata.plan"}},
		{"cursor with another order", store.Query{Sort: "email", After: "auth0|a"}},
		{"wildcard on phone_verified", store.Query{Expr: store.Term{Field: "phone_verified", Value: "tr", Prefix: true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.ListUsers(t.Context(), tc.q)
			wantErr(t, "ListUsers", err, store.ErrUnsupportedQuery)
		})
	}
}

func testListUsersSortAndPage(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 25
	us := make([]store.User, n)
	for i := range us {
		// Ids are not in creation order; several users share created_at and logins_count, so the
		// user id tie-breaker decides their order.
		id := fmt.Sprintf("auth0|%02d", (i*7)%n)
		u := dbUser(id[len("auth0|"):], fmt.Sprintf("user%02d@example.com", (i*11)%n))
		u.Name = fmt.Sprintf("name %02d", (i*13)%n)
		u.Nickname = fmt.Sprintf("nick%02d", (i*17)%n)
		u.Username = fmt.Sprintf("login%02d", (i*19)%n)
		u.GivenName = fmt.Sprintf("Given%02d", (i*3)%7)
		u.FamilyName = fmt.Sprintf("family%02d", (i*5)%6)
		u.CreatedAt = base.Add(time.Duration(i/3) * time.Minute)
		u.UpdatedAt = base.Add(time.Duration(n-i) * time.Second)
		u.LastLogin = ptr(base.Add(time.Duration((i*3)%n) * time.Hour))
		u.LoginsCount = i % 4
		us[i] = u
	}
	if err := s.CreateUsers(ctx, us); err != nil {
		t.Fatalf("CreateUsers: %v", err)
	}
	keys := map[string]func(u store.User) string{
		"":             func(u store.User) string { return "" },
		"user_id":      func(u store.User) string { return "" },
		"created_at":   func(u store.User) string { return u.CreatedAt.Format(time.RFC3339Nano) },
		"updated_at":   func(u store.User) string { return u.UpdatedAt.Format(time.RFC3339Nano) },
		"last_login":   func(u store.User) string { return u.LastLogin.Format(time.RFC3339Nano) },
		"logins_count": func(u store.User) string { return fmt.Sprintf("%03d", u.LoginsCount) },
		"email":        func(u store.User) string { return u.Email },
		"name":         func(u store.User) string { return u.Name },
		"nickname":     func(u store.User) string { return u.Nickname },
		"username":     func(u store.User) string { return u.Username },
		"given_name":   func(u store.User) string { return strings.ToLower(u.GivenName) },
		"family_name":  func(u store.User) string { return strings.ToLower(u.FamilyName) },
	}
	for field, key := range keys {
		for _, desc := range []bool{false, true} {
			want := slices.Clone(us)
			sort.Slice(want, func(i, j int) bool {
				a, b := want[i], want[j]
				if desc {
					a, b = b, a
				}
				if ka, kb := key(a), key(b); ka != kb {
					return ka < kb
				}
				return a.ID < b.ID
			})
			wantIDs := userIDs(want)
			t.Run(fmt.Sprintf("sort %q desc=%v", field, desc), func(t *testing.T) {
				got, total, err := s.ListUsers(ctx, store.Query{Sort: field, Desc: desc})
				if err != nil {
					t.Fatalf("ListUsers: %v", err)
				}
				if !slices.Equal(userIDs(got), wantIDs) || total != n {
					t.Errorf("order = %v (total %d), want %v (total %d)", userIDs(got), total, wantIDs, n)
				}
				// Pages of 10 put together give the same order, each with the full total.
				var paged []string
				for off := 0; off < n; off += 10 {
					page, total, err := s.ListUsers(ctx, store.Query{Sort: field, Desc: desc, Offset: off, Limit: 10})
					if err != nil {
						t.Fatalf("page at %d: %v", off, err)
					}
					if total != n {
						t.Errorf("page at %d: total %d, want %d", off, total, n)
					}
					if wantLen := min(10, n-off); len(page) != wantLen {
						t.Errorf("page at %d: %d users, want %d", off, len(page), wantLen)
					}
					paged = append(paged, userIDs(page)...)
				}
				if !slices.Equal(paged, wantIDs) {
					t.Errorf("paged order = %v, want %v", paged, wantIDs)
				}
			})
		}
	}
	t.Run("offset past the end", func(t *testing.T) {
		page, total, err := s.ListUsers(ctx, store.Query{Offset: 100, Limit: 10})
		if err != nil || len(page) != 0 || total != n {
			t.Errorf("= %v, total %d, %v; want empty page, total %d", userIDs(page), total, err, n)
		}
	})
	t.Run("total counts matches, not the page", func(t *testing.T) {
		q := store.Query{Expr: store.Term{Field: "logins_count", Value: "1"}, Sort: "created_at", Limit: 2}
		page, total, err := s.ListUsers(ctx, q)
		var want []string
		for _, u := range us {
			if u.LoginsCount == 1 {
				want = append(want, u.ID)
			}
		}
		if err != nil || len(page) != 2 || total != len(want) {
			t.Errorf("= %v, total %d, %v; want 2 users, total %d", userIDs(page), total, err, len(want))
		}
		for _, u := range page {
			if u.LoginsCount != 1 {
				t.Errorf("page holds %s with logins_count %d", u.ID, u.LoginsCount)
			}
		}
	})
	t.Run("NoTotal still returns the page", func(t *testing.T) {
		page, _, err := s.ListUsers(ctx, store.Query{Sort: "email", Limit: 3, Offset: 1, NoTotal: true})
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		want := slices.Clone(us)
		sort.Slice(want, func(i, j int) bool { return want[i].Email < want[j].Email })
		if !slices.Equal(userIDs(page), userIDs(want[1:4])) {
			t.Errorf("page = %v, want %v", userIDs(page), userIDs(want[1:4]))
		}
	})
}

// testListUsersKeyset walks more than 1,000 users with the After cursor, as the export job does: every
// user exactly once, in user-id order (both directions), also under a filter and with Offset.
func testListUsersKeyset(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 1250
	us := make([]store.User, n)
	for i := range us {
		// Ids are not in creation order.
		us[i] = dbUser(fmt.Sprintf("k%05d", (i*7)%n), fmt.Sprintf("k%05d@example.com", i))
		us[i].LoginsCount = i % 3
	}
	if err := s.CreateUsers(ctx, us); err != nil {
		t.Fatalf("CreateUsers: %v", err)
	}
	walk := func(t *testing.T, q store.Query, page int) []string {
		t.Helper()
		var ids []string
		for calls := 0; ; calls++ {
			if calls > n {
				t.Fatalf("walk did not end")
			}
			q.Limit = page
			got, _, err := s.ListUsers(ctx, q)
			if err != nil {
				t.Fatalf("ListUsers(After %q): %v", q.After, err)
			}
			ids = append(ids, userIDs(got)...)
			if len(got) < page {
				return ids
			}
			q.After = got[len(got)-1].ID
		}
	}
	all := userIDs(us)
	slices.Sort(all)
	for _, page := range []int{1000, 333} {
		if got := walk(t, store.Query{NoTotal: true}, page); !slices.Equal(got, all) {
			t.Errorf("ascending walk in pages of %d: %d ids, first %v; want all %d in order", page, len(got), got[:min(3, len(got))], n)
		}
		desc := slices.Clone(all)
		slices.Reverse(desc)
		if got := walk(t, store.Query{Desc: true, Sort: "user_id", NoTotal: true}, page); !slices.Equal(got, desc) {
			t.Errorf("descending walk in pages of %d: %d ids; want all %d in reverse order", page, len(got), n)
		}
	}
	var ones []string
	for _, u := range us {
		if u.LoginsCount == 1 {
			ones = append(ones, u.ID)
		}
	}
	slices.Sort(ones)
	if got := walk(t, store.Query{Expr: store.Term{Field: "logins_count", Value: "1"}}, 100); !slices.Equal(got, ones) {
		t.Errorf("filtered walk: %d ids, want %d", len(got), len(ones))
	}
	// The total counts the matches after the cursor; Offset skips past it.
	page, total, err := s.ListUsers(ctx, store.Query{After: all[99], Offset: 10, Limit: 5})
	if err != nil || !slices.Equal(userIDs(page), all[110:115]) || total != n-100 {
		t.Errorf("After all[99], Offset 10 = %v, total %d, %v; want %v, total %d", userIDs(page), total, err, all[110:115], n-100)
	}
	// A cursor past the last id ends the walk.
	if page, _, err := s.ListUsers(ctx, store.Query{After: all[n-1], Limit: 10}); err != nil || len(page) != 0 {
		t.Errorf("After the last id = %v, %v; want nothing", userIDs(page), err)
	}
}

func testConnections(t *testing.T, s store.Store) {
	ctx := t.Context()
	db := store.Connection{
		ID: "con_0000000000000001", Name: "Username-Password-Authentication", Strategy: "auth0",
		Options:        json.RawMessage(`{"passwordPolicy": "good", "requires_username": true}`),
		EnabledClients: []string{"clientA", "clientB"}, Realms: []string{"Username-Password-Authentication"},
	}
	google := store.Connection{ID: "con_0000000000000002", Name: "google-oauth2", Strategy: "google-oauth2",
		IsDomainConnection: true}
	apple := store.Connection{ID: "con_0000000000000003", Name: "apple", Strategy: "apple",
		EnabledClients: []string{}, Realms: []string{}}
	for _, c := range []store.Connection{db, google, apple} {
		if err := s.CreateConnection(ctx, c); err != nil {
			t.Fatalf("CreateConnection(%s): %v", c.Name, err)
		}
	}
	assertConn := func(what string, want, got store.Connection) {
		t.Helper()
		if !equalValue(want.Options, got.Options) || !equalValue(want.EnabledClients, got.EnabledClients) ||
			!equalValue(want.Realms, got.Realms) || want.ID != got.ID || want.Name != got.Name ||
			want.Strategy != got.Strategy || want.IsDomainConnection != got.IsDomainConnection {
			t.Errorf("%s = %+v (options %s), want %+v (options %s)", what, got, got.Options, want, want.Options)
		}
	}
	got, err := s.GetConnection(ctx, db.ID)
	if err != nil {
		t.Fatalf("GetConnection: %v", err)
	}
	assertConn("GetConnection", db, got)
	got, err = s.GetConnectionByName(ctx, "google-oauth2")
	if err != nil {
		t.Fatalf("GetConnectionByName: %v", err)
	}
	assertConn("GetConnectionByName (nil options and lists stay nil)", google, got)
	got, err = s.GetConnection(ctx, apple.ID)
	if err != nil {
		t.Fatalf("GetConnection: %v", err)
	}
	assertConn("GetConnection (empty lists stay empty)", apple, got)

	_, err = s.GetConnection(ctx, "con_missing")
	wantErr(t, "GetConnection(missing)", err, store.ErrNotFound)
	_, err = s.GetConnectionByName(ctx, "missing")
	wantErr(t, "GetConnectionByName(missing)", err, store.ErrNotFound)
	wantErr(t, "duplicate connection name",
		s.CreateConnection(ctx, store.Connection{ID: "con_0000000000000009", Name: "apple", Strategy: "apple"}), store.ErrAlreadyExists)
	wantErr(t, "duplicate connection id",
		s.CreateConnection(ctx, store.Connection{ID: db.ID, Name: "other", Strategy: "auth0"}), store.ErrAlreadyExists)

	list, err := s.ListConnections(ctx)
	if err != nil {
		t.Fatalf("ListConnections: %v", err)
	}
	var names []string
	for _, c := range list {
		names = append(names, c.Name)
	}
	if want := []string{"Username-Password-Authentication", "apple", "google-oauth2"}; !slices.Equal(names, want) {
		t.Errorf("ListConnections names = %v, want %v (ordered by name)", names, want)
	}
	for _, c := range list {
		if c.ID == db.ID {
			assertConn("listed connection", db, c)
		}
	}

	updated, err := s.UpdateConnection(ctx, db.ID, func(old store.Connection) (store.Connection, error) {
		assertConn("UpdateConnection fn argument", db, old)
		old.EnabledClients = append(old.EnabledClients, "clientC")
		old.Options = json.RawMessage(`{"passwordPolicy":"excellent"}`)
		return old, nil
	})
	if err != nil {
		t.Fatalf("UpdateConnection: %v", err)
	}
	want := db
	want.EnabledClients = []string{"clientA", "clientB", "clientC"}
	want.Options = json.RawMessage(`{"passwordPolicy":"excellent"}`)
	assertConn("UpdateConnection result", want, updated)
	got, err = s.GetConnection(ctx, db.ID)
	if err != nil {
		t.Fatalf("GetConnection: %v", err)
	}
	assertConn("GetConnection after update", want, got)

	_, err = s.UpdateConnection(ctx, db.ID, func(old store.Connection) (store.Connection, error) {
		old.Name = "apple"
		return old, nil
	})
	wantErr(t, "rename to a taken name", err, store.ErrAlreadyExists)
	errBoom := errors.New("boom")
	_, err = s.UpdateConnection(ctx, db.ID, func(old store.Connection) (store.Connection, error) {
		old.Name = "renamed"
		return old, errBoom
	})
	wantErr(t, "fn error", err, errBoom)
	got, _ = s.GetConnection(ctx, db.ID)
	assertConn("connection after failed updates", want, got)
	_, err = s.UpdateConnection(ctx, "con_missing", func(old store.Connection) (store.Connection, error) { return old, nil })
	wantErr(t, "UpdateConnection(missing)", err, store.ErrNotFound)
}

func testClients(t *testing.T, s store.Store) {
	ctx := t.Context()
	m2m := store.Client{ClientID: "m2m", ClientSecret: "s3cr3t", Name: "Userdesk API", AppType: "non_interactive",
		GrantTypes: []string{"client_credentials"}}
	web := store.Client{ClientID: "web", ClientSecret: "w3b", Name: "Userdesk", AppType: "regular_web",
		GrantTypes: []string{"authorization_code"}, Callbacks: []string{"http://localhost:8080/callback"}}
	for _, c := range []store.Client{web, m2m} {
		if err := s.CreateClient(ctx, c); err != nil {
			t.Fatalf("CreateClient(%s): %v", c.ClientID, err)
		}
	}
	got, err := s.GetClient(ctx, "web")
	if err != nil || !reflect.DeepEqual(got, web) {
		t.Errorf("GetClient = %+v, %v; want %+v", got, err, web)
	}
	got, err = s.GetClient(ctx, "m2m")
	if err != nil || !reflect.DeepEqual(got, m2m) {
		t.Errorf("GetClient (nil callbacks) = %+v, %v; want %+v", got, err, m2m)
	}
	_, err = s.GetClient(ctx, "missing")
	wantErr(t, "GetClient(missing)", err, store.ErrNotFound)
	wantErr(t, "duplicate client id", s.CreateClient(ctx, store.Client{ClientID: "web", Name: "again"}), store.ErrAlreadyExists)

	list, err := s.ListClients(ctx)
	if err != nil {
		t.Fatalf("ListClients: %v", err)
	}
	ids := []string{}
	for _, c := range list {
		ids = append(ids, c.ClientID)
	}
	sort.Strings(ids)
	if want := []string{"m2m", "web"}; !slices.Equal(ids, want) {
		t.Errorf("ListClients = %v, want %v", ids, want)
	}

	updated, err := s.UpdateClient(ctx, "web", func(old store.Client) (store.Client, error) {
		if !reflect.DeepEqual(old, web) {
			t.Errorf("UpdateClient fn argument = %+v, want %+v", old, web)
		}
		old.Callbacks = append(old.Callbacks, "https://userdesk.example/callback")
		return old, nil
	})
	want := web
	want.Callbacks = []string{"http://localhost:8080/callback", "https://userdesk.example/callback"}
	if err != nil || !reflect.DeepEqual(updated, want) {
		t.Errorf("UpdateClient = %+v, %v; want %+v", updated, err, want)
	}
	if got, _ := s.GetClient(ctx, "web"); !reflect.DeepEqual(got, want) {
		t.Errorf("GetClient after update = %+v, want %+v", got, want)
	}
	errBoom := errors.New("boom")
	_, err = s.UpdateClient(ctx, "web", func(old store.Client) (store.Client, error) {
		old.Name = "changed"
		return old, errBoom
	})
	wantErr(t, "UpdateClient fn error", err, errBoom)
	if got, _ := s.GetClient(ctx, "web"); got.Name != "Userdesk" {
		t.Errorf("failed UpdateClient changed the name to %q", got.Name)
	}
	_, err = s.UpdateClient(ctx, "missing", func(old store.Client) (store.Client, error) { return old, nil })
	wantErr(t, "UpdateClient(missing)", err, store.ErrNotFound)
}

func testClientGrants(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"m2m", "other"} {
		if err := s.CreateClient(ctx, store.Client{ClientID: id, Name: id, AppType: "non_interactive"}); err != nil {
			t.Fatalf("CreateClient: %v", err)
		}
	}
	const aud = "https://tenant.example/api/v2/"
	g := store.ClientGrant{ID: "cgr_0000000000000001", ClientID: "m2m", Audience: aud,
		Scope: []string{"read:users", "update:users"}}
	if err := s.CreateClientGrant(ctx, g); err != nil {
		t.Fatalf("CreateClientGrant: %v", err)
	}
	got, err := s.GetClientGrant(ctx, "m2m", aud)
	if err != nil || !reflect.DeepEqual(got, g) {
		t.Errorf("GetClientGrant = %+v, %v; want %+v", got, err, g)
	}
	_, err = s.GetClientGrant(ctx, "m2m", "https://other.example/")
	wantErr(t, "GetClientGrant(other audience)", err, store.ErrNotFound)
	_, err = s.GetClientGrant(ctx, "other", aud)
	wantErr(t, "GetClientGrant(other client)", err, store.ErrNotFound)
	wantErr(t, "second grant for the same client and audience",
		s.CreateClientGrant(ctx, store.ClientGrant{ID: "cgr_0000000000000002", ClientID: "m2m", Audience: aud}), store.ErrAlreadyExists)
	wantErr(t, "grant for a missing client",
		s.CreateClientGrant(ctx, store.ClientGrant{ID: "cgr_0000000000000003", ClientID: "ghost", Audience: aud}), store.ErrNotFound)
	if err := s.CreateClientGrant(ctx, store.ClientGrant{ID: "cgr_0000000000000004", ClientID: "other", Audience: aud}); err != nil {
		t.Errorf("same audience for another client: %v", err)
	}

	updated, err := s.UpdateClientGrant(ctx, g.ID, func(old store.ClientGrant) (store.ClientGrant, error) {
		if !reflect.DeepEqual(old, g) {
			t.Errorf("UpdateClientGrant fn argument = %+v, want %+v", old, g)
		}
		old.Scope = append(old.Scope, "delete:users")
		return old, nil
	})
	want := g
	want.Scope = []string{"read:users", "update:users", "delete:users"}
	if err != nil || !reflect.DeepEqual(updated, want) {
		t.Errorf("UpdateClientGrant = %+v, %v; want %+v", updated, err, want)
	}
	if got, _ := s.GetClientGrant(ctx, "m2m", aud); !reflect.DeepEqual(got, want) {
		t.Errorf("GetClientGrant after update = %+v, want %+v", got, want)
	}
	errBoom := errors.New("boom")
	_, err = s.UpdateClientGrant(ctx, g.ID, func(old store.ClientGrant) (store.ClientGrant, error) {
		old.Scope = nil
		return old, errBoom
	})
	wantErr(t, "UpdateClientGrant fn error", err, errBoom)
	if got, _ := s.GetClientGrant(ctx, "m2m", aud); !reflect.DeepEqual(got, want) {
		t.Errorf("failed UpdateClientGrant changed the grant to %+v", got)
	}
	_, err = s.UpdateClientGrant(ctx, "cgr_missing", func(old store.ClientGrant) (store.ClientGrant, error) { return old, nil })
	wantErr(t, "UpdateClientGrant(missing)", err, store.ErrNotFound)
}

func testSigningKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	keys, err := s.SigningKeys(ctx)
	if err != nil || len(keys) != 0 {
		t.Fatalf("SigningKeys on an empty store = %d keys, %v", len(keys), err)
	}
	pem := func(kid string) []byte {
		return []byte("-----BEGIN PRIVATE KEY-----\n" + kid + "\n-----END PRIVATE KEY-----\n")
	}
	in := []store.SigningKey{
		{KID: "middle", PrivateKeyPEM: pem("middle"), CreatedAt: base.Add(time.Hour)},
		{KID: "oldest", PrivateKeyPEM: pem("oldest"), CreatedAt: base},
		{KID: "newest", PrivateKeyPEM: pem("newest"), CreatedAt: base.Add(2 * time.Hour)},
	}
	for _, k := range in {
		if err := s.AddSigningKey(ctx, k); err != nil {
			t.Fatalf("AddSigningKey(%s): %v", k.KID, err)
		}
	}
	wantErr(t, "duplicate kid", s.AddSigningKey(ctx, store.SigningKey{KID: "oldest", PrivateKeyPEM: pem("x"), CreatedAt: base}), store.ErrAlreadyExists)
	keys, err = s.SigningKeys(ctx)
	if err != nil {
		t.Fatalf("SigningKeys: %v", err)
	}
	want := []store.SigningKey{in[2], in[0], in[1]}
	if len(keys) != len(want) {
		t.Fatalf("SigningKeys returned %d keys, want %d", len(keys), len(want))
	}
	for i := range want {
		if keys[i].KID != want[i].KID || !bytes.Equal(keys[i].PrivateKeyPEM, want[i].PrivateKeyPEM) ||
			!keys[i].CreatedAt.Equal(want[i].CreatedAt) || keys[i].CreatedAt.Location() != time.UTC {
			t.Errorf("key %d = %s created %s, want %s created %s (newest first)", i, keys[i].KID, keys[i].CreatedAt, want[i].KID, want[i].CreatedAt)
		}
	}
}

func testAuthCodes(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := store.AuthCode{Code: "c0de", ClientID: "web", UserID: "auth0|1", RedirectURI: "http://localhost/cb",
		Scope: "openid profile email", Nonce: "n0nce", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256", ExpiresAt: base.Add(time.Minute)}
	if err := s.CreateAuthCode(ctx, c); err != nil {
		t.Fatalf("CreateAuthCode: %v", err)
	}
	wantErr(t, "duplicate code", s.CreateAuthCode(ctx, c), store.ErrAlreadyExists)
	got, err := s.TakeAuthCode(ctx, "c0de")
	if err != nil {
		t.Fatalf("TakeAuthCode: %v", err)
	}
	if !got.ExpiresAt.Equal(c.ExpiresAt) || got.ExpiresAt.Location() != time.UTC {
		t.Errorf("ExpiresAt = %s, want %s in UTC", got.ExpiresAt, c.ExpiresAt)
	}
	got.ExpiresAt = c.ExpiresAt
	if !reflect.DeepEqual(got, c) {
		t.Errorf("TakeAuthCode = %+v, want %+v", got, c)
	}
	_, err = s.TakeAuthCode(ctx, "c0de")
	wantErr(t, "second TakeAuthCode", err, store.ErrNotFound)
	_, err = s.TakeAuthCode(ctx, "unknown")
	wantErr(t, "TakeAuthCode(unknown)", err, store.ErrNotFound)

	// Concurrent redemptions of one code: exactly one wins.
	c.Code = "race"
	if err := s.CreateAuthCode(ctx, c); err != nil {
		t.Fatalf("CreateAuthCode: %v", err)
	}
	var (
		wg             sync.WaitGroup
		mu             sync.Mutex
		wins, notFound int
		unexpected     []error
	)
	for range 8 {
		wg.Go(func() {
			_, err := s.TakeAuthCode(ctx, "race")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrNotFound):
				notFound++
			default:
				unexpected = append(unexpected, err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || notFound != 7 || len(unexpected) > 0 {
		t.Errorf("concurrent TakeAuthCode: %d wins, %d not found, unexpected %v; want 1 and 7", wins, notFound, unexpected)
	}
}

func testSettings(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetSetting(ctx, "tenant_name")
	wantErr(t, "GetSetting(unset)", err, store.ErrNotFound)
	if err := s.PutSetting(ctx, "tenant_name", "demo"); err != nil {
		t.Fatalf("PutSetting: %v", err)
	}
	if err := s.PutSetting(ctx, "other", "x"); err != nil {
		t.Fatalf("PutSetting: %v", err)
	}
	if v, err := s.GetSetting(ctx, "tenant_name"); err != nil || v != "demo" {
		t.Errorf("GetSetting = %q, %v; want demo", v, err)
	}
	if err := s.PutSetting(ctx, "tenant_name", "renamed"); err != nil {
		t.Fatalf("PutSetting (overwrite): %v", err)
	}
	if v, err := s.GetSetting(ctx, "tenant_name"); err != nil || v != "renamed" {
		t.Errorf("GetSetting after upsert = %q, %v; want renamed", v, err)
	}
	if v, err := s.GetSetting(ctx, "other"); err != nil || v != "x" {
		t.Errorf("GetSetting(other) = %q, %v; want x (untouched)", v, err)
	}
	if err := s.PutSetting(ctx, "empty", ""); err != nil {
		t.Fatalf("PutSetting(empty value): %v", err)
	}
	if v, err := s.GetSetting(ctx, "empty"); err != nil || v != "" {
		t.Errorf("GetSetting(empty) = %q, %v; want an empty, set value", v, err)
	}
}
