package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/applog"
	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/db"
	"github.com/userdesk/userdesk/internal/health"
)

// startAppEnv is startTestApp with extra environment and options (Logger, MgmtTransport).
func startAppEnv(t *testing.T, env map[string]string, opt options) *App {
	t.Helper()
	all := map[string]string{
		"USERDESK_ADDR":          "127.0.0.1:0",
		"USERDESK_TENANT_ADDR":   "127.0.0.1:0",
		"USERDESK_DATA_DIR":      t.TempDir(),
		"USERDESK_DEMO_PASSWORD": demoPassword,
	}
	maps.Copy(all, env)
	cfg, err := configFromEnv(func(k string) string { return all[k] })
	if err != nil {
		t.Fatal(err)
	}
	opt.BcryptCost = 4
	app, err := start(t.Context(), cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := app.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return app
}

func httpGet(t *testing.T, target string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestReadyzAndMetricsOnTheMainPort: without a session, /readyz answers 200 with every check named
// ok, and /metrics answers in the Prometheus format with the console's requests by route template,
// the one token fetch, the audit writes and the active staff sessions.
func TestReadyzAndMetricsOnTheMainPort(t *testing.T) {
	app, _ := startTestApp(t, nil)
	code, body := httpGet(t, app.URL+"/readyz")
	var rep health.Report
	if err := json.Unmarshal([]byte(body), &rep); err != nil || code != 200 || rep.Status != "ready" {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	for _, c := range []string{"database", "auth0_token", "auth0_circuit"} {
		if !rep.Checks[c].OK {
			t.Errorf("check %s not ok: %s", c, body)
		}
	}
	s := newSession(t, app)
	s.signIn(app.DemoEmail, demoPassword)
	cust := firstCustomer(t, app)
	s.get("/users/" + url.PathEscape(cust.UserID))

	code, body = httpGet(t, app.URL+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`userdesk_http_requests_total{method="GET",route="/users/:id",status="200"} 1`,
		`userdesk_http_requests_total{method="GET",route="/auth/callback",status="303"} 1`,
		`userdesk_auth0_token_fetches_total{result="ok"} 1`,
		`userdesk_audit_writes_total{result="ok"} 1`, // the sign-in
		`userdesk_staff_sessions_active 1`,
		`userdesk_auth0_breaker_state{state="closed"} 1`,
	} {
		if !strings.Contains(body, "\n"+want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if !regexp.MustCompile(`\nuserdesk_auth0_requests_total\{endpoint="/api/v2/users/\{id\}",method="GET",status="200"\} [1-9]`).MatchString(body) {
		t.Error("/metrics lacks the user read by endpoint template")
	}
	if strings.Contains(body, cust.UserID) || strings.Contains(body, url.PathEscape(cust.UserID)) {
		t.Error("a user id appears in the metrics")
	}
	if code, _ := httpGet(t, app.URL+"/readyz"); code != 200 {
		t.Errorf("readyz after traffic: %d", code)
	}
	req, _ := http.NewRequest("POST", app.URL+"/metrics", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %v %v", resp, err)
	}
}

// TestMetricsTokenAndAdminPort: with USERDESK_METRICS_TOKEN, /metrics needs that bearer token; with
// USERDESK_ADMIN_ADDR, /metrics, /readyz and /healthz are on the admin port and /metrics is gone
// from the main port; a bare port binds loopback.
func TestMetricsTokenAndAdminPort(t *testing.T) {
	const token = "metrics-token-0123456789abcdef"
	app := startAppEnv(t, map[string]string{"USERDESK_METRICS_TOKEN": token}, options{})
	if code, _ := httpGet(t, app.URL+"/metrics"); code != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d", code)
	}
	if code, _ := httpGet(t, app.URL+"/metrics", "Authorization", "Bearer wrong-token-0123456789"); code != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong token: %d", code)
	}
	if code, body := httpGet(t, app.URL+"/metrics", "Authorization", "Bearer "+token); code != 200 || !strings.Contains(body, "userdesk_auth0_token_fetches_total") {
		t.Errorf("/metrics with the token: %d", code)
	}

	admin := startAppEnv(t, map[string]string{"USERDESK_ADMIN_ADDR": "127.0.0.1:0"}, options{})
	if admin.AdminURL == "" || admin.AdminURL == admin.URL {
		t.Fatalf("admin URL %q", admin.AdminURL)
	}
	if code, body := httpGet(t, admin.URL+"/metrics"); code == 200 || strings.Contains(body, "userdesk_") {
		t.Errorf("/metrics still on the main port: %d", code)
	}
	for _, p := range []string{"/metrics", "/readyz", "/healthz"} {
		if code, _ := httpGet(t, admin.AdminURL+p); code != 200 {
			t.Errorf("admin %s: %d", p, code)
		}
	}
	if code, _ := httpGet(t, admin.URL+"/readyz"); code != 200 {
		t.Errorf("main-port /readyz with an admin port: %d", code)
	}
	if got := adminAddr("9090"); got != "127.0.0.1:9090" {
		t.Errorf("bare port → %q", got)
	}
	if got := adminAddr(":9090"); got != "127.0.0.1:9090" {
		t.Errorf(":port → %q", got)
	}
}

// tokenRefuser answers every token request with 401 and passes the rest on.
type tokenRefuser struct{}

func (tokenRefuser) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/oauth/token" {
		body := `{"error":"access_denied","error_description":"Unauthorized"}`
		return &http.Response{StatusCode: 401, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestReadyzNamesWhatIsNotReady: when the service account gets no token, /readyz answers 503 naming
// auth0_token with a sentence (not the error text), and the database check still passes.
func TestReadyzNamesWhatIsNotReady(t *testing.T) {
	app := startAppEnv(t, nil, options{MgmtTransport: tokenRefuser{}})
	code, body := httpGet(t, app.URL+"/readyz")
	var rep health.Report
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatal(err)
	}
	if code != 503 || strings.Join(rep.NotReady, ",") != "auth0_token" || !rep.Checks["database"].OK ||
		!strings.Contains(rep.Checks["auth0_token"].Problem, "AUTH0_CLIENT_SECRET") {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	_, secret := app.tenant.ServiceAccount()
	if strings.Contains(body, secret) || strings.Contains(body, "access_denied") {
		t.Error("readyz body carries error text")
	}
}

// TestHealthcheckCommand: `userdesk healthcheck` exits 0 against a running Userdesk (also when
// USERDESK_ADDR names the wildcard address, as in the container) and 1 when nothing answers.
func TestHealthcheckCommand(t *testing.T) {
	app, _ := startTestApp(t, nil)
	u, _ := url.Parse(app.URL)
	_, port, _ := net.SplitHostPort(u.Host)
	var stderr strings.Builder
	for _, addr := range []string{u.Host, "0.0.0.0:" + port} {
		if code := healthcheck(t.Context(), func(k string) string { return map[string]string{"USERDESK_ADDR": addr}[k] }, &stderr); code != 0 {
			t.Errorf("healthcheck against %s: exit %d: %s", addr, code, stderr.String())
		}
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	stderr.Reset()
	if code := healthcheck(t.Context(), func(k string) string { return map[string]string{"USERDESK_ADDR": dead}[k] }, &stderr); code != 1 || stderr.Len() == 0 {
		t.Errorf("healthcheck against a closed port: exit %d, %q", code, stderr.String())
	}
}

// blockingCreate holds POST /api/v2/users until release is closed, telling arrived when it is held.
type blockingCreate struct {
	arrived chan struct{}
	release chan struct{}
	once    atomic.Bool
}

func (b *blockingCreate) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == "POST" && r.URL.Path == "/api/v2/users" && b.once.CompareAndSwap(false, true) {
		close(b.arrived)
		<-b.release
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestGracefulShutdown: a create is in flight (held at the Management API) when shutdown starts; new
// connections are refused at once, the in-flight request still completes with its redirect, Shutdown
// returns without error, and the request's audit entry is in the database after it closed.
func TestGracefulShutdown(t *testing.T) {
	bc := &blockingCreate{arrived: make(chan struct{}), release: make(chan struct{})}
	dir := t.TempDir()
	cfg, err := configFromEnv(func(k string) string {
		return map[string]string{"USERDESK_ADDR": "127.0.0.1:0", "USERDESK_TENANT_ADDR": "127.0.0.1:0",
			"USERDESK_DATA_DIR": dir, "USERDESK_DEMO_PASSWORD": demoPassword}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	app, err := start(t.Context(), cfg, options{MgmtTransport: bc, BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	s := newSession(t, app)
	s.signIn(app.DemoEmail, demoPassword)
	s.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	type result struct {
		code int
		loc  string
	}
	done := make(chan result, 1)
	go func() {
		resp, _ := s.post("/users", url.Values{"connection": {"Username-Password-Authentication"},
			"email": {"in-flight@example.org"}, "username": {"inflight"}, "password": {"Str0ng-Passw0rd!"}})
		done <- result{resp.StatusCode, resp.Header.Get("Location")}
	}()
	select {
	case <-bc.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the create never reached the Management API")
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- app.Shutdown(ctx)
	}()
	u, _ := url.Parse(app.URL)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", u.Host, 200*time.Millisecond)
		if err != nil {
			break // no longer accepting
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections after shutdown started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-shut:
		t.Fatalf("shutdown returned (%v) while a request was in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(bc.release)
	r := <-done
	if r.code != http.StatusSeeOther || !strings.HasPrefix(r.loc, "/users/") {
		t.Errorf("in-flight create: %d → %q", r.code, r.loc)
	}
	if err := <-shut; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := app.db.W.Ping(); err == nil {
		t.Error("database still open after shutdown")
	}
	d, err := db.OpenSQLite(context.Background(), dir+"/userdesk.db")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	st, err := audit.New(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	es, _, err := st.Query(context.Background(), audit.Filter{Action: "user.create"})
	if err != nil || len(es) != 1 || es[0].Outcome != audit.OutcomeSuccess || es[0].TargetEmail != "in-flight@example.org" {
		t.Fatalf("audit entry of the in-flight create: %+v, %v", es, err)
	}
}

// TestLogsCarryRequestAndStaff: with the JSON logger every line is one JSON object; each request line
// carries the id the response's X-Request-ID header showed, and lines of signed-in requests carry
// the staff member's subject.
func TestLogsCarryRequestAndStaff(t *testing.T) {
	logs := &syncBuffer{}
	app := startAppEnv(t, nil, options{Logger: applog.New(logs, applog.JSON, slog.LevelDebug)})
	s := newSession(t, app)
	s.signIn(app.DemoEmail, demoPassword)
	resp, _ := s.get("/users?q=" + url.QueryEscape("jane\r\n{\"forged\":true}"))
	rid := resp.Header.Get("X-Request-ID")
	if rid == "" {
		t.Fatal("no X-Request-ID")
	}
	var found bool
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not a JSON line: %q", sc.Text())
		}
		if line["forged"] != nil {
			t.Error("CR/LF in a query forged a log line")
		}
		if line["request_id"] == rid && line["msg"] == "request" {
			found = true
			if sub, _ := line["staff_sub"].(string); sub == "" {
				t.Errorf("signed-in request line without staff_sub: %s", sc.Text())
			}
		}
	}
	if !found {
		t.Errorf("no request line with request_id %s in:\n%s", rid, logs.String())
	}
}

// TestShutdownDoesNotWaitForSilentConnections: a connection that never sent a request (a browser's
// speculative preconnect, a load balancer's pre-opened socket) does not hold shutdown up: Go's server
// alone would wait five seconds for it.
func TestShutdownDoesNotWaitForSilentConnections(t *testing.T) {
	cfg, err := configFromEnv(func(k string) string {
		return map[string]string{"USERDESK_ADDR": "127.0.0.1:0", "USERDESK_TENANT_ADDR": "127.0.0.1:0",
			"USERDESK_DATA_DIR": t.TempDir(), "USERDESK_TENANT_SEED": "off"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	app, err := start(t.Context(), cfg, options{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(app.URL)
	tu, _ := url.Parse(app.TenantURL)
	for _, host := range []string{u.Host, tu.Host} {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	time.Sleep(50 * time.Millisecond) // both connections accepted
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	t0 := time.Now()
	if err := app.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with silent connections: %v", err)
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("shutdown took %s", d)
	}
}

// TestForgetTokenCommand: `userdesk forget-token`, run beside a running instance with the same
// environment, deletes the stored token (so a restarted instance asks the tenant for a new one),
// says what it did, and never prints the database URL's password.
func TestForgetTokenCommand(t *testing.T) {
	env := map[string]string{"USERDESK_ADDR": "127.0.0.1:0", "USERDESK_TENANT_ADDR": "127.0.0.1:0",
		"USERDESK_DATA_DIR": t.TempDir(), "USERDESK_DEMO_PASSWORD": demoPassword}
	getenv := func(k string) string { return env[k] }
	app := startAppEnv(t, env, options{})
	if code, body := httpGet(t, app.URL+"/readyz"); code != 200 {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	stored := func() int {
		var n int
		if err := app.db.R.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM mgmt_tokens WHERE sealed IS NOT NULL`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := stored(); n != 1 {
		t.Fatalf("%d stored tokens after /readyz, want 1", n)
	}

	var out, errs strings.Builder
	if code := forgetToken(t.Context(), getenv, &out, &errs); code != 0 {
		t.Fatalf("forget-token exited %d: %s", code, errs.String())
	}
	if !strings.Contains(out.String(), "Deleted the stored service-account token (1) from "+env["USERDESK_DATA_DIR"]) ||
		!strings.Contains(out.String(), "Restart every replica") {
		t.Errorf("forget-token said %q", out.String())
	}
	if n := stored(); n != 0 {
		t.Errorf("%d stored tokens after forget-token, want 0", n)
	}
	// The running instance keeps serving with the token it holds.
	if code, body := httpGet(t, app.URL+"/readyz"); code != 200 {
		t.Errorf("/readyz after forget-token: %d %s", code, body)
	}

	out.Reset()
	if code := forgetToken(t.Context(), getenv, &out, &errs); code != 0 || !strings.Contains(out.String(), "nothing to forget") {
		t.Errorf("second forget-token: exit %d, said %q", code, out.String())
	}

	const password = "pw-sentinel-7f3a"
	bad := map[string]string{"USERDESK_DATABASE_URL": "postgres://userdesk:" + password + "@127.0.0.1:1/userdesk?connect_timeout=2",
		"USERDESK_SESSION_KEYS": base64.StdEncoding.EncodeToString(make([]byte, 64))}
	out.Reset()
	errs.Reset()
	code := forgetToken(t.Context(), func(k string) string { return bad[k] }, &out, &errs)
	if code == 0 || !strings.Contains(errs.String(), "cannot open the database") {
		t.Errorf("unreachable database: exit %d, said %q %q", code, out.String(), errs.String())
	}
	if strings.Contains(out.String()+errs.String(), password) {
		t.Errorf("forget-token printed the database password: %q", errs.String())
	}
}
