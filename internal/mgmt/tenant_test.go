package mgmt_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/tenant"
	"github.com/userdesk/userdesk/internal/tenant/store"
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
	c, srv, tn, _ := openTenant(t, wrap, nil, opts...)
	return c, srv, tn
}

// openTenant is startTenantBehind that also lets the test change the tenant's configuration and
// returns the tenant's store (for bulk seeding).
func openTenant(t *testing.T, wrap func(http.Handler) http.Handler, mutate func(*tenant.Config), opts ...mgmt.Option) (*mgmt.Client, *httptest.Server, *tenant.Tenant, *sqlite.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tenant.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := httptest.NewUnstartedServer(nil)
	cfg := tenant.Config{
		BaseURL: "http://" + srv.Listener.Addr().String(), Store: st, BcryptCost: 4, Seed: true,
		DemoPassword: "Staff-Password-1",
	}
	if mutate != nil {
		mutate(&cfg)
	}
	tn, err := tenant.Open(ctx, cfg)
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
	return c, srv, tn, st
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

// staffCallback is the redirect_uri the tests' sign-in form posts carry.
const staffCallback = "http://127.0.0.1:9999/auth/callback"

// withStaffCallback registers staffCallback for the staff app, so tests can post its sign-in form.
func withStaffCallback(c *tenant.Config) { c.StaffCallbackURLs = []string{staffCallback} }

// postSignIn posts the tenant's sign-in form as a same-origin browser would and returns the status.
func postSignIn(t *testing.T, srv *httptest.Server, clientID, email, password string) int {
	t.Helper()
	v := oauth2.GenerateVerifier()
	form := url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {staffCallback},
		"scope": {"openid profile email"}, "state": {"st-" + v[:8]}, "nonce": {"n-" + v[8:16]},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(v)}, "code_challenge_method": {"S256"},
		"email": {email}, "password": {password},
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/authorize", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", srv.URL)
	res, err := noRedirect().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// noRedirect is a browser that shows redirects instead of following them.
func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// createDBUser creates a database user through the client.
func createDBUser(t *testing.T, c *mgmt.Client, email string) *mgmt.User {
	t.Helper()
	f := false
	u, err := c.Users.Create(context.Background(), &mgmt.UserCreate{Connection: tenant.DatabaseConnection, Email: email,
		Password: "Contract-Passw0rd!", EmailVerified: &f})
	if err != nil {
		t.Fatalf("Create %s: %v", email, err)
	}
	return u
}

