package tenant

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// orgAdmin is a token holding every organization scope.
func (e *env) orgAdmin() string {
	return e.mintToken("read:organizations", "create:organizations", "delete:organizations",
		"read:organization_members", "create:organization_members", "delete:organization_members",
		"delete:users")
}

// orgUser stores a database user; name and picture are left unset when empty.
func (e *env) orgUser(t *testing.T, id, email, name, picture string) store.User {
	t.Helper()
	now := e.clock.Now().UTC().Truncate(time.Millisecond)
	u := store.User{ID: "auth0|" + id, Connection: DatabaseConnection, Provider: "auth0", Email: email,
		Name: name, Picture: picture, CreatedAt: now, UpdatedAt: now}
	if err := e.st.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// createOrg creates an organization over HTTP and returns its id.
func (e *env) createOrg(t *testing.T, token string, body any) string {
	t.Helper()
	r := e.do("POST", "/api/v2/organizations", token, body)
	expect(t, r, http.StatusCreated, "")
	var o struct{ ID string }
	mustUnmarshal(t, r.body, &o)
	return o.ID
}

var orgIDPattern = regexp.MustCompile(`^org_[A-Za-z0-9]{16}$`)

func TestOrganizationCreateGetDelete(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Seed = false })
	tok := e.orgAdmin()

	// The recorded create: 201 with exactly the given keys and the new id.
	recorded := `{"name":"test-organization368","display_name":"Test Organization","branding":{"logo_url":"https://example.com/logo.gif"}}`
	r := e.do("POST", "/api/v2/organizations", tok, recorded)
	expect(t, r, http.StatusCreated, "")
	var created struct{ ID string }
	mustUnmarshal(t, r.body, &created)
	if !orgIDPattern.MatchString(created.ID) {
		t.Fatalf("organization id %q, want org_ and 16 letters or digits", created.ID)
	}
	want := `{"name":"test-organization368","display_name":"Test Organization","branding":{"logo_url":"https://example.com/logo.gif"},"id":"` + created.ID + `"}`
	if string(r.body) != want {
		t.Errorf("create body\n got %s\nwant %s", r.body, want)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	expect(t, e.do("GET", "/api/v2/organizations/"+created.ID, tok, nil), http.StatusOK, want)

	// Only the name: no other key. Everything: colors and metadata come back as sent.
	r = e.do("POST", "/api/v2/organizations", tok, `{"name":"0-bare_org"}`)
	expect(t, r, http.StatusCreated, "")
	var bare map[string]any
	mustUnmarshal(t, r.body, &bare)
	if len(bare) != 2 || bare["name"] != "0-bare_org" || !orgIDPattern.MatchString(fmt.Sprint(bare["id"])) {
		t.Errorf("minimal create body %s, want only name and id", r.body)
	}
	full := `{"name":"globex","display_name":"Globex Corporation","branding":{"logo_url":"https://globex.example/l.png","colors":{"primary":"#0059d6","page_background":"#FFF"}},"metadata":{"plan":"gold","region":"eu"}}`
	r = e.do("POST", "/api/v2/organizations", tok, full)
	expect(t, r, http.StatusCreated, "")
	var g struct{ ID string }
	mustUnmarshal(t, r.body, &g)
	wantFull := strings.TrimSuffix(full, "}") + `,"id":"` + g.ID + `"}`
	if string(r.body) != wantFull {
		t.Errorf("full create body\n got %s\nwant %s", r.body, wantFull)
	}
	expect(t, e.do("GET", "/api/v2/organizations/"+g.ID, tok, nil), http.StatusOK, wantFull)

	// A taken name.
	expect(t, e.do("POST", "/api/v2/organizations", tok, `{"name":"globex"}`), http.StatusConflict,
		`{"statusCode":409,"error":"Conflict","message":"An organization with the same name already exists."}`)

	// Unknown, deleted, deleted again.
	notFound := `{"statusCode":404,"error":"Not Found","message":"No organization found by that id or name"}`
	expect(t, e.do("GET", "/api/v2/organizations/org_missing", tok, nil), http.StatusNotFound, notFound)
	expect(t, e.do("DELETE", "/api/v2/organizations/"+g.ID, tok, nil), http.StatusNoContent, "")
	expect(t, e.do("GET", "/api/v2/organizations/"+g.ID, tok, nil), http.StatusNotFound, notFound)
	expect(t, e.do("DELETE", "/api/v2/organizations/"+g.ID, tok, nil), http.StatusNotFound, notFound)
	// Its name is free again.
	e.createOrg(t, tok, `{"name":"globex"}`)

	// Successful writes are in the tenant log as sapi events.
	events, _, err := e.st.ListLogs(t.Context(), store.LogQuery{Expr: store.Term{Field: "type", Value: "sapi"}})
	if err != nil {
		t.Fatal(err)
	}
	var descs []string
	for _, ev := range events {
		descs = append(descs, *ev.Description)
	}
	if !slices.Contains(descs, "Create an Organization") || !slices.Contains(descs, "Delete an Organization") {
		t.Errorf("sapi events %q, want the organization create and delete", descs)
	}
}

