package tenant

import (
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func TestManagementAPIAuthentication(t *testing.T) {
	e := newEnv(t)

	// A token with the right claims signed by a foreign key with the tenant's kid.
	foreign, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	kid := e.tn.keys.jwks.Keys[0].KeyID
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: foreign, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	forged, err := jwt.Signed(signer).Claims(accessClaims{
		Claims: jwt.Claims{Issuer: e.tn.Issuer(), Subject: "x@clients", Audience: jwt.Audience{e.tn.Audience()},
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour))},
		Scope: "read:users",
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	wrongAud, err := e.tn.keys.sign(accessClaims{
		Claims: jwt.Claims{Issuer: e.tn.Issuer(), Subject: "x@clients", Audience: jwt.Audience{"https://other/api/"},
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour))},
		Scope: "read:users",
	})
	if err != nil {
		t.Fatal(err)
	}

	expect(t, e.do("GET", "/api/v2/users", "", nil), 401,
		`{"statusCode":401,"error":"Unauthorized","message":"Missing authentication"}`)
	expect(t, e.do("GET", "/api/v2/users", forged, nil), 401,
		`{"statusCode":401,"error":"Unauthorized","message":"Invalid token"}`)
	expect(t, e.do("GET", "/api/v2/users", wrongAud, nil), 401,
		`{"statusCode":401,"error":"Unauthorized","message":"Invalid token"}`)
	expect(t, e.do("GET", "/api/v2/users", "not.a.jwt", nil), 401,
		`{"statusCode":401,"error":"Unauthorized","message":"Invalid token"}`)

	// Lacking scope: 403 naming every accepted scope.
	r := e.do("GET", "/api/v2/users", e.mintToken("read:connections"), nil)
	expect(t, r, 403, `{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: read:users,read:user_idp_tokens","errorCode":"insufficient_scope"}`)
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	expect(t, e.do("POST", "/api/v2/users", e.mintToken("read:users"), map[string]any{}), 403,
		`{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: create:users","errorCode":"insufficient_scope"}`)

	// Valid now, expired after the clock passes exp.
	tok := e.mintToken("read:users")
	expect(t, e.do("GET", "/api/v2/users?per_page=1", tok, nil), 200, "")
	e.clock.Advance(time.Hour + time.Second)
	expect(t, e.do("GET", "/api/v2/users?per_page=1", tok, nil), 401,
		`{"statusCode":401,"error":"Unauthorized","message":"Expired token received for JSON Web Token validation","attributes":{"error":"Expired token received for JSON Web Token validation"}}`)

	// Unknown API route: JSON 404.
	expect(t, e.do("GET", "/api/v2/nope", "", nil), 404, `{"statusCode":404,"error":"Not Found","message":"Not Found"}`)
}