// TestTenantRolesPermissionsLogs: the role picker, assigning and removing a user's roles, the
// permissions they give, and the tenant log's sapi event of the assignment carrying the
// correlation id the client sent.
func TestTenantRolesPermissionsLogs(t *testing.T) {
	c, _, _ := startTenant(t)
	ctx := context.Background()

	all, err := c.Roles.List(ctx, mgmt.RoleListParams{})
	if err != nil || all.Total != 3 || len(all.Roles) != 3 || all.Limit != mgmt.DefaultPerPage {
		t.Fatalf("Roles.List = %+v, %v; want the 3 seeded roles", all, err)
	}
	billing, err := c.Roles.List(ctx, mgmt.RoleListParams{NameFilter: "BILLING"})
	if err != nil || billing.Total != 1 || billing.Roles[0].Name != "Billing Admin" {
		t.Fatalf("Roles.List(name_filter) = %+v, %v", billing, err)
	}
	billingID := billing.Roles[0].ID
	if r, err := c.Roles.Get(ctx, billingID); err != nil || r.Name != "Billing Admin" || r.Description == "" {
		t.Errorf("Roles.Get = %+v, %v", r, err)
	}
	if _, err := c.Roles.Get(ctx, "rol_DoesNotExist00"); !errors.Is(err, mgmt.ErrNotFound) {
		t.Errorf("Roles.Get(missing): err = %v, want ErrNotFound", err)
	}
	var viewerID string
	for _, r := range all.Roles {
		if r.Name == "Read-only" {
			viewerID = r.ID
		}
	}

	u := createDBUser(t, c, "roles.test@example.com")
	const cid = "userdesk-test-assign-42"
	if err := c.Users.AssignRoles(mgmt.WithCorrelationID(ctx, cid), u.UserID, []string{billingID, viewerID}); err != nil {
		t.Fatalf("AssignRoles: %v", err)
	}
	roles, err := c.Users.Roles(ctx, u.UserID, mgmt.ListParams{})
	if err != nil || roles.Total != 2 || len(roles.Roles) != 2 {
		t.Fatalf("Users.Roles = %+v, %v; want 2", roles, err)
	}
	perms, err := c.Users.Permissions(ctx, u.UserID, mgmt.ListParams{})
	if err != nil {
		t.Fatalf("Permissions: %v", err)
	}
	var refund *mgmt.Permission
	for i, p := range perms.Permissions {
		if p.PermissionName == "refund:orders" {
			refund = &perms.Permissions[i]
		}
	}
	if refund == nil || refund.ResourceServerIdentifier != "https://api.example.com/" || len(refund.Sources) != 1 ||
		refund.Sources[0].SourceType != "ROLE" || refund.Sources[0].SourceName != "Billing Admin" || perms.Total != len(perms.Permissions) {
		t.Errorf("Permissions = %+v; want refund:orders from the Billing Admin role", perms)
	}

	if err := c.Users.RemoveRoles(ctx, u.UserID, []string{viewerID}); err != nil {
		t.Fatalf("RemoveRoles: %v", err)
	}
	if err := c.Users.RemoveRoles(ctx, u.UserID, []string{viewerID}); err != nil {
		t.Errorf("RemoveRoles again: %v", err)
	}
	roles, err = c.Users.Roles(ctx, u.UserID, mgmt.ListParams{})
	if err != nil || roles.Total != 1 || roles.Roles[0].ID != billingID {
		t.Errorf("Users.Roles after removal = %+v, %v", roles, err)
	}
	if err := c.Users.AssignRoles(ctx, u.UserID, []string{"rol_DoesNotExist00"}); !errors.Is(err, mgmt.ErrNotFound) {
		t.Errorf("AssignRoles(unknown role): err = %v, want ErrNotFound", err)
	}
	if err := c.Users.AssignRoles(ctx, "auth0|nobody", []string{billingID}); !errors.Is(err, mgmt.ErrNotFound) {
		t.Errorf("AssignRoles(unknown user): err = %v, want ErrNotFound", err)
	}

	// The assignment is in the tenant log as a sapi event with our correlation id.
	events, err := c.Logs.List(ctx, mgmt.LogListParams{Q: `type:"sapi"`, Sort: "date:-1", PerPage: 50})
	if err != nil {
		t.Fatalf("Logs.List: %v", err)
	}
	var assign *mgmt.LogEvent
	for i, e := range events {
		if e.Type != "sapi" {
			t.Errorf("q=type:sapi returned a %q event", e.Type)
		}
		if e.CorrelationID() == cid {
			assign = &events[i]
		}
	}
	if assign == nil || assign.Description != "Assign roles to a user" || assign.Date == nil || assign.LogID == "" {
		t.Fatalf("no sapi event with correlation id %q among %d: %+v", cid, len(events), assign)
	}
	one, err := c.Logs.Get(ctx, assign.LogID)
	if err != nil || one.LogID != assign.LogID || one.CorrelationID() != cid || !strings.Contains(string(one.Details), u.UserID) {
		t.Errorf("Logs.Get = %+v, %v", one, err)
	}
	if _, err := c.Logs.Get(ctx, "90020990101000000000000000000000000000000000000000000001"); !errors.Is(err, mgmt.ErrNotFound) {
		t.Errorf("Logs.Get(missing): err = %v, want ErrNotFound", err)
	}
	// Checkpoint paging walks forward from an event.
	after, err := c.Logs.List(ctx, mgmt.LogListParams{From: assign.LogID, Take: 100})
	if err != nil {
		t.Fatalf("Logs.List(from): %v", err)
	}
	// The later successful writes are the two removals (refused calls are not logged).
	if len(after) != 2 {
		t.Fatalf("checkpoint page after the assignment has %d events, want the 2 removals", len(after))
	}
	for _, e := range after {
		if e.LogID <= assign.LogID || e.Description != "Removes roles from a user" {
			t.Errorf("checkpoint page has %s %q, want a later removal", e.LogID, e.Description)
		}
	}
}

