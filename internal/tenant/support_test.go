package tenant

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// logsOf returns the log events matching q (newest first).
func (e *env) logsOf(t *testing.T, q string) []map[string]any {
	t.Helper()
	r := e.do("GET", "/api/v2/logs?per_page=100&q="+url.QueryEscape(q), e.mintToken("read:logs"), nil)
	expect(t, r, http.StatusOK, "")
	var out []map[string]any
	mustUnmarshal(t, r.body, &out)
	return out
}

// mustSignIn signs in on the staff app's sign-in page and expects the redirect with a code.
func (e *env) mustSignIn(t *testing.T, email, password string) {
	t.Helper()
	staffID, _ := e.tn.StaffApp()
	txn := newTxn(staffID)
	codeFrom(t, e.signIn(t, txn, email, password), txn)
}

// createUser puts a database user into the store.
func (e *env) createUser(t *testing.T, id, email string) store.User {
	t.Helper()
	now := e.clock.Now().UTC().Truncate(time.Millisecond)
	u := store.User{ID: "auth0|" + id, Connection: DatabaseConnection, Provider: "auth0", Email: email,
		Name: email, Picture: "https://example.com/p.png", CreatedAt: now, UpdatedAt: now}
	if err := e.st.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestRolesAndPermissions(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Seed = false })
	admin := e.mintToken(AllScopes()...)
	r := e.do("POST", "/api/v2/roles", admin, map[string]any{"name": "Support Agent", "description": "Front line"})
	expect(t, r, http.StatusOK, "")
	var role map[string]any
	mustUnmarshal(t, r.body, &role)
	id := role["id"].(string)
	if !strings.HasPrefix(id, "rol_") || len(id) != 20 {
		t.Errorf("role id %q, want rol_ + 16 characters", id)
	}
	expect(t, e.do("POST", "/api/v2/roles", admin, map[string]any{"name": "Support Agent"}), http.StatusConflict, "")
	expect(t, e.do("POST", "/api/v2/roles", admin, map[string]any{"name": "Billing"}), http.StatusOK, "")

	r = e.do("GET", "/api/v2/roles?name_filter=support&include_totals=true&per_page=1", admin, nil)
	expect(t, r, http.StatusOK, `{"roles":[{"id":"`+id+`","name":"Support Agent","description":"Front line"}],"start":0,"limit":1,"total":1}`)
	r = e.do("GET", "/api/v2/roles?page=1&per_page=1", admin, nil)
	expect(t, r, http.StatusOK, "")
	if !strings.Contains(string(r.body), `"name":"Support Agent"`) || !strings.HasPrefix(string(r.body), "[") {
		t.Errorf("page 1 of 1 (by name) = %s, want a bare array with Support Agent", r.body)
	}
	r = e.do("PATCH", "/api/v2/roles/"+id, admin, map[string]any{"description": "Second line"})
	expect(t, r, http.StatusOK, `{"id":"`+id+`","name":"Support Agent","description":"Second line"}`)

	users := []store.User{e.createUser(t, "c", "c@example.com"), e.createUser(t, "a", "a@example.com"), e.createUser(t, "b", "b@example.com")}
	expect(t, e.do("POST", "/api/v2/roles/"+id+"/users", admin, map[string]any{"users": []string{users[0].ID, users[1].ID, users[2].ID}}), http.StatusOK, "{}")
	expect(t, e.do("POST", "/api/v2/roles/"+id+"/users", admin, map[string]any{"users": []string{"auth0|ghost"}}), http.StatusNotFound, "")
	r = e.do("GET", "/api/v2/roles/"+id+"/users?take=2", admin, nil)
	var cp struct {
		Users []struct {
			UserID string `json:"user_id"`
		} `json:"users"`
		Next string `json:"next"`
	}
	mustUnmarshal(t, r.body, &cp)
	if len(cp.Users) != 2 || cp.Users[0].UserID != "auth0|a" || cp.Users[1].UserID != "auth0|b" || cp.Next == "" {
		t.Fatalf("first checkpoint page = %s", r.body)
	}
	r = e.do("GET", "/api/v2/roles/"+id+"/users?take=2&from="+cp.Next, admin, nil)
	expect(t, r, http.StatusOK, `{"users":[{"user_id":"auth0|c","email":"c@example.com","picture":"https://example.com/p.png","name":"c@example.com"}]}`)
	r = e.do("GET", "/api/v2/roles/"+id+"/users?include_totals=true&per_page=1&page=1", admin, nil)
	expect(t, r, http.StatusOK, `{"users":[{"user_id":"auth0|b","email":"b@example.com","picture":"https://example.com/p.png","name":"b@example.com"}],"start":1,"limit":1,"total":3}`)
	expect(t, e.do("GET", "/api/v2/roles/"+id+"/users?per_page=100&page=10", admin, nil), http.StatusBadRequest, "")

	uid := url.PathEscape(users[1].ID)
	r = e.do("GET", "/api/v2/users/"+uid+"/roles?include_totals=true", admin, nil)
	expect(t, r, http.StatusOK, `{"roles":[{"id":"`+id+`","name":"Support Agent","description":"Second line"}],"start":0,"limit":50,"total":1}`)
	expect(t, e.do("DELETE", "/api/v2/users/"+uid+"/roles", admin, map[string]any{"roles": []string{id}}), http.StatusNoContent, "")
	expect(t, e.do("GET", "/api/v2/users/"+uid+"/roles", admin, nil), http.StatusOK, "[]")
	expect(t, e.do("POST", "/api/v2/users/"+uid+"/roles", admin, map[string]any{"roles": []string{id}}), http.StatusNoContent, "")
	expect(t, e.do("POST", "/api/v2/users/"+uid+"/roles", admin, map[string]any{"roles": []string{"rol_missing"}}), http.StatusNotFound, "")
	expect(t, e.do("GET", "/api/v2/users/auth0%7Cghost/roles", admin, nil), http.StatusNotFound, "")

	// Permissions: direct ones plus those of the user's roles, with their sources.
	if err := e.st.PutResourceServer(t.Context(), store.ResourceServer{ID: "rs", Identifier: "https://api.example.com/", Name: "Example",
		Scopes: []store.ResourceServerScope{{Value: "read:orders", Description: "Read orders"}, {Value: "refund:orders", Description: "Refund"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.AddRolePermissions(t.Context(), id, []store.Permission{{ResourceServerIdentifier: "https://api.example.com/", PermissionName: "read:orders"}}); err != nil {
		t.Fatal(err)
	}
	perm := map[string]any{"permissions": []map[string]string{{"resource_server_identifier": "https://api.example.com/", "permission_name": "refund:orders"}}}
	expect(t, e.do("POST", "/api/v2/users/"+uid+"/permissions", admin, perm), http.StatusCreated, "{}")
	r = e.do("GET", "/api/v2/users/"+uid+"/permissions", admin, nil)
	expect(t, r, http.StatusOK, `[{"permission_name":"read:orders","description":"Read orders","resource_server_name":"Example","resource_server_identifier":"https://api.example.com/","sources":[{"source_id":"`+id+`","source_name":"Support Agent","source_type":"ROLE"}]},`+
		`{"permission_name":"refund:orders","description":"Refund","resource_server_name":"Example","resource_server_identifier":"https://api.example.com/","sources":[{"source_id":"","source_name":"","source_type":"DIRECT"}]}]`)
	expect(t, e.do("DELETE", "/api/v2/users/"+uid+"/permissions", admin, perm), http.StatusNoContent, "")
	bad := map[string]any{"permissions": []map[string]string{{"resource_server_identifier": "https://api.example.com/", "permission_name": "fly"}}}
	expect(t, e.do("POST", "/api/v2/users/"+uid+"/permissions", admin, bad), http.StatusBadRequest, "")

	// Role permissions: listed without sources, granted (201 {}) and removed (200 {}) over HTTP, and
	// what a role grants shows up in its members' permissions.
	rp := "/api/v2/roles/" + id + "/permissions"
	readOrders := `{"permission_name":"read:orders","description":"Read orders","resource_server_name":"Example","resource_server_identifier":"https://api.example.com/"}`
	refund := `{"permission_name":"refund:orders","description":"Refund","resource_server_name":"Example","resource_server_identifier":"https://api.example.com/"}`
	expect(t, e.do("GET", rp, admin, nil), http.StatusOK, `[`+readOrders+`]`)
	expect(t, e.do("POST", rp, admin, perm), http.StatusCreated, "{}")
	expect(t, e.do("GET", rp+"?include_totals=true&per_page=1&page=1", admin, nil), http.StatusOK, `{"permissions":[`+refund+`],"start":1,"limit":1,"total":2}`)
	r = e.do("GET", "/api/v2/users/"+uid+"/permissions", admin, nil)
	if !strings.Contains(string(r.body), `"permission_name":"refund:orders"`) {
		t.Errorf("a role member's permissions lack the role's new refund:orders: %s", r.body)
	}
	expect(t, e.do("DELETE", rp, admin, map[string]any{"permissions": []map[string]string{{"resource_server_identifier": "https://api.example.com/", "permission_name": "read:orders"}}}), http.StatusOK, "{}")
	expect(t, e.do("GET", rp, admin, nil), http.StatusOK, `[`+refund+`]`)
	expect(t, e.do("POST", rp, admin, bad), http.StatusBadRequest, "")
	expect(t, e.do("POST", rp, admin, map[string]any{"permissions": []map[string]string{{"resource_server_identifier": "https://nowhere/", "permission_name": "x"}}}), http.StatusNotFound, "")
	expect(t, e.do("POST", rp, admin, map[string]any{"permissions": []map[string]string{}}), http.StatusBadRequest, "")
	expect(t, e.do("GET", "/api/v2/roles/rol_missing/permissions", admin, nil), http.StatusNotFound, `{"statusCode":404,"error":"Not Found","message":"The role does not exist."}`)
	expect(t, e.do("POST", "/api/v2/roles/rol_missing/permissions", admin, perm), http.StatusNotFound, "")
	expect(t, e.do("DELETE", "/api/v2/roles/rol_missing/permissions", admin, perm), http.StatusNotFound, "")

	expect(t, e.do("DELETE", "/api/v2/roles/"+id, admin, nil), http.StatusOK, "{}")
	expect(t, e.do("GET", "/api/v2/roles/"+id, admin, nil), http.StatusNotFound, `{"statusCode":404,"error":"Not Found","message":"The role does not exist."}`)
	expect(t, e.do("GET", "/api/v2/users/"+uid+"/permissions", admin, nil), http.StatusOK, "[]")
}

func TestLogEventsWrittenByTheTenant(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Seed = false })
	staffID, _ := e.tn.StaffApp()
	email, _ := e.tn.DemoStaff()

	// Sign-ins on the tenant's page: s, fp, fu.
	e.mustSignIn(t, email, "Staff-Password-1")
	expect(t, e.signIn(t, newTxn(staffID), email, "wrong"), http.StatusUnauthorized, "")
	expect(t, e.signIn(t, newTxn(staffID), "nobody@example.com", "wrong"), http.StatusUnauthorized, "")
	staff, err := e.st.UsersByEmail(t.Context(), email)
	if err != nil || len(staff) != 1 {
		t.Fatal(err)
	}
	for typ, wantUser := range map[string]any{"s": staff[0].ID, "fp": staff[0].ID, "fu": nil} {
		evs := e.logsOf(t, "type:"+typ)
		if len(evs) != 1 {
			t.Fatalf("type %s: %d events, want 1", typ, len(evs))
		}
		ev := evs[0]
		if typ == "fu" {
			wantUser = nil
			if ev["user_name"] != "nobody@example.com" {
				t.Errorf("fu user_name = %v", ev["user_name"])
			}
		}
		if ev["user_id"] != wantUser || ev["client_id"] != staffID || ev["connection"] != StaffConnection || ev["ip"] != "127.0.0.1" {
			t.Errorf("%s event = %v", typ, ev)
		}
		if len(ev["log_id"].(string)) != 56 || ev["_id"] != ev["log_id"] {
			t.Errorf("%s event ids %v / %v, want equal 56-digit strings", typ, ev["_id"], ev["log_id"])
		}
	}

	// Token exchanges: seccft on success, feccft on failure; the count of tokens a client fetched.
	id, secret := e.tn.ServiceAccount()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "audience": {e.tn.Audience()}}
	for range 3 {
		expect(t, postToken(t, e.srv.URL, "application/x-www-form-urlencoded", form.Encode()), http.StatusOK, "")
	}
	form.Set("client_secret", "wrong")
	expect(t, postToken(t, e.srv.URL, "application/x-www-form-urlencoded", form.Encode()), http.StatusUnauthorized, "")
	if n := len(e.logsOf(t, `type:seccft AND client_id:"`+id+`"`)); n != 3 {
		t.Errorf("seccft events of the service account: %d, want 3", n)
	}
	failed := e.logsOf(t, "type:feccft")
	if len(failed) != 1 || failed[0]["description"] != "Unauthorized" || strings.Contains(fmt.Sprint(failed[0]), "wrong") {
		t.Errorf("feccft events = %v", failed)
	}
	ok := e.logsOf(t, "type:seccft")[0]
	if ok["audience"] != e.tn.Audience() || ok["client_name"] != serviceAccountName || !strings.Contains(ok["scope"].(string), "read:users") {
		t.Errorf("seccft event = %v", ok)
	}

	// Management API writes: sapi with the request, the caller and the first 64 characters of the
	// X-Correlation-ID; GETs and failed writes are not logged.
	admin := e.mintToken(AllScopes()...)
	corr := strings.Repeat("c", 64) + "-cut"
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v2/roles", strings.NewReader(`{"name":"Auditors"}`))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Correlation-ID", corr)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	expect(t, e.do("POST", "/api/v2/roles", admin, map[string]any{"name": "Auditors"}), http.StatusConflict, "")
	e.do("GET", "/api/v2/roles", admin, nil)
	r := e.do("POST", "/api/v2/users", admin, map[string]any{"connection": DatabaseConnection, "email": "x@example.com", "password": "Secret-Password-1"})
	if r.status != http.StatusCreated {
		t.Logf("POST /users %d %s (users are another part's; only the log is checked here)", r.status, r.body)
	}
	sapi := e.logsOf(t, "type:sapi")
	var roleEv map[string]any
	for _, ev := range sapi {
		d := ev["details"].(map[string]any)["request"].(map[string]any)
		if strings.Contains(fmt.Sprint(d), "*****") == false && d["path"] == "/api/v2/users" && r.status == http.StatusCreated {
			t.Errorf("the password of POST /users reached the log: %v", d)
		}
		if d["path"] == "/api/v2/roles" {
			if roleEv != nil {
				t.Errorf("more than one sapi event for POST /roles (the 409 must not be logged)")
			}
			roleEv = ev
		}
	}
	if roleEv == nil {
		t.Fatalf("no sapi event for POST /roles in %v", sapi)
	}
	if roleEv["description"] != "Create a role" || roleEv["client_id"] != "test" {
		t.Errorf("sapi event = %v", roleEv)
	}
	if refs, _ := roleEv["references"].(map[string]any); refs["correlation_id"] != corr[:64] {
		t.Errorf("references = %v, want the first 64 characters of the correlation id", roleEv["references"])
	}
	details := roleEv["details"].(map[string]any)
	if details["request"].(map[string]any)["method"] != "post" || details["response"].(map[string]any)["statusCode"] != float64(200) {
		t.Errorf("sapi details = %v", details)
	}

	// Reading: /logs/{id}, /users/{id}/logs, include_totals, checkpoint paging, bad queries.
	logID := roleEv["log_id"].(string)
	expect(t, e.do("GET", "/api/v2/logs/"+logID, admin, nil), http.StatusOK, "")
	expect(t, e.do("GET", "/api/v2/logs/900"+strings.Repeat("0", 53), admin, nil), http.StatusNotFound, "")
	r = e.do("GET", "/api/v2/users/"+url.PathEscape(staff[0].ID)+"/logs", e.mintToken("read:logs_users"), nil)
	var mine []map[string]any
	mustUnmarshal(t, r.body, &mine)
	if len(mine) != 2 || mine[0]["type"] != "fp" || mine[1]["type"] != "s" {
		t.Errorf("the staff member's log = %s; want fp then s (newest first)", r.body)
	}
	r = e.do("GET", "/api/v2/logs?include_totals=true&per_page=2&q=type:s*", admin, nil)
	var env struct {
		Length, Limit, Start, Total int
		Logs                        []map[string]any
	}
	mustUnmarshal(t, r.body, &env)
	if env.Length != 2 || env.Limit != 2 || env.Start != 0 || env.Total < 5 {
		t.Errorf("totals envelope = %s", r.body)
	}
	all := e.logsOf(t, "")
	oldest := all[len(all)-1]["log_id"].(string)
	r = e.do("GET", "/api/v2/logs?from="+oldest+"&take=2", admin, nil)
	var next []map[string]any
	mustUnmarshal(t, r.body, &next)
	if len(next) != 2 || next[0]["log_id"] != all[len(all)-2]["log_id"] || next[1]["log_id"] != all[len(all)-3]["log_id"] {
		t.Errorf("checkpoint page after the oldest event = %s", r.body)
	}
	if !strings.Contains(r.header.Get("Link"), `rel="next"`) {
		t.Errorf("checkpoint response without a Link next header")
	}
	expect(t, e.do("GET", "/api/v2/logs?q=password:x", admin, nil), http.StatusBadRequest, "")
	expect(t, e.do("GET", "/api/v2/logs?q=type:(s", admin, nil), http.StatusBadRequest, "")
	expect(t, e.do("GET", "/api/v2/logs?per_page=101", admin, nil), http.StatusBadRequest, "")
	expect(t, e.do("GET", "/api/v2/logs?page=10&per_page=100", admin, nil), http.StatusBadRequest, "")
}

