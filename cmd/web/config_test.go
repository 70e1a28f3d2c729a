package main

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/handlers"
	"github.com/userdesk/userdesk/internal/users"
)

func TestConfigFromEnv(t *testing.T) {
	cases := []struct {
		name     string
		env      map[string]string
		want     func(Config) bool
		errParts []string
	}{
		{
			name: "defaults run the embedded tenant on loopback",
			env:  nil,
			want: func(c Config) bool {
				return c.Addr == "127.0.0.1:8080" && c.DataDir == "./data" && c.TenantAddr == "127.0.0.1:8081" &&
					c.DemoEmail == "admin@example.com" && c.DemoPassword == "" && c.Embedded() && c.Dev() &&
					c.PublicURL == "http://127.0.0.1:8080" && c.OIDCRolesClaim == "https://userdesk.dev/roles"
			},
		},
		{
			name: "real tenant with https public URL is not dev",
			env: map[string]string{
				"AUTH0_DOMAIN": "acme.eu.auth0.com", "AUTH0_CLIENT_ID": "id", "AUTH0_CLIENT_SECRET": "s",
				"OIDC_ISSUER_URL": "https://acme.eu.auth0.com/", "OIDC_CLIENT_ID": "app", "USERDESK_PUBLIC_URL": "https://desk.example/",
			},
			want: func(c Config) bool { return !c.Embedded() && !c.Dev() && c.PublicURL == "https://desk.example" },
		},
		{
			name:     "every problem reported at once",
			env:      map[string]string{"AUTH0_DOMAIN": "acme.eu.auth0.com", "USERDESK_ADDR": "nonsense"},
			errParts: []string{"USERDESK_ADDR", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "OIDC_ISSUER_URL"},
		},
		{
			name:     "issuer without client id",
			env:      map[string]string{"OIDC_ISSUER_URL": "https://idp.example/"},
			errParts: []string{"OIDC_CLIENT_ID"},
		},
		{
			name: "role mapping",
			env:  map[string]string{"USERDESK_ROLE_MAP": "support=agent, tier1=helpdesk"},
			want: func(c Config) bool {
				m := c.Roles()
				return m.Claim == "https://userdesk.dev/roles" && m.Resolve([]string{"tier1"}) == authz.Helpdesk && m.Resolve([]string{"admin"}) == authz.Admin
			},
		},
		{
			name: "audit and access settings: defaults",
			env:  nil,
			want: func(c Config) bool {
				return len(c.TrustedProxies) == 0 && c.ReasonRequired == users.DefaultReasonRequired &&
					c.MetadataPolicy.MayChange(authz.Agent, "app_metadata", "plan")
			},
		},
		{
			name: "audit and access settings",
			env: map[string]string{"USERDESK_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7", "USERDESK_REASON_REQUIRED": "none",
				"USERDESK_METADATA_POLICY": "app_metadata.plan=admin,app_metadata.roles=nobody"},
			want: func(c Config) bool {
				return len(c.TrustedProxies) == 2 && c.TrustedProxies[1].String() == "192.0.2.7/32" && c.ReasonRequired == "" &&
					!c.MetadataPolicy.MayChange(authz.Agent, "app_metadata", "plan") && c.MetadataPolicy.MayChange(authz.Admin, "app_metadata", "plan") &&
					!c.MetadataPolicy.MayChange(authz.Admin, "app_metadata", "roles")
			},
		},
		{
			name: "bad audit and access settings",
			env: map[string]string{"USERDESK_TRUSTED_PROXIES": "10.0.0.0/99", "USERDESK_REASON_REQUIRED": "user.delete, Delete Everything",
				"USERDESK_METADATA_POLICY": "plan=admin"},
			errParts: []string{"USERDESK_TRUSTED_PROXIES", "USERDESK_REASON_REQUIRED", "Delete Everything", "USERDESK_METADATA_POLICY"},
		},
		{
			name:     "bad role mapping",
			env:      map[string]string{"USERDESK_ROLE_MAP": "support=superuser"},
			errParts: []string{"USERDESK_ROLE_MAP", "superuser"},
		},
		{
			name:     "proxy mode needs its settings",
			env:      map[string]string{"USERDESK_AUTH_MODE": "proxy"},
			errParts: []string{"USERDESK_PROXY_HEADER", "USERDESK_PROXY_JWKS_URL", "USERDESK_PROXY_ISSUER", "USERDESK_PROXY_AUDIENCE"},
		},
		{
			name: "proxy mode",
			env: map[string]string{"USERDESK_AUTH_MODE": "Proxy", "USERDESK_PROXY_HEADER": "X-Goog-IAP-JWT-Assertion",
				"USERDESK_PROXY_JWKS_URL": "https://www.gstatic.com/iap/verify/public_key-jwk", "USERDESK_PROXY_ISSUER": "https://cloud.google.com/iap",
				"USERDESK_PROXY_AUDIENCE": "/projects/1/global/backendServices/2", "USERDESK_PROXY_ALGS": "ES256"},
			want: func(c Config) bool {
				return c.AuthMode == "proxy" && len(c.ProxyAlgs) == 1 && c.ProxyAlgs[0] == "ES256"
			},
		},
		{
			name:     "unknown auth mode",
			env:      map[string]string{"USERDESK_AUTH_MODE": "magic"},
			errParts: []string{"USERDESK_AUTH_MODE"},
		},
		{
			name: "session keys, newest first, and timeouts",
			env: map[string]string{
				"USERDESK_SESSION_KEYS": base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 64)) + ", " + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 64)),
				"USERDESK_SESSION_IDLE": "15m", "USERDESK_SESSION_LIFETIME": "8h", "USERDESK_DATABASE_URL": "postgres://u@db/userdesk",
			},
			want: func(c Config) bool {
				return len(c.SessionKeys) == 2 && c.SessionKeys[0][0] == 1 && c.SessionKeys[1][0] == 2 &&
					c.SessionIdle == 15*time.Minute && c.SessionLifetime == 8*time.Hour && c.DatabaseURL == "postgres://u@db/userdesk"
			},
		},
		{
			name:     "bad session keys and durations",
			env:      map[string]string{"USERDESK_SESSION_KEYS": "c2hvcnQ=", "USERDESK_SESSION_IDLE": "soon", "USERDESK_SESSION_LIFETIME": "-1h"},
			errParts: []string{"USERDESK_SESSION_KEYS: key 1", "USERDESK_SESSION_IDLE", "USERDESK_SESSION_LIFETIME"},
		},
		{
			name: "client-side pacing",
			env:  map[string]string{"USERDESK_AUTH0_RPS": "2.5"},
			want: func(c Config) bool { return c.Auth0RPS == 2.5 && c.Auth0Burst == 3 },
		},
		{
			name: "staff limits default",
			env:  nil,
			want: func(c Config) bool { return c.StaffLimits == handlers.DefaultStaffLimits && c.Auth0RPS == 0 },
		},
		{
			name: "staff limits set, one turned off",
			env:  map[string]string{"USERDESK_STAFF_RPS": "0", "USERDESK_STAFF_WRITE_RPS": "0.5", "USERDESK_STAFF_WRITE_BURST": "7"},
			want: func(c Config) bool {
				return c.StaffLimits == handlers.StaffLimits{RequestRate: 0, RequestBurst: handlers.DefaultStaffLimits.RequestBurst,
					WriteRate: 0.5, WriteBurst: 7}
			},
		},
		{
			name:     "bad staff limits",
			env:      map[string]string{"USERDESK_STAFF_RPS": "-1", "USERDESK_STAFF_WRITE_BURST": "lots"},
			errParts: []string{"USERDESK_STAFF_RPS", "USERDESK_STAFF_WRITE_BURST"},
		},
		{
			name:     "bad pacing",
			env:      map[string]string{"USERDESK_AUTH0_RPS": "fast", "USERDESK_AUTH0_BURST": "0"},
			errParts: []string{"USERDESK_AUTH0_RPS", "USERDESK_AUTH0_BURST"},
		},
		{
			name: "operations defaults",
			env:  nil,
			want: func(c Config) bool {
				return c.Auth0Timeout == 10*time.Second && c.ShutdownTimeout == 20*time.Second && c.LogLevel == slog.LevelInfo &&
					c.LogFormat == "" && c.AdminAddr == "" && c.MetricsToken == "" && c.TokenKey == nil && c.Auth0Audience == ""
			},
		},
		{
			name: "operations settings",
			env: map[string]string{
				"AUTH0_DOMAIN": "login.acme.example", "AUTH0_CLIENT_ID": "id", "AUTH0_CLIENT_SECRET": "s", "USERDESK_AUTH_MODE": "proxy",
				"USERDESK_PROXY_HEADER": "X-Assertion", "USERDESK_PROXY_JWKS_URL": "https://idp.example/jwks", "USERDESK_PROXY_ISSUER": "https://idp.example",
				"USERDESK_PROXY_AUDIENCE": "userdesk", "AUTH0_AUDIENCE": "https://acme.eu.auth0.com/api/v2/",
				"USERDESK_AUTH0_TIMEOUT": "3s", "USERDESK_SHUTDOWN_TIMEOUT": "45s", "USERDESK_ADMIN_ADDR": "9090",
				"USERDESK_METRICS_TOKEN": "0123456789abcdef0123", "USERDESK_LOG_FORMAT": "JSON", "USERDESK_LOG_LEVEL": "debug",
				"USERDESK_TOKEN_KEY": base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)),
			},
			want: func(c Config) bool {
				return c.Auth0Audience == "https://acme.eu.auth0.com/api/v2/" && c.Auth0Timeout == 3*time.Second &&
					c.ShutdownTimeout == 45*time.Second && c.AdminAddr == "127.0.0.1:9090" && c.MetricsToken == "0123456789abcdef0123" &&
					c.LogFormat == "json" && c.LogLevel == slog.LevelDebug && len(c.TokenKey) == 32
			},
		},
		{
			name: "bad operations settings, all reported",
			env: map[string]string{
				"USERDESK_AUTH0_TIMEOUT": "soon", "USERDESK_SHUTDOWN_TIMEOUT": "0s", "USERDESK_ADMIN_ADDR": "nonsense",
				"USERDESK_METRICS_TOKEN": "short", "USERDESK_LOG_FORMAT": "xml", "USERDESK_LOG_LEVEL": "loud",
				"USERDESK_TOKEN_KEY": "c2hvcnQ=", "USERDESK_DATABASE_URL": "mysql://db/userdesk", "AUTH0_AUDIENCE": "https://acme.eu.auth0.com/api/v2/",
			},
			errParts: []string{"USERDESK_AUTH0_TIMEOUT", "USERDESK_SHUTDOWN_TIMEOUT", "USERDESK_ADMIN_ADDR", "USERDESK_METRICS_TOKEN",
				"USERDESK_LOG_FORMAT", "USERDESK_LOG_LEVEL", "USERDESK_TOKEN_KEY", "USERDESK_DATABASE_URL", "USERDESK_SESSION_KEYS",
				"AUTH0_AUDIENCE needs AUTH0_DOMAIN"},
		},
		{
			name:     "replicas need shared session keys",
			env:      map[string]string{"USERDESK_DATABASE_URL": "postgres://u@db/userdesk"},
			errParts: []string{"USERDESK_SESSION_KEYS is required with USERDESK_DATABASE_URL"},
		},
		{
			name: "bad tenant URLs",
			env: map[string]string{"AUTH0_DOMAIN": "ftp://acme", "AUTH0_CLIENT_ID": "id", "AUTH0_CLIENT_SECRET": "s",
				"OIDC_ISSUER_URL": "idp.example", "OIDC_CLIENT_ID": "app", "AUTH0_AUDIENCE": "acme/api"},
			errParts: []string{"AUTH0_DOMAIN", "OIDC_ISSUER_URL", "AUTH0_AUDIENCE"},
		},
		{
			name:     "wildcard address needs the public URL",
			env:      map[string]string{"USERDESK_ADDR": "0.0.0.0:8080"},
			errParts: []string{"USERDESK_PUBLIC_URL is required"},
		},
		{
			name: "wildcard address with the public URL",
			env:  map[string]string{"USERDESK_ADDR": "0.0.0.0:8080", "USERDESK_PUBLIC_URL": "https://desk.example"},
			want: func(c Config) bool { return c.Addr == "0.0.0.0:8080" && c.PublicURL == "https://desk.example" },
		},
		{
			name:     "bad tenant address",
			env:      map[string]string{"USERDESK_TENANT_ADDR": "8081"},
			errParts: []string{"USERDESK_TENANT_ADDR"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := configFromEnv(func(k string) string { return tc.env[k] })
			if len(tc.errParts) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				for _, p := range tc.errParts {
					if !strings.Contains(err.Error(), p) {
						t.Errorf("error %q does not mention %s", err, p)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.want(c) {
				t.Fatalf("unexpected config %+v", c)
			}
		})
	}
}