func TestOrganizationCreateValidation(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Seed = false })
	tok := e.orgAdmin()
	const nameDesc = "(The name of this organization.)."
	long := strings.Repeat("a", 51)
	metadata26 := map[string]string{}
	for i := range 26 {
		metadata26[fmt.Sprintf("k%02d", i)] = "v"
	}
	for _, c := range []struct {
		name string
		body any
		msg  string // the whole message
	}{
		{"missing name", `{"display_name":"X"}`, "Payload validation error: 'Missing required property: name' on property name " + nameDesc},
		{"upper case", `{"name":"Acme"}`, "Payload validation error: 'Object didn't pass validation for format organization-name: Acme' on property name " + nameDesc},
		{"space", `{"name":"acme corp"}`, "Payload validation error: 'Object didn't pass validation for format organization-name: acme corp' on property name " + nameDesc},
		{"empty name", `{"name":""}`, "Payload validation error: 'String length must be between 1 and 50' on property name " + nameDesc},
		{"51 characters", map[string]any{"name": long}, "Payload validation error: 'String length must be between 1 and 50' on property name " + nameDesc},
		{"empty display name", `{"name":"a","display_name":""}`, "Payload validation error: 'String length must be between 1 and 255' on property display_name (Friendly name of this organization.)."},
		{"http logo", `{"name":"a","branding":{"logo_url":"http://example.com/l.png"}}`, "Payload validation error: 'Object didn't pass validation for format strict-https-uri: http://example.com/l.png' on property branding.logo_url (URL of logo to display on login page.)."},
		{"colors without background", `{"name":"a","branding":{"colors":{"primary":"#000000"}}}`, "Payload validation error: 'Missing required property: page_background' on property branding.colors.page_background (HEX Color for background.)."},
		{"bad color", `{"name":"a","branding":{"colors":{"primary":"red","page_background":"#fff"}}}`, "Payload validation error: 'String does not match pattern ^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$: red' on property branding.colors.primary (HEX Color for primary elements.)."},
		{"metadata number", `{"name":"a","metadata":{"seats":5}}`, "Payload validation error: 'Expected type string but found type number' on property metadata.seats (Metadata associated with the organization, in the form of an object with string values (max 255 chars). Maximum of 25 metadata properties allowed.)."},
		{"metadata array", `{"name":"a","metadata":["x"]}`, "Payload validation error: 'Expected type object but found type array' on property metadata (Metadata associated with the organization, in the form of an object with string values (max 255 chars). Maximum of 25 metadata properties allowed.)."},
		{"26 metadata keys", map[string]any{"name": "a", "metadata": metadata26}, "Payload validation error: 'Too many properties defined (26), maximum 25' on property metadata (Metadata associated with the organization, in the form of an object with string values (max 255 chars). Maximum of 25 metadata properties allowed.)."},
		{"unsupported property", `{"name":"a","enabled_connections":[]}`, "Payload validation error: 'Additional properties not allowed: enabled_connections'."},
		{"not JSON", `{"name":`, "Invalid request payload JSON format"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/api/v2/organizations", tok, c.body)
			want := `{"statusCode":400,"error":"Bad Request","message":` + mustJSON(t, c.msg) + `,"errorCode":"invalid_body"}`
			expect(t, r, http.StatusBadRequest, want)
		})
	}
	r := e.do("GET", "/api/v2/organizations?include_totals=true", tok, nil)
	expect(t, r, http.StatusOK, `{"limit":50,"organizations":[],"start":0,"total":0}`)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOrganizationList(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Seed = false })
	tok := e.orgAdmin()
	names := []string{"echo", "alpha", "delta", "charlie", "bravo"}
	ids := map[string]string{}
	for _, n := range names {
		ids[n] = e.createOrg(t, tok, map[string]any{"name": n, "display_name": strings.ToUpper(n)})
	}
	obj := func(n string) string {
		return `{"name":"` + n + `","display_name":"` + strings.ToUpper(n) + `","id":"` + ids[n] + `"}`
	}
	expect(t, e.do("GET", "/api/v2/organizations", tok, nil), http.StatusOK,
		"["+strings.Join([]string{obj("alpha"), obj("bravo"), obj("charlie"), obj("delta"), obj("echo")}, ",")+"]")
	expect(t, e.do("GET", "/api/v2/organizations?page=1&per_page=2&include_totals=true", tok, nil), http.StatusOK,
		`{"limit":2,"organizations":[`+obj("charlie")+","+obj("delta")+`],"start":2,"total":5}`)
	expect(t, e.do("GET", "/api/v2/organizations?page=2&per_page=2", tok, nil), http.StatusOK, "["+obj("echo")+"]")
	expect(t, e.do("GET", "/api/v2/organizations?page=3&per_page=2&include_totals=true", tok, nil), http.StatusOK,
		`{"limit":2,"organizations":[],"start":6,"total":5}`)
	expect(t, e.do("GET", "/api/v2/organizations?per_page=0&include_totals=true", tok, nil), http.StatusOK,
		`{"limit":0,"organizations":[],"start":0,"total":5}`)

	for q, want := range map[string]string{
		"per_page=101":         `{"statusCode":400,"error":"Bad Request","message":"Query validation error: 'Value 101 is greater than maximum 100' on property per_page (Number of results per page.).","errorCode":"invalid_query_string"}`,
		"page=10&per_page=100": `{"statusCode":400,"error":"Bad Request","message":"Requesting page 10 exceeds the allowed maximum of 1000 records.","errorCode":"invalid_paging"}`,
		"take=5":               `{"statusCode":400,"error":"Bad Request","message":"Query validation error: 'Additional properties not allowed: take'.","errorCode":"invalid_query_string"}`,
		"include_totals=yes":   `{"statusCode":400,"error":"Bad Request","message":"Query validation error: 'Expected type boolean but found type string' on property include_totals (Return results inside an object that contains the total result count (true) or as a direct array of results (false, default).).","errorCode":"invalid_query_string"}`,
	} {
		expect(t, e.do("GET", "/api/v2/organizations?"+q, tok, nil), http.StatusBadRequest, want)
	}
}