func TestBruteForceBlockAndUnblock(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Seed = false })
	staffID, _ := e.tn.StaffApp()
	email, password := e.tn.DemoStaff()
	staff, _ := e.st.UsersByEmail(t.Context(), email)
	uid := url.PathEscape(staff[0].ID)
	admin := e.mintToken(AllScopes()...)

	for i := 1; i < bruteForceThreshold; i++ {
		expect(t, e.signIn(t, newTxn(staffID), email, "wrong"), http.StatusUnauthorized, "")
	}
	expect(t, e.do("GET", "/api/v2/user-blocks/"+uid, admin, nil), http.StatusOK, `{"blocked_for":[]}`)
	r := e.signIn(t, newTxn(staffID), email, "wrong")
	expect(t, r, http.StatusTooManyRequests, "")
	if !strings.Contains(string(r.body), "blocked after multiple consecutive login attempts") {
		t.Errorf("block page: %s", r.body)
	}
	// Blocked: the right password is refused too.
	expect(t, e.signIn(t, newTxn(staffID), email, password), http.StatusTooManyRequests, "")
	block := `{"blocked_for":[{"identifier":"` + email + `","ip":"127.0.0.1","connection":"` + StaffConnection + `"}]}`
	expect(t, e.do("GET", "/api/v2/user-blocks/"+uid, admin, nil), http.StatusOK, block)
	expect(t, e.do("GET", "/api/v2/user-blocks?identifier="+url.QueryEscape(strings.ToUpper(email)), admin, nil), http.StatusOK, block)
	if evs := e.logsOf(t, "type:limit_wc"); len(evs) != 1 || evs[0]["user_id"] != staff[0].ID {
		t.Errorf("limit_wc events = %v", evs)
	}
	expect(t, e.do("DELETE", "/api/v2/user-blocks/"+uid, admin, nil), http.StatusNoContent, "")
	expect(t, e.do("GET", "/api/v2/user-blocks/"+uid, admin, nil), http.StatusOK, `{"blocked_for":[]}`)
	e.mustSignIn(t, email, password)

	// The count restarted: nine more failures do not block; by identifier it can be lifted too.
	for i := 1; i <= bruteForceThreshold; i++ {
		e.signIn(t, newTxn(staffID), email, "wrong")
	}
	expect(t, e.do("DELETE", "/api/v2/user-blocks?identifier="+url.QueryEscape(email), admin, nil), http.StatusNoContent, "")
	e.mustSignIn(t, email, password)
	expect(t, e.do("GET", "/api/v2/user-blocks/auth0%7Cghost", admin, nil), http.StatusNotFound, "")
	expect(t, e.do("GET", "/api/v2/user-blocks", admin, nil), http.StatusBadRequest, "")
}

