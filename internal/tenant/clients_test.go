package tenant

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// newLimitedClient creates, through POST /api/v2/clients and /api/v2/client-grants, a machine client
// whose Management API grant holds exactly scopes, and returns a token fetched for it from
// /oauth/token.
func (e *env) newLimitedClient(t *testing.T, admin string, scopes []string) string {
	t.Helper()
	r := e.do("POST", "/api/v2/clients", admin, map[string]any{"name": "limited", "app_type": "non_interactive"})
	expect(t, r, http.StatusCreated, "")
	var c struct {
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret"`
		GrantTypes   []string `json:"grant_types"`
	}
	mustUnmarshal(t, r.body, &c)
	if c.ClientSecret == "" || !slices.Equal(c.GrantTypes, []string{"client_credentials"}) {
		t.Fatalf("created client %s: want its secret and the client_credentials grant type", r.body)
	}
	if scopes == nil {
		scopes = []string{}
	}
	r = e.do("POST", "/api/v2/client-grants", admin, map[string]any{"client_id": c.ClientID, "audience": e.tn.Audience(), "scope": scopes})
	expect(t, r, http.StatusCreated, "")
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret},
		"audience": {e.tn.Audience()}}
	tr := postToken(t, e.srv.URL, "application/x-www-form-urlencoded", form.Encode())
	expect(t, tr, http.StatusOK, "")
	var tok struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
	}
	mustUnmarshal(t, tr.body, &tok)
	if got := strings.Fields(tok.Scope); !slices.Equal(got, scopes) {
		t.Fatalf("token scope %q, want %q", tok.Scope, scopes)
	}
	return tok.AccessToken
}