// TestTenantBruteForceBlocks: ten wrong passwords on the tenant's sign-in page block the account;
// UserBlocks shows the block by user and by identifier, Delete and DeleteByIdentifier lift it, and
// the user's log tells the story (fp, limit_wc).
func TestTenantBruteForceBlocks(t *testing.T) {
	c, srv, tn, _ := openTenant(t, nil, withStaffCallback)
	ctx := context.Background()
	staffApp, _ := tn.StaffApp()
	email, password := tn.DemoStaff()
	found, err := c.Users.ListByEmail(ctx, email)
	if err != nil || len(found) != 1 {
		t.Fatalf("staff user: %+v, %v", found, err)
	}
	uid := found[0].UserID

	block := func() {
		t.Helper()
		for i := 1; i <= 10; i++ {
			if got := postSignIn(t, srv, staffApp, email, "wrong-password"); (i < 10 && got != http.StatusUnauthorized) || (i == 10 && got != http.StatusTooManyRequests) {
				t.Fatalf("attempt %d: status %d", i, got)
			}
		}
		if got := postSignIn(t, srv, staffApp, email, password); got != http.StatusTooManyRequests {
			t.Fatalf("right password while blocked: status %d, want 429", got)
		}
	}
	if b, err := c.UserBlocks.Get(ctx, uid); err != nil || b == nil || len(b) != 0 {
		t.Fatalf("UserBlocks.Get before = %#v, %v; want an empty list", b, err)
	}
	block()
	blocks, err := c.UserBlocks.Get(ctx, uid)
	if err != nil || len(blocks) != 1 || blocks[0].Identifier != email || blocks[0].IP != "127.0.0.1" || blocks[0].Connection != tenant.StaffConnection {
		t.Fatalf("UserBlocks.Get = %+v, %v", blocks, err)
	}
	byIdent, err := c.UserBlocks.GetByIdentifier(ctx, strings.ToUpper(email))
	if err != nil || len(byIdent) != 1 || byIdent[0].IP != "127.0.0.1" {
		t.Errorf("UserBlocks.GetByIdentifier = %+v, %v", byIdent, err)
	}
	if err := c.UserBlocks.Delete(ctx, uid); err != nil {
		t.Fatalf("UserBlocks.Delete: %v", err)
	}
	if b, err := c.UserBlocks.Get(ctx, uid); err != nil || len(b) != 0 {
		t.Errorf("UserBlocks.Get after Delete = %+v, %v", b, err)
	}
	if got := postSignIn(t, srv, staffApp, email, password); got != http.StatusFound {
		t.Errorf("sign-in after unblocking: status %d, want 302", got)
	}

	block()
	if err := c.UserBlocks.DeleteByIdentifier(ctx, email); err != nil {
		t.Fatalf("DeleteByIdentifier: %v", err)
	}
	if b, err := c.UserBlocks.GetByIdentifier(ctx, email); err != nil || len(b) != 0 {
		t.Errorf("GetByIdentifier after DeleteByIdentifier = %+v, %v", b, err)
	}
	if _, err := c.UserBlocks.Get(ctx, "auth0|nobody"); !errors.Is(err, mgmt.ErrNotFound) {
		t.Errorf("UserBlocks.Get(unknown): err = %v, want ErrNotFound", err)
	}

	logs, err := c.Users.Logs(ctx, uid, mgmt.UserLogsParams{PerPage: 100, Sort: "date:-1"})
	if err != nil {
		t.Fatalf("Users.Logs: %v", err)
	}
	types := map[string]int{}
	for _, e := range logs {
		types[e.Type]++
		if e.UserID != uid {
			t.Errorf("Users.Logs returned an event of %q", e.UserID)
		}
	}
	if types["fp"] < 18 || types["limit_wc"] != 2 || types["s"] != 1 {
		t.Errorf("user's events by type = %v; want ≥18 fp, 2 limit_wc, 1 s", types)
	}
	for i := 1; i < len(logs); i++ {
		if logs[i].Date.After(*logs[i-1].Date) {
			t.Errorf("date:-1 not newest first at %d", i)
		}
	}
	page2, err := c.Users.Logs(ctx, uid, mgmt.UserLogsParams{Page: 1, PerPage: 5, Sort: "date:-1"})
	if err != nil || len(page2) != 5 || page2[0].LogID != logs[5].LogID {
		t.Errorf("Users.Logs page 1 of 5 = %d events, %v; want logs[5:10]", len(page2), err)
	}
	if none, err := c.Users.Logs(ctx, "auth0|nobody", mgmt.UserLogsParams{}); err != nil || len(none) != 0 {
		t.Errorf("Users.Logs(unknown) = %+v, %v; want []", none, err)
	}
}

