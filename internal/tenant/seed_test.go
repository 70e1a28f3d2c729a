package tenant

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/userdesk/userdesk/internal/pwpolicy"
	"github.com/userdesk/userdesk/internal/tenant/store"
	"github.com/userdesk/userdesk/internal/tenant/store/sqlite"
)

func TestSeededData(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	users, total, err := e.st.ListUsers(ctx, store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if total != demoDatabaseUsers+demoGoogleUsers+1 {
		t.Fatalf("total %d", total)
	}
	var blocked, unverified, google, withUserMD, withAppMD, neverLoggedIn int
	oldest, now := time.Now(), e.clock.Now()
	domains := map[string]bool{}
	for _, u := range users {
		if u.Connection == StaffConnection {
			continue
		}
		if u.Blocked != nil && *u.Blocked {
			blocked++
		}
		if !u.EmailVerified {
			unverified++
		}
		if u.Connection == GoogleConnection {
			google++
			if !u.IsSocial || u.Provider != "google-oauth2" || u.PasswordHash != "" || !strings.HasPrefix(u.ID, "google-oauth2|1") {
				t.Errorf("google user %+v", u)
			}
		} else if u.PasswordHash == "" || u.Username == "" || len(u.Username) > 15 {
			t.Errorf("database user %s: hash/username %q", u.ID, u.Username)
		}
		if u.UserMetadata != nil {
			withUserMD++
		}
		if u.AppMetadata != nil {
			withAppMD++
		}
		if u.LastLogin == nil {
			neverLoggedIn++
		} else if u.LastLogin.Before(u.CreatedAt) || u.LastLogin.After(now) {
			t.Errorf("%s: last_login %v outside [%v, %v]", u.ID, u.LastLogin, u.CreatedAt, now)
		}
		if u.CreatedAt.Before(oldest) {
			oldest = u.CreatedAt
		}
		domains[u.Email[strings.Index(u.Email, "@")+1:]] = true
	}
	if google != demoGoogleUsers || blocked == 0 || unverified == 0 || neverLoggedIn == 0 || withUserMD < 150 || withAppMD < 200 || len(domains) < 5 {
		t.Errorf("google=%d blocked=%d unverified=%d never=%d userMD=%d appMD=%d domains=%d",
			google, blocked, unverified, neverLoggedIn, withUserMD, withAppMD, len(domains))
	}
	if now.Sub(oldest) < 365*24*time.Hour {
		t.Errorf("created_at spread only back to %v", oldest)
	}

	// Connections: the staff connection is enabled for the staff app only.
	staffID, _ := e.tn.StaffApp()
	c, err := e.st.GetConnectionByName(ctx, StaffConnection)
	if err != nil || !reflect.DeepEqual(c.EnabledClients, []string{staffID}) {
		t.Errorf("staff connection %+v %v", c, err)
	}
	upa, err := e.st.GetConnectionByName(ctx, DatabaseConnection)
	if err != nil || policyOf(upa) != (pwpolicy.Policy{Level: "good", MinLength: 8}) {
		t.Errorf("U-P-A %+v %v", upa, err)
	}
	// Service account grant.
	svc, _ := e.tn.ServiceAccount()
	g, err := e.st.GetClientGrant(ctx, svc, e.tn.Audience())
	if err != nil || !reflect.DeepEqual(g.Scope, allScopes) {
		t.Errorf("grant %+v %v", g, err)
	}
	cl, err := e.st.GetClient(ctx, svc)
	if err != nil || cl.Name != "Userdesk Service Account" || cl.AppType != "non_interactive" {
		t.Errorf("service client %+v %v", cl, err)
	}

	// Deterministic: the same population every time.
	a, b := demoUsers(now, "h"), demoUsers(now, "h")
	if !reflect.DeepEqual(a, b) {
		t.Error("demo users differ between runs")
	}
}

func TestRestartKeepsDataAndAppliesConfig(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.DemoPassword = "" })
	_, generated := e.tn.DemoStaff()
	if len(generated) < 16 {
		t.Fatalf("generated password %q", generated)
	}
	tok := e.admin()
	r := e.do("POST", "/api/v2/users", tok, `{"connection":"Username-Password-Authentication","email":"kept@example.com","password":"Kept-Passw0rd"}`)
	expect(t, r, 201, "")
	e.srv.Close()
	e.st.Close()

	// Second start without a password: the stored one is reused; the data is kept, not re-seeded.
	e2 := newEnvAt(t, e.path, func(c *Config) { c.DemoPassword = "" })
	if _, pw := e2.tn.DemoStaff(); pw != generated {
		t.Errorf("password changed across restart: %q vs %q", pw, generated)
	}
	_, total, err := e2.st.ListUsers(t.Context(), store.Query{})
	if err != nil || total != demoDatabaseUsers+demoGoogleUsers+2 {
		t.Errorf("total %d after restart, %v", total, err)
	}
	e2.srv.Close()
	e2.st.Close()

	// Third start with a configured password: it becomes the staff user's password.
	e3 := newEnvAt(t, e.path, func(c *Config) { c.DemoPassword = "New-Staff-Pass-9"; c.DemoEmail = "Admin@Example.com" })
	users, err := e3.st.UsersByEmail(t.Context(), "admin@example.com")
	if err != nil || len(users) != 1 {
		t.Fatal(users, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(users[0].PasswordHash), []byte("New-Staff-Pass-9")) != nil {
		t.Error("DemoPassword not applied")
	}
	if email, pw := e3.tn.DemoStaff(); email != "admin@example.com" || pw != "New-Staff-Pass-9" {
		t.Errorf("DemoStaff %q %q", email, pw)
	}
}

func TestOpenWithoutSeed(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Seed = false; c.DemoEmail = "boss@corp.example" })
	_, total, err := e.st.ListUsers(t.Context(), store.Query{})
	if err != nil || total != 1 {
		t.Fatalf("total %d, %v", total, err)
	}
	conns, err := e.st.ListConnections(t.Context())
	if err != nil || len(conns) != 1 || conns[0].Name != StaffConnection {
		t.Errorf("connections %v %v", conns, err)
	}
	staff, err := e.st.UsersByEmail(t.Context(), "boss@corp.example")
	if err != nil || len(staff) != 1 || string(staff[0].AppMetadata) != `{"roles":["admin"]}` {
		t.Errorf("staff %v %v", staff, err)
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for name, cfg := range map[string]Config{
		"no store":         {BaseURL: "http://127.0.0.1:1"},
		"relative baseurl": {BaseURL: "127.0.0.1:1", Store: st},
		"bad callback":     {BaseURL: "http://127.0.0.1:1", Store: st, BcryptCost: 4, StaffCallbackURLs: []string{"javascript:alert(1)"}},
		"half credentials": {BaseURL: "http://127.0.0.1:1", Store: st, BcryptCost: 4, ServiceClientID: "only-id"},
	} {
		if _, err := Open(t.Context(), cfg); err == nil {
			t.Errorf("%s: Open succeeded", name)
		}
	}
}