// supportEndpoints lists every endpoint this file set adds, with the scopes it accepts: any one of
// them, or, for the endpoints in allOfEndpoints, only all of them together.
var supportEndpoints = []struct {
	method, path string
	anyOf        []string
}{
	{"GET", "/api/v2/roles", []string{"read:roles"}},
	{"POST", "/api/v2/roles", []string{"create:roles"}},
	{"GET", "/api/v2/roles/rol_x", []string{"read:roles"}},
	{"PATCH", "/api/v2/roles/rol_x", []string{"update:roles"}},
	{"DELETE", "/api/v2/roles/rol_x", []string{"delete:roles"}},
	{"GET", "/api/v2/roles/rol_x/users", []string{"read:users", "read:roles", "read:role_members"}},
	{"POST", "/api/v2/roles/rol_x/users", []string{"update:roles", "create:role_members"}},
	{"GET", "/api/v2/users/auth0%7Cx/roles", []string{"read:users", "read:roles", "read:role_members"}},
	{"POST", "/api/v2/users/auth0%7Cx/roles", []string{"update:users", "create:role_members"}},
	{"DELETE", "/api/v2/users/auth0%7Cx/roles", []string{"update:users", "delete:role_members"}},
	{"GET", "/api/v2/users/auth0%7Cx/permissions", []string{"read:users"}},
	{"POST", "/api/v2/users/auth0%7Cx/permissions", []string{"update:users"}},
	{"DELETE", "/api/v2/users/auth0%7Cx/permissions", []string{"update:users"}},
	{"GET", "/api/v2/logs", []string{"read:logs", "read:logs_users"}},
	{"GET", "/api/v2/logs/900", []string{"read:logs", "read:logs_users"}},
	{"GET", "/api/v2/users/auth0%7Cx/logs", []string{"read:logs", "read:logs_users"}},
	{"GET", "/api/v2/user-blocks?identifier=x", []string{"read:users"}},
	{"DELETE", "/api/v2/user-blocks?identifier=x", []string{"update:users"}},
	{"GET", "/api/v2/user-blocks/auth0%7Cx", []string{"read:users"}},
	{"DELETE", "/api/v2/user-blocks/auth0%7Cx", []string{"update:users"}},
	{"GET", "/api/v2/users/auth0%7Cx/authentication-methods", []string{"read:authentication_methods"}},
	{"POST", "/api/v2/users/auth0%7Cx/authentication-methods", []string{"create:authentication_methods"}},
	{"PUT", "/api/v2/users/auth0%7Cx/authentication-methods", []string{"update:authentication_methods"}},
	{"DELETE", "/api/v2/users/auth0%7Cx/authentication-methods", []string{"delete:authentication_methods"}},
	{"GET", "/api/v2/users/auth0%7Cx/authentication-methods/totp%7Cdev_x", []string{"read:authentication_methods"}},
	{"PATCH", "/api/v2/users/auth0%7Cx/authentication-methods/totp%7Cdev_x", []string{"update:authentication_methods"}},
	{"DELETE", "/api/v2/users/auth0%7Cx/authentication-methods/totp%7Cdev_x", []string{"delete:authentication_methods"}},
	{"GET", "/api/v2/users/auth0%7Cx/enrollments", []string{"read:users", "read:current_user"}},
	{"POST", "/api/v2/users/auth0%7Cx/multifactor/actions/invalidate-remember-browser", []string{"update:users"}},
	{"POST", "/api/v2/users/auth0%7Cx/recovery-code-regeneration", []string{"update:users"}},
	{"GET", "/api/v2/users/auth0%7Cx/sessions", []string{"read:sessions"}},
	{"DELETE", "/api/v2/users/auth0%7Cx/sessions", []string{"delete:sessions"}},
	{"GET", "/api/v2/users/auth0%7Cx/refresh-tokens", []string{"read:refresh_tokens"}},
	{"DELETE", "/api/v2/users/auth0%7Cx/refresh-tokens", []string{"delete:refresh_tokens"}},
	{"GET", "/api/v2/sessions/sess_x", []string{"read:sessions"}},
	{"DELETE", "/api/v2/sessions/sess_x", []string{"delete:sessions"}},
	{"POST", "/api/v2/sessions/sess_x/revoke", []string{"delete:sessions", "delete:refresh_tokens"}},
	{"POST", "/api/v2/tickets/password-change", []string{"create:user_tickets"}},
	{"POST", "/api/v2/tickets/email-verification", []string{"create:user_tickets"}},
	{"POST", "/api/v2/jobs/verification-email", []string{"update:users"}},
	{"POST", "/api/v2/jobs/users-exports", []string{"read:users"}},
	{"GET", "/api/v2/jobs/job_x", []string{"create:users", "read:users"}},
	{"GET", "/api/v2/clients", []string{"read:clients", "read:client_keys"}},
	{"POST", "/api/v2/clients", []string{"create:clients"}},
	{"GET", "/api/v2/clients/x", []string{"read:clients", "read:client_keys"}},
	{"PATCH", "/api/v2/clients/x", []string{"update:clients", "update:client_keys"}},
	{"DELETE", "/api/v2/clients/x", []string{"delete:clients"}},
	{"GET", "/api/v2/roles/rol_x/permissions", []string{"read:roles"}},
	{"POST", "/api/v2/roles/rol_x/permissions", []string{"update:roles"}},
	{"DELETE", "/api/v2/roles/rol_x/permissions", []string{"update:roles"}},
	{"GET", "/api/v2/client-grants", []string{"read:client_grants"}},
	{"POST", "/api/v2/client-grants", []string{"create:client_grants"}},
	{"PATCH", "/api/v2/client-grants/cgr_x", []string{"update:client_grants"}},
	{"DELETE", "/api/v2/client-grants/cgr_x", []string{"delete:client_grants"}},
	{"POST", "/api/v2/users/auth0%7Cx/identities", []string{"update:users", "update:current_user_identities"}},
	{"DELETE", "/api/v2/users/auth0%7Cx/identities/auth0/y", []string{"update:users", "update:current_user_identities"}},
	{"GET", "/api/v2/organizations", []string{"read:organizations"}},
	{"POST", "/api/v2/organizations", []string{"create:organizations"}},
	{"GET", "/api/v2/organizations/org_x", []string{"read:organizations"}},
	{"DELETE", "/api/v2/organizations/org_x", []string{"delete:organizations"}},
	{"GET", "/api/v2/organizations/org_x/members", []string{"read:organization_members"}},
	{"POST", "/api/v2/organizations/org_x/members", []string{"create:organization_members"}},
	{"DELETE", "/api/v2/organizations/org_x/members", []string{"delete:organization_members"}},
	{"GET", "/api/v2/users/auth0%7Cx/organizations", []string{"read:organizations"}},
}

// selfScopes are the *:current_user* scopes of the endpoints above: they let a user's own token act on
// that user only, so the service account (AllScopes) does not hold them.
var selfScopes = []string{"read:current_user", "update:current_user_identities"}

