package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/userdesk/userdesk/internal/applog"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/clientip"
	"github.com/userdesk/userdesk/internal/db"
	"github.com/userdesk/userdesk/internal/handlers"
	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/tenant"
	"github.com/userdesk/userdesk/internal/users"
)

// Config is everything Userdesk reads from its environment. Defaults make `make run` work with no
// configuration at all: Userdesk on 127.0.0.1:8080 managing an embedded tenant on 127.0.0.1:8081.
type Config struct {
	Addr       string // USERDESK_ADDR, default 127.0.0.1:8080
	PublicURL  string // USERDESK_PUBLIC_URL, default http://<Addr>; the browser-facing base URL
	DataDir    string // USERDESK_DATA_DIR, default ./data
	TenantAddr string // USERDESK_TENANT_ADDR, default 127.0.0.1:8081 (embedded tenant only)
	// Tenant holds the embedded tenant's USERDESK_TENANT_* settings, read exactly as cmd/tenant reads
	// them (database file, seeding, rate limit, fixed service-account credentials, TLS).
	Tenant     tenant.EnvConfig
	tenantErr  error
	publicSet  bool    // USERDESK_PUBLIC_URL was given
	configErrs []error // parse errors found while reading the environment

	DemoEmail    string // USERDESK_DEMO_EMAIL, default admin@example.com
	DemoPassword string // USERDESK_DEMO_PASSWORD; empty = generated once, stored, printed at start

	// AUTH0_DOMAIN: a bare domain (https implied) or a full base URL; empty = run the embedded tenant.
	Auth0Domain       string
	Auth0ClientID     string // AUTH0_CLIENT_ID, the service account
	Auth0ClientSecret string // AUTH0_CLIENT_SECRET
	// AUTH0_AUDIENCE: the audience of the service account's token; default https://<domain>/api/v2/.
	// Set it when AUTH0_DOMAIN is a custom domain: the Management API audience is the canonical one.
	Auth0Audience string
	// USERDESK_AUTH0_TIMEOUT bounds each Management API call (pacing, token, attempts and waits
	// between them) and each token fetch; default mgmt.DefaultTimeout (10s).
	Auth0Timeout time.Duration

	OIDCIssuerURL    string // OIDC_ISSUER_URL; empty = the embedded tenant's staff application
	OIDCClientID     string // OIDC_CLIENT_ID
	OIDCClientSecret string // OIDC_CLIENT_SECRET
	OIDCRolesClaim   string // OIDC_ROLES_CLAIM, default https://userdesk.dev/roles
	// USERDESK_ROLE_MAP: "group=role,…" from the roles claim to viewer/helpdesk/agent/admin; claim
	// values that are role names map to themselves.
	RoleMap string

	// USERDESK_AUTH0_RPS and USERDESK_AUTH0_BURST pace every Management API call of this process
	// (client-side), below the tenant's limit; 0 = no pacing (Auth0's 429s are still waited out).
	Auth0RPS   float64
	Auth0Burst int
	// USERDESK_STAFF_RPS / _BURST (any request) and USERDESK_STAFF_WRITE_RPS / _BURST (changes)
	// bound each staff member; a rate of 0 turns that limit off. Default handlers.DefaultStaffLimits.
	StaffLimits handlers.StaffLimits

	// USERDESK_DATABASE_URL: a postgres:// URL for sessions and the audit trail (several replicas);
	// empty = SQLite file userdesk.db in the data directory.
	DatabaseURL string
	// USERDESK_SESSION_KEYS: comma-separated base64 64-byte keys, newest first; empty = one generated
	// key kept in the data directory. Add a new key in front to rotate; drop the old one 12 h later.
	SessionKeys [][]byte
	// USERDESK_TOKEN_KEY: base64 of at least 32 random bytes; the key (through HKDF) that encrypts
	// the service-account token kept in the database. Empty = derived from the session keys.
	TokenKey        []byte
	SessionIdle     time.Duration // USERDESK_SESSION_IDLE, default 30m
	SessionLifetime time.Duration // USERDESK_SESSION_LIFETIME, default 12h

	// USERDESK_TRUSTED_PROXIES: comma-separated CIDRs (or addresses) of the reverse proxies whose
	// X-Forwarded-For is believed for the client IP (audit trail, session list, logs); empty = none,
	// the peer address is the client. Loopback and private ranges are not trusted unless listed.
	TrustedProxies []*net.IPNet
	// USERDESK_METADATA_POLICY: per-role metadata write rules, "app_metadata.plan=agent,
	// app_metadata.roles=nobody" (authz.ParseMetadataPolicy); empty = every key for every role that
	// may edit metadata.
	MetadataPolicy authz.MetadataPolicy
	// USERDESK_REASON_REQUIRED: actions that need a reason or ticket reference, comma-separated;
	// default users.DefaultReasonRequired (delete, MFA reset, email change). "none" requires none.
	ReasonRequired string

	// USERDESK_AUTH_MODE: "oidc" (default) or "proxy" (trust a signed assertion from an
	// identity-aware proxy; configured by the USERDESK_PROXY_* variables).
	AuthMode       string
	ProxyHeader    string   // USERDESK_PROXY_HEADER, e.g. Cf-Access-Jwt-Assertion
	ProxyJWKSURL   string   // USERDESK_PROXY_JWKS_URL
	ProxyIssuer    string   // USERDESK_PROXY_ISSUER
	ProxyAudience  string   // USERDESK_PROXY_AUDIENCE
	ProxyAlgs      []string // USERDESK_PROXY_ALGS, comma-separated; default RS256,ES256
	ProxyLogoutURL string   // USERDESK_PROXY_LOGOUT_URL

	// USERDESK_ADMIN_ADDR: a second listener for /metrics, /readyz and /healthz; a bare port (9090
	// or :9090) binds loopback. Empty = /metrics on the main port.
	AdminAddr string
	// USERDESK_METRICS_TOKEN: when set, /metrics answers only requests with this bearer token.
	MetricsToken string
	// USERDESK_LOG_FORMAT: json or text; default json, text when standard error is a terminal.
	LogFormat string
	LogLevel  slog.Level // USERDESK_LOG_LEVEL: debug, info (default), warn, error
	// USERDESK_SHUTDOWN_TIMEOUT: how long SIGTERM waits for in-flight requests; default 20s.
	ShutdownTimeout time.Duration
}

