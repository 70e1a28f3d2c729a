package tenant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// RolesClaim is the ID-token claim that carries the signed-in staff member's roles, copied from the
// staff user's app_metadata.roles array. Namespaced like an Auth0 custom claim.
const RolesClaim = "https://userdesk.dev/roles"

// Names of the objects Open ensures exist.
const (
	// DatabaseConnection is the default end-user database connection (seeded).
	DatabaseConnection = "Username-Password-Authentication"
	// GoogleConnection is the seeded social connection.
	GoogleConnection = "google-oauth2"
	// StaffConnection holds the Userdesk staff accounts; it is enabled only for the staff app.
	StaffConnection = "Userdesk-Staff"

	serviceAccountName = "Userdesk Service Account"
	staffAppName       = "Userdesk"
)

// allScopes are the Management API scopes the service account holds: those of the endpoints the tenant
// implements (issue 3: users, connections, roles, permissions, logs, user blocks, authentication
// methods, sessions, refresh tokens, tickets, jobs, clients and client grants; contract §3 and §5; and
// reading organizations), except serviceWithheldScopes. Add a scope here (or there) when adding an
// endpoint that checks it. Never modified at run time.
var allScopes = []string{
	"read:users", "create:users", "update:users", "delete:users", "read:user_idp_tokens",
	"update:users_app_metadata",
	"read:connections",
	"read:roles", "create:roles", "update:roles", "delete:roles",
	"read:role_members", "create:role_members", "delete:role_members",
	"read:logs", "read:logs_users",
	"read:authentication_methods", "create:authentication_methods", "update:authentication_methods",
	"delete:authentication_methods",
	"read:sessions", "delete:sessions", "read:refresh_tokens", "delete:refresh_tokens",
	"create:user_tickets",
	"read:clients", "create:clients", "update:clients", "delete:clients", "read:client_keys", "update:client_keys",
	"read:client_grants", "create:client_grants", "update:client_grants", "delete:client_grants",
	"read:organizations",
}

// serviceWithheldScopes are scopes of endpoints the tenant implements that its service account is NOT
// granted: Userdesk only reads which organizations a user belongs to, so administering organizations
// and their members is left to clients given these scopes through /api/v2/client-grants (least
// privilege). The Management API resource server still defines them, so such grants can be made.
var serviceWithheldScopes = []string{
	"create:organizations", "delete:organizations",
	"read:organization_members", "create:organization_members", "delete:organization_members",
}

// implementedScopes returns every Management API scope some endpoint of the tenant checks (the
// Management API resource server's scopes): allScopes and serviceWithheldScopes.
func implementedScopes() []string {
	return slices.Concat(allScopes, serviceWithheldScopes)
}

// AllScopes returns (a copy of) the Management API scopes the tenant's service account is granted:
// every scope the tenant implements except those of organization administration (creating and
// deleting organizations, reading and changing their members), which it withholds.
func AllScopes() []string { return slices.Clone(allScopes) }

// Token lifetimes. 86400 s is Auth0's default for Management API tokens (contract §1.2); 36000 s is
// Auth0's default ID-token lifetime [I].
const (
	accessTokenTTL = 24 * time.Hour
	idTokenTTL     = 10 * time.Hour
	authCodeTTL    = 5 * time.Minute
)

// Config configures a Tenant. Zero values get the documented defaults.
type Config struct {
	// BaseURL is the tenant's public origin without a trailing slash, e.g. "http://127.0.0.1:8081".
	// The issuer is BaseURL+"/" and the Management API audience BaseURL+"/api/v2/".
	BaseURL string
	Store   store.Store
	Logger  *slog.Logger     // nil = discard
	Now     func() time.Time // nil = time.Now
	// BcryptCost is the cost for new password hashes; 0 = 10.
	BcryptCost int
	// Seed seeds demo connections and users on first start (when the store has no connections).
	Seed bool
	// DemoEmail is the staff login; default "admin@example.com".
	DemoEmail string
	// DemoPassword is the staff password. "" = generate once, store it in the settings and reuse it on
	// later starts. When set, it becomes the staff user's password on every start.
	DemoPassword string
	// StaffCallbackURLs are the allowed redirect_uri values of the staff app (replaced on every start).
	StaffCallbackURLs []string
	// ServiceClientID and ServiceClientSecret optionally fix the service account's credentials.
	ServiceClientID, ServiceClientSecret string
	// RateLimit is the tenant-wide /api/v2 limit; the zero value is off (rate-limit headers are still
	// sent, with a limit no client reaches). See ParseRateLimit.
	RateLimit RateLimit
}

// Tenant is an embedded Auth0-compatible tenant. Create it with Open; it is safe for concurrent use.
type Tenant struct {
	store    store.Store
	log      *slog.Logger
	now      func() time.Time
	cost     int
	baseURL  string
	issuer   string
	audience string
	keys     *keyring
	limiter  *bucket
	limitLog limitLog // throttles api_limit events (ratelimit.go)
	// dummyHash is a bcrypt hash of a random string, compared against when no user matches.
	dummyHash []byte

	serviceID, serviceSecret string
	staffID, staffSecret     string
	demoEmail, demoPassword  string

	support *supportState // support.go

	handler http.Handler
}

