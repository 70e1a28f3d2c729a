package tenant

import (
	"strings"
	"testing"
)

func TestConfigFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := ConfigFromEnv(env(nil))
	if err != nil || c.Addr != "127.0.0.1:8081" || !c.Seed || c.TLS || !c.RateLimit.Off() || c.DB != "" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	c, err = ConfigFromEnv(env(map[string]string{
		"USERDESK_TENANT_ADDR": "0.0.0.0:9000", "USERDESK_TENANT_DB": "/x/t.db", "USERDESK_TENANT_SEED": "off",
		"USERDESK_TENANT_RATE_LIMIT": "free", "USERDESK_TENANT_TLS": "on",
		"USERDESK_TENANT_CLIENT_ID": "abc", "USERDESK_TENANT_CLIENT_SECRET": strings.Repeat("s", 32),
		"USERDESK_DEMO_EMAIL": "boss@example.com", "USERDESK_DEMO_PASSWORD": "Pw-12345678",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var cfg Config
	c.Apply(&cfg)
	if cfg.Seed || cfg.RateLimit != rateLimitFree || cfg.ServiceClientID != "abc" || cfg.ServiceClientSecret != strings.Repeat("s", 32) ||
		cfg.DemoEmail != "boss@example.com" || cfg.DemoPassword != "Pw-12345678" || !c.TLS || CAFileFor(c.DB) != "/x/tenant-ca.pem" {
		t.Errorf("applied %+v from %+v", cfg, c)
	}
	_, err = ConfigFromEnv(env(map[string]string{"USERDESK_TENANT_ADDR": "nohost", "USERDESK_TENANT_TLS": "maybe",
		"USERDESK_TENANT_CLIENT_ID": "abc", "USERDESK_TENANT_CLIENT_SECRET": "short"}))
	for _, want := range []string{"USERDESK_TENANT_ADDR", "USERDESK_TENANT_TLS", "at least 32 characters"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}
