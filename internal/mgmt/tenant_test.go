package mgmt_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/tenant"
	"github.com/userdesk/userdesk/internal/tenant/store/sqlite"
)

// startTenant serves a seeded embedded tenant over real HTTP and returns a client for its service
// account. This is the contract test of style.md #12: the client and the tenant must agree on the
// wire, through the same code path production uses (token fetch included).
func startTenant(t *testing.T) (*mgmt.Client, *httptest.Server, *tenant.Tenant) {
	t.Helper()
	return startTenantBehind(t, nil)
}

// startTenantBehind is startTenant with a fault-injecting middleware (nil = none) between the client
// and the tenant, on the same real HTTP listener.
func startTenantBehind(t *testing.T, wrap func(http.Handler) http.Handler, opts ...mgmt.Option) (*mgmt.Client, *httptest.Server, *tenant.Tenant) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tenant.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := httptest.NewUnstartedServer(nil)
	tn, err := tenant.Open(ctx, tenant.Config{
		BaseURL: "http://" + srv.Listener.Addr().String(), Store: st, BcryptCost: 4, Seed: true,
		DemoPassword: "Staff-Password-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = tn.Handler()
	if wrap != nil {
		srv.Config.Handler = wrap(tn.Handler())
	}
	srv.Start()
	t.Cleanup(srv.Close)
	id, secret := tn.ServiceAccount()
	c, err := mgmt.New(srv.URL, id, secret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv, tn
}

func TestTenantContract(t *testing.T) {
	c, _, _ := startTenant(t)
	ctx := context.Background()

	// Connections.List: the seeded database connection, by name, by strategy, with Fields.
	all, err := c.Connections.List(ctx, mgmt.ListConnectionsParams{})
	if err != nil {
		t.Fatalf("Connections.List: %v", err)
	}
	if all.Limit != mgmt.DefaultPerPage || all.Total != len(all.Connections) || all.Total < 2 {
		t.Errorf("Connections.List envelope = start %d limit %d total %d (%d items)", all.Start, all.Limit, all.Total, len(all.Connections))
	}
	byName, err := c.Connections.List(ctx, mgmt.ListConnectionsParams{Name: tenant.DatabaseConnection})
	if err != nil {
		t.Fatal(err)
	}
	if byName.Total != 1 || len(byName.Connections) != 1 || byName.Connections[0].Name != tenant.DatabaseConnection ||
		byName.Connections[0].Strategy != "auth0" || !strings.HasPrefix(byName.Connections[0].ID, "con_") {
		t.Errorf("Connections.List(name) = %+v", byName)
	}
	social, err := c.Connections.List(ctx, mgmt.ListConnectionsParams{Strategy: []string{"google-oauth2"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, cn := range social.Connections {
		if cn.Strategy != "google-oauth2" {
			t.Errorf("strategy filter returned %s (%s)", cn.Name, cn.Strategy)
		}
	}
	if social.Total == 0 {
		t.Error("strategy filter found no google-oauth2 connection")
	}
	idsOnly, err := c.Connections.List(ctx, mgmt.ListConnectionsParams{Name: tenant.DatabaseConnection, Fields: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(idsOnly.Connections) != 1 || idsOnly.Connections[0].ID != byName.Connections[0].ID || idsOnly.Connections[0].Name != "" {
		t.Errorf("Connections.List(fields=id) = %+v", idsOnly.Connections)
	}

	// Users.Create: 201 with Auth0's defaults; a duplicate is a conflict; a weak password a 400.
	f := false
	created, err := c.Users.Create(ctx, &mgmt.UserCreate{
		Connection: tenant.DatabaseConnection, Email: "Contract.Test@Example.com", Password: "Contract-Passw0rd!",
		EmailVerified: &f, UserMetadata: map[string]any{"lang": "fr"}, AppMetadata: map[string]any{"plan": "free", "seats": 3.0},
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if !strings.HasPrefix(created.UserID, "auth0|") || created.Email != "contract.test@example.com" ||
		created.EmailVerified == nil || *created.EmailVerified || created.CreatedAt == nil ||
		len(created.Identities) != 1 || created.Identities[0].Connection != tenant.DatabaseConnection ||
		created.Identities[0].Provider != "auth0" || "auth0|"+created.Identities[0].UserID != created.UserID {
		t.Errorf("Create returned %+v", created)
	}
	_, err = c.Users.Create(ctx, &mgmt.UserCreate{Connection: tenant.DatabaseConnection, Email: "contract.test@example.com", Password: "Contract-Passw0rd!"})
	if !errors.Is(err, mgmt.ErrConflict) {
		t.Errorf("duplicate Create: err = %v, want ErrConflict", err)
	}
	_, err = c.Users.Create(ctx, &mgmt.UserCreate{Connection: tenant.DatabaseConnection, Email: "weak@example.com", Password: "abc"})
	if !errors.Is(err, mgmt.ErrBadRequest) {
		t.Errorf("weak-password Create: err = %v, want ErrBadRequest", err)
	}
	_, err = c.Users.Create(ctx, &mgmt.UserCreate{Connection: "No-Such-Connection", Email: "x@example.com", Password: "Contract-Passw0rd!"})
	if !errors.Is(err, mgmt.ErrBadRequest) {
		t.Errorf("unknown-connection Create: err = %v, want ErrBadRequest", err)
	}

	// Users.Get: the same user, found through its escaped "auth0|..." id.
	got, err := c.Users.Get(ctx, created.UserID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.UserID != created.UserID || got.Email != created.Email || got.UserMetadata["lang"] != "fr" || got.AppMetadata["plan"] != "free" {
		t.Errorf("Get = %+v", got)
	}

	// Users.Update: root attributes replaced, app_metadata merged on the top level, nil deletes.
	name, blocked := "Contract Tester", true
	upd, err := c.Users.Update(ctx, created.UserID, &mgmt.UserUpdate{
		Name: &name, Blocked: &blocked, AppMetadata: map[string]any{"plan": "gold", "seats": nil},
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if upd.Name != name || upd.Blocked == nil || !*upd.Blocked || upd.AppMetadata["plan"] != "gold" || upd.UserMetadata["lang"] != "fr" {
		t.Errorf("Update = %+v", upd)
	}
	if _, ok := upd.AppMetadata["seats"]; ok {
		t.Errorf("app_metadata.seats survived a null: %v", upd.AppMetadata)
	}

	// Users.List: the totals envelope, and a v3 search that finds the user.
	page, err := c.Users.List(ctx, mgmt.ListUsersParams{PerPage: 2})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if page.Limit != 2 || page.Start != 0 || page.Length != len(page.Users) || len(page.Users) > 2 || page.Total < 1 {
		t.Errorf("List envelope = start %d limit %d length %d total %d (%d users)", page.Start, page.Limit, page.Length, page.Total, len(page.Users))
	}
	found, err := c.Users.List(ctx, mgmt.ListUsersParams{Q: `email:"contract.test@example.com"`})
	if err != nil {
		t.Fatalf("List(q): %v", err)
	}
	if found.Total != 1 || len(found.Users) != 1 || found.Users[0].UserID != created.UserID {
		t.Errorf("List(q) = %+v", found)
	}

	// Users.ListByEmail: a bare array.
	byEmail, err := c.Users.ListByEmail(ctx, "contract.test@example.com")
	if err != nil {
		t.Fatalf("ListByEmail: %v", err)
	}
	if len(byEmail) != 1 || byEmail[0].UserID != created.UserID {
		t.Errorf("ListByEmail = %+v", byEmail)
	}

	// Users.Delete: 204, then 404 with Auth0's body, and deleting again is still fine.
	if err := c.Users.Delete(ctx, created.UserID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err = c.Users.Get(ctx, created.UserID)
	var apiErr *mgmt.Error
	if !errors.As(err, &apiErr) || !errors.Is(err, mgmt.ErrNotFound) || apiErr.ErrorCode != "inexistent_user" {
		t.Errorf("Get after Delete: err = %v, want 404 inexistent_user", err)
	}
	if err := c.Users.Delete(ctx, created.UserID); err != nil {
		t.Errorf("second Delete: %v", err)
	}

	// An id with "/" and "@" reaches the user route (Auth0's 404 body, not a router 404).
	_, err = c.Users.Get(ctx, "oauth2|a/b@c.example")
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.ErrorCode != "inexistent_user" {
		t.Errorf("Get(id with / and @): err = %v, want 404 inexistent_user", err)
	}
	_, err = c.Users.Update(ctx, "oauth2|a/b@c.example", &mgmt.UserUpdate{Name: &name})
	if !errors.Is(err, mgmt.ErrNotFound) {
		t.Errorf("Update(missing id with /): err = %v, want ErrNotFound", err)
	}
}

// TestTenantWrongSecret: the tenant's /oauth/token refuses a bad secret, and the client reports a
// *TokenError matching ErrUnauthorized without echoing the secret.
func TestTenantWrongSecret(t *testing.T) {
	_, srv, tn := startTenant(t)
	id, _ := tn.ServiceAccount()
	const bad = "definitely-not-the-secret-0123456789"
	c, err := mgmt.New(srv.URL, id, bad)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Users.List(context.Background(), mgmt.ListUsersParams{})
	var te *mgmt.TokenError
	if !errors.As(err, &te) || !errors.Is(err, mgmt.ErrUnauthorized) {
		t.Fatalf("err = %v, want *TokenError matching ErrUnauthorized", err)
	}
	if strings.Contains(err.Error(), bad) {
		t.Errorf("error echoes the secret: %v", err)
	}
}

// TestTenantCreateReconciliation: against the embedded tenant over real HTTP, a create whose answer
// is lost after the tenant committed it (the middleware lets the tenant create the user, then drops
// the connection) yields exactly one user and "created"; a create refused before it reached the
// tenant (a proxy's 502) yields no user and "not created".
func TestTenantCreateReconciliation(t *testing.T) {
	var mode atomic.Value // "drop-after-commit" or "502-before"
	var posts atomic.Int32
	wrap := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || r.URL.Path != "/api/v2/users" {
				next.ServeHTTP(w, r)
				return
			}
			posts.Add(1)
			switch mode.Load() {
			case "drop-after-commit":
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r)
				if rec.Code != http.StatusCreated {
					t.Errorf("tenant answered %d: %s", rec.Code, rec.Body)
				}
				conn, _, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				conn.Close()
			case "502-before":
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusBadGateway)
				w.Write([]byte("<html>bad gateway</html>"))
			}
		})
	}
	c, _, _ := startTenantBehind(t, wrap)
	ctx := context.Background()
	in := func(email string) *mgmt.UserCreate {
		return &mgmt.UserCreate{Connection: tenant.DatabaseConnection, Email: email, Password: "Contract-Passw0rd!"}
	}

	mode.Store("drop-after-commit")
	res, err := c.Users.CreateWithResult(mgmt.WithCorrelationID(ctx, "audit-1"), in("Lost.Answer@Example.com"))
	if err != nil || !res.Reconciled || res.User.Email != "lost.answer@example.com" || res.CorrelationID != "audit-1" {
		t.Fatalf("lost answer: %+v, %v; want created (reconciled)", res, err)
	}
	users, err := c.Users.ListByEmail(ctx, "lost.answer@example.com")
	if err != nil || len(users) != 1 || users[0].UserID != res.User.UserID {
		t.Errorf("users with the email: %+v, %v; want exactly the one created", users, err)
	}

	mode.Store("502-before")
	_, err = c.Users.Create(ctx, in("never.made@example.com"))
	var ce *mgmt.CreateError
	if !errors.As(err, &ce) || ce.Outcome != mgmt.CreateNotCreated || !errors.Is(err, mgmt.ErrNotCreated) {
		t.Fatalf("502 before commit: err = %v, want not created", err)
	}
	if users, err := c.Users.ListByEmail(ctx, "never.made@example.com"); err != nil || len(users) != 0 {
		t.Errorf("users with the email: %+v, %v; want none", users, err)
	}
	if n := posts.Load(); n != 2 {
		t.Errorf("POSTs = %d, want 2 (one per create, never resent)", n)
	}
}

// TestTenant429: the first API call gets a 429 from a proxy in front of the tenant with
// x-ratelimit-reset one to two seconds ahead (whole Unix seconds); the client waits until then in
// real time and the retry, served by the tenant, succeeds. With a deadline shorter than the wait it
// gives up at once with the typed error.
func TestTenant429(t *testing.T) {
	var limited atomic.Int32
	limited.Store(1)
	wrap := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/api/v2/") && limited.Add(-1) >= 0 {
				reset := time.Now().Add(time.Second).Truncate(time.Second).Add(time.Second)
				w.Header().Set("X-Ratelimit-Limit", "2")
				w.Header().Set("X-Ratelimit-Remaining", "0")
				w.Header().Set("X-Ratelimit-Reset", strconv.FormatInt(reset.Unix(), 10))
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.WriteHeader(http.StatusTooManyRequests)
				w.Write([]byte(`{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached","errorCode":"too_many_requests"}`))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	c, _, _ := startTenantBehind(t, wrap)
	ctx := context.Background()
	if !c.HasScope(ctx, "create:users") || !c.HasScope(ctx, "read:users") {
		scopes, err := c.Scopes(ctx)
		t.Errorf("tenant token scopes = %v, %v", scopes, err)
	}

	began := time.Now()
	list, err := c.Users.List(ctx, mgmt.ListUsersParams{PerPage: 1})
	waited := time.Since(began)
	if err != nil || len(list.Users) != 1 {
		t.Fatalf("List after a 429: %+v, %v", list, err)
	}
	if waited < time.Second || waited > 3*time.Second {
		t.Errorf("waited %s, want until the reset (1–2 s)", waited)
	}
	if rl := c.RateLimit(); rl.Observed.IsZero() || rl.Limit < 0 || rl.Reset.IsZero() || rl.Endpoint != "/api/v2/users" {
		t.Errorf("RateLimit() = %+v, want the last x-ratelimit-* headers seen", rl)
	}

	limited.Store(1)
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	began = time.Now()
	_, err = c.Users.List(short, mgmt.ListUsersParams{PerPage: 1})
	var ae *mgmt.Error
	if !errors.As(err, &ae) || !errors.Is(err, mgmt.ErrRateLimited) || ae.RetryAfter < time.Second {
		t.Errorf("err = %v, want *Error 429 with RetryAfter >= 1s", err)
	}
	if d := time.Since(began); d > 250*time.Millisecond {
		t.Errorf("gave up after %s, want at once", d)
	}
}