func TestOrganizationMembers(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Seed = false })
	tok := e.orgAdmin()
	u1 := e.orgUser(t, "0001", "one@example.com", "One", "https://example.com/1.png")
	u2 := e.orgUser(t, "0002", "two@example.com", "", "") // no name or picture: those keys are omitted
	u3 := e.orgUser(t, "0003", "three@example.com", "Three", "https://example.com/3.png")
	org := e.createOrg(t, tok, `{"name":"acme"}`)
	other := e.createOrg(t, tok, `{"name":"bravo"}`)
	path := "/api/v2/organizations/" + org + "/members"
	m1 := `{"user_id":"auth0|0001","email":"one@example.com","picture":"https://example.com/1.png","name":"One"}`
	m2 := `{"user_id":"auth0|0002","email":"two@example.com"}`

	expect(t, e.do("GET", path, tok, nil), http.StatusOK, `[]`)
	// The recorded add: 204, no body. Adding a member again changes nothing.
	expect(t, e.do("POST", path, tok, map[string]any{"members": []string{u2.ID, u1.ID}}), http.StatusNoContent, "")
	expect(t, e.do("POST", path, tok, map[string]any{"members": []string{u1.ID}}), http.StatusNoContent, "")
	expect(t, e.do("GET", path, tok, nil), http.StatusOK, "["+m1+","+m2+"]")
	expect(t, e.do("GET", path+"?page=1&per_page=1&include_totals=true", tok, nil), http.StatusOK,
		`{"limit":1,"members":[`+m2+`],"start":1,"total":2}`)

	// Unknown users refuse the whole request; nobody is added.
	expect(t, e.do("POST", path, tok, map[string]any{"members": []string{u3.ID, "auth0|ghost", "auth0|ghost"}}), http.StatusBadRequest,
		`{"statusCode":400,"error":"Bad Request","message":"One or more of the specified users do not exist: auth0|ghost","errorCode":"invalid_body"}`)
	expect(t, e.do("GET", path+"?include_totals=true", tok, nil), http.StatusOK, `{"limit":50,"members":[`+m1+","+m2+`],"start":0,"total":2}`)

	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = u1.ID
	}
	const addDesc = "(List of user IDs to add to the organization as members.)."
	for body, msg := range map[string]string{
		`{}`:              "Payload validation error: 'Missing required property: members' on property members " + addDesc,
		`{"members":[]}`:  "Payload validation error: 'Array is too short (0), minimum 1' on property members " + addDesc,
		`{"members":"x"}`: "Payload validation error: 'Expected type array but found type string' on property members.",
		mustJSON(t, map[string]any{"members": eleven}): "Payload validation error: 'Array is too long (11), maximum 10' on property members " + addDesc,
	} {
		expect(t, e.do("POST", path, tok, body), http.StatusBadRequest,
			`{"statusCode":400,"error":"Bad Request","message":`+mustJSON(t, msg)+`,"errorCode":"invalid_body"}`)
	}

	// Removal: non-members are ignored, the user itself stays.
	expect(t, e.do("DELETE", path, tok, map[string]any{"members": []string{u1.ID, u3.ID, "auth0|ghost"}}), http.StatusNoContent, "")
	expect(t, e.do("GET", path, tok, nil), http.StatusOK, "["+m2+"]")
	expect(t, e.do("GET", "/api/v2/users/"+url.PathEscape(u1.ID), e.admin(), nil), http.StatusOK, "")
	expect(t, e.do("DELETE", path, tok, `{"members":[]}`), http.StatusBadRequest,
		`{"statusCode":400,"error":"Bad Request","message":"Payload validation error: 'Array is too short (0), minimum 1' on property members (List of user IDs to remove from the organization.).","errorCode":"invalid_body"}`)

	// An unknown organization.
	notFound := `{"statusCode":404,"error":"Not Found","message":"No organization found by that id or name"}`
	missing := "/api/v2/organizations/org_missing/members"
	expect(t, e.do("GET", missing, tok, nil), http.StatusNotFound, notFound)
	expect(t, e.do("POST", missing, tok, map[string]any{"members": []string{u1.ID}}), http.StatusNotFound, notFound)
	expect(t, e.do("DELETE", missing, tok, map[string]any{"members": []string{u1.ID}}), http.StatusNotFound, notFound)

	// Deleting the organization ends its memberships; the other organization keeps its own.
	expect(t, e.do("POST", "/api/v2/organizations/"+other+"/members", tok, map[string]any{"members": []string{u2.ID}}), http.StatusNoContent, "")
	expect(t, e.do("DELETE", "/api/v2/organizations/"+org, tok, nil), http.StatusNoContent, "")
	r := e.do("GET", "/api/v2/users/"+url.PathEscape(u2.ID)+"/organizations", tok, nil)
	expect(t, r, http.StatusOK, `[{"name":"bravo","id":"`+other+`"}]`)
}

