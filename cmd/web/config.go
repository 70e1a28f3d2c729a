package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/userdesk/userdesk/internal/authz"
)

// Config is everything Userdesk reads from its environment. Defaults make `make run` work with no
// configuration at all: Userdesk on 127.0.0.1:8080 managing an embedded tenant on 127.0.0.1:8081.
type Config struct {
	Addr       string // USERDESK_ADDR, default 127.0.0.1:8080
	PublicURL  string // USERDESK_PUBLIC_URL, default http://<Addr>; the browser-facing base URL
	DataDir    string // USERDESK_DATA_DIR, default ./data
	TenantAddr string // USERDESK_TENANT_ADDR, default 127.0.0.1:8081 (embedded tenant only)

	DemoEmail    string // USERDESK_DEMO_EMAIL, default admin@example.com
	DemoPassword string // USERDESK_DEMO_PASSWORD; empty = generated once, stored, printed at start

	// AUTH0_DOMAIN: a bare domain (https implied) or a full base URL; empty = run the embedded tenant.
	Auth0Domain       string
	Auth0ClientID     string // AUTH0_CLIENT_ID, the service account
	Auth0ClientSecret string // AUTH0_CLIENT_SECRET

	OIDCIssuerURL    string // OIDC_ISSUER_URL; empty = the embedded tenant's staff application
	OIDCClientID     string // OIDC_CLIENT_ID
	OIDCClientSecret string // OIDC_CLIENT_SECRET
	OIDCRolesClaim   string // OIDC_ROLES_CLAIM, default https://userdesk.dev/roles
	// USERDESK_ROLE_MAP: "group=role,…" from the roles claim to viewer/helpdesk/agent/admin; claim
	// values that are role names map to themselves.
	RoleMap string
}

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
	}
	c.PublicURL = strings.TrimRight(get("USERDESK_PUBLIC_URL", "http://"+c.Addr), "/")
	return c, c.Validate()
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("USERDESK_ADDR %q is not host:port", c.Addr))
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("USERDESK_PUBLIC_URL %q is not an http(s) base URL", c.PublicURL))
	}
	if c.Embedded() {
		if _, _, err := net.SplitHostPort(c.TenantAddr); err != nil {
			errs = append(errs, fmt.Errorf("USERDESK_TENANT_ADDR %q is not host:port", c.TenantAddr))
		}
	} else {
		if c.Auth0ClientID == "" {
			errs = append(errs, errors.New("AUTH0_CLIENT_ID is required with AUTH0_DOMAIN"))
		}
		if c.Auth0ClientSecret == "" {
			errs = append(errs, errors.New("AUTH0_CLIENT_SECRET is required with AUTH0_DOMAIN"))
		}
		if c.OIDCIssuerURL == "" {
			errs = append(errs, errors.New("OIDC_ISSUER_URL is required with AUTH0_DOMAIN (staff sign-in)"))
		}
	}
	if c.OIDCIssuerURL != "" && c.OIDCClientID == "" {
		errs = append(errs, errors.New("OIDC_CLIENT_ID is required with OIDC_ISSUER_URL"))
	}
	if _, err := authz.ParseMapping(c.OIDCRolesClaim, c.RoleMap); err != nil {
		errs = append(errs, fmt.Errorf("USERDESK_ROLE_MAP: %w", err))
	}
	return errors.Join(errs...)
}