// TestTenantMFAAndSessions: a seeded user's authentication methods, enrollments, sessions and
// refresh tokens are listed, removed one and all, and revoked.
func TestTenantMFAAndSessions(t *testing.T) {
	c, _, _ := startTenant(t)
	ctx := context.Background()

	// support_seed.go gives the first database users a TOTP factor and a recovery code, the even ones
	// a phone too, the first eight a session and the first four a refresh token: find one with all of
	// them. factors leaves the recovery code out (it is not a factor, nor an enrolment).
	factors := func(ms []mgmt.AuthenticationMethod) []mgmt.AuthenticationMethod {
		return slices.DeleteFunc(slices.Clone(ms), func(m mgmt.AuthenticationMethod) bool { return m.Type == "recovery-code" })
	}
	page, err := c.Users.List(ctx, mgmt.ListUsersParams{Q: `identities.connection:"` + tenant.DatabaseConnection + `"`, PerPage: 100})
	if err != nil {
		t.Fatal(err)
	}
	var uid string
	var methods []mgmt.AuthenticationMethod
	for _, u := range page.Users {
		ms, err := c.Users.AuthenticationMethods(ctx, u.UserID)
		if err != nil {
			t.Fatalf("AuthenticationMethods(%s): %v", u.UserID, err)
		}
		toks, err := c.Users.RefreshTokens(ctx, u.UserID)
		if err != nil {
			t.Fatalf("RefreshTokens(%s): %v", u.UserID, err)
		}
		if len(factors(ms)) == 2 && len(toks) > 0 {
			uid, methods = u.UserID, factors(ms)
			break
		}
	}
	if uid == "" {
		t.Fatal("no seeded user with a TOTP and a phone factor and a refresh token")
	}
	byType := map[string]mgmt.AuthenticationMethod{}
	for _, m := range methods {
		byType[m.Type] = m
	}
	totp, phone := byType["totp"], byType["phone"]
	if !strings.HasPrefix(totp.ID, "totp|dev_") || !totp.Confirmed || totp.CreatedAt == nil ||
		!strings.HasPrefix(phone.PhoneNumber, "XXXX") || phone.PreferredAuthenticationMethod != "sms" || len(phone.AuthenticationMethods) != 1 {
		t.Errorf("methods = %+v", methods)
	}
	enr, err := c.Users.Enrollments(ctx, uid)
	if err != nil || len(enr) != 2 {
		t.Errorf("Enrollments = %+v, %v; want the two factors", enr, err)
	}

	if err := c.Users.DeleteAuthenticationMethod(ctx, uid, totp.ID); err != nil {
		t.Fatalf("DeleteAuthenticationMethod: %v", err)
	}
	if ms, err := c.Users.AuthenticationMethods(ctx, uid); err != nil || len(factors(ms)) != 1 || factors(ms)[0].ID != phone.ID {
		t.Errorf("after removing the TOTP: %+v, %v", ms, err)
	}
	if err := c.Users.DeleteAuthenticationMethod(ctx, uid, totp.ID); !errors.Is(err, mgmt.ErrNotFound) {
		t.Errorf("removing it again: err = %v, want ErrNotFound", err)
	}
	if err := c.Users.DeleteAuthenticationMethods(ctx, uid); err != nil {
		t.Fatalf("DeleteAuthenticationMethods: %v", err)
	}
	if ms, err := c.Users.AuthenticationMethods(ctx, uid); err != nil || ms == nil || len(ms) != 0 {
		t.Errorf("after reset: %#v, %v; want an empty list", ms, err)
	}
	if enr, err := c.Users.Enrollments(ctx, uid); err != nil || len(enr) != 0 {
		t.Errorf("enrollments after reset: %+v, %v", enr, err)
	}
	if err := c.Users.InvalidateRememberBrowser(ctx, uid); err != nil {
		t.Errorf("InvalidateRememberBrowser: %v", err)
	}
	if err := c.Users.InvalidateRememberBrowser(ctx, "auth0|nobody"); !errors.Is(err, mgmt.ErrNotFound) {
		t.Errorf("InvalidateRememberBrowser(unknown): err = %v, want ErrNotFound", err)
	}

	sessions, err := c.Users.Sessions(ctx, uid)
	if err != nil || len(sessions) != 1 {
		t.Fatalf("Sessions = %+v, %v; want the seeded one", sessions, err)
	}
	s := sessions[0]
	if s.UserID != uid || s.Device == nil || !strings.HasPrefix(s.Device.InitialIP, "203.0.113.") || len(s.Clients) != 1 ||
		s.ExpiresAt == nil || s.Authentication == nil || len(s.Authentication.Methods) != 1 || s.Authentication.Methods[0].Name != "pwd" {
		t.Errorf("session = %+v", s)
	}
	toks, err := c.Users.RefreshTokens(ctx, uid)
	if err != nil || len(toks) != 1 || toks[0].SessionID != s.ID || len(toks[0].ResourceServers) != 1 || toks[0].ExpiresAt != nil {
		t.Fatalf("RefreshTokens = %+v, %v", toks, err)
	}
	if err := c.Users.DeleteRefreshTokens(ctx, uid); err != nil {
		t.Fatalf("DeleteRefreshTokens: %v", err)
	}
	if toks, err := c.Users.RefreshTokens(ctx, uid); err != nil || len(toks) != 0 {
		t.Errorf("refresh tokens after revoking = %+v, %v", toks, err)
	}
	if sessions, err := c.Users.Sessions(ctx, uid); err != nil || len(sessions) != 1 {
		t.Errorf("revoking refresh tokens touched the sessions: %+v, %v", sessions, err)
	}
	if err := c.Users.DeleteSessions(ctx, uid); err != nil {
		t.Fatalf("DeleteSessions: %v", err)
	}
	if sessions, err := c.Users.Sessions(ctx, uid); err != nil || len(sessions) != 0 {
		t.Errorf("sessions after revoking = %+v, %v", sessions, err)
	}
	if _, err := c.Users.Sessions(ctx, "auth0|nobody"); !errors.Is(err, mgmt.ErrNotFound) {
		t.Errorf("Sessions(unknown): err = %v, want ErrNotFound", err)
	}
}

// TestTenantSingleSession: one session read by its id, revoked (its refresh token goes too) or
// deleted (its refresh token stays), against the embedded tenant's seeded sessions.
func TestTenantSingleSession(t *testing.T) {
	c, _, _ := startTenant(t)
	ctx := context.Background()
	page, err := c.Users.List(ctx, mgmt.ListUsersParams{Q: `identities.connection:"` + tenant.DatabaseConnection + `"`, PerPage: 100})
	if err != nil {
		t.Fatal(err)
	}
	// Seeded users with one session and a refresh token bound to it.
	type pair struct {
		session mgmt.Session
		token   mgmt.RefreshToken
	}
	var withBoth []pair
	for _, u := range page.Users {
		ss, err1 := c.Users.Sessions(ctx, u.UserID)
		ts, err2 := c.Users.RefreshTokens(ctx, u.UserID)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if len(ss) == 1 && len(ts) == 1 && ts[0].SessionID == ss[0].ID {
			withBoth = append(withBoth, pair{ss[0], ts[0]})
		}
	}
	if len(withBoth) < 2 {
		t.Fatalf("%d seeded users with a session and a bound refresh token, want 2", len(withBoth))
	}
	a, b := withBoth[0], withBoth[1]

	got, err := c.Sessions.Get(ctx, a.session.ID)
	if err != nil || got.ID != a.session.ID || got.UserID != a.session.UserID || got.Device == nil ||
		got.Device.LastIP != a.session.Device.LastIP || len(got.Clients) != len(a.session.Clients) {
		t.Fatalf("Sessions.Get = %+v, %v; want %+v", got, err, a.session)
	}
	if err := c.Sessions.Revoke(ctx, a.session.ID); err != nil {
		t.Fatalf("Sessions.Revoke: %v", err)
	}
	if ss, err := c.Users.Sessions(ctx, a.session.UserID); err != nil || len(ss) != 0 {
		t.Errorf("sessions after revoke = %+v, %v", ss, err)
	}
	if ts, err := c.Users.RefreshTokens(ctx, a.session.UserID); err != nil || len(ts) != 0 {
		t.Errorf("refresh tokens after revoke = %+v, %v; want the bound one gone", ts, err)
	}
	if _, err := c.Sessions.Get(ctx, a.session.ID); !errors.Is(err, mgmt.ErrNotFound) {
		t.Errorf("Get after revoke: err = %v, want ErrNotFound", err)
	}
	if err := c.Sessions.Revoke(ctx, a.session.ID); !errors.Is(err, mgmt.ErrNotFound) {
		t.Errorf("Revoke again: err = %v, want ErrNotFound", err)
	}

	if err := c.Sessions.Delete(ctx, b.session.ID); err != nil {
		t.Fatalf("Sessions.Delete: %v", err)
	}
	if ss, err := c.Users.Sessions(ctx, b.session.UserID); err != nil || len(ss) != 0 {
		t.Errorf("sessions after delete = %+v, %v", ss, err)
	}
	if ts, err := c.Users.RefreshTokens(ctx, b.session.UserID); err != nil || len(ts) != 1 || ts[0].ID != b.token.ID {
		t.Errorf("refresh tokens after delete = %+v, %v; want the bound one kept", ts, err)
	}
}

