package tenant

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// createDBUser creates a user in the database connection over the API and returns its user_id.
func createDBUser(t *testing.T, e *env, tok string, body map[string]any) string {
	t.Helper()
	body["connection"] = DatabaseConnection
	body["password"] = "Passwords hide their chuck"
	r := e.do("POST", "/api/v2/users", tok, body)
	expect(t, r, http.StatusCreated, "")
	var u struct {
		UserID string `json:"user_id"`
	}
	mustUnmarshal(t, r.body, &u)
	return u.UserID
}

// mintFor is mintToken for another subject (a user's own token).
func (e *env) mintFor(subject string, scopes ...string) string {
	e.t.Helper()
	now := e.clock.Now()
	tok, err := e.tn.keys.sign(accessClaims{
		Claims: jwt.Claims{Issuer: e.tn.Issuer(), Subject: subject, Audience: jwt.Audience{e.tn.Audience()},
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour))},
		Scope: strings.Join(scopes, " "),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func userPath(id string) string { return "/api/v2/users/" + url.PathEscape(id) }

func idpID(id string) string { _, rest, _ := strings.Cut(id, "|"); return rest }

// TestLinkAndUnlinkIdentities walks the support case: link a database account and a social one into a
// primary user, see them in every user read, unlink the database one and find it a user again.
func TestLinkAndUnlinkIdentities(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	admin := e.admin()
	primary := createDBUser(t, e, admin, map[string]any{"email": "primary@example.com", "username": "primary", "given_name": "Pat"})
	second := createDBUser(t, e, admin, map[string]any{"email": "second@example.com", "username": "second",
		"name": "Sam Second", "nickname": "sam", "user_metadata": map[string]any{"lost": true}})
	social := store.User{ID: "google-oauth2|1234567890", Connection: GoogleConnection, Provider: "google-oauth2",
		IsSocial: true, Email: "sam@gmail.com", EmailVerified: true, Name: "Sam G", Picture: "https://lh3.example/sam.png",
		CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	if err := e.st.CreateUser(ctx, social); err != nil {
		t.Fatal(err)
	}
	_, total0, err := e.st.ListUsers(ctx, store.Query{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}

	// Link the database account with only update:users, by its full id (as the recording does).
	tok := e.mintToken("update:users")
	e.clock.Advance(time.Minute)
	r := e.do("POST", userPath(primary)+"/identities", tok, map[string]any{"provider": "auth0", "user_id": second})
	ownJSON := `{"profileData":{"email":"primary@example.com","given_name":"Pat","username":"primary","email_verified":false},"connection":"Username-Password-Authentication","user_id":"` + idpID(primary) + `","provider":"auth0","isSocial":false}`
	secondJSON := `{"profileData":{"email":"second@example.com","name":"Sam Second","username":"second","nickname":"sam","email_verified":false},"connection":"Username-Password-Authentication","user_id":"` + idpID(second) + `","provider":"auth0","isSocial":false}`
	expect(t, r, http.StatusCreated, "["+ownJSON+","+secondJSON+"]")
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}

	// The social account, by its id without the provider prefix; numbers are accepted as ids too.
	r = e.do("POST", userPath(primary)+"/identities", tok, `{"provider":"google-oauth2","user_id":1234567890}`)
	socialJSON := `{"profileData":{"email":"sam@gmail.com","name":"Sam G","picture":"https://lh3.example/sam.png","email_verified":true},"connection":"google-oauth2","user_id":"1234567890","provider":"google-oauth2","isSocial":true}`
	expect(t, r, http.StatusCreated, "["+ownJSON+","+secondJSON+","+socialJSON+"]")

	// The linked accounts are no users now.
	read := e.mintToken("read:users", "create:users")
	for _, id := range []string{second, social.ID} {
		expect(t, e.do("GET", userPath(id), read, nil), http.StatusNotFound,
			`{"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"}`)
	}
	r = e.do("GET", "/api/v2/users?include_totals=true&per_page=1", read, nil)
	var page struct{ Total int }
	mustUnmarshal(t, r.body, &page)
	if page.Total != total0-2 {
		t.Errorf("total while linked = %d, want %d", page.Total, total0-2)
	}
	expect(t, e.do("GET", "/api/v2/users?q="+url.QueryEscape(`email:"second@example.com"`), read, nil), http.StatusOK, "[]")
	expect(t, e.do("GET", "/api/v2/users-by-email?email=second%40example.com", read, nil), http.StatusOK, "[]")

	// Every read of the primary shows its own identity (without profileData) and then the linked ones.
	wantIdentities := `[{"connection":"Username-Password-Authentication","user_id":"` + idpID(primary) + `","provider":"auth0","isSocial":false},` + secondJSON + "," + socialJSON + "]"
	identitiesOf := func(what string, body []byte, list bool) {
		t.Helper()
		var u struct {
			Identities any `json:"identities"`
		}
		if list {
			var us []map[string]any
			mustUnmarshal(t, body, &us)
			if len(us) != 1 {
				t.Fatalf("%s: %d users, want 1: %s", what, len(us), body)
			}
			u.Identities = us[0]["identities"]
		} else {
			mustUnmarshal(t, body, &u)
		}
		var want any
		mustUnmarshal(t, []byte(wantIdentities), &want)
		if !jsonEqual(u.Identities, want) {
			t.Errorf("%s: identities %v\nwant %s", what, u.Identities, wantIdentities)
		}
	}
	r = e.do("GET", userPath(primary), read, nil)
	expect(t, r, http.StatusOK, "")
	identitiesOf("GET /users/{id}", r.body, false)
	r = e.do("GET", "/api/v2/users?q="+url.QueryEscape(`email:"primary@example.com"`), read, nil)
	identitiesOf("search", r.body, true)
	r = e.do("GET", "/api/v2/users-by-email?email=primary%40example.com", read, nil)
	identitiesOf("users-by-email", r.body, true)
	r = e.do("PATCH", userPath(primary), e.mintToken("update:users"), map[string]any{"family_name": "Primary"})
	expect(t, r, http.StatusOK, "")
	identitiesOf("PATCH answer", r.body, false)

	// The linked account's email and username stay taken in its connection.
	expect(t, e.do("POST", "/api/v2/users", read, map[string]any{"connection": DatabaseConnection,
		"email": "second@example.com", "username": "other", "password": "Passwords hide their chuck"}), http.StatusConflict, "")

	// Unlink the database account: the answer is the remaining identities, and it is a user again,
	// created now, with its profile and nothing else.
	e.clock.Advance(30 * time.Minute) // the tokens stay valid (one hour)
	r = e.do("DELETE", userPath(primary)+"/identities/auth0/"+idpID(second), tok, nil)
	ownJSON = strings.Replace(ownJSON, `"given_name":"Pat"`, `"given_name":"Pat","family_name":"Primary"`, 1) // the PATCH above
	expect(t, r, http.StatusOK, "["+ownJSON+","+socialJSON+"]")
	r = e.do("GET", userPath(second), read, nil)
	expect(t, r, http.StatusOK, "")
	back := r.json(t)
	eqJSON(t, back["identities"], `[{"connection":"Username-Password-Authentication","user_id":"`+idpID(second)+`","provider":"auth0","isSocial":false}]`)
	now := auth0Time(e.clock.Now())
	if back["created_at"] != now || back["updated_at"] != now || back["name"] != "Sam Second" ||
		back["nickname"] != "sam" || back["username"] != "second" || back["email"] != "second@example.com" {
		t.Errorf("unlinked user = %s; want its profile, created and updated %s", r.body, now)
	}
	if _, ok := back["user_metadata"]; ok {
		t.Errorf("unlinked user has user_metadata: %s", r.body)
	}
	expect(t, e.do("GET", "/api/v2/users-by-email?email=second%40example.com", read, nil), http.StatusOK, "")
	r = e.do("GET", userPath(primary), read, nil)
	if got := r.json(t)["updated_at"]; got != now {
		t.Errorf("primary updated_at = %v, want %s (the unlink)", got, now)
	}

	// Deleting the primary deletes the identity still linked: the social account does not come back.
	expect(t, e.do("DELETE", userPath(primary), e.mintToken("delete:users"), nil), http.StatusNoContent, "")
	expect(t, e.do("GET", userPath(social.ID), read, nil), http.StatusNotFound, "")
	expect(t, e.do("GET", userPath(second), read, nil), http.StatusOK, "")
	if err := e.st.CreateUser(ctx, social); err != nil {
		t.Errorf("the deleted identity's id should be free again: %v", err)
	}
}

// TestLinkErrors covers the refused link and unlink requests with their exact Auth0-shaped bodies.
func TestLinkErrors(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	primary := createDBUser(t, e, admin, map[string]any{"email": "p@example.com", "username": "p"})
	second := createDBUser(t, e, admin, map[string]any{"email": "s@example.com", "username": "s"})
	third := createDBUser(t, e, admin, map[string]any{"email": "t@example.com", "username": "t"})
	db, err := e.st.GetConnectionByName(t.Context(), DatabaseConnection)
	if err != nil {
		t.Fatal(err)
	}
	google, err := e.st.GetConnectionByName(t.Context(), GoogleConnection)
	if err != nil {
		t.Fatal(err)
	}
	tok := e.mintToken("update:users")
	link := func(id string, body any) response { return e.do("POST", userPath(id)+"/identities", tok, body) }
	const bad = `{"statusCode":400,"error":"Bad Request","message":`
	cases := []struct {
		what   string
		id     string
		body   any
		status int
		want   string
	}{
		{"unknown primary", "auth0|ghost", map[string]any{"provider": "auth0", "user_id": second}, 404,
			`{"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"}`},
		{"unknown secondary", primary, map[string]any{"provider": "auth0", "user_id": "ghost"}, 400,
			bad + `"The secondary user does not exist."}`},
		{"secondary named with another provider", primary, map[string]any{"provider": "google-oauth2", "user_id": idpID(second)}, 400,
			bad + `"The secondary user does not exist."}`},
		{"itself", primary, map[string]any{"provider": "auth0", "user_id": idpID(primary)}, 400,
			bad + `"A user cannot be linked to itself."}`},
		{"no provider", primary, map[string]any{"user_id": second}, 400,
			bad + `"Payload validation error: 'Missing required property: provider' on property provider (Identity provider of the secondary user account being linked).","errorCode":"invalid_body"}`},
		{"no user_id", primary, map[string]any{"provider": "auth0"}, 400,
			bad + `"Payload validation error: 'Missing required property: user_id' on property user_id (user_id of the secondary user account being linked).","errorCode":"invalid_body"}`},
		{"user_id of a wrong type", primary, `{"provider":"auth0","user_id":true}`, 400,
			bad + `"Payload validation error: 'Expected type string or integer but found type boolean' on property user_id (user_id of the secondary user account being linked).","errorCode":"invalid_body"}`},
		{"unknown property", primary, map[string]any{"provider": "auth0", "user_id": second, "primary": true}, 400,
			bad + `"Payload validation error: 'Additional properties not allowed: primary'.","errorCode":"invalid_body"}`},
		{"link_with", primary, map[string]any{"link_with": "eyJ.x.y"}, 400,
			bad + `"Linking with link_with (the secondary account's token) is not supported by this tenant; send provider and user_id with a token that has update:users.","errorCode":"operation_not_supported"}`},
		{"malformed connection_id", primary, map[string]any{"provider": "auth0", "user_id": second, "connection_id": "x"}, 400,
			bad + `"Payload validation error: 'String does not match pattern ^con_[A-Za-z0-9]{16}$: x' on property connection_id (connection_id of the secondary user account being linked when more than one auth0 database provider exists).","errorCode":"invalid_body"}`},
		{"unknown connection_id", primary, map[string]any{"provider": "auth0", "user_id": second, "connection_id": "con_0000000000000000"}, 400,
			bad + `"The connection does not exist.","errorCode":"inexistent_connection"}`},
		{"connection_id of another connection", primary, map[string]any{"provider": "auth0", "user_id": second, "connection_id": google.ID}, 400,
			bad + `"The secondary user does not exist."}`},
	}
	for _, c := range cases {
		t.Run(c.what, func(t *testing.T) {
			expect(t, link(c.id, c.body), c.status, c.want)
		})
	}
	// Nothing was linked by the refused requests.
	r := e.do("GET", userPath(primary), admin, nil)
	if ids := r.json(t)["identities"].([]any); len(ids) != 1 {
		t.Fatalf("primary has %d identities after refused links: %s", len(ids), r.body)
	}

	// With the right connection_id the link works; then the primary cannot itself become a secondary.
	expect(t, link(primary, map[string]any{"provider": "auth0", "user_id": idpID(second), "connection_id": db.ID}), http.StatusCreated, "")
	expect(t, link(third, map[string]any{"provider": "auth0", "user_id": primary}), 400,
		bad+`"The secondary user has linked identities of its own; unlink them before linking it."}`)
	expect(t, link(third, map[string]any{"provider": "auth0", "user_id": second}), 400, bad+`"The secondary user does not exist."}`)

	unlink := func(id, provider, userID string) response {
		return e.do("DELETE", userPath(id)+"/identities/"+provider+"/"+userID, tok, nil)
	}
	expect(t, unlink("auth0|ghost", "auth0", idpID(second)), 404,
		`{"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"}`)
	expect(t, unlink(primary, "auth0", idpID(primary)), 400,
		bad+`"The user's main identity cannot be unlinked; only its linked identities can."}`)
	expect(t, unlink(primary, "auth0", idpID(third)), 400, bad+`"The user has no such linked identity."}`)
	expect(t, unlink(primary, "google-oauth2", idpID(second)), 400, bad+`"The user has no such linked identity."}`)
	expect(t, unlink(primary, "auth0", idpID(second)), http.StatusOK, "")
	expect(t, unlink(primary, "auth0", idpID(second)), 400, bad+`"The user has no such linked identity."}`)
}

// TestLinkScopes: update:current_user_identities lets a user's own token link and unlink its own
// identities only; update:users may act on any user; other scopes get Auth0's 403.
func TestLinkScopes(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	primary := createDBUser(t, e, admin, map[string]any{"email": "p@example.com", "username": "p"})
	second := createDBUser(t, e, admin, map[string]any{"email": "s@example.com", "username": "s"})
	body := map[string]any{"provider": "auth0", "user_id": second}
	const want = `{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: update:users,update:current_user_identities","errorCode":"insufficient_scope"}`
	expect(t, e.do("POST", userPath(primary)+"/identities", e.mintToken("read:users", "delete:users"), body), http.StatusForbidden, want)
	expect(t, e.do("DELETE", userPath(primary)+"/identities/auth0/x", e.mintToken("read:users"), nil), http.StatusForbidden, want)

	self := e.mintFor(primary, "update:current_user_identities")
	other := e.mintFor("auth0|someone-else", "update:current_user_identities")
	const narrow = `{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: update:users","errorCode":"insufficient_scope"}`
	expect(t, e.do("POST", userPath(primary)+"/identities", other, body), http.StatusForbidden, narrow)
	expect(t, e.do("POST", userPath(primary)+"/identities", self, body), http.StatusCreated, "")
	expect(t, e.do("DELETE", userPath(primary)+"/identities/auth0/"+idpID(second), other, nil), http.StatusForbidden, narrow)
	expect(t, e.do("DELETE", userPath(primary)+"/identities/auth0/"+idpID(second), self, nil), http.StatusOK, "")
	if u, err := e.st.GetUser(t.Context(), second); err != nil || u.Email != "s@example.com" {
		t.Errorf("unlinked user = %+v, %v", u, err)
	}
}

// TestProfileDataDefaults: profileData leaves out the name, nickname and picture the tenant filled in
// for an account that did not set them, and shows them when the account set them.
func TestProfileDataDefaults(t *testing.T) {
	withDefaults := store.User{Email: "jo@example.com", Username: "jo"}
	applyProfileDefaults(&withDefaults)
	set := store.User{Email: "jo@example.com", Name: "Jo", Nickname: "jojo", Picture: "https://example.com/jo.png",
		PhoneNumber: "+15550100", PhoneVerified: ptrTo(true)}
	for _, c := range []struct {
		u    store.User
		want string
	}{
		{withDefaults, `{"email":"jo@example.com","username":"jo","email_verified":false}`},
		{set, `{"email":"jo@example.com","name":"Jo","nickname":"jojo","picture":"https://example.com/jo.png","phone_number":"+15550100","phone_verified":true,"email_verified":false}`},
		{store.User{PhoneNumber: "+15550100"}, `{"phone_number":"+15550100"}`},
	} {
		b, err := marshal(toProfileJSON(store.ProfileOf(c.u)))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.want {
			t.Errorf("profileData of %+v = %s, want %s", c.u, b, c.want)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }
