package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/userdesk/userdesk/internal/db"
	"github.com/userdesk/userdesk/internal/health"
	"github.com/userdesk/userdesk/internal/metrics"
	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/tokenstore"
)

// opsRoutes puts the machine endpoints in front of the console: /readyz (public, like /healthz: load
// balancers and Kubernetes probe without a session) and /metrics (when metrics is non-nil; nil when
// it is served on the admin listener only). They sit outside the console's route table on purpose:
// no staff session, no CSP nonce, no cookies; and they do not count as console traffic. Every other
// path goes to the console unchanged (no path cleaning, no redirects).
func opsRoutes(console http.Handler, ready, metrics http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var h http.Handler
		switch r.URL.Path {
		case "/readyz":
			h = ready
		case "/metrics":
			h = metrics
		}
		if h == nil {
			console.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// metricsAuth requires "Authorization: Bearer <token>" when token is set (compared in constant time).
func metricsAuth(next http.Handler, token string) http.Handler {
	if token == "" {
		return next
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="userdesk metrics"`)
			http.Error(w, "a bearer token is required (USERDESK_METRICS_TOKEN)", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// readiness checks what a request needs: the database answers, the service-account token can be
// obtained (usually the cached one: mgmt.Client.Scopes fetches only when there is none), and the
// Auth0 circuit breaker is not open. It also reports the last Management API status.
func readiness(d *db.DB, mc *mgmt.Client, m *metrics.Metrics, log *slog.Logger) *health.Readiness {
	return &health.Readiness{
		Logger: log,
		Checks: []health.Check{
			{Name: "database", Problem: "The database (sessions, audit trail) does not answer.",
				Run: func(ctx context.Context) error {
					if err := d.W.PingContext(ctx); err != nil {
						return err
					}
					return d.R.PingContext(ctx)
				}},
			{Name: "auth0_token", Problem: "No Management API token can be obtained for the service account (check AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET and the grant).",
				Run: func(ctx context.Context) error { _, err := mc.Scopes(ctx); return err }},
			{Name: "auth0_circuit", Problem: "Auth0 failed repeatedly; calls are paused until a probe succeeds.",
				Run: func(context.Context) error {
					if st := mc.BreakerState(); st == mgmt.BreakerOpen {
						return errors.New("circuit breaker open")
					}
					return nil
				}},
		},
		Info: func() map[string]any {
			info := map[string]any{"auth0_breaker": mc.BreakerState().String()}
			if u, ok := m.LastUpstream(); ok {
				info["auth0_last_status"] = u.Status
				info["auth0_last_endpoint"] = u.Method + " " + u.Endpoint
				info["auth0_last_at"] = u.At.UTC().Format(time.RFC3339)
			}
			if rl := mc.RateLimit(); rl.Limit > 0 {
				info["auth0_ratelimit_remaining"] = rl.Remaining
			}
			return info
		},
	}
}

// healthcheck is the container's HEALTHCHECK: GET /healthz on USERDESK_ADDR (a wildcard host is asked
// on loopback) and exit 0 on 200, 1 otherwise, with the reason on stderr.
func healthcheck(ctx context.Context, getenv func(string) string, stderr io.Writer) int {
	addr := strings.TrimSpace(getenv("USERDESK_ADDR"))
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck: USERDESK_ADDR %q is not host:port\n", addr)
		return 1
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "healthcheck: /healthz answered %d\n", resp.StatusCode)
		return 1
	}
	return 0
}

// forgetToken is `userdesk forget-token`: it deletes the service-account token stored in Userdesk's
// database, so that replicas restarted afterwards ask Auth0 for a new token, with the scopes the
// application is granted now (a running replica keeps its token until its next refresh). The
// database comes from the same environment as the server's; its URL is never printed.
func forgetToken(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := configFromEnv(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "userdesk forget-token:", err)
		return 1
	}
	where := "PostgreSQL (USERDESK_DATABASE_URL)"
	if cfg.DatabaseURL == "" {
		where = databaseDSN(cfg)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	d, err := db.Open(ctx, databaseDSN(cfg))
	if err != nil {
		fmt.Fprintf(stderr, "userdesk forget-token: cannot open the database in %s: %v\n", where, redactDSN(err, cfg.DatabaseURL))
		return 1
	}
	defer d.Close()
	n, err := tokenstore.Forget(ctx, d)
	if err != nil {
		fmt.Fprintf(stderr, "userdesk forget-token: %v\n", redactDSN(err, cfg.DatabaseURL))
		return 1
	}
	if n == 0 {
		fmt.Fprintf(stdout, "No service-account token was stored in %s; nothing to forget.\n", where)
		return 0
	}
	fmt.Fprintf(stdout, "Deleted the stored service-account token (%d) from %s. Restart every replica: each then asks Auth0 for a new token, with the scopes granted now.\n", n, where)
	return 0
}

// redactDSN returns err's text with the database URL (and its password) cut out, should a driver
// quote it.
func redactDSN(err error, dsn string) string {
	msg := err.Error()
	if dsn == "" {
		return msg
	}
	msg = strings.ReplaceAll(msg, dsn, "[USERDESK_DATABASE_URL]")
	if u, perr := url.Parse(dsn); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "[password]")
		}
	}
	return msg
}