// TestTenantTickets: an email-verification ticket verifies the email when opened; a password-change
// ticket leads to a working reset form, and using it sets the password (and marks the email
// verified when asked).
func TestTenantTickets(t *testing.T) {
	c, srv, _ := startTenant(t)
	ctx := context.Background()
	a := createDBUser(t, c, "ticket.verify@example.com")
	b := createDBUser(t, c, "ticket.reset@example.com")

	link, err := c.Tickets.EmailVerification(ctx, mgmt.EmailVerificationTicket{UserID: a.UserID, TTLSec: 600})
	if err != nil || !strings.HasPrefix(link, srv.URL+"/u/email-verification?ticket=") {
		t.Fatalf("EmailVerification = %q, %v", link, err)
	}
	res, err := noRedirect().Get(link)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got, err := c.Users.Get(ctx, a.UserID); err != nil || got.EmailVerified == nil || !*got.EmailVerified {
		t.Errorf("after opening the verification link (status %d): %+v, %v", res.StatusCode, got, err)
	}

	link, err = c.Tickets.PasswordChange(ctx, mgmt.PasswordChangeTicket{UserID: b.UserID, ResultURL: "https://app.example/done",
		TTLSec: 600, MarkEmailAsVerified: true})
	prefix := srv.URL + "/u/reset-password?ticket="
	if err != nil || !strings.HasPrefix(link, prefix) {
		t.Fatalf("PasswordChange = %q, %v", link, err)
	}
	res, err = noRedirect().Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), `name="password"`) {
		t.Fatalf("reset form: %d %s", res.StatusCode, page)
	}
	secret := strings.TrimSuffix(strings.TrimPrefix(link, prefix), "#")
	form := url.Values{"ticket": {secret}, "password": {"Brand-New-Passw0rd"}, "password_confirm": {"Brand-New-Passw0rd"}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/u/reset-password", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err = noRedirect().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "https://app.example/done") {
		t.Errorf("reset submit: %d to %q", res.StatusCode, loc)
	}
	got, err := c.Users.Get(ctx, b.UserID)
	if err != nil || got.LastPasswordReset == nil || got.EmailVerified == nil || !*got.EmailVerified {
		t.Errorf("after the reset: %+v, %v; want last_password_reset set and the email verified", got, err)
	}

	if _, err := c.Tickets.PasswordChange(ctx, mgmt.PasswordChangeTicket{UserID: "auth0|nobody"}); !errors.Is(err, mgmt.ErrNotFound) {
		t.Errorf("ticket for an unknown user: err = %v, want ErrNotFound", err)
	}
}