func TestUserOrganizations(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Seed = false })
	tok := e.orgAdmin()
	member := e.orgUser(t, "0001", "member@example.com", "", "")
	bystander := e.orgUser(t, "0002", "bystander@example.com", "", "")
	loner := e.orgUser(t, "0003", "loner@example.com", "", "")
	// Created in the recording's shape, out of name order.
	zeta := e.createOrg(t, tok, `{"name":"zeta","display_name":"Zeta","branding":{"logo_url":"https://example.com/logo.gif"}}`)
	alpha := e.createOrg(t, tok, `{"name":"alpha","display_name":"Alpha","metadata":{"tier":"gold"}}`)
	for _, org := range []string{zeta, alpha} {
		expect(t, e.do("POST", "/api/v2/organizations/"+org+"/members", tok,
			map[string]any{"members": []string{member.ID, bystander.ID}}), http.StatusNoContent, "")
	}
	a := `{"name":"alpha","display_name":"Alpha","metadata":{"tier":"gold"},"id":"` + alpha + `"}`
	z := `{"name":"zeta","display_name":"Zeta","branding":{"logo_url":"https://example.com/logo.gif"},"id":"` + zeta + `"}`
	path := func(u store.User) string { return "/api/v2/users/" + url.PathEscape(u.ID) + "/organizations" }

	// The recorded request: include_totals=true&per_page=50.
	expect(t, e.do("GET", path(member)+"?include_totals=true&per_page=50", tok, nil), http.StatusOK,
		`{"limit":50,"organizations":[`+a+","+z+`],"start":0,"total":2}`)
	expect(t, e.do("GET", path(member), tok, nil), http.StatusOK, "["+a+","+z+"]")
	expect(t, e.do("GET", path(member)+"?page=1&per_page=1&include_totals=true", tok, nil), http.StatusOK,
		`{"limit":1,"organizations":[`+z+`],"start":1,"total":2}`)
	expect(t, e.do("GET", path(loner), tok, nil), http.StatusOK, `[]`)
	expect(t, e.do("GET", path(loner)+"?include_totals=true", tok, nil), http.StatusOK, `{"limit":50,"organizations":[],"start":0,"total":0}`)
	expect(t, e.do("GET", "/api/v2/users/auth0%7Cghost/organizations", tok, nil), http.StatusNotFound,
		`{"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"}`)
	expect(t, e.do("GET", path(member)+"?per_page=500", tok, nil), http.StatusBadRequest, "")

	// Deleting a user ends its memberships; the other member is untouched.
	expect(t, e.do("DELETE", "/api/v2/users/"+url.PathEscape(member.ID), tok, nil), http.StatusNoContent, "")
	expect(t, e.do("GET", "/api/v2/organizations/"+alpha+"/members", tok, nil), http.StatusOK,
		`[{"user_id":"auth0|0002","email":"bystander@example.com"}]`)
	expect(t, e.do("GET", path(bystander), tok, nil), http.StatusOK, "["+a+","+z+"]")
	expect(t, e.do("GET", path(member), tok, nil), http.StatusNotFound, "")
}