func TestPasswordTicketPage(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Seed = false })
	staffID, _ := e.tn.StaffApp()
	email, oldPassword := e.tn.DemoStaff()
	staff, _ := e.st.UsersByEmail(t.Context(), email)
	if _, err := e.st.UpdateUser(t.Context(), staff[0].ID, func(u store.User) (store.User, error) {
		u.EmailVerified = false
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	admin := e.mintToken("create:user_tickets")
	r := e.do("POST", "/api/v2/tickets/password-change", admin, map[string]any{"user_id": staff[0].ID,
		"result_url": "https://app.example/done", "mark_email_as_verified": true, "includeEmailInRedirect": true, "ttl_sec": 600})
	expect(t, r, http.StatusCreated, "")
	var tk struct{ Ticket string }
	mustUnmarshal(t, r.body, &tk)
	prefix := e.srv.URL + "/u/reset-password?ticket="
	if !strings.HasPrefix(tk.Ticket, prefix) || !strings.HasSuffix(tk.Ticket, "#") || len(tk.Ticket) != len(prefix)+33 {
		t.Fatalf("ticket %q, want %s<32 characters>#", tk.Ticket, prefix)
	}
	secret := strings.TrimSuffix(strings.TrimPrefix(tk.Ticket, prefix), "#")

	get := send(t, mustRequest(t, "GET", strings.TrimSuffix(tk.Ticket, "#")))
	expect(t, get, http.StatusOK, "")
	if !strings.Contains(string(get.body), `name="password_confirm"`) || !strings.Contains(string(get.body), email) {
		t.Fatalf("reset form: %s", get.body)
	}
	submit := func(pw, confirm string) response {
		form := url.Values{"ticket": {secret}, "password": {pw}, "password_confirm": {confirm}}
		req, _ := http.NewRequest("POST", e.srv.URL+"/u/reset-password", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		return send(t, req)
	}
	if r := submit("short", "short"); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "too weak") {
		t.Errorf("weak password: %d %s", r.status, r.body)
	}
	if r := submit("New-Password-42", "New-Password-43"); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "do not match") {
		t.Errorf("mismatch: %d %s", r.status, r.body)
	}
	r = submit("New-Password-42", "New-Password-42")
	expect(t, r, http.StatusFound, "")
	loc, _ := url.Parse(r.header.Get("Location"))
	if loc.Host != "app.example" || loc.Query().Get("success") != "true" || loc.Query().Get("email") != email {
		t.Errorf("redirect to %s", loc)
	}
	if r := submit("Other-Password-42", "Other-Password-42"); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "already been used") {
		t.Errorf("second use: %d %s", r.status, r.body)
	}
	u, _ := e.st.GetUser(t.Context(), staff[0].ID)
	if u.LastPasswordReset == nil || !u.EmailVerified {
		t.Errorf("after reset: last_password_reset %v, email_verified %v", u.LastPasswordReset, u.EmailVerified)
	}
	expect(t, e.signIn(t, newTxn(staffID), email, oldPassword), http.StatusUnauthorized, "")
	e.mustSignIn(t, email, "New-Password-42")
	if evs := e.logsOf(t, "type:scp"); len(evs) != 1 || evs[0]["user_id"] != staff[0].ID {
		t.Errorf("scp events = %v", evs)
	}

	// An expired ticket shows a message; without result_url the page confirms the change.
	r = e.do("POST", "/api/v2/tickets/password-change", admin, map[string]any{"user_id": staff[0].ID, "ttl_sec": 60})
	mustUnmarshal(t, r.body, &tk)
	e.clock.Advance(61 * time.Second)
	if r := send(t, mustRequest(t, "GET", tk.Ticket)); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "expired") {
		t.Errorf("expired ticket: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/api/v2/tickets/password-change", admin, map[string]any{"user_id": staff[0].ID})
	mustUnmarshal(t, r.body, &tk)
	secret = strings.TrimSuffix(strings.TrimPrefix(tk.Ticket, prefix), "#")
	e.clock.Advance(431999 * time.Second) // the default lifetime is 5 days
	admin = e.mintToken("create:user_tickets")
	if r := submit("Third-Password-42", "Third-Password-42"); r.status != http.StatusOK || !strings.Contains(string(r.body), "has been changed") {
		t.Errorf("reset without result_url: %d %s", r.status, r.body)
	}
	expect(t, e.do("POST", "/api/v2/tickets/password-change", admin, map[string]any{"user_id": "auth0|ghost"}), http.StatusNotFound, "")
	expect(t, e.do("POST", "/api/v2/tickets/password-change", admin, map[string]any{"user_id": staff[0].ID, "result_url": "javascript:alert(1)"}), http.StatusBadRequest, "")

	// Email verification tickets verify on visit, once.
	r = e.do("POST", "/api/v2/tickets/email-verification", admin, map[string]any{"user_id": staff[0].ID})
	expect(t, r, http.StatusCreated, "")
	mustUnmarshal(t, r.body, &tk)
	if r := send(t, mustRequest(t, "GET", tk.Ticket)); r.status != http.StatusOK || !strings.Contains(string(r.body), "verified") {
		t.Errorf("email verification: %d %s", r.status, r.body)
	}
	if r := send(t, mustRequest(t, "GET", tk.Ticket)); r.status != http.StatusBadRequest {
		t.Errorf("second visit: %d", r.status)
	}
}