// TestServiceAccountScopes pins what the service account may do with organizations: it reads which
// organizations a user belongs to (read:organizations) and holds none of the administration scopes,
// which the Management API resource server still defines, so another client can be granted them.
func TestServiceAccountScopes(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Seed = false })
	id, secret := e.tn.ServiceAccount()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret},
		"audience": {e.tn.Audience()}}
	r := postToken(t, e.srv.URL, "application/x-www-form-urlencoded", form.Encode())
	expect(t, r, http.StatusOK, "")
	var tok struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
	}
	mustUnmarshal(t, r.body, &tok)
	granted := strings.Fields(tok.Scope)
	if !slices.Contains(granted, "read:organizations") {
		t.Errorf("service account token scope %q lacks read:organizations", tok.Scope)
	}
	for _, s := range serviceWithheldScopes {
		if slices.Contains(granted, s) {
			t.Errorf("service account token holds %s; organization administration must be withheld", s)
		}
	}
	expect(t, e.do("GET", "/api/v2/users/auth0%7Cnobody/organizations", tok.AccessToken, nil), http.StatusNotFound, "")
	expect(t, e.do("POST", "/api/v2/organizations", tok.AccessToken, map[string]any{"name": "nope"}), http.StatusForbidden,
		`{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: create:organizations","errorCode":"insufficient_scope"}`)
	// Another client can be granted the withheld scopes: the resource server defines them.
	admin := e.mintToken(AllScopes()...)
	e.newLimitedClient(t, admin, serviceWithheldScopes)
}

// allOfEndpoints are the supportEndpoints ("METHOD path") that need every listed scope (t.apiAllOf).
var allOfEndpoints = map[string]bool{
	"POST /api/v2/sessions/sess_x/revoke": true,
}

// TestSupportScopes proves every support endpoint's scope check: a token of a least-privilege client
// (created over HTTP) that holds every scope except the endpoint's gets 403 insufficient_scope naming
// them, while a token holding only the endpoint's first scope gets past the check. For an all-of
// endpoint, a token missing any one of its scopes gets the 403 and only a token holding all of them
// gets past.
func TestSupportScopes(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Seed = false })
	admin := e.mintToken(AllScopes()...)
	tokens := map[string]string{} // cache by scope set
	token := func(scopes []string) string {
		key := strings.Join(scopes, " ")
		if tok, ok := tokens[key]; ok {
			return tok
		}
		tok := e.newLimitedClient(t, admin, scopes)
		tokens[key] = tok
		return tok
	}
	listed := map[string]bool{}
	for _, ep := range supportEndpoints {
		listed[ep.method+" "+ep.path] = true
		allOf := allOfEndpoints[ep.method+" "+ep.path]
		t.Run(ep.method+" "+ep.path, func(t *testing.T) {
			for _, s := range ep.anyOf {
				if !slices.Contains(AllScopes(), s) && !slices.Contains(selfScopes, s) && !slices.Contains(serviceWithheldScopes, s) {
					t.Errorf("scope %s is not in AllScopes: the service account could not call this endpoint", s)
				}
			}
			want := "Insufficient scope, expected any of: " + strings.Join(ep.anyOf, ",")
			if allOf {
				want = "Insufficient scope, expected all of: " + strings.Join(ep.anyOf, ",")
			}
			forbidden := func(scopes []string) {
				t.Helper()
				r := e.do(ep.method, ep.path, token(scopes), "{}")
				expect(t, r, http.StatusForbidden, "")
				var body struct {
					Message, ErrorCode string
				}
				mustUnmarshal(t, r.body, &body)
				if body.Message != want || body.ErrorCode != "insufficient_scope" {
					t.Errorf("403 body %s; want message %q and errorCode insufficient_scope", r.body, want)
				}
			}
			forbidden(slices.DeleteFunc(AllScopes(), func(s string) bool { return slices.Contains(ep.anyOf, s) }))
			enough := ep.anyOf[:1]
			if allOf {
				// Every scope of the tenant but one of the required ones is still not enough.
				for _, missing := range ep.anyOf {
					forbidden(slices.DeleteFunc(AllScopes(), func(s string) bool { return s == missing }))
				}
				enough = ep.anyOf
			}
			r := e.do(ep.method, ep.path, token(enough), "{}")
			if r.status == http.StatusForbidden || r.status == http.StatusUnauthorized {
				t.Errorf("with %v: status %d (%s); the scope check should pass", enough, r.status, r.body)
			}
		})
	}
	for k := range allOfEndpoints {
		if !listed[k] {
			t.Errorf("allOfEndpoints names %q, which is not in supportEndpoints", k)
		}
	}
}