func TestListUsers(t *testing.T) {
	e := newEnv(t)
	tok := e.admin()

	// Default: a bare array of 50.
	r := e.do("GET", "/api/v2/users", tok, nil)
	expect(t, r, 200, "")
	if !strings.HasPrefix(string(r.body), "[{") {
		t.Fatalf("want a bare array, got %.40s", r.body)
	}
	var arr []map[string]any
	mustUnmarshal(t, r.body, &arr)
	if len(arr) != 50 {
		t.Fatalf("default page has %d users, want 50", len(arr))
	}

	// Envelope, second page.
	r = e.do("GET", "/api/v2/users?include_totals=true&per_page=20&page=2", tok, nil)
	expect(t, r, 200, "")
	var env struct {
		Start, Limit, Length, Total int
		Users                       []map[string]any
	}
	mustUnmarshal(t, r.body, &env)
	keys := r.json(t)
	for _, k := range []string{"start", "limit", "length", "total", "users"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("envelope lacks %q", k)
		}
	}
	if env.Start != 40 || env.Limit != 20 || env.Length != 20 || len(env.Users) != 20 {
		t.Errorf("envelope start=%d limit=%d length=%d users=%d", env.Start, env.Limit, env.Length, len(env.Users))
	}
	// Seeded: 300 end users + 1 staff user.
	if env.Total != 301 {
		t.Errorf("total %d, want 301", env.Total)
	}

	expect(t, e.do("GET", "/api/v2/users?per_page=101", tok, nil), 400,
		`{"statusCode":400,"error":"Bad Request","message":"Query validation error: 'Value 101 is greater than maximum 100' on property per_page (Number of results per page. Defaults to 50).","errorCode":"invalid_query_string"}`)
	expect(t, e.do("GET", "/api/v2/users?per_page=100&page=10", tok, nil), 400,
		`{"statusCode":400,"error":"Bad Request","message":"You can only page through the first 1000 records. See https://auth0.com/docs/users/search/v3/view-search-results-by-page#limitation","errorCode":"invalid_paging"}`)
	expect(t, e.do("GET", "/api/v2/users?per_page=100&page=9", tok, nil), 200, "[]")
	expect(t, e.do("GET", "/api/v2/users?foo=1", tok, nil), 400,
		`{"statusCode":400,"error":"Bad Request","message":"Query validation error: 'Additional properties not allowed: foo'.","errorCode":"invalid_query_string"}`)
	r = e.do("GET", "/api/v2/users?q=name%3Ajane%3Fsmith&search_engine=v3", tok, nil)
	expect(t, r, 400, "")
	if r.json(t)["errorCode"] != "invalid_query_string" {
		t.Errorf("bad q: %s", r.body)
	}

	// q: the staff user by exact email, and a field search that finds every Google user.
	r = e.do("GET", "/api/v2/users?include_totals=true&q=email%3A%22ADMIN%40example.com%22&search_engine=v3", tok, nil)
	expect(t, r, 200, "")
	mustUnmarshal(t, r.body, &env)
	if env.Total != 1 || env.Users[0]["email"] != "admin@example.com" {
		t.Fatalf("email search: %s", r.body)
	}
	r = e.do("GET", "/api/v2/users?include_totals=true&per_page=1&q=identities.connection%3A%22google-oauth2%22", tok, nil)
	mustUnmarshal(t, r.body, &env)
	if env.Total != demoGoogleUsers {
		t.Errorf("google users %d, want %d", env.Total, demoGoogleUsers)
	}

	// sort by created_at descending.
	r = e.do("GET", "/api/v2/users?sort=created_at%3A-1&per_page=5", tok, nil)
	arr = nil
	mustUnmarshal(t, r.body, &arr)
	for i := 1; i < len(arr); i++ {
		if arr[i-1]["created_at"].(string) < arr[i]["created_at"].(string) {
			t.Fatalf("not sorted descending: %v then %v", arr[i-1]["created_at"], arr[i]["created_at"])
		}
	}
	expect(t, e.do("GET", "/api/v2/users?sort=user_metadata.x%3A1", tok, nil), 400, "")

	// fields / include_fields.
	r = e.do("GET", "/api/v2/users?per_page=2&fields=user_id,email&include_fields=true", tok, nil)
	arr = nil
	mustUnmarshal(t, r.body, &arr)
	for _, u := range arr {
		if len(u) != 2 || u["user_id"] == nil || u["email"] == nil {
			t.Errorf("fields filter: %v", u)
		}
	}
}

func TestGetDeleteUser(t *testing.T) {
	e := newEnv(t)
	tok := e.admin()
	email, _ := e.tn.DemoStaff()
	users, err := e.st.UsersByEmail(t.Context(), email)
	if err != nil || len(users) != 1 {
		t.Fatal(users, err)
	}
	id := users[0].ID
	esc := strings.ReplaceAll(id, "|", "%7C")

	r := e.do("GET", "/api/v2/users/"+esc, tok, nil)
	expect(t, r, 200, "")
	u := r.json(t)
	if u["user_id"] != id || u["email"] != email {
		t.Fatalf("got %s", r.body)
	}
	for _, absent := range []string{"user_metadata", "blocked", "logins_count", "last_login", "phone_number", "username"} {
		if _, ok := u[absent]; ok {
			t.Errorf("unset %q present: %s", absent, r.body)
		}
	}
	r = e.do("GET", "/api/v2/users-by-email?email="+email, tok, nil)
	expect(t, r, 200, "")
	if !strings.HasPrefix(string(r.body), "[{") || !strings.Contains(string(r.body), id) {
		t.Errorf("users-by-email: %s", r.body)
	}

	expect(t, e.do("DELETE", "/api/v2/users/"+esc, tok, nil), 204, "")
	expect(t, e.do("GET", "/api/v2/users/"+esc, tok, nil), 404,
		`{"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"}`)
	r = e.do("DELETE", "/api/v2/users/"+esc, tok, nil)
	expect(t, r, 204, "")
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("204 Content-Type %q", ct)
	}
}