// TestSeededOrganizations checks the demo organizations and memberships a seeded tenant starts with,
// as the service account (which holds read:organizations) sees them.
func TestSeededOrganizations(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	orgs, total, err := e.st.ListOrganizations(ctx, store.OffsetPage{})
	if err != nil || total != 3 {
		t.Fatalf("seeded organizations: %d, %v", total, err)
	}
	for i, want := range []struct{ id, name, display string }{
		{"org_AcmeDemo00000001", "acme", "Acme Corporation"},
		{"org_GlobexDemo000001", "globex", "Globex Corporation"},
		{"org_InitechDemo00001", "initech", "Initech"},
	} {
		if o := orgs[i]; o.ID != want.id || o.Name != want.name || o.DisplayName != want.display {
			t.Errorf("seeded organization %d = %+v, want %+v", i, o, want)
		}
	}
	users, _, err := e.st.ListUsers(ctx, store.Query{Expr: store.Term{Field: "identities.connection", Value: DatabaseConnection}, Limit: 12})
	if err != nil || len(users) != 12 {
		t.Fatalf("database users: %d, %v", len(users), err)
	}
	svcToken := func() string {
		id, secret := e.tn.ServiceAccount()
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "audience": {e.tn.Audience()}}
		r := postToken(t, e.srv.URL, "application/x-www-form-urlencoded", form.Encode())
		expect(t, r, http.StatusOK, "")
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		mustUnmarshal(t, r.body, &tok)
		return tok.AccessToken
	}()
	wantOrgs := [][]string{{"acme", "globex"}, {"globex"}, {"initech"}, {"acme"}, {"globex", "initech"},
		{"initech"}, {"acme"}, {"globex"}, {"initech"}, {}, {}, {}}
	for i, u := range users {
		r := e.do("GET", "/api/v2/users/"+url.PathEscape(u.ID)+"/organizations", svcToken, nil)
		expect(t, r, http.StatusOK, "")
		var got []struct{ Name string }
		mustUnmarshal(t, r.body, &got)
		names := []string{}
		for _, o := range got {
			names = append(names, o.Name)
		}
		if !slices.Equal(names, wantOrgs[i]) {
			t.Errorf("database user %d (%s) is in %v, want %v", i, u.ID, names, wantOrgs[i])
		}
	}
	for id, want := range map[string]int{"org_AcmeDemo00000001": 3, "org_GlobexDemo000001": 4, "org_InitechDemo00001": 4} {
		if _, n, err := e.st.OrganizationMembers(ctx, id, store.OffsetPage{}); err != nil || n != want {
			t.Errorf("%s has %d members, %v; want %d", id, n, err, want)
		}
	}
	// The service account reads but does not administer.
	expect(t, e.do("GET", "/api/v2/organizations/org_AcmeDemo00000001/members", svcToken, nil), http.StatusForbidden, "")
}