// DefaultShutdownTimeout leaves room inside Kubernetes' default 30 s termination grace period.
const DefaultShutdownTimeout = 20 * time.Second

// minMetricsToken is the shortest USERDESK_METRICS_TOKEN accepted: a guessable token protects nothing.
const minMetricsToken = 16

// Roles returns the claim-to-role mapping (Validate has checked it).
func (c Config) Roles() authz.Mapping {
	m, _ := authz.ParseMapping(c.OIDCRolesClaim, c.RoleMap)
	return m
}

// Embedded reports whether Userdesk runs its own tenant.
func (c Config) Embedded() bool { return c.Auth0Domain == "" }

// Dev reports whether the browser talks plain http (local development): cookies are then not marked
// Secure and HSTS is not sent.
func (c Config) Dev() bool { return strings.HasPrefix(c.PublicURL, "http://") }

// actionName is the shape of an action name (authz.Action and the later ones such as
// user.email_change): lower-case words joined by one dot.
var actionName = regexp.MustCompile(`^[a-z_]+\.[a-z_]+$`)

func configFromEnv(getenv func(string) string) (Config, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		Addr:              get("USERDESK_ADDR", "127.0.0.1:8080"),
		DataDir:           get("USERDESK_DATA_DIR", "./data"),
		TenantAddr:        get("USERDESK_TENANT_ADDR", "127.0.0.1:8081"),
		DemoEmail:         get("USERDESK_DEMO_EMAIL", "admin@example.com"),
		DemoPassword:      getenv("USERDESK_DEMO_PASSWORD"),
		Auth0Domain:       get("AUTH0_DOMAIN", ""),
		Auth0ClientID:     get("AUTH0_CLIENT_ID", ""),
		Auth0ClientSecret: getenv("AUTH0_CLIENT_SECRET"),
		OIDCIssuerURL:     get("OIDC_ISSUER_URL", ""),
		OIDCClientID:      get("OIDC_CLIENT_ID", ""),
		OIDCClientSecret:  getenv("OIDC_CLIENT_SECRET"),
		OIDCRolesClaim:    get("OIDC_ROLES_CLAIM", "https://userdesk.dev/roles"),
		RoleMap:           get("USERDESK_ROLE_MAP", ""),
		AuthMode:          strings.ToLower(get("USERDESK_AUTH_MODE", "oidc")),
		ProxyHeader:       get("USERDESK_PROXY_HEADER", ""),
		ProxyJWKSURL:      get("USERDESK_PROXY_JWKS_URL", ""),
		ProxyIssuer:       get("USERDESK_PROXY_ISSUER", ""),
		ProxyAudience:     get("USERDESK_PROXY_AUDIENCE", ""),
		ProxyLogoutURL:    get("USERDESK_PROXY_LOGOUT_URL", ""),
	}
	c.DatabaseURL = get("USERDESK_DATABASE_URL", "")
	c.Auth0Audience = get("AUTH0_AUDIENCE", "")
	c.AdminAddr = adminAddr(get("USERDESK_ADMIN_ADDR", ""))
	c.MetricsToken = strings.TrimSpace(getenv("USERDESK_METRICS_TOKEN"))
	c.LogFormat = strings.ToLower(get("USERDESK_LOG_FORMAT", ""))
	var errs []error
	if v := get("USERDESK_LOG_LEVEL", "info"); v != "" {
		l, err := applog.ParseLevel(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("USERDESK_LOG_LEVEL: %w", err))
		}
		c.LogLevel = l
	}
	if v := strings.TrimSpace(getenv("USERDESK_TOKEN_KEY")); v != "" {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(b) < 32 {
			errs = append(errs, errors.New("USERDESK_TOKEN_KEY is not base64 of at least 32 random bytes (openssl rand -base64 32)"))
		}
		c.TokenKey = b
	}
	c.Auth0Timeout, c.ShutdownTimeout = mgmt.DefaultTimeout, DefaultShutdownTimeout
	for i, k := range strings.Split(get("USERDESK_SESSION_KEYS", ""), ",") {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(b) != 64 {
			errs = append(errs, fmt.Errorf("USERDESK_SESSION_KEYS: key %d is not base64 of 64 random bytes (openssl rand -base64 64)", i+1))
			continue
		}
		c.SessionKeys = append(c.SessionKeys, b)
	}
	for name, dst := range map[string]*time.Duration{"USERDESK_SESSION_IDLE": &c.SessionIdle, "USERDESK_SESSION_LIFETIME": &c.SessionLifetime,
		"USERDESK_AUTH0_TIMEOUT": &c.Auth0Timeout, "USERDESK_SHUTDOWN_TIMEOUT": &c.ShutdownTimeout} {
		if v := get(name, ""); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				errs = append(errs, fmt.Errorf("%s %q is not a positive duration such as 30m or 12h", name, v))
				continue
			}
			*dst = d
		}
	}
	c.StaffLimits = handlers.DefaultStaffLimits
	for _, r := range []struct {
		name  string
		rate  *float64
		burst *int
	}{
		{"USERDESK_AUTH0", &c.Auth0RPS, &c.Auth0Burst},
		{"USERDESK_STAFF", &c.StaffLimits.RequestRate, &c.StaffLimits.RequestBurst},
		{"USERDESK_STAFF_WRITE", &c.StaffLimits.WriteRate, &c.StaffLimits.WriteBurst},
	} {
		errs = append(errs, parseRate(get, r.name, r.rate, r.burst)...)
	}
	if nets, err := clientip.ParseTrusted(get("USERDESK_TRUSTED_PROXIES", "")); err != nil {
		errs = append(errs, fmt.Errorf("USERDESK_TRUSTED_PROXIES: %w", err))
	} else {
		c.TrustedProxies = nets
	}
	if p, err := authz.ParseMetadataPolicy(get("USERDESK_METADATA_POLICY", "")); err != nil {
		errs = append(errs, fmt.Errorf("USERDESK_METADATA_POLICY: %w", err))
	} else {
		c.MetadataPolicy = p
	}
	c.ReasonRequired = get("USERDESK_REASON_REQUIRED", users.DefaultReasonRequired)
	if strings.EqualFold(c.ReasonRequired, "none") {
		c.ReasonRequired = ""
	}
	for _, a := range strings.Split(c.ReasonRequired, ",") {
		if a = strings.TrimSpace(a); a != "" && !actionName.MatchString(a) {
			errs = append(errs, fmt.Errorf("USERDESK_REASON_REQUIRED: %q is not an action name such as user.delete", a))
		}
	}
	c.configErrs = errs
	for _, a := range strings.Split(get("USERDESK_PROXY_ALGS", ""), ",") {
		if a = strings.TrimSpace(a); a != "" {
			c.ProxyAlgs = append(c.ProxyAlgs, a)
		}
	}
	c.PublicURL = strings.TrimRight(get("USERDESK_PUBLIC_URL", "http://"+c.Addr), "/")
	c.publicSet = get("USERDESK_PUBLIC_URL", "") != ""
	c.Tenant, c.tenantErr = tenant.ConfigFromEnv(getenv)
	c.TenantAddr = c.Tenant.Addr
	return c, c.Validate()
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	errs := append([]error(nil), c.configErrs...)
	if host, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("USERDESK_ADDR %q is not host:port", c.Addr))
	} else if !c.publicSet && (host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified()) {
		errs = append(errs, fmt.Errorf("USERDESK_PUBLIC_URL is required when USERDESK_ADDR %q listens on every interface: set the URL browsers use, such as https://userdesk.example.com", c.Addr))
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("USERDESK_PUBLIC_URL %q is not an http(s) base URL", c.PublicURL))
	}
	if c.AdminAddr != "" {
		if _, _, err := net.SplitHostPort(c.AdminAddr); err != nil {
			errs = append(errs, fmt.Errorf("USERDESK_ADMIN_ADDR %q is not host:port or a port", c.AdminAddr))
		} else if c.AdminAddr == c.Addr && !strings.HasSuffix(c.Addr, ":0") {
			errs = append(errs, errors.New("USERDESK_ADMIN_ADDR must differ from USERDESK_ADDR"))
		}
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < minMetricsToken {
		errs = append(errs, fmt.Errorf("USERDESK_METRICS_TOKEN is shorter than %d characters (openssl rand -hex 32)", minMetricsToken))
	}
	if c.LogFormat != "" && c.LogFormat != applog.JSON && c.LogFormat != applog.Text {
		errs = append(errs, fmt.Errorf("USERDESK_LOG_FORMAT %q is not json or text", c.LogFormat))
	}
	if c.DatabaseURL != "" {
		// The URL is not repeated: it may hold a password.
		if !db.IsPostgresURL(c.DatabaseURL) {
			errs = append(errs, errors.New("USERDESK_DATABASE_URL is not a postgres:// or postgresql:// URL (leave it empty for SQLite in the data directory)"))
		} else if _, err := url.Parse(c.DatabaseURL); err != nil {
			errs = append(errs, errors.New("USERDESK_DATABASE_URL is not a valid URL (percent-encode special characters in the password)"))
		}
		if len(c.SessionKeys) == 0 {
			errs = append(errs, errors.New("USERDESK_SESSION_KEYS is required with USERDESK_DATABASE_URL: every replica must sign and read cookies with the same keys (openssl rand -base64 64)"))
		}
	}
	if c.OIDCIssuerURL != "" {
		if u, err := url.Parse(c.OIDCIssuerURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("OIDC_ISSUER_URL %q is not an http(s) URL", c.OIDCIssuerURL))
		}
	}
	if c.Embedded() {
		if c.Auth0Audience != "" {
			errs = append(errs, errors.New("AUTH0_AUDIENCE needs AUTH0_DOMAIN (the embedded tenant has one audience)"))
		}
		if c.tenantErr != nil {
			errs = append(errs, c.tenantErr)
		}
	} else {
		if _, err := mgmt.BaseURL(c.Auth0Domain); err != nil {
			errs = append(errs, fmt.Errorf("AUTH0_DOMAIN: %s", strings.TrimPrefix(err.Error(), "mgmt: ")))
		}
		if c.Auth0Audience != "" {
			if u, err := url.Parse(c.Auth0Audience); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				errs = append(errs, fmt.Errorf("AUTH0_AUDIENCE %q is not a URL such as https://acme.eu.auth0.com/api/v2/", c.Auth0Audience))
			}
		}
		if c.Auth0ClientID == "" {
			errs = append(errs, errors.New("AUTH0_CLIENT_ID is required with AUTH0_DOMAIN"))
		}
		if c.Auth0ClientSecret == "" {
			errs = append(errs, errors.New("AUTH0_CLIENT_SECRET is required with AUTH0_DOMAIN"))
		}
		if c.OIDCIssuerURL == "" && c.AuthMode == "oidc" {
			errs = append(errs, errors.New("OIDC_ISSUER_URL is required with AUTH0_DOMAIN (staff sign-in), or set USERDESK_AUTH_MODE=proxy"))
		}
	}
	if c.OIDCIssuerURL != "" && c.OIDCClientID == "" {
		errs = append(errs, errors.New("OIDC_CLIENT_ID is required with OIDC_ISSUER_URL"))
	}
	switch c.AuthMode {
	case "oidc":
	case "proxy":
		if c.ProxyJWKSURL != "" {
			if u, err := url.Parse(c.ProxyJWKSURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				errs = append(errs, fmt.Errorf("USERDESK_PROXY_JWKS_URL %q is not an http(s) URL", c.ProxyJWKSURL))
			}
		}
		for k, v := range map[string]string{"USERDESK_PROXY_HEADER": c.ProxyHeader, "USERDESK_PROXY_JWKS_URL": c.ProxyJWKSURL,
			"USERDESK_PROXY_ISSUER": c.ProxyIssuer, "USERDESK_PROXY_AUDIENCE": c.ProxyAudience} {
			if v == "" {
				errs = append(errs, fmt.Errorf("%s is required with USERDESK_AUTH_MODE=proxy", k))
			}
		}
	default:
		errs = append(errs, fmt.Errorf("USERDESK_AUTH_MODE %q is not oidc or proxy", c.AuthMode))
	}
	if _, err := authz.ParseMapping(c.OIDCRolesClaim, c.RoleMap); err != nil {
		errs = append(errs, fmt.Errorf("USERDESK_ROLE_MAP: %w", err))
	}
	return errors.Join(errs...)
}

// adminAddr turns a bare port ("9090" or ":9090") into a loopback address: the admin listener is
// private unless an interface is named (0.0.0.0:9090 in a container).
func adminAddr(v string) string {
	if v == "" {
		return ""
	}
	if _, err := strconv.Atoi(strings.TrimPrefix(v, ":")); err == nil {
		return "127.0.0.1:" + strings.TrimPrefix(v, ":")
	}
	return v
}

// parseRate reads <prefix>_RPS (requests per second, 0 = no limit) and <prefix>_BURST (a positive
// whole number) into rate and burst, which hold the defaults; a rate without any burst gets a burst
// of its rounded-up rate.
func parseRate(get func(string, string) string, prefix string, rate *float64, burst *int) []error {
	var errs []error
	if v := get(prefix+"_RPS", ""); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			errs = append(errs, fmt.Errorf("%s_RPS %q is not a number of requests per second", prefix, v))
		} else {
			*rate = f
		}
	}
	if v := get(prefix+"_BURST", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("%s_BURST %q is not a positive whole number", prefix, v))
		} else {
			*burst = n
		}
	}
	if *rate > 0 && *burst == 0 {
		*burst = max(1, int(math.Ceil(*rate)))
	}
	return errs
}