func TestCreateUser(t *testing.T) {
	e := newEnv(t)
	tok := e.admin()
	r := e.do("POST", "/api/v2/users", tok, `{"connection":"Username-Password-Authentication","email":"Chuck@Example.com","username":"chuck","password":"I have a password and its a secret"}`)
	expect(t, r, 201, "")
	u := r.json(t)
	id, _ := u["user_id"].(string)
	if len(id) != len("auth0|")+24 || !strings.HasPrefix(id, "auth0|") {
		t.Errorf("user_id %q", id)
	}
	want := map[string]any{
		"email": "chuck@example.com", "email_verified": false, "name": "chuck@example.com", "nickname": "chuck",
		"username":   "chuck",
		"picture":    "https://s.gravatar.com/avatar/0b79e7da7bc7877560620cf8f2cc93ae?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fch.png",
		"created_at": "2025-03-14T09:26:53.589Z", "updated_at": "2025-03-14T09:26:53.589Z",
	}
	for k, v := range want {
		if u[k] != v {
			t.Errorf("%s = %v, want %v", k, u[k], v)
		}
	}
	ids := u["identities"].([]any)[0].(map[string]any)
	if ids["connection"] != "Username-Password-Authentication" || ids["provider"] != "auth0" || ids["isSocial"] != false || ids["user_id"] != strings.TrimPrefix(id, "auth0|") {
		t.Errorf("identities %v", ids)
	}
	if len(u) != 10 {
		t.Errorf("unexpected keys in %s", r.body)
	}

	expect(t, e.do("POST", "/api/v2/users", tok, `{"connection":"Username-Password-Authentication","email":"chuck@example.com","password":"Another-Passw0rd"}`), 409,
		`{"statusCode":409,"error":"Conflict","message":"The user already exists.","errorCode":"auth0_idp_error"}`)
	expect(t, e.do("POST", "/api/v2/users", tok, `{"connection":"Nope","email":"x@example.com","password":"Another-Passw0rd"}`), 400,
		`{"statusCode":400,"error":"Bad Request","message":"The connection does not exist.","errorCode":"inexistent_connection"}`)
	for _, weak := range []string{"short", "alllowercaseletters", "ALLUPPER123"} {
		expect(t, e.do("POST", "/api/v2/users", tok, `{"connection":"Username-Password-Authentication","email":"w@example.com","password":"`+weak+`"}`), 400,
			`{"statusCode":400,"error":"Bad Request","message":"PasswordStrengthError: Password is too weak"}`)
	}
	r = e.do("POST", "/api/v2/users", tok, `{"connection":"Username-Password-Authentication","email":"m@example.com","password":"Good-Passw0rd","user_metadata":{"a.b":1}}`)
	expect(t, r, 400, "")
	if r.json(t)["errorCode"] != "invalid_body" {
		t.Errorf("dotted key: %s", r.body)
	}
	r = e.do("POST", "/api/v2/users", tok, `{"connection":"Username-Password-Authentication","email":"m@example.com","password":"Good-Passw0rd","app_metadata":{"email":"x"}}`)
	expect(t, r, 400, "")
	r = e.do("POST", "/api/v2/users", tok, `{"connection":"Username-Password-Authentication","email":"m@example.com","password":"Good-Passw0rd","bogus":1}`)
	expect(t, r, 400, `{"statusCode":400,"error":"Bad Request","message":"Payload validation error: 'Additional properties not allowed: bogus'.","errorCode":"invalid_body"}`)
	expect(t, e.do("POST", "/api/v2/users", tok, `{"connection":`), 400, "")
	expect(t, e.do("POST", "/api/v2/users", tok, `{"connection":"google-oauth2","email":"g@example.com","password":"Good-Passw0rd"}`), 400, "")
	expect(t, e.do("POST", "/api/v2/users", tok, `{"connection":"Username-Password-Authentication","email":"p@example.com","password":"Good-Passw0rd","picture":"javascript:alert(1)"}`), 400, "")
	expect(t, e.do("POST", "/api/v2/users", tok, strings.Repeat(" ", maxAPIBody+1)), 413, "")
}

