package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestConfigErrorsNeverPrintSecrets: run with secrets in every secret variable (some of them
// malformed) and a configuration with several problems: it fails before starting, lists every
// problem with the variable to set, and neither its error nor anything it printed contains a secret.
func TestConfigErrorsNeverPrintSecrets(t *testing.T) {
	secrets := map[string]string{
		"AUTH0_CLIENT_SECRET":    "auth0-secret-SENTINEL-1",
		"OIDC_CLIENT_SECRET":     "oidc-secret-SENTINEL-2",
		"USERDESK_DATABASE_URL":  "postgres://userdesk:db-password-SENTINEL-3@db.internal/userdesk",
		"USERDESK_SESSION_KEYS":  "session-key-SENTINEL-4",
		"USERDESK_TOKEN_KEY":     "token-key-SENTINEL-5",
		"USERDESK_METRICS_TOKEN": "SENTINEL-6",
		"USERDESK_DEMO_PASSWORD": "demo-password-SENTINEL-7",
	}
	env := map[string]string{"AUTH0_DOMAIN": "acme.eu.auth0.com", "USERDESK_ADDR": "nonsense", "USERDESK_LOG_LEVEL": "loud"}
	for k, v := range secrets {
		env[k] = v
	}
	var stdout, stderr strings.Builder
	err := run(t.Context(), func(k string) string { return env[k] }, &stdout, &stderr)
	if err == nil {
		t.Fatal("run started with a broken configuration")
	}
	msg := err.Error()
	for _, want := range []string{"USERDESK_ADDR", "AUTH0_CLIENT_ID", "OIDC_ISSUER_URL", "USERDESK_SESSION_KEYS", "USERDESK_TOKEN_KEY",
		"USERDESK_METRICS_TOKEN", "USERDESK_LOG_LEVEL"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not name %s:\n%s", want, msg)
		}
	}
	all := msg + stdout.String() + stderr.String()
	for k, v := range secrets {
		if strings.Contains(all, v) || strings.Contains(all, "SENTINEL") {
			t.Errorf("the value of %s was printed:\n%s", k, all)
		}
	}
}

// TestRunServesAndStops: run with a working configuration prints where it listens, logs JSON lines
// when standard error is not a terminal (each request line with its request id), serves until its
// context ends (what SIGTERM does), then returns without error.
func TestRunServesAndStops(t *testing.T) {
	env := map[string]string{
		"USERDESK_ADDR": "127.0.0.1:0", "USERDESK_TENANT_ADDR": "127.0.0.1:0", "USERDESK_DATA_DIR": t.TempDir(),
		"USERDESK_DEMO_PASSWORD": demoPassword, "USERDESK_TENANT_SEED": "off", "USERDESK_SHUTDOWN_TIMEOUT": "5s",
	}
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, stdout, stderr) }()

	urlRE := regexp.MustCompile(`Userdesk is running at (http://\S+)`)
	var base string
	for deadline := time.Now().Add(30 * time.Second); base == ""; {
		if m := urlRE.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("run ended early: %v\n%s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("run printed no URL:\n%s\n%s", stdout.String(), stderr.String())
		}
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	rid := resp.Header.Get("X-Request-ID")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	var sawRequest, sawStop bool
	sc := bufio.NewScanner(strings.NewReader(stderr.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("stderr line is not JSON: %q", sc.Text())
		}
		sawRequest = sawRequest || (line["msg"] == "request" && line["request_id"] == rid && line["path"] == "/healthz")
		sawStop = sawStop || (line["msg"] == "stopped" && line["clean"] == true)
	}
	if !sawRequest || !sawStop {
		t.Errorf("request line %v, clean stop %v in:\n%s", sawRequest, sawStop, stderr.String())
	}
}
