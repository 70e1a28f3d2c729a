package tenant

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
)

// EnvConfig is the tenant's configuration as environment variables give it, shared by cmd/tenant
// (the tenant alone) and cmd/web (the embedded tenant), so both honour the same USERDESK_TENANT_*
// variables.
//
//	USERDESK_TENANT_ADDR           listen address, default 127.0.0.1:8081
//	USERDESK_TENANT_DB             SQLite file; "" = the caller's default (cmd/tenant: ./data/tenant.db)
//	USERDESK_TENANT_SEED           on|off, default on: seed demo connections and users on first start
//	USERDESK_TENANT_RATE_LIMIT     off (default) | free | self-service | enterprise | requests per second
//	USERDESK_TENANT_CLIENT_ID      service account client id     } fixed credentials, both or neither
//	USERDESK_TENANT_CLIENT_SECRET  service account client secret }
//	USERDESK_TENANT_TLS            on|off, default off: serve HTTPS with a generated certificate
//	USERDESK_TENANT_CA_FILE        where the CA certificate is written; default tenant-ca.pem beside the DB
//	USERDESK_DEMO_EMAIL            demo staff login, default admin@example.com
//	USERDESK_DEMO_PASSWORD         demo staff password; "" = generated once and kept
type EnvConfig struct {
	Addr                    string
	DB                      string
	Seed                    bool
	RateLimit               RateLimit
	ClientID, ClientSecret  string
	DemoEmail, DemoPassword string
	TLS                     bool
	CAFile                  string // "" = CAFileFor(DB)
}

// ConfigFromEnv reads EnvConfig through getenv (os.Getenv in production), reporting every invalid
// variable at once.
func ConfigFromEnv(getenv func(string) string) (EnvConfig, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c := EnvConfig{
		Addr:         get("USERDESK_TENANT_ADDR", "127.0.0.1:8081"),
		DB:           get("USERDESK_TENANT_DB", ""),
		ClientID:     get("USERDESK_TENANT_CLIENT_ID", ""),
		ClientSecret: getenv("USERDESK_TENANT_CLIENT_SECRET"),
		DemoEmail:    get("USERDESK_DEMO_EMAIL", ""),
		DemoPassword: getenv("USERDESK_DEMO_PASSWORD"),
		CAFile:       get("USERDESK_TENANT_CA_FILE", ""),
	}
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("USERDESK_TENANT_ADDR %q is not host:port", c.Addr))
	}
	var err error
	if c.Seed, err = onOff(get("USERDESK_TENANT_SEED", "on")); err != nil {
		errs = append(errs, fmt.Errorf("USERDESK_TENANT_SEED: %w", err))
	}
	if c.TLS, err = onOff(get("USERDESK_TENANT_TLS", "off")); err != nil {
		errs = append(errs, fmt.Errorf("USERDESK_TENANT_TLS: %w", err))
	}
	if c.RateLimit, err = ParseRateLimit(getenv("USERDESK_TENANT_RATE_LIMIT")); err != nil {
		errs = append(errs, fmt.Errorf("USERDESK_TENANT_RATE_LIMIT: %w", err))
	}
	if (c.ClientID == "") != (c.ClientSecret == "") {
		errs = append(errs, errors.New("USERDESK_TENANT_CLIENT_ID and USERDESK_TENANT_CLIENT_SECRET must be set together"))
	}
	if c.ClientSecret != "" && len(c.ClientSecret) < 32 {
		// The secret is the only thing between a caller on the network and every Management scope.
		errs = append(errs, errors.New("USERDESK_TENANT_CLIENT_SECRET must be at least 32 characters"))
	}
	if c.ClientID != "" && strings.ContainsAny(c.ClientID, " \t:") {
		errs = append(errs, errors.New("USERDESK_TENANT_CLIENT_ID must not contain spaces or ':'"))
	}
	return c, errors.Join(errs...)
}

// Apply copies the settings that belong to Config (seed, rate limit, service-account credentials,
// demo staff login) into cfg; BaseURL, Store and the listener stay the caller's.
func (c EnvConfig) Apply(cfg *Config) {
	cfg.Seed = c.Seed
	cfg.RateLimit = c.RateLimit
	cfg.ServiceClientID, cfg.ServiceClientSecret = c.ClientID, c.ClientSecret
	cfg.DemoEmail, cfg.DemoPassword = c.DemoEmail, c.DemoPassword
}

// CAFileFor is the default CA certificate path for a database file: tenant-ca.pem in its directory.
func CAFileFor(db string) string { return filepath.Join(filepath.Dir(db), "tenant-ca.pem") }

func onOff(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "on", "true", "1", "yes":
		return true, nil
	case "off", "false", "0", "no":
		return false, nil
	}
	return false, fmt.Errorf("%q: want on or off", s)
}