func TestUsersExportJob(t *testing.T) {
	e := newEnv(t)
	admin := e.mintToken(AllScopes()...)
	const extra = 1200
	now := e.clock.Now().UTC().Truncate(time.Millisecond)
	var us []store.User
	for i := range extra {
		us = append(us, store.User{ID: fmt.Sprintf("auth0|export%05d", i), Connection: DatabaseConnection, Provider: "auth0",
			Email: fmt.Sprintf("export%05d@example.com", i), Name: fmt.Sprintf("Export, \"%d\"", i),
			AppMetadata: json.RawMessage(`{"plan":"gold"}`), CreatedAt: now, UpdatedAt: now})
	}
	if err := e.st.CreateUsers(t.Context(), us); err != nil {
		t.Fatal(err)
	}
	_, want, err := e.st.ListUsers(t.Context(), store.Query{Expr: store.Term{Field: "identities.connection", Value: DatabaseConnection}, Limit: 1})
	if err != nil || want <= maxPagedRecords {
		t.Fatalf("%d users in the connection, want more than %d", want, maxPagedRecords)
	}
	conn, _ := e.st.GetConnectionByName(t.Context(), DatabaseConnection)
	r := e.do("POST", "/api/v2/jobs/users-exports", admin, map[string]any{"connection_id": conn.ID, "format": "csv",
		"fields": []map[string]string{{"name": "user_id"}, {"name": "email"}, {"name": "name"}, {"name": "app_metadata.plan", "export_as": "plan"}, {"name": "identities[0].connection"}}})
	expect(t, r, http.StatusOK, "")
	var job map[string]any
	mustUnmarshal(t, r.body, &job)
	if job["status"] != "pending" || job["type"] != "users_export" || job["connection"] != DatabaseConnection || !strings.HasPrefix(job["id"].(string), "job_") {
		t.Errorf("job = %s", r.body)
	}
	e.tn.waitJobs()
	r = e.do("GET", "/api/v2/jobs/"+job["id"].(string), e.mintToken("read:users"), nil)
	mustUnmarshal(t, r.body, &job)
	loc, _ := job["location"].(string)
	if job["status"] != "completed" || !strings.HasPrefix(loc, e.srv.URL+"/exports/") || job["percentage_done"] != float64(100) {
		t.Fatalf("finished job = %s", r.body)
	}
	rows := csvRows(t, download(t, loc))
	if !slices.Equal(rows[0], []string{"user_id", "email", "name", "plan", "identities[0].connection"}) {
		t.Errorf("header %v", rows[0])
	}
	if len(rows)-1 != want {
		t.Errorf("%d users exported, want all %d of the connection", len(rows)-1, want)
	}
	// Every user of the connection exactly once, in user-id order, across the batches of 1,000.
	all, _, err := e.st.ListUsers(t.Context(), store.Query{Expr: store.Term{Field: "identities.connection", Value: DatabaseConnection}, NoTotal: true})
	if err != nil {
		t.Fatal(err)
	}
	var wantIDs, gotIDs []string
	for _, u := range all {
		wantIDs = append(wantIDs, u.ID)
	}
	for _, row := range rows[1:] {
		gotIDs = append(gotIDs, row[0])
	}
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("exported ids (%d) differ from the connection's users in id order (%d)", len(gotIDs), len(wantIDs))
	}
	found := false
	for _, row := range rows[1:] {
		if row[0] == "auth0|export00007" {
			found = true
			if !slices.Equal(row, []string{"auth0|export00007", "export00007@example.com", `Export, "7"`, "gold", DatabaseConnection}) {
				t.Errorf("row %v", row)
			}
		}
	}
	if !found {
		t.Errorf("auth0|export00007 missing from the export")
	}
	// The location is the credential: a wrong token is a 404.
	if res, err := http.Get(strings.Replace(loc, "/exports/"+job["id"].(string)+"/", "/exports/"+job["id"].(string)+"/x", 1)); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("wrong download token: %v %v", res, err)
	}

	// JSON: newline-delimited objects, limit honoured, whole metadata objects allowed.
	r = e.do("POST", "/api/v2/jobs/users-exports", admin, map[string]any{"format": "json", "limit": 5,
		"fields": []map[string]string{{"name": "user_id"}, {"name": "app_metadata"}}})
	mustUnmarshal(t, r.body, &job)
	e.tn.waitJobs()
	r = e.do("GET", "/api/v2/jobs/"+job["id"].(string), admin, nil)
	mustUnmarshal(t, r.body, &job)
	lines := strings.Split(strings.TrimSpace(string(download(t, job["location"].(string)))), "\n")
	if len(lines) != 5 {
		t.Errorf("%d lines, want 5", len(lines))
	}
	for _, l := range lines {
		var m map[string]any
		mustUnmarshal(t, []byte(l), &m)
		if m["user_id"] == nil {
			t.Errorf("line %s lacks user_id", l)
		}
	}
	// A limit past the first batch: exactly the first 1,100 users, in order.
	r = e.do("POST", "/api/v2/jobs/users-exports", admin, map[string]any{"connection_id": conn.ID, "format": "csv", "limit": 1100,
		"fields": []map[string]string{{"name": "user_id"}}})
	mustUnmarshal(t, r.body, &job)
	e.tn.waitJobs()
	r = e.do("GET", "/api/v2/jobs/"+job["id"].(string), admin, nil)
	mustUnmarshal(t, r.body, &job)
	rows = csvRows(t, download(t, job["location"].(string)))
	gotIDs = gotIDs[:0]
	for _, row := range rows[1:] {
		gotIDs = append(gotIDs, row[0])
	}
	if !slices.Equal(gotIDs, wantIDs[:1100]) {
		t.Errorf("limit 1100 exported %d ids; want the first 1100 in id order", len(gotIDs))
	}
	expect(t, e.do("POST", "/api/v2/jobs/users-exports", admin, map[string]any{"format": "csv", "fields": []map[string]string{{"name": "app_metadata"}}}), http.StatusBadRequest, "")
	expect(t, e.do("POST", "/api/v2/jobs/users-exports", admin, map[string]any{"format": "xml"}), http.StatusBadRequest, "")
	expect(t, e.do("GET", "/api/v2/jobs/job_missing", admin, nil), http.StatusNotFound, "")
}