// Open prepares the tenant: it loads or creates the signing key, seeds demo data on first start
// (Config.Seed), and ensures the staff connection, staff app, demo staff user and service account.
func Open(ctx context.Context, cfg Config) (*Tenant, error) {
	if cfg.Store == nil {
		return nil, errors.New("tenant: Config.Store is required")
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("tenant: BaseURL %q must be an absolute http(s) URL", cfg.BaseURL)
	}
	t := &Tenant{
		store:     cfg.Store,
		log:       cfg.Logger,
		now:       cfg.Now,
		cost:      cfg.BcryptCost,
		baseURL:   base,
		issuer:    base + "/",
		audience:  base + "/api/v2/",
		demoEmail: strings.ToLower(strings.TrimSpace(cfg.DemoEmail)),
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.cost == 0 {
		t.cost = 10
	}
	if t.demoEmail == "" {
		t.demoEmail = "admin@example.com"
	}
	if t.dummyHash, err = bcrypt.GenerateFromPassword([]byte(randomToken(16)), t.cost); err != nil {
		return nil, fmt.Errorf("tenant: %w", err)
	}
	if t.keys, err = loadKeyring(ctx, cfg.Store, t.now); err != nil {
		return nil, err
	}
	if err := t.setup(ctx, cfg); err != nil {
		return nil, err
	}
	t.limiter = newBucket(cfg.RateLimit, t.now)
	t.handler = t.routes()
	return t, nil
}

// Handler returns the tenant's HTTP handler (Authentication API, OIDC endpoints and /api/v2).
func (t *Tenant) Handler() http.Handler { return t.handler }

// Issuer is the token issuer, BaseURL+"/".
func (t *Tenant) Issuer() string { return t.issuer }

// Audience is the Management API identifier, BaseURL+"/api/v2/".
func (t *Tenant) Audience() string { return t.audience }

// ServiceAccount returns the credentials of the Userdesk machine-to-machine client.
func (t *Tenant) ServiceAccount() (clientID, clientSecret string) {
	return t.serviceID, t.serviceSecret
}

// StaffApp returns the credentials of the Userdesk staff OIDC application.
func (t *Tenant) StaffApp() (clientID, clientSecret string) { return t.staffID, t.staffSecret }

// DemoStaff returns the demo staff member's login.
func (t *Tenant) DemoStaff() (email, password string) { return t.demoEmail, t.demoPassword }

// routes is the one route table of the tenant.
func (t *Tenant) routes() http.Handler {
	mux := http.NewServeMux()

	// Authentication API and OIDC.
	mux.HandleFunc("POST /oauth/token", t.handleToken)
	mux.HandleFunc("GET /.well-known/jwks.json", t.handleJWKS)
	mux.HandleFunc("GET /.well-known/openid-configuration", t.handleDiscovery)
	mux.HandleFunc("GET /userinfo", t.handleUserinfo)
	mux.HandleFunc("GET /authorize", t.handleAuthorizeForm)
	// The sign-in POST is the only browser form: reject cross-site submissions (Sec-Fetch-Site, then
	// Origin vs Host), so another site cannot log a victim's browser into its own staff account.
	cop := http.NewCrossOriginProtection()
	mux.Handle("POST /authorize", cop.Handler(http.HandlerFunc(t.handleAuthorizeSubmit)))
	mux.Handle("POST /u/login", cop.Handler(http.HandlerFunc(t.handleAuthorizeSubmit)))

	// Management API v2. Scopes per contract §3 and §5 ("any of").
	mux.Handle("GET /api/v2/users", t.api(t.listUsers, "read:users", "read:user_idp_tokens"))
	mux.Handle("POST /api/v2/users", t.api(t.createUser, "create:users"))
	mux.Handle("GET /api/v2/users/{id}", t.api(t.getUser, "read:users", "read:current_user", "read:user_idp_tokens"))
	mux.Handle("PATCH /api/v2/users/{id}", t.api(t.patchUser, "update:users", "update:users_app_metadata", "update:current_user_metadata"))
	mux.Handle("DELETE /api/v2/users/{id}", t.api(t.deleteUser, "delete:users", "delete:current_user"))
	mux.Handle("GET /api/v2/users-by-email", t.api(t.usersByEmail, "read:users"))
	// Account linking (identities.go); update:current_user_identities only for the caller's own user.
	mux.Handle("POST /api/v2/users/{id}/identities", t.api(t.linkIdentity, "update:users", "update:current_user_identities"))
	mux.Handle("DELETE /api/v2/users/{id}/identities/{provider}/{user_id}", t.api(t.unlinkIdentity, "update:users", "update:current_user_identities"))
	mux.Handle("GET /api/v2/connections", t.api(t.listConnections, "read:connections"))
	mux.Handle("GET /api/v2/connections/{id}", t.api(t.getConnection, "read:connections"))
	t.registerSupportRoutes(mux)      // roles, logs, blocks, MFA, sessions, tickets, jobs, clients (support.go)
	t.registerOrganizationRoutes(mux) // organizations and their members (organizations.go)
	mux.HandleFunc("/api/v2/", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, &apiError{Status: http.StatusNotFound, Message: "Not Found"})
	})

	// Every /api/v2 response, 401s and 404s included, passes the tenant-wide rate limit.
	return securityHeaders(rateLimited(t.limiter, t.logRateLimit, mux))
}

// securityHeaders sets the headers every tenant response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}