func TestPatchUser(t *testing.T) {
	e := newEnv(t)
	tok := e.admin()
	create := func(t *testing.T, body string) string {
		r := e.do("POST", "/api/v2/users", tok, body)
		expect(t, r, 201, "")
		return strings.ReplaceAll(r.json(t)["user_id"].(string), "|", "%7C")
	}
	base := `{"connection":"Username-Password-Authentication","email":"%s","password":"Passwords hide their chuck",` +
		`"user_metadata":{"theme":"dark","address":{"city":"Paris","zip":"75001"}},"app_metadata":{"facts":["a","b"],"plan":"pro"}}`

	cases := []struct {
		name  string
		patch string
		check func(t *testing.T, u map[string]any)
	}{
		{"top-level merge", `{"app_metadata":{"foo":"bar"}}`, func(t *testing.T, u map[string]any) {
			eqJSON(t, u["app_metadata"], `{"facts":["a","b"],"foo":"bar","plan":"pro"}`)
			eqJSON(t, u["user_metadata"], `{"address":{"city":"Paris","zip":"75001"},"theme":"dark"}`)
		}},
		{"nested object replaced", `{"user_metadata":{"address":{"city":"Lyon"}}}`, func(t *testing.T, u map[string]any) {
			eqJSON(t, u["user_metadata"], `{"address":{"city":"Lyon"},"theme":"dark"}`)
		}},
		{"null deletes a key", `{"user_metadata":{"theme":null}}`, func(t *testing.T, u map[string]any) {
			eqJSON(t, u["user_metadata"], `{"address":{"city":"Paris","zip":"75001"}}`)
		}},
		{"empty object clears", `{"app_metadata":{}}`, func(t *testing.T, u map[string]any) {
			if _, ok := u["app_metadata"]; ok {
				t.Errorf("app_metadata still present: %v", u["app_metadata"])
			}
		}},
		{"root fields replace, null unsets", `{"given_name":"Chuck","nickname":"Chucky","blocked":true,"picture":null}`, func(t *testing.T, u map[string]any) {
			if _, ok := u["picture"]; ok || u["given_name"] != "Chuck" || u["nickname"] != "Chucky" || u["blocked"] != true {
				t.Errorf("got %v", u)
			}
		}},
		{"password sets last_password_reset", `{"connection":"Username-Password-Authentication","password":"I don't need one"}`, func(t *testing.T, u map[string]any) {
			if u["last_password_reset"] != "2025-03-14T09:31:53.589Z" {
				t.Errorf("last_password_reset %v", u["last_password_reset"])
			}
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := create(t, strings.Replace(base, "%s", "patch"+string(rune('a'+i))+"@example.com", 1))
			e.clock.Advance(5 * time.Minute)
			defer e.clock.Advance(-5 * time.Minute)
			r := e.do("PATCH", "/api/v2/users/"+id, tok, c.patch)
			expect(t, r, 200, "")
			u := r.json(t)
			if u["updated_at"] != "2025-03-14T09:31:53.589Z" || u["created_at"] != "2025-03-14T09:26:53.589Z" {
				t.Errorf("updated_at %v created_at %v", u["updated_at"], u["created_at"])
			}
			c.check(t, u)
			// The stored user matches the response.
			g := e.do("GET", "/api/v2/users/"+id, tok, nil)
			if string(g.body) != string(r.body) {
				t.Errorf("GET after PATCH differs:\n%s\n%s", g.body, r.body)
			}
		})
	}

	id := create(t, strings.Replace(base, "%s", "taken1@example.com", 1))
	create(t, strings.Replace(base, "%s", "taken2@example.com", 1))
	expect(t, e.do("PATCH", "/api/v2/users/"+id, tok, `{"email":"taken2@example.com"}`), 400,
		`{"statusCode":400,"error":"Bad Request","message":"The specified new email already exists"}`)
	for _, bad := range []string{`{"user_metadata":{"a$b":1}}`, `{"user_metadata":{"x":{"a.b":1}}}`, `{"app_metadata":{"user_id":"x"}}`, `{}`, `{"email":null}`, `{"nope":1}`, `{"blocked":"yes"}`, `{"password":"weak"}`} {
		r := e.do("PATCH", "/api/v2/users/"+id, tok, bad)
		expect(t, r, 400, "")
	}
	expect(t, e.do("PATCH", "/api/v2/users/auth0%7Cnobody", tok, `{"name":"x"}`), 404,
		`{"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"}`)
	// update:users_app_metadata may change app_metadata only.
	narrow := e.mintToken("update:users_app_metadata")
	expect(t, e.do("PATCH", "/api/v2/users/"+id, narrow, `{"app_metadata":{"x":1}}`), 200, "")
	expect(t, e.do("PATCH", "/api/v2/users/"+id, narrow, `{"name":"x"}`), 403, "")
}

