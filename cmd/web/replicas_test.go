package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/db"
	"github.com/userdesk/userdesk/internal/db/dbtest"
	"github.com/userdesk/userdesk/internal/keylock"
)

// postgresSchemaURL creates a schema of its own in the USERDESK_TEST_POSTGRES database (dropped when
// the test ends) and returns a connection URL whose search_path is that schema. It skips the test when
// the variable is unset.
func postgresSchemaURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv(dbtest.EnvPostgres)
	if base == "" {
		t.Skip(dbtest.EnvPostgres + " is not set; skipping the two-replica run (scripts/ensure-postgres prints a URL)")
	}
	admin, err := db.OpenPostgres(context.Background(), base)
	if err != nil {
		t.Fatalf("%s: %v", dbtest.EnvPostgres, err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "replicas_" + hex.EncodeToString(b[:])
	if _, err := admin.W.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.W.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s is not a URL", dbtest.EnvPostgres)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestReplicasSharePostgres runs two Userdesk instances on one PostgreSQL schema and one tenant (A's
// embedded tenant; B points at it with AUTH0_DOMAIN like any real deployment). Both become ready at
// the same moment from cold, and the tenant is asked for a service-account token exactly once for
// the two; a staff member who signed in on A is signed in on B with the same cookie; B reads the
// audit entry A wrote; and the token row in the database does not contain the token.
func TestReplicasSharePostgres(t *testing.T) {
	dsn := postgresSchemaURL(t)
	key := make([]byte, 64)
	_, _ = rand.Read(key)
	shared := map[string]string{
		"USERDESK_ADDR": "127.0.0.1:0", "USERDESK_DATABASE_URL": dsn,
		"USERDESK_SESSION_KEYS": base64.StdEncoding.EncodeToString(key),
	}
	rec := &recorder{base: http.DefaultTransport, bearer: map[string]bool{}}

	envA := maps.Clone(shared)
	maps.Copy(envA, map[string]string{"USERDESK_TENANT_ADDR": "127.0.0.1:0", "USERDESK_DATA_DIR": t.TempDir(),
		"USERDESK_DEMO_PASSWORD": demoPassword})
	a := startAppEnv(t, envA, options{MgmtTransport: rec})

	svcID, svcSecret := a.tenant.ServiceAccount()
	staffID, staffSecret := a.tenant.StaffApp()
	envB := maps.Clone(shared)
	maps.Copy(envB, map[string]string{"USERDESK_DATA_DIR": t.TempDir(), "AUTH0_DOMAIN": a.TenantURL,
		"AUTH0_CLIENT_ID": svcID, "AUTH0_CLIENT_SECRET": svcSecret,
		"OIDC_ISSUER_URL": a.tenant.Issuer(), "OIDC_CLIENT_ID": staffID, "OIDC_CLIENT_SECRET": staffSecret})
	b := startAppEnv(t, envB, options{MgmtTransport: rec})

	// Both replicas need the token at once (readiness asks for it).
	var wg sync.WaitGroup
	for _, app := range []*App{a, b, a, b} {
		wg.Go(func() {
			if code, body := httpGet(t, app.URL+"/readyz"); code != 200 {
				t.Errorf("%s/readyz: %d %s", app.URL, code, body)
			}
		})
	}
	wg.Wait()
	if n := rec.count("POST /oauth/token"); n != 1 {
		t.Fatalf("two replicas fetched the token %d times, want once", n)
	}

	s := newSession(t, a)
	s.signIn(a.DemoEmail, demoPassword)
	noRedirect := *s.c
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest("GET", b.URL+"/users", nil)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("B with A's session cookie: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := rec.count("GET /api/v2/users"); n < 2 {
		t.Errorf("both replicas should have listed users, saw %d list calls", n)
	}
	if n := rec.count("POST /oauth/token"); n != 1 || len(rec.bearer) != 1 {
		t.Errorf("after both served pages: %d token fetches, %d distinct tokens; want 1 and 1", n, len(rec.bearer))
	}

	es, _, err := b.audit.Query(t.Context(), audit.Filter{Action: "session.login"})
	if err != nil || len(es) != 1 || es[0].ActorEmail != a.DemoEmail {
		t.Errorf("B does not see A's sign-in in the audit trail: %+v %v", es, err)
	}

	var sealed []byte
	if err := b.db.R.QueryRowContext(t.Context(), `SELECT sealed FROM mgmt_tokens WHERE sealed IS NOT NULL`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	for tok := range rec.bearer {
		if strings.Contains(string(sealed), tok) || len(sealed) < len(tok) {
			t.Error("the shared token is stored in clear")
		}
	}

	// The metadata lock is shared too: while B's side of the database holds a user's lock, a save
	// of that user's metadata on A waits, and goes through once it is released.
	cust := firstCustomer(t, a)
	esc := url.PathEscape(cust.UserID)
	_, editor := s.get("/users/" + esc + "/metadata")
	form := url.Values{"user_metadata": {`{"replica_probe": "yes"}`}, "app_metadata": {`{}`}, "reason": {"R-1"},
		"base": {hiddenValue(t, editor, "base")}, "confirm": {"1"}}
	unlock, err := (&keylock.Postgres{DB: b.db.W}).Lock(t.Context(), "metadata:"+cust.UserID)
	if err != nil {
		t.Fatal(err)
	}
	saved := make(chan string, 1)
	go func() {
		req, _ := http.NewRequest("POST", a.URL+"/users/"+esc+"/metadata", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := s.c.Do(req)
		if err != nil {
			saved <- err.Error()
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		saved <- string(body)
	}()
	select {
	case body := <-saved:
		t.Fatalf("A saved while B held the user's metadata lock:\n%s", body)
	case <-time.After(500 * time.Millisecond):
	}
	if n := rec.count("PATCH /api/v2/users/" + cust.UserID); n != 0 {
		t.Errorf("A sent %d PATCHes while the lock was held", n)
	}
	unlock()
	select {
	case body := <-saved:
		if !strings.Contains(body, "Metadata saved.") {
			t.Errorf("after the lock was released, the save did not go through:\n%s", body)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the save never went through after the lock was released")
	}
}