func download(t *testing.T, loc string) []byte {
	t.Helper()
	res, err := http.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/gzip" {
		t.Fatalf("download: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func csvRows(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestVerificationEmailJob(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Seed = false })
	u := e.createUser(t, "v1", "v1@example.com")
	r := e.do("POST", "/api/v2/jobs/verification-email", e.mintToken("update:users"), map[string]any{"user_id": u.ID,
		"identity": map[string]string{"user_id": "v1", "provider": "auth0"}})
	expect(t, r, http.StatusCreated, "")
	var job map[string]any
	mustUnmarshal(t, r.body, &job)
	if job["type"] != "verification_email" || job["status"] != "pending" || len(job) != 4 {
		t.Errorf("job = %s", r.body)
	}
	e.tn.waitJobs()
	r = e.do("GET", "/api/v2/jobs/"+job["id"].(string), e.mintToken("read:users"), nil)
	mustUnmarshal(t, r.body, &job)
	if job["status"] != "failed" {
		t.Errorf("job after the run = %s; the tenant has no email transport", r.body)
	}
	if evs := e.logsOf(t, "type:fn"); len(evs) != 1 || evs[0]["description"] != "To: v1@example.com" {
		t.Errorf("fn events = %v", evs)
	}
	expect(t, e.do("POST", "/api/v2/jobs/verification-email", e.mintToken("update:users"), map[string]any{"user_id": "auth0|ghost"}), http.StatusBadRequest, "")
}

func TestSessionsRefreshTokensAndMFA(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Seed = false })
	staffID, _ := e.tn.StaffApp()
	email, password := e.tn.DemoStaff()
	staff, _ := e.st.UsersByEmail(t.Context(), email)
	uid := url.PathEscape(staff[0].ID)
	admin := e.mintToken(AllScopes()...)

	expect(t, e.do("GET", "/api/v2/users/"+uid+"/sessions", admin, nil), http.StatusOK, `{"sessions":[]}`)
	for range 3 {
		e.mustSignIn(t, email, password)
		e.clock.Advance(time.Minute)
	}
	r := e.do("GET", "/api/v2/users/"+uid+"/sessions?take=2", admin, nil)
	var page struct {
		Sessions []map[string]any `json:"sessions"`
		Next     string           `json:"next"`
	}
	mustUnmarshal(t, r.body, &page)
	if len(page.Sessions) != 2 || page.Next == "" {
		t.Fatalf("first page = %s", r.body)
	}
	s0 := page.Sessions[0]
	if s0["user_id"] != staff[0].ID || s0["device"].(map[string]any)["initial_ip"] != "127.0.0.1" ||
		!jsonEqual(s0["clients"], []any{map[string]any{"client_id": staffID}}) || s0["idle_expires_at"] != "2025-03-17T09:26:53.589Z" {
		t.Errorf("session = %v", s0)
	}
	r = e.do("GET", "/api/v2/users/"+uid+"/sessions?take=2&from="+page.Next, admin, nil)
	page.Next = ""
	mustUnmarshal(t, r.body, &page)
	if len(page.Sessions) != 1 || page.Next != "" {
		t.Errorf("second page = %s", r.body)
	}
	if err := e.st.CreateRefreshToken(t.Context(), store.RefreshToken{ID: "rt1", UserID: staff[0].ID, ClientID: staffID,
		SessionID: s0["id"].(string), CreatedAt: e.clock.Now(), ResourceServers: []store.RefreshTokenResource{{Audience: "https://api/", Scopes: "openid"}}}); err != nil {
		t.Fatal(err)
	}
	r = e.do("GET", "/api/v2/users/"+uid+"/refresh-tokens?include_totals=true", admin, nil)
	expect(t, r, http.StatusOK, `{"tokens":[{"id":"rt1","user_id":"`+staff[0].ID+`","created_at":"2025-03-14T09:29:53.589Z","idle_expires_at":null,"expires_at":null,"client_id":"`+staffID+`","session_id":"`+s0["id"].(string)+`","rotating":false,"resource_servers":[{"audience":"https://api/","scopes":"openid"}]}],"next":"rt1","total":1}`)
	expect(t, e.do("DELETE", "/api/v2/users/"+uid+"/sessions", admin, nil), http.StatusAccepted, "{}")
	expect(t, e.do("GET", "/api/v2/users/"+uid+"/sessions", admin, nil), http.StatusOK, `{"sessions":[]}`)
	expect(t, e.do("GET", "/api/v2/users/"+uid+"/refresh-tokens", admin, nil), http.StatusOK, `{"tokens":[]}`)
	expect(t, e.do("DELETE", "/api/v2/users/"+uid+"/refresh-tokens", admin, nil), http.StatusAccepted, "{}")
	expect(t, e.do("GET", "/api/v2/users/auth0%7Cghost/sessions", admin, nil), http.StatusNotFound, "")

	// MFA: methods listed masked, one deleted, then all; enrollments follow.
	at := e.clock.Now().UTC().Truncate(time.Millisecond)
	for _, m := range []store.AuthMethod{
		{ID: "totp|dev_1", UserID: staff[0].ID, Type: "totp", Name: "App", TOTPSecret: "SECRETSECRETSECRET", Confirmed: true, CreatedAt: at},
		{ID: "phone|dev_2", UserID: staff[0].ID, Type: "phone", PhoneNumber: "+15550100042", PreferredAuthenticationMethod: "sms", Confirmed: true, CreatedAt: at.Add(time.Second)},
	} {
		if err := e.st.CreateAuthMethod(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	r = e.do("GET", "/api/v2/users/"+uid+"/authentication-methods", admin, nil)
	expect(t, r, http.StatusOK, `[{"id":"totp|dev_1","type":"totp","confirmed":true,"name":"App","created_at":"2025-03-14T09:29:53.589Z"},`+
		`{"id":"phone|dev_2","type":"phone","confirmed":true,"phone_number":"XXXXXXXX0042","created_at":"2025-03-14T09:29:54.589Z","preferred_authentication_method":"sms","authentication_methods":[{"id":"sms|dev_2","type":"sms"}]}]`)
	if strings.Contains(string(r.body), "SECRET") {
		t.Errorf("the TOTP secret was returned")
	}
	r = e.do("GET", "/api/v2/users/"+uid+"/enrollments", admin, nil)
	var enr []map[string]any
	mustUnmarshal(t, r.body, &enr)
	if len(enr) != 2 || enr[0]["type"] != "authenticator" || enr[1]["phone_number"] != "XXXXXXXX0042" {
		t.Errorf("enrollments = %s", r.body)
	}
	expect(t, e.do("GET", "/api/v2/users/"+uid+"/authentication-methods/totp%7Cdev_1", admin, nil), http.StatusOK, "")
	expect(t, e.do("DELETE", "/api/v2/users/"+uid+"/authentication-methods/totp%7Cdev_1", admin, nil), http.StatusNoContent, "")
	expect(t, e.do("GET", "/api/v2/users/"+uid+"/authentication-methods/totp%7Cdev_1", admin, nil), http.StatusNotFound, "")
	expect(t, e.do("DELETE", "/api/v2/users/"+uid+"/authentication-methods", admin, nil), http.StatusNoContent, "")
	expect(t, e.do("GET", "/api/v2/users/"+uid+"/authentication-methods?include_totals=true", admin, nil), http.StatusOK, `{"authenticators":[],"start":0,"limit":50}`)
	expect(t, e.do("GET", "/api/v2/users/"+uid+"/enrollments", admin, nil), http.StatusOK, "[]")
	expect(t, e.do("POST", "/api/v2/users/"+uid+"/multifactor/actions/invalidate-remember-browser", admin, nil), http.StatusNoContent, "")
	expect(t, e.do("POST", "/api/v2/users/auth0%7Cghost/multifactor/actions/invalidate-remember-browser", admin, nil), http.StatusNotFound, "")
	expect(t, e.do("GET", "/api/v2/users/auth0%7Cghost/authentication-methods", admin, nil), http.StatusNotFound, "")
}

func TestSeededSupportData(t *testing.T) {
	e := newEnv(t)
	admin := e.mintToken(AllScopes()...)
	r := e.do("GET", "/api/v2/roles?include_totals=true", admin, nil)
	if !strings.Contains(string(r.body), `"total":3`) {
		t.Errorf("seeded roles = %s", r.body)
	}
	if evs := e.logsOf(t, "type:s"); len(evs) != 8 {
		t.Errorf("%d seeded sign-in events, want 8", len(evs))
	}
	users, _, _ := e.st.ListUsers(t.Context(), store.Query{Expr: store.Term{Field: "identities.connection", Value: DatabaseConnection}, Limit: 1})
	uid := url.PathEscape(users[0].ID)
	for _, p := range []string{"/authentication-methods", "/sessions", "/refresh-tokens", "/roles", "/permissions"} {
		r := e.do("GET", "/api/v2/users/"+uid+p, admin, nil)
		if r.status != http.StatusOK || len(r.body) < 20 {
			t.Errorf("seeded %s of the first user: %d %s", p, r.status, r.body)
		}
	}
}