// waitJob polls the job until it is done.
func waitJob(t *testing.T, c *mgmt.Client, id string) *mgmt.Job {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		j, err := c.Jobs.Get(context.Background(), id)
		if err != nil {
			t.Fatalf("Jobs.Get(%s): %v", id, err)
		}
		if j.Done() {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s", id, j.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTenantJobs: a verification-email job runs (and fails, as on a tenant without an email
// provider); an export of a connection with more than 1,000 users is polled to completion and its
// file downloaded with every user in it.
func TestTenantJobs(t *testing.T) {
	c, srv, _, st := openTenant(t, nil, nil)
	ctx := context.Background()
	u := createDBUser(t, c, "jobs.test@example.com")

	vj, err := c.Jobs.VerificationEmail(ctx, mgmt.VerificationEmailJob{UserID: u.UserID,
		Identity: &mgmt.JobIdentity{UserID: strings.TrimPrefix(u.UserID, "auth0|"), Provider: "auth0"}})
	if err != nil || vj.Type != "verification_email" || vj.Status != mgmt.JobPending || !strings.HasPrefix(vj.ID, "job_") || vj.CreatedAt == nil {
		t.Fatalf("VerificationEmail = %+v, %v", vj, err)
	}
	if done := waitJob(t, c, vj.ID); done.Status != mgmt.JobFailed {
		t.Errorf("verification job ended %q, want failed (the tenant has no email provider)", done.Status)
	}
	if _, err := c.Jobs.Get(ctx, "job_DoesNotExist0000"); !errors.Is(err, mgmt.ErrNotFound) {
		t.Errorf("Jobs.Get(missing): err = %v, want ErrNotFound", err)
	}

	// Past the 1,000 a search can page through.
	now := time.Now().UTC().Truncate(time.Millisecond)
	bulk := make([]store.User, 1000)
	for i := range bulk {
		bulk[i] = store.User{ID: fmt.Sprintf("auth0|bulk%06d", i), Connection: tenant.DatabaseConnection, Provider: "auth0",
			Email: fmt.Sprintf("bulk%06d@example.com", i), Name: fmt.Sprintf("Bulk, \"User\" %d", i),
			AppMetadata: json.RawMessage(`{"plan":"gold"}`), CreatedAt: now, UpdatedAt: now}
	}
	if err := st.CreateUsers(ctx, bulk); err != nil {
		t.Fatal(err)
	}
	_, want, err := st.ListUsers(ctx, store.Query{Expr: store.Term{Field: "identities.connection", Value: tenant.DatabaseConnection}, Limit: 1})
	if err != nil || want <= 1000 {
		t.Fatalf("users in the connection: %d, %v", want, err)
	}
	conns, err := c.Connections.List(ctx, mgmt.ListConnectionsParams{Name: tenant.DatabaseConnection})
	if err != nil || len(conns.Connections) != 1 {
		t.Fatal(conns, err)
	}
	ej, err := c.Jobs.UsersExport(ctx, mgmt.UsersExportJob{ConnectionID: conns.Connections[0].ID, Format: "csv",
		Fields: []mgmt.ExportField{{Name: "user_id"}, {Name: "email"}, {Name: "name"}, {Name: "app_metadata.plan", ExportAs: "plan"}}})
	if err != nil || ej.Type != "users_export" || ej.Connection != tenant.DatabaseConnection || ej.Format != "csv" || len(ej.Fields) != 4 {
		t.Fatalf("UsersExport = %+v, %v", ej, err)
	}
	done := waitJob(t, c, ej.ID)
	if done.Status != mgmt.JobCompleted || !strings.HasPrefix(done.Location, srv.URL+"/") || done.PercentageDone == nil || *done.PercentageDone != 100 {
		t.Fatalf("export job = %+v", done)
	}
	rc, err := c.Jobs.Download(ctx, done)
	if err != nil {
		t.Fatalf("Download: %v", err)
	}
	rows, err := csv.NewReader(rc).ReadAll()
	rc.Close()
	if err != nil {
		t.Fatalf("reading the CSV: %v", err)
	}
	if len(rows) != want+1 || !reflect.DeepEqual(rows[0], []string{"user_id", "email", "name", "plan"}) {
		t.Fatalf("CSV has %d rows (header %q), want a header and %d users", len(rows), rows[0], want)
	}
	byID := map[string][]string{}
	for _, r := range rows[1:] {
		byID[r[0]] = r
	}
	if r := byID["auth0|bulk000999"]; len(r) != 4 || r[1] != "bulk000999@example.com" || r[2] != `Bulk, "User" 999` || r[3] != "gold" {
		t.Errorf("row of a bulk user = %q", r)
	}
	if r := byID[u.UserID]; len(r) != 4 || r[1] != "jobs.test@example.com" {
		t.Errorf("row of the created user = %q", r)
	}

	// A JSON export: one object per line, the limit honoured.
	jj, err := c.Jobs.UsersExport(ctx, mgmt.UsersExportJob{Format: "json", Limit: 5, Fields: []mgmt.ExportField{{Name: "email"}}})
	if err != nil {
		t.Fatal(err)
	}
	rc, err = c.Jobs.Download(ctx, waitJob(t, c, jj.ID))
	if err != nil {
		t.Fatalf("Download(json): %v", err)
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	n := 0
	for dec.More() {
		var obj map[string]string
		if err := dec.Decode(&obj); err != nil || !strings.Contains(obj["email"], "@") {
			t.Fatalf("line %d: %v %v", n, obj, err)
		}
		n++
	}
	if n != 5 {
		t.Errorf("JSON export has %d lines, want 5", n)
	}
}