func TestConnections(t *testing.T) {
	e := newEnv(t)
	tok := e.admin()
	r := e.do("GET", "/api/v2/connections", tok, nil)
	expect(t, r, 200, "")
	var arr []map[string]any
	mustUnmarshal(t, r.body, &arr)
	if len(arr) != 3 {
		t.Fatalf("want 3 connections, got %s", r.body)
	}
	names := []string{arr[0]["name"].(string), arr[1]["name"].(string), arr[2]["name"].(string)}
	if strings.Join(names, ",") != "Userdesk-Staff,Username-Password-Authentication,google-oauth2" {
		t.Errorf("names %v", names)
	}

	r = e.do("GET", "/api/v2/connections?include_totals=true&name=Username-Password-Authentication&per_page=50", tok, nil)
	expect(t, r, 200, "")
	env := r.json(t)
	if _, ok := env["length"]; ok || env["total"] != 1.0 || env["start"] != 0.0 || env["limit"] != 50.0 {
		t.Errorf("envelope %s", r.body)
	}
	c := env["connections"].([]any)[0].(map[string]any)
	opts := c["options"].(map[string]any)
	if opts["passwordPolicy"] != "good" || opts["brute_force_protection"] != true || c["strategy"] != "auth0" {
		t.Errorf("connection %v", c)
	}

	r = e.do("GET", "/api/v2/connections?fields=id&include_fields=true&include_totals=true&per_page=50", tok, nil)
	env = r.json(t)
	for _, x := range env["connections"].([]any) {
		m := x.(map[string]any)
		if len(m) != 2 || !strings.HasPrefix(m["id"].(string), "con_") || m["is_domain_connection"] != false {
			t.Errorf("fields=id item %v", m)
		}
	}
	r = e.do("GET", "/api/v2/connections?strategy=google-oauth2", tok, nil)
	arr = nil
	mustUnmarshal(t, r.body, &arr)
	if len(arr) != 1 || arr[0]["name"] != "google-oauth2" {
		t.Errorf("strategy filter: %s", r.body)
	}
	// Checkpoint paging walks every connection once.
	var seen []string
	for from := ""; ; {
		r = e.do("GET", "/api/v2/connections?take=2"+from, tok, nil)
		page := r.json(t)
		for _, x := range page["connections"].([]any) {
			seen = append(seen, x.(map[string]any)["name"].(string))
		}
		next, _ := page["next"].(string)
		if next == "" {
			break
		}
		from = "&from=" + next
	}
	if len(seen) != 3 {
		t.Errorf("checkpoint paging saw %v", seen)
	}
	expect(t, e.do("GET", "/api/v2/connections?per_page=500", tok, nil), 400, "")
	expect(t, e.do("GET", "/api/v2/connections/con_missing", tok, nil), 404,
		`{"statusCode":404,"error":"Not Found","message":"The connection does not exist","errorCode":"inexistent_connection"}`)
	expect(t, e.do("GET", "/api/v2/connections", e.mintToken("read:users"), nil), 403,
		`{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: read:connections","errorCode":"insufficient_scope"}`)
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := jsonUnmarshal(b, v); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
}

func eqJSON(t *testing.T, got any, want string) {
	t.Helper()
	var w any
	if err := jsonUnmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(got, w) {
		t.Errorf("got %v, want %s", got, want)
	}
}
