package tenant

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// recoveryCodeForm is the recorded form of a recovery code: 24 characters of A–Z and 0–9.
var recoveryCodeForm = regexp.MustCompile(`^[A-Z0-9]{24}$`)

// regenerate calls POST …/recovery-code-regeneration with body and returns the new code, checking
// the 200 answer is exactly {"recovery_code":"<24 characters>"}.
func (e *env) regenerate(t *testing.T, token, uid string, body any) string {
	t.Helper()
	r := e.do("POST", "/api/v2/users/"+url.PathEscape(uid)+"/recovery-code-regeneration", token, body)
	expect(t, r, http.StatusOK, "")
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	var got map[string]any
	mustUnmarshal(t, r.body, &got)
	code, _ := got["recovery_code"].(string)
	if len(got) != 1 || !recoveryCodeForm.MatchString(code) {
		t.Fatalf("answer %s; want exactly {\"recovery_code\":\"<24 characters A-Z0-9>\"}", r.body)
	}
	return code
}

// recoveryCodeMethods returns the user's recovery-code entries of GET …/authentication-methods.
func (e *env) recoveryCodeMethods(t *testing.T, token, uid string) []map[string]any {
	t.Helper()
	r := e.do("GET", "/api/v2/users/"+url.PathEscape(uid)+"/authentication-methods", token, nil)
	expect(t, r, http.StatusOK, "")
	var all, out []map[string]any
	mustUnmarshal(t, r.body, &all)
	for _, m := range all {
		if m["type"] == store.RecoveryCodeType {
			out = append(out, m)
		}
	}
	return out
}

