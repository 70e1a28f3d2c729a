// Command web runs Userdesk: the support console, and unless AUTH0_DOMAIN is set, the embedded
// Auth0-compatible tenant it manages.
package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/userdesk/userdesk/internal/applog"
	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/auditlog"
	"github.com/userdesk/userdesk/internal/clientip"
	"github.com/userdesk/userdesk/internal/db"
	"github.com/userdesk/userdesk/internal/handlers"
	"github.com/userdesk/userdesk/internal/keylock"
	"github.com/userdesk/userdesk/internal/metrics"
	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/sessionstore"
	"github.com/userdesk/userdesk/internal/staffauth"
	"github.com/userdesk/userdesk/internal/staffsessions"
	"github.com/userdesk/userdesk/internal/tenant"
	"github.com/userdesk/userdesk/internal/tenant/store/sqlite"
	"github.com/userdesk/userdesk/internal/tokenstore"
	"github.com/userdesk/userdesk/internal/users"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 {
		stop()
		switch os.Args[1] {
		case "healthcheck":
			// The container image has no shell and no curl: `userdesk healthcheck` is its HEALTHCHECK.
			os.Exit(healthcheck(context.Background(), os.Getenv, os.Stderr))
		case "forget-token":
			// Neither has it sqlite3 or psql: after the service account's scopes change, this
			// deletes the stored token so restarted replicas fetch one with the new scopes.
			os.Exit(forgetToken(context.Background(), os.Getenv, os.Stdout, os.Stderr))
		}
		fmt.Fprintf(os.Stderr, "userdesk: unknown command %q (commands: healthcheck, forget-token; configuration comes from the environment)\n", os.Args[1])
		os.Exit(2)
	}
	if err := run(ctx, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "userdesk:", err)
		os.Exit(1)
	}
}

