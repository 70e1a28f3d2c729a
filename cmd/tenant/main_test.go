package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// childEnv marks a re-executed test binary that runs the tenant as a real process (durable_test.go).
const childEnv = "USERDESK_TENANT_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, os.Getenv, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			os.Stderr.WriteString("tenant: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const (
	testClientID     = "scriptClient0123456789abcdefABCD"
	testClientSecret = "script-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
)

// banner is what run prints before serving.
type banner struct {
	base, clientID, clientSecret, caFile string
}

// readBanner reads run's stdout up to the staff sign-in line (the last one).
func readBanner(t *testing.T, r io.Reader) banner {
	t.Helper()
	var b banner
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "Tenant running at "); ok {
			b.base = v
		}
		if v, ok := strings.CutPrefix(line, "Service account client id: "); ok {
			b.clientID = v
		}
		if v, ok := strings.CutPrefix(line, "Service account client secret: "); ok {
			b.clientSecret = v
		}
		if v, ok := strings.CutPrefix(line, "CA certificate: "); ok {
			b.caFile = v
		}
		if strings.HasPrefix(line, "Staff sign-in: ") {
			go io.Copy(io.Discard, r) //nolint:errcheck // keep the writer unblocked
			return b
		}
	}
	t.Fatalf("run ended before printing its banner: %v", sc.Err())
	return b
}

// startRun runs run() in this process with env and returns the banner and a stop function that
// cancels it and returns its error.
func startRun(t *testing.T, env map[string]string) (banner, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, func(k string) string { return env[k] }, pw, io.Discard)
		pw.CloseWithError(errors.New("run returned"))
		done <- err
	}()
	b := readBanner(t, pr)
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(15 * time.Second):
			return errors.New("run did not return after cancel")
		}
	}
	t.Cleanup(func() { _ = stop() })
	return b, stop
}

// listUsers fetches a token with the printed credentials through x/oauth2 (as go-auth0 does) and lists
// users; it returns the response.
func listUsers(t *testing.T, hc *http.Client, b banner) *http.Response {
	t.Helper()
	cc := clientcredentials.Config{
		ClientID: b.clientID, ClientSecret: b.clientSecret, TokenURL: b.base + "/oauth/token",
		EndpointParams: map[string][]string{"audience": {b.base + "/api/v2/"}},
	}
	tok, err := cc.Token(context.WithValue(t.Context(), oauth2.HTTPClient, hc))
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	req, _ := http.NewRequest("GET", b.base+"/api/v2/users?per_page=5&include_totals=true", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRunServesHTTP(t *testing.T) {
	dir := t.TempDir()
	b, stop := startRun(t, map[string]string{
		"USERDESK_TENANT_ADDR":          "127.0.0.1:0",
		"USERDESK_TENANT_DB":            filepath.Join(dir, "t.db"),
		"USERDESK_TENANT_CLIENT_ID":     testClientID,
		"USERDESK_TENANT_CLIENT_SECRET": testClientSecret,
		"USERDESK_DEMO_PASSWORD":        "Demo-Passw0rd-1",
	})
	if !strings.HasPrefix(b.base, "http://127.0.0.1:") || strings.HasSuffix(b.base, ":0") {
		t.Fatalf("base URL %q", b.base)
	}
	if b.clientID != testClientID || b.clientSecret != testClientSecret || b.caFile != "" {
		t.Fatalf("banner %+v", b)
	}
	res := listUsers(t, http.DefaultClient, b)
	defer res.Body.Close()
	var body struct{ Total int }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != 200 {
		t.Fatalf("list users: %d %v", res.StatusCode, err)
	}
	// Seeded by default: 300 demo users and the staff user.
	if body.Total != 301 {
		t.Errorf("total %d, want 301 (seed on by default)", body.Total)
	}
	if res.Header.Get("X-Ratelimit-Limit") != "1000000" {
		t.Errorf("rate limit off by default, got limit %q", res.Header.Get("X-Ratelimit-Limit"))
	}
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

func TestRunServesHTTPSWithItsCA(t *testing.T) {
	dir := t.TempDir()
	b, _ := startRun(t, map[string]string{
		"USERDESK_TENANT_ADDR":          "localhost:0",
		"USERDESK_TENANT_DB":            filepath.Join(dir, "sub", "t.db"),
		"USERDESK_TENANT_SEED":          "off",
		"USERDESK_TENANT_TLS":           "on",
		"USERDESK_TENANT_RATE_LIMIT":    "enterprise",
		"USERDESK_TENANT_CLIENT_ID":     testClientID,
		"USERDESK_TENANT_CLIENT_SECRET": testClientSecret,
	})
	if !strings.HasPrefix(b.base, "https://localhost:") {
		t.Fatalf("base URL %q", b.base)
	}
	if want := filepath.Join(dir, "sub", "tenant-ca.pem"); b.caFile != want {
		t.Fatalf("CA file %q, want %q beside the database", b.caFile, want)
	}
	pemBytes, err := os.ReadFile(b.caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("CA file holds no certificate")
	}
	trusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res := listUsers(t, trusting, b)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("X-Ratelimit-Limit") != "50" {
		t.Fatalf("HTTPS list users: %d, limit %q", res.StatusCode, res.Header.Get("X-Ratelimit-Limit"))
	}
	// The same certificate is valid for 127.0.0.1.
	ipURL := strings.Replace(b.base, "localhost", "127.0.0.1", 1)
	if r, err := trusting.Get(ipURL + "/.well-known/openid-configuration"); err != nil {
		t.Fatalf("HTTPS by IP: %v", err)
	} else {
		r.Body.Close()
	}
	// A client without the CA refuses the connection.
	_, err = (&http.Client{Transport: &http.Transport{}}).Get(b.base + "/.well-known/jwks.json")
	var uerr x509.UnknownAuthorityError
	if !errors.As(err, &uerr) {
		t.Fatalf("without the CA: %v, want an unknown-authority error", err)
	}
}

func TestRunRejectsBadConfiguration(t *testing.T) {
	err := run(t.Context(), func(k string) string {
		return map[string]string{
			"USERDESK_TENANT_RATE_LIMIT": "fast",
			"USERDESK_TENANT_SEED":       "maybe",
			"USERDESK_TENANT_CLIENT_ID":  "only-the-id",
		}[k]
	}, io.Discard, io.Discard)
	for _, want := range []string{"USERDESK_TENANT_RATE_LIMIT", "USERDESK_TENANT_SEED", "USERDESK_TENANT_CLIENT_SECRET must be set together"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
}
