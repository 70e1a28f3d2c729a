package mgmt_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/tenant"
	"github.com/userdesk/userdesk/internal/tenant/store/sqlite"
)

// startTenant serves a seeded embedded tenant over real HTTP and returns a client for its service
// account. This is the contract test of style.md #12: the client and the tenant must agree on the
// wire, through the same code path production uses (token fetch included).
func startTenant(t *testing.T) (*mgmt.Client, *httptest.Server, *tenant.Tenant) {
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
	srv.Start()
	t.Cleanup(srv.Close)
	id, secret := tn.ServiceAccount()
	c, err := mgmt.New(srv.URL, id, secret)
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