// run starts Userdesk from the environment, prints where it listens and how to sign in, and serves
// until ctx ends (SIGTERM, Ctrl-C), then shuts down gracefully within USERDESK_SHUTDOWN_TIMEOUT.
// A configuration error lists every problem at once, naming variables, never their secret values.
func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := configFromEnv(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	format := cfg.LogFormat
	if format == "" {
		format = applog.DefaultFormat(stderr)
	}
	logger := applog.New(stderr, format, cfg.LogLevel)
	app, err := start(ctx, cfg, options{Logger: logger})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Userdesk is running at %s\n", app.URL)
	if app.TenantURL != "" {
		fmt.Fprintf(stdout, "Embedded Auth0-compatible tenant at %s\n", app.TenantURL)
		fmt.Fprintf(stdout, "Sign in as %s with password %s\n", app.DemoEmail, app.DemoPassword)
	}
	<-ctx.Done()
	logger.Info("shutting_down", "timeout", cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = app.Shutdown(shutdownCtx)
	logger.Info("stopped", "clean", err == nil)
	return err
}

// options are the seams tests use; zero values are production defaults.
type options struct {
	Logger        *slog.Logger
	MgmtTransport http.RoundTripper // wraps calls to the Management API (tests record them)
	BcryptCost    int               // embedded tenant's bcrypt cost; 0 = 10
}

// App is a running Userdesk.
type App struct {
	URL          string // where the dashboard listens
	TenantURL    string // the embedded tenant's base URL, "" when AUTH0_DOMAIN is set
	AdminURL     string // the admin listener (/metrics, /readyz, /healthz), "" without USERDESK_ADMIN_ADDR
	DemoEmail    string
	DemoPassword string

	tenant  *tenant.Tenant // the embedded tenant, nil with AUTH0_DOMAIN
	audit   audit.Store
	db      *db.DB
	metrics *metrics.Metrics

	servers  []*http.Server // the dashboard's listeners (main, admin)
	trackers map[*http.Server]*connTracker
	tenantS  *http.Server // the embedded tenant's, stopped after the dashboard's
	closers  []func() error
	errs     chan error
}

// Shutdown stops accepting requests, waits for those in flight until ctx ends (then cuts the
// connections still open), and only then closes storage, so every audit entry of a finished request
// is written before the database closes. The dashboard's listeners stop together; the embedded
// tenant stops after them, since the dashboard's in-flight requests may still be calling it.
func (a *App) Shutdown(ctx context.Context) error {
	var errs []error
	var mu sync.Mutex
	stop := func(s *http.Server) {
		err := shutdownServer(ctx, s, a.trackers[s])
		if err != nil {
			err = errors.Join(fmt.Errorf("requests still running after the shutdown deadline: %w", err), s.Close())
		}
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for _, s := range a.servers {
		if s != a.tenantS {
			wg.Go(func() { stop(s) })
		}
	}
	wg.Wait()
	if a.tenantS != nil {
		stop(a.tenantS)
	}
	for _, c := range a.closers {
		if err := c(); err != nil {
			errs = append(errs, err)
		}
	}
	for range a.servers {
		if err := <-a.errs; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// start wires Userdesk together and starts its listeners. On error everything already started is
// stopped again.
func start(ctx context.Context, cfg Config, opt options) (app *App, err error) {
	logger := opt.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	app = &App{errs: make(chan error, 3)}
	defer func() {
		if err != nil {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = app.Shutdown(sctx)
		}
	}()

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	keys := cfg.SessionKeys
	if len(keys) == 0 {
		k, err := loadOrCreateKey(filepath.Join(cfg.DataDir, "session.key"), 64)
		if err != nil {
			return nil, err
		}
		keys = [][]byte{k}
	}
	var pairs [][]byte // (hash, block) pairs, newest first: old keys still read cookies they signed
	for _, k := range keys {
		pairs = append(pairs, k[:32], k[32:])
	}

	appDB, err := db.Open(ctx, databaseDSN(cfg))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	app.closers = append(app.closers, appDB.Close)
	sessStore, err := sessionstore.New(ctx, appDB)
	if err != nil {
		return nil, fmt.Errorf("session store: %w", err)
	}
	auditStore, err := audit.New(ctx, appDB)
	if err != nil {
		return nil, fmt.Errorf("audit store: %w", err)
	}
	app.audit = auditStore
	app.db = appDB
	app.metrics = metrics.New(nil)
	cookie := sessionstore.DefaultCookieOptions()
	cookie.Secure = !cfg.Dev()
	// One client-IP resolver for echo (audit entries, logs) and the session list: X-Forwarded-For is
	// believed only from USERDESK_TRUSTED_PROXIES.
	clientIP := clientip.Extractor(cfg.TrustedProxies)
	gorillaSessions, err := sessionstore.NewGorillaStore(sessStore, sessionstore.GorillaConfig{
		Cookie: &cookie, Lifetime: cfg.SessionLifetime, IdleTimeout: cfg.SessionIdle, ClientIP: clientIP,
	}, pairs...)
	if err != nil {
		return nil, fmt.Errorf("session store: %w", err)
	}
	recorder := auditlog.New(app.metrics.AuditStore(auditStore), logger.With("component", "audit"))
	staffSessions := &staffsessions.Service{Store: sessStore, Audit: recorder, Roles: cfg.Roles(),
		IdleTimeout: cfg.SessionIdle, Logger: logger.With("component", "sessions")}
	// The sweeper stops before the database closes: its stop function runs first among the closers.
	sweepCtx, stopSweep := context.WithCancel(context.Background())
	swept := make(chan struct{})
	go func() { defer close(swept); staffSessions.Sweep(sweepCtx, staffsessions.DefaultSweepInterval) }()
	app.closers = append([]func() error{func() error { stopSweep(); <-swept; return nil }}, app.closers...)
	app.metrics.ActiveSessions(func(ctx context.Context) (int, error) {
		active, err := staffSessions.Active(ctx)
		return len(active), err
	})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on USERDESK_ADDR: %w", err)
	}
	if cfg.PublicURL == "http://"+cfg.Addr {
		cfg.PublicURL = "http://" + ln.Addr().String() // resolves port 0
	}
	app.URL = cfg.PublicURL

	domain, clientID, clientSecret := cfg.Auth0Domain, cfg.Auth0ClientID, cfg.Auth0ClientSecret
	issuer, oidcID, oidcSecret := cfg.OIDCIssuerURL, cfg.OIDCClientID, cfg.OIDCClientSecret
	// transport carries every call to the tenant and the identity provider; with a TLS embedded tenant
	// it trusts that tenant's own CA.
	transport := upstreamTransport()
	if cfg.Embedded() {
		dbPath := cfg.Tenant.DB
		if dbPath == "" {
			dbPath = filepath.Join(cfg.DataDir, "tenant.db")
		}
		st, err := sqlite.Open(ctx, dbPath)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("open embedded tenant storage: %w", err)
		}
		app.closers = append(app.closers, st.Close)
		tln, err := net.Listen("tcp", cfg.TenantAddr)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("listen on USERDESK_TENANT_ADDR: %w", err)
		}
		base := "http://" + tln.Addr().String()
		if cfg.Tenant.TLS {
			caFile := cfg.Tenant.CAFile
			if caFile == "" {
				caFile = tenant.CAFileFor(dbPath)
			}
			tlsCfg, err := tenant.LocalTLS(caFile, time.Now())
			if err == nil {
				transport.TLSClientConfig, err = trustCA(caFile)
			}
			if err != nil {
				ln.Close()
				tln.Close()
				return nil, fmt.Errorf("embedded tenant TLS: %w", err)
			}
			tln = tls.NewListener(tln, tlsCfg)
			base = "https://" + tln.Addr().String()
		}
		tcfg := tenant.Config{
			BaseURL:    base,
			Store:      st,
			Logger:     logger.With("component", "tenant"),
			BcryptCost: opt.BcryptCost,
		}
		cfg.Tenant.Apply(&tcfg)
		tcfg.DemoEmail, tcfg.DemoPassword = cfg.DemoEmail, cfg.DemoPassword
		tcfg.StaffCallbackURLs = []string{cfg.PublicURL + "/auth/callback"}
		tn, err := tenant.Open(ctx, tcfg)
		if err != nil {
			ln.Close()
			tln.Close()
			return nil, fmt.Errorf("start embedded tenant: %w", err)
		}
		app.tenantS = newServer(tn.Handler())
		app.serve(app.tenantS, tln)
		app.TenantURL = base
		app.tenant = tn
		app.DemoEmail, app.DemoPassword = tn.DemoStaff()
		domain = base
		clientID, clientSecret = tn.ServiceAccount()
		if issuer == "" {
			issuer = tn.Issuer()
			oidcID, oidcSecret = tn.StaffApp()
		}
	}

	var mgmtTransport http.RoundTripper = transport
	if opt.MgmtTransport != nil {
		mgmtTransport = opt.MgmtTransport
	}
	mopts := []mgmt.Option{mgmt.WithHTTPClient(&http.Client{Transport: mgmtTransport}), mgmt.WithMetrics(app.metrics)}
	if cfg.Auth0RPS > 0 {
		mopts = append(mopts, mgmt.WithRateLimit(cfg.Auth0RPS, cfg.Auth0Burst))
	}
	if cfg.Auth0Timeout > 0 {
		mopts = append(mopts, mgmt.WithTimeout(cfg.Auth0Timeout))
	}
	if cfg.Auth0Audience != "" {
		mopts = append(mopts, mgmt.WithAudience(cfg.Auth0Audience))
	}
	// The service-account token lives in the database too, encrypted, so that replicas (and restarts)
	// share one token: one fetch for the fleet per token lifetime.
	tokenKeys := keys
	if len(cfg.TokenKey) > 0 {
		tokenKeys = [][]byte{cfg.TokenKey}
	}
	base, err := mgmt.BaseURL(domain)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("management client: %w", err)
	}
	tokens, err := tokenstore.New(ctx, appDB, tokenstore.Config{
		Keys: tokenKeys, Tenant: base + " " + cfg.Auth0Audience, ClientID: clientID, ClientSecret: clientSecret,
		Lease: cmp.Or(cfg.Auth0Timeout, mgmt.DefaultTimeout) + 5*time.Second,
	})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("token store: %w", err)
	}
	mopts = append(mopts, mgmt.WithTokenStore(tokens))
	mc, err := mgmt.New(domain, clientID, clientSecret, mopts...)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("management client: %w", err)
	}
	var auth handlers.Auth
	if cfg.AuthMode == "proxy" {
		auth, err = staffauth.NewProxy(ctx, staffauth.ProxyConfig{
			Header: cfg.ProxyHeader, JWKSURL: cfg.ProxyJWKSURL, Issuer: cfg.ProxyIssuer, Audience: cfg.ProxyAudience,
			Algs: cfg.ProxyAlgs, LogoutURL: cfg.ProxyLogoutURL, Roles: cfg.Roles(), Logger: logger.With("component", "staffauth"),
			Audit: recorder.Record,
		})
	} else {
		auth, err = staffauth.New(ctx, staffauth.Config{
			IssuerURL:    issuer,
			ClientID:     oidcID,
			ClientSecret: oidcSecret,
			RedirectURL:  cfg.PublicURL + "/auth/callback",
			// Register this URL at the provider as an allowed logout URL.
			PostLogoutRedirectURL: cfg.PublicURL + "/signin?error=signed_out",
			Roles:                 cfg.Roles(),
			Sessions:              gorillaSessions,
			HashKey:               pairs[0],
			BlockKey:              pairs[1],
			Secure:                !cfg.Dev(),
			HTTPClient:            &http.Client{Timeout: 10 * time.Second, Transport: transport},
			Logger:                logger.With("component", "staffauth"),
			Audit:                 recorder.Record,
		})
	}
	if err != nil {
		ln.Close()
		return nil, err
	}
	e := handlers.New(handlers.Deps{
		Users: &users.Service{API: users.NewMgmtAPI(mc), Audit: recorder, Policy: cfg.MetadataPolicy,
			ReasonRequired: users.ParseReasonRequired(cfg.ReasonRequired), MetadataLocks: metadataLocks(appDB)},
		Audit:       recorder,
		Trail:       recorder,
		Sessions:    staffSessions,
		Auth:        auth,
		Logger:      logger.With("component", "http"),
		Dev:         cfg.Dev(),
		IPExtractor: clientIP,
		StaffLimits: &cfg.StaffLimits,
	})
	// Counted by route template; installed after the route table so it sees every route.
	e.Use(app.metrics.Middleware(e.Routes()))

	ready := readiness(appDB, mc, app.metrics, logger.With("component", "ready"))
	metricsHandler := metricsAuth(app.metrics.Handler(), cfg.MetricsToken)
	if cfg.AdminAddr != "" {
		aln, err := net.Listen("tcp", cfg.AdminAddr)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("listen on USERDESK_ADMIN_ADDR: %w", err)
		}
		app.AdminURL = "http://" + aln.Addr().String()
		admin := http.NewServeMux()
		admin.Handle("GET /metrics", metricsHandler)
		admin.Handle("GET /readyz", ready)
		admin.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
		app.serve(newServer(admin), aln)
		metricsHandler = nil // only on the admin port
	}
	app.serve(newServer(opsRoutes(e, ready, metricsHandler)), ln)
	metricsAt := app.URL + "/metrics"
	if app.AdminURL != "" {
		metricsAt = app.AdminURL + "/metrics"
	}
	logger.Info("userdesk started", "url", app.URL, "tenant", base, "metrics", metricsAt,
		"metrics_token", cfg.MetricsToken != "", "shared_token_store", appDB.Dialect.String())
	return app, nil
}