func TestClientsAndGrants(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Seed = false })
	admin := e.mintToken(AllScopes()...)
	r := e.do("POST", "/api/v2/clients", admin, map[string]any{"name": "Nightly sync", "app_type": "non_interactive"})
	expect(t, r, http.StatusCreated, "")
	var c map[string]any
	mustUnmarshal(t, r.body, &c)
	id, _ := c["client_id"].(string)

	noKeys := e.mintToken("read:clients")
	r = e.do("GET", "/api/v2/clients/"+id, noKeys, nil)
	expect(t, r, http.StatusOK, "")
	if strings.Contains(string(r.body), `"client_secret"`) {
		t.Errorf("client_secret shown to a caller without read:client_keys: %s", r.body)
	}
	r = e.do("GET", "/api/v2/clients/"+id, e.mintToken("read:client_keys"), nil)
	if !strings.Contains(string(r.body), `"client_secret":"`+c["client_secret"].(string)+`"`) {
		t.Errorf("read:client_keys must reveal the secret: %s", r.body)
	}
	r = e.do("GET", "/api/v2/clients?include_totals=true&app_type=non_interactive", noKeys, nil)
	var list struct {
		Clients []map[string]any `json:"clients"`
		Total   int              `json:"total"`
	}
	mustUnmarshal(t, r.body, &list)
	if list.Total != 2 || strings.Contains(string(r.body), `"client_secret"`) {
		t.Errorf("list of non_interactive clients = %s; want the service account and the new client, no secrets", r.body)
	}
	r = e.do("PATCH", "/api/v2/clients/"+id, e.mintToken("update:clients"), map[string]any{"client_secret": strings.Repeat("s", 40)})
	expect(t, r, http.StatusForbidden, "")

	grant := map[string]any{"client_id": id, "audience": e.tn.Audience(), "scope": []string{"read:users"}}
	r = e.do("POST", "/api/v2/client-grants", admin, grant)
	expect(t, r, http.StatusCreated, "")
	var g map[string]any
	mustUnmarshal(t, r.body, &g)
	expect(t, e.do("POST", "/api/v2/client-grants", admin, grant), http.StatusConflict, "")
	bad := map[string]any{"client_id": id, "audience": e.tn.Audience(), "scope": []string{"fly:planes"}}
	r = e.do("POST", "/api/v2/client-grants", admin, bad)
	expect(t, r, http.StatusBadRequest, `{"statusCode":400,"error":"Bad Request","message":"Payload validation error: scope must be a subset of resource server scopes","errorCode":"invalid_body"}`)
	r = e.do("POST", "/api/v2/client-grants", admin, map[string]any{"client_id": "nope", "audience": e.tn.Audience(), "scope": []string{}})
	expect(t, r, http.StatusNotFound, "")
	r = e.do("PATCH", "/api/v2/client-grants/"+g["id"].(string), admin, map[string]any{"scope": []string{"read:users", "read:logs"}})
	expect(t, r, http.StatusOK, "")
	r = e.do("GET", "/api/v2/client-grants?client_id="+id, admin, nil)
	var grants []map[string]any
	mustUnmarshal(t, r.body, &grants)
	if len(grants) != 1 || !jsonEqual(grants[0]["scope"], []any{"read:users", "read:logs"}) {
		t.Errorf("grants of the client = %s", r.body)
	}
	expect(t, e.do("DELETE", "/api/v2/client-grants/"+g["id"].(string), admin, nil), http.StatusNoContent, "")
	expect(t, e.do("DELETE", "/api/v2/client-grants/"+g["id"].(string), admin, nil), http.StatusNotFound, "")

	// Without its grant the client can no longer get a Management API token.
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {c["client_secret"].(string)},
		"audience": {e.tn.Audience()}}
	expect(t, postToken(t, e.srv.URL, "application/x-www-form-urlencoded", form.Encode()), http.StatusForbidden, "")
	expect(t, e.do("DELETE", "/api/v2/clients/"+id, admin, nil), http.StatusNoContent, "")
	expect(t, e.do("GET", "/api/v2/clients/"+id, admin, nil), http.StatusNotFound, "")
}
