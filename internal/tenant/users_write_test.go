package tenant

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// TestCreateUserEveryField posts every documented field and reads the user back: all are echoed,
// user_id becomes auth0|<user_id>, username is lower-cased, verify_email is accepted.
func TestCreateUserEveryField(t *testing.T) {
	e := newEnv(t)
	tok := e.admin()
	r := e.do("POST", "/api/v2/users", tok, `{"connection":"Username-Password-Authentication","email":"full@example.com",
		"username":"Fuller","password":"Full-Passw0rd","user_id":"ext-42","phone_number":"+14155550100","phone_verified":true,
		"given_name":"Fay","family_name":"Fuller","name":"Fay Fuller","nickname":"fay","picture":"https://example.com/fay.png",
		"blocked":false,"email_verified":true,"verify_email":false,
		"user_metadata":{"theme":"dark"},"app_metadata":{"plan":"pro","roles":["a"]}}`)
	expect(t, r, 201, "")
	want := `{"app_metadata":{"plan":"pro","roles":["a"]},"blocked":false,"created_at":"2025-03-14T09:26:53.589Z",` +
		`"email":"full@example.com","email_verified":true,"family_name":"Fuller","given_name":"Fay",` +
		`"identities":[{"connection":"Username-Password-Authentication","user_id":"ext-42","provider":"auth0","isSocial":false}],` +
		`"name":"Fay Fuller","nickname":"fay","phone_number":"+14155550100","phone_verified":true,"picture":"https://example.com/fay.png",` +
		`"updated_at":"2025-03-14T09:26:53.589Z","user_id":"auth0|ext-42","user_metadata":{"theme":"dark"},"username":"fuller"}`
	expect(t, r, 201, want)
	expect(t, e.do("GET", "/api/v2/users/auth0%7Cext-42", tok, nil), 200, want)
	// The same user_id again is a duplicate.
	expect(t, e.do("POST", "/api/v2/users", tok, `{"connection":"Username-Password-Authentication","email":"other@example.com","password":"Full-Passw0rd","user_id":"ext-42"}`), 409, "")
	// So is the same username in the connection.
	expect(t, e.do("POST", "/api/v2/users", tok, `{"connection":"Username-Password-Authentication","email":"other@example.com","password":"Full-Passw0rd","username":"fuller"}`), 409, "")

	for name, body := range map[string]string{
		"phone not E.164":         `"phone_number":"415-555-0100"`,
		"username is an email":    `"username":"a@b.com"`,
		"username too long":       `"username":"abcdefghijklmnop"`,
		"user_id with a pipe":     `"user_id":"a|b"`,
		"empty given_name":        `"given_name":""`,
		"metadata not an object":  `"user_metadata":[1]`,
		"dollar in nested key":    `"user_metadata":{"a":{"$b":1}}`,
		"reserved app_metadata":   `"app_metadata":{"blocked":true}`,
		"password over 72 bytes":  `"password":"` + strings.Repeat("Aa1-", 19) + `"`,
		"blocked not a boolean":   `"blocked":"no"`,
		"picture not an http URL": `"picture":"data:image/png;base64,AAAA"`,
	} {
		b := `{"connection":"Username-Password-Authentication","email":"bad@example.com","password":"Full-Passw0rd",` + body + `}`
		if strings.Contains(body, `"password"`) {
			b = `{"connection":"Username-Password-Authentication","email":"bad@example.com",` + body + `}`
		}
		r := e.do("POST", "/api/v2/users", tok, b)
		if r.status != 400 || r.json(t)["errorCode"] != "invalid_body" {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	r = e.do("POST", "/api/v2/users", tok, `{"connection":"Username-Password-Authentication","email":"m@example.com","password":"Full-Passw0rd","user_metadata":{"a.b":1}}`)
	expect(t, r, 400, `{"statusCode":400,"error":"Bad Request","message":"Payload validation error: 'Metadata field names cannot contain \".\" or \"$\": a.b' on property user_metadata.","errorCode":"invalid_body"}`)
	expect(t, e.do("POST", "/api/v2/users", tok, `{"email":"m@example.com","password":"Full-Passw0rd"}`), 400,
		`{"statusCode":400,"error":"Bad Request","message":"Payload validation error: 'Missing required property: connection' on property connection (Name of the connection this user should be created in).","errorCode":"invalid_body"}`)
}

// TestPasswordPolicyLevels checks each Auth0 level (contract §3.4) and min_length, over HTTP for a
// connection per level.
func TestPasswordPolicyLevels(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Seed = false })
	tok := e.admin()
	for _, lvl := range []string{"none", "low", "fair", "good", "excellent", "min12"} {
		opts := `{"passwordPolicy":"` + lvl + `"}`
		if lvl == "min12" {
			opts = `{"passwordPolicy":"low","password_complexity_options":{"min_length":12}}`
		}
		if err := e.st.CreateConnection(t.Context(), store.Connection{ID: "con_" + lvl, Name: "db-" + lvl, Strategy: "auth0",
			Options: json.RawMessage(opts), Realms: []string{"db-" + lvl}}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		level, password string
		ok              bool
	}{
		{"none", "a", true},
		{"low", "abcde", false}, {"low", "abcdef", true},
		{"fair", "abcdefgh", false}, {"fair", "Abcdefg1", true}, {"fair", "Abcdef1", false},
		{"good", "abcdefg1", false}, {"good", "abcdef1!", true}, {"good", "Abcdefgh!", true},
		{"excellent", "Abcdef1!x", false}, {"excellent", "Abbb-cdef1", false}, {"excellent", "Aa-bcdefg1", true},
		{"min12", "abcdefghijk", false}, {"min12", "abcdefghijkl", true},
	}
	for i, c := range cases {
		body := `{"connection":"db-` + c.level + `","email":"p` + string(rune('a'+i)) + `@example.com","password":"` + c.password + `"}`
		r := e.do("POST", "/api/v2/users", tok, body)
		switch {
		case c.ok && r.status != 201:
			t.Errorf("%s %q rejected: %s", c.level, c.password, r.body)
		case !c.ok:
			expect(t, r, 400, `{"statusCode":400,"error":"Bad Request","message":"PasswordStrengthError: Password is too weak"}`)
		}
	}
}

// TestPatchEveryRootAttribute patches each editable root attribute, and null unsets the nullable ones.
func TestPatchEveryRootAttribute(t *testing.T) {
	e := newEnv(t)
	tok := e.admin()
	r := e.do("POST", "/api/v2/users", tok, `{"connection":"Username-Password-Authentication","email":"p@example.com","password":"Full-Passw0rd","username":"pat"}`)
	expect(t, r, 201, "")
	id := strings.ReplaceAll(r.json(t)["user_id"].(string), "|", "%7C")
	r = e.do("PATCH", "/api/v2/users/"+id, tok, `{"email":"P2@Example.com","email_verified":true,"username":"pat2","phone_number":"+33123456789",
		"phone_verified":true,"given_name":"Pat","family_name":"Doe","name":"Pat Doe","nickname":"patty","picture":"https://example.com/p.png",
		"blocked":true,"verify_email":false,"user_metadata":{"a":1},"app_metadata":{"b":2}}`)
	expect(t, r, 200, "")
	u := r.json(t)
	for k, v := range map[string]any{"email": "p2@example.com", "email_verified": true, "username": "pat2", "phone_number": "+33123456789",
		"phone_verified": true, "given_name": "Pat", "family_name": "Doe", "name": "Pat Doe", "nickname": "patty",
		"picture": "https://example.com/p.png", "blocked": true} {
		if u[k] != v {
			t.Errorf("%s = %v, want %v", k, u[k], v)
		}
	}
	r = e.do("PATCH", "/api/v2/users/"+id, tok, `{"given_name":null,"family_name":null,"name":null,"nickname":null,"phone_number":null,"user_metadata":null,"app_metadata":null,"blocked":false}`)
	expect(t, r, 200, "")
	u = r.json(t)
	for _, k := range []string{"given_name", "family_name", "name", "nickname", "phone_number", "user_metadata", "app_metadata"} {
		if _, ok := u[k]; ok {
			t.Errorf("%s still present after null: %v", k, u[k])
		}
	}
	if u["blocked"] != false {
		t.Errorf("blocked %v", u["blocked"])
	}
	expect(t, e.do("PATCH", "/api/v2/users/"+id, tok, `{"phone_number":"0033123"}`), 400, "")
	expect(t, e.do("PATCH", "/api/v2/users/"+id, tok, `{"user_id":"x"}`), 400, "")
	expect(t, e.do("PATCH", "/api/v2/users/"+id, tok, `{"connection":"google-oauth2","email":"x@example.com"}`), 400, "")
}