// newServer is an http.Server with the timeouts every listener gets: slow clients cannot hold
// connections open forever. There is no WriteTimeout: exports stream for as long as they need.
func newServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
}

func (a *App) serve(s *http.Server, ln net.Listener) {
	if a.trackers == nil {
		a.trackers = map[*http.Server]*connTracker{}
	}
	a.trackers[s] = track(s)
	a.servers = append(a.servers, s)
	go func() { a.errs <- s.Serve(ln) }()
}

// upstreamTransport is the HTTP transport for calls to the tenant and the identity provider. A page
// makes up to four Management API calls at once (users.Overview) and several staff load pages at the
// same time; Go's default keeps only two idle connections per host, so the others would open, and
// TLS-handshake, a new connection to Auth0 on every page.
func upstreamTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	return t
}

// databaseDSN is where sessions, the audit trail and the stored token live: PostgreSQL when
// configured, else SQLite in the data directory.
func databaseDSN(cfg Config) string {
	if cfg.DatabaseURL != "" {
		return cfg.DatabaseURL
	}
	return filepath.Join(cfg.DataDir, "userdesk.db")
}

// metadataLocks is the per-user metadata lock: shared through PostgreSQL when replicas share it,
// in-process (nil) on SQLite, which serves one instance.
func metadataLocks(d *db.DB) keylock.Locker {
	if d.Dialect == db.Postgres {
		return &keylock.Postgres{DB: d.W}
	}
	return nil
}

// trustCA returns a TLS client configuration that trusts the system roots plus the PEM CA in file.
func trustCA(file string) (*tls.Config, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", file)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// loadOrCreateKey returns n random bytes kept in path, creating them (mode 0600) on first start so
// sessions survive restarts without a configured secret.
func loadOrCreateKey(path string, n int) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(b) == n {
		return b, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	b = make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return b, nil
}