// TestRegenerateRecoveryCode: each call answers a new code and replaces the previous one, of which
// nothing is left (only the new code's hash is stored, the code itself nowhere in the database or
// the log); the code is listed as one recovery-code authentication method, which deleting it by id
// or the MFA reset removes; other users keep theirs; unknown users get 404.
func TestRegenerateRecoveryCode(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Seed = false })
	admin := e.mintToken("update:users", "read:users", "read:authentication_methods", "update:authentication_methods",
		"delete:authentication_methods")
	u := e.createUser(t, "rc1", "rc1@example.com")
	other := e.createUser(t, "rc2", "rc2@example.com")
	at := e.clock.Now().UTC().Truncate(time.Millisecond)
	if err := e.st.CreateAuthMethod(t.Context(), store.AuthMethod{ID: "totp|dev_1", UserID: u.ID, Type: "totp",
		TOTPSecret: "SECRETSECRETSECRET", Confirmed: true, CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	otherCode := e.regenerate(t, admin, other.ID, nil)
	otherBefore := e.recoveryCodeMethods(t, admin, other.ID)

	// go-auth0 sends {} (recorded); no body at all is accepted too. Each call gives a new code.
	first := e.regenerate(t, admin, u.ID, "{}\n")
	e.clock.Advance(time.Minute)
	second := e.regenerate(t, admin, u.ID, nil)
	if first == second || first == otherCode || second == otherCode {
		t.Errorf("codes %q, %q (other user %q); want a new code on every call", first, second, otherCode)
	}

	// Only the second code's hash is stored; the first code no longer matches anything.
	ms, err := e.st.AuthMethods(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var stored []store.AuthMethod
	for _, m := range ms {
		if m.Type == store.RecoveryCodeType {
			stored = append(stored, m)
		}
	}
	if len(stored) != 1 || stored[0].SecretHash != hashRecoveryCode(second) {
		t.Fatalf("stored recovery-code methods %+v; want one holding the hash of the second code", stored)
	}
	if stored[0].SecretHash == hashRecoveryCode(first) {
		t.Errorf("the replaced code still matches the stored hash")
	}
	for _, suffix := range []string{"", "-wal"} {
		db, err := os.ReadFile(e.path + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, code := range []string{first, second, otherCode} {
			if bytes.Contains(db, []byte(code)) {
				t.Errorf("the recovery code %s is in the database file tenant.db%s", code, suffix)
			}
		}
	}

	// Listed once, in Auth0's shape for a recovery code: id, type, confirmed, created_at (the time of
	// the second regeneration); no name, no secret.
	listed := e.recoveryCodeMethods(t, admin, u.ID)
	if len(listed) != 1 {
		t.Fatalf("recovery-code entries %v; want exactly one after two regenerations", listed)
	}
	rc := listed[0]
	keys := make([]string, 0, len(rc))
	for k := range rc {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	id, _ := rc["id"].(string)
	if !slices.Equal(keys, []string{"confirmed", "created_at", "id", "type"}) || rc["confirmed"] != true ||
		rc["created_at"] != auth0Time(at.Add(time.Minute)) || !strings.HasPrefix(id, "recovery-code|dev_") || id != stored[0].ID {
		t.Errorf("recovery-code entry %v", rc)
	}
	methodPath := "/api/v2/users/" + url.PathEscape(u.ID) + "/authentication-methods/" + url.PathEscape(id)
	r := e.do("GET", methodPath, admin, nil)
	expect(t, r, http.StatusOK, `{"id":"`+id+`","type":"recovery-code","confirmed":true,"created_at":"`+auth0Time(at.Add(time.Minute))+`"}`)
	// Not a Guardian enrollment: only the TOTP factor is one.
	r = e.do("GET", "/api/v2/users/"+url.PathEscape(u.ID)+"/enrollments", admin, nil)
	var enr []map[string]any
	mustUnmarshal(t, r.body, &enr)
	if len(enr) != 1 || enr[0]["type"] != "authenticator" {
		t.Errorf("enrollments %s; want only the TOTP factor", r.body)
	}
	expect(t, e.do("PATCH", methodPath, admin, map[string]any{"name": "Backup"}), http.StatusBadRequest, "")

	// The sapi events name the operation and never carry a code.
	evs := e.logsOf(t, `type:sapi AND description:"Generate New Multi-factor Authentication Recovery Code"`)
	if len(evs) != 3 {
		t.Errorf("%d sapi events for the regenerations, want 3", len(evs))
	}
	r = e.do("GET", "/api/v2/logs?per_page=100", e.mintToken("read:logs"), nil)
	for _, code := range []string{first, second, otherCode} {
		if bytes.Contains(r.body, []byte(code)) {
			t.Errorf("the recovery code %s is in the tenant log", code)
		}
	}

	// Deleting the single method by id removes the code.
	expect(t, e.do("DELETE", methodPath, admin, nil), http.StatusNoContent, "")
	if got := e.recoveryCodeMethods(t, admin, u.ID); len(got) != 0 {
		t.Errorf("after deleting it: %v", got)
	}
	// The MFA reset removes a new code with the TOTP factor.
	e.regenerate(t, admin, u.ID, nil)
	expect(t, e.do("DELETE", "/api/v2/users/"+url.PathEscape(u.ID)+"/authentication-methods", admin, nil), http.StatusNoContent, "")
	expect(t, e.do("GET", "/api/v2/users/"+url.PathEscape(u.ID)+"/authentication-methods", admin, nil), http.StatusOK, "[]")
	if got := e.recoveryCodeMethods(t, admin, other.ID); !jsonEqual(got, otherBefore) || len(got) != 1 {
		t.Errorf("other user's recovery code %v, was %v; want it untouched", got, otherBefore)
	}

	// Errors.
	expect(t, e.do("POST", "/api/v2/users/auth0%7Cghost/recovery-code-regeneration", admin, nil), http.StatusNotFound,
		`{"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"}`)
	expect(t, e.do("POST", "/api/v2/users/"+url.PathEscape(u.ID)+"/recovery-code-regeneration", admin, map[string]any{"user_id": u.ID}),
		http.StatusBadRequest, "")
	r = e.do("POST", "/api/v2/users/"+url.PathEscape(u.ID)+"/recovery-code-regeneration",
		e.mintToken("read:users", "update:authentication_methods"), nil)
	expect(t, r, http.StatusForbidden, "")
	if !strings.Contains(string(r.body), "update:users") {
		t.Errorf("403 body %s; want it to name update:users", r.body)
	}
	if got := e.recoveryCodeMethods(t, admin, u.ID); len(got) != 0 {
		t.Errorf("failed calls created a code: %v", got)
	}
}

// TestSeededRecoveryCodes: the seeded users with a TOTP factor (the first six database users) each
// have one recovery code, listed after the TOTP factor; the others have none.
func TestSeededRecoveryCodes(t *testing.T) {
	e := newEnv(t)
	admin := e.mintToken(AllScopes()...)
	users, _, err := e.st.ListUsers(t.Context(), store.Query{Expr: store.Term{Field: "identities.connection", Value: DatabaseConnection},
		Limit: 8, NoTotal: true})
	if err != nil || len(users) != 8 {
		t.Fatalf("ListUsers: %d users, %v", len(users), err)
	}
	for i, u := range users {
		r := e.do("GET", "/api/v2/users/"+url.PathEscape(u.ID)+"/authentication-methods", admin, nil)
		expect(t, r, http.StatusOK, "")
		var ms []map[string]any
		mustUnmarshal(t, r.body, &ms)
		var types []string
		for _, m := range ms {
			types = append(types, m["type"].(string))
		}
		want := 0
		if i < 6 {
			want = 1
			if len(types) < 2 || types[0] != "totp" || types[1] != store.RecoveryCodeType {
				t.Errorf("seeded user %d methods %v; want the TOTP factor, then the recovery code", i, types)
			}
		}
		if n := len(e.recoveryCodeMethods(t, admin, u.ID)); n != want {
			t.Errorf("seeded user %d has %d recovery codes, want %d", i, n, want)
		}
	}
}
