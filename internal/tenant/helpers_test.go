package tenant

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/userdesk/userdesk/internal/tenant/store"
	"github.com/userdesk/userdesk/internal/tenant/store/sqlite"
)

// fakeClock is an adjustable clock for Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a tenant served over real HTTP on a loopback port, backed by SQLite in a temp dir.
type env struct {
	t     *testing.T
	tn    *Tenant
	srv   *httptest.Server
	st    store.Store
	path  string
	clock *fakeClock
}

const testCallback = "http://127.0.0.1:9999/auth/callback"

// newEnv starts a seeded tenant. mutate may change the config before Open.
func newEnv(t *testing.T, mutate ...func(*Config)) *env {
	t.Helper()
	return newEnvAt(t, filepath.Join(t.TempDir(), "tenant.db"), mutate...)
}

func newEnvAt(t *testing.T, path string, mutate ...func(*Config)) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := httptest.NewUnstartedServer(nil)
	clock := &fakeClock{t: time.Date(2025, 3, 14, 9, 26, 53, 589_000_000, time.UTC)}
	cfg := Config{
		BaseURL: "http://" + srv.Listener.Addr().String(), Store: st, Now: clock.Now, BcryptCost: 4,
		Seed: true, DemoPassword: "Staff-Password-1", StaffCallbackURLs: []string{testCallback},
	}
	for _, m := range mutate {
		m(&cfg)
	}
	tn, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = tn.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return &env{t: t, tn: tn, srv: srv, st: st, path: path, clock: clock}
}

// mintToken signs a Management API token directly with the tenant key.
func (e *env) mintToken(scopes ...string) string {
	e.t.Helper()
	now := e.clock.Now()
	tok, err := e.tn.keys.sign(accessClaims{
		Claims: jwt.Claims{Issuer: e.tn.Issuer(), Subject: "test@clients", Audience: jwt.Audience{e.tn.Audience()},
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour))},
		Scope: strings.Join(scopes, " "), GTY: "client-credentials", AZP: "test",
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// allScopes is a token that passes every Management API scope check.
func (e *env) admin() string {
	return e.mintToken("read:users", "create:users", "update:users", "delete:users", "read:connections")
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

// do sends a request; body is JSON-encoded unless it is a string or nil.
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

// expect asserts status and, when want is non-empty, the exact body.
func expect(t *testing.T, r response, status int, want string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if want != "" && string(r.body) != want {
		t.Fatalf("body\n got %s\nwant %s", r.body, want)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// jsonEqual compares decoded JSON values.
func jsonEqual(a, b any) bool { return reflect.DeepEqual(a, b) }
