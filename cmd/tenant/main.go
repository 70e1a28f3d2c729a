// Command tenant runs Userdesk's Auth0-compatible tenant on its own, without the dashboard, so other
// apps, scripts and the official Auth0 SDKs can use it as a local Auth0 (see docs/tenant.md).
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/userdesk/userdesk/internal/tenant"
	"github.com/userdesk/userdesk/internal/tenant/store/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "tenant:", err)
		os.Exit(1)
	}
}

// defaultDB is the data file when USERDESK_TENANT_DB is unset, relative to the working directory.
const defaultDB = "./data/tenant.db"

// run starts the tenant from the environment (tenant.ConfigFromEnv), prints its base URL, the
// service account's credentials and, with TLS, the CA file, then serves until ctx ends and shuts down
// gracefully. The first stdout line is "Tenant running at <base URL>".
func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	env, err := tenant.ConfigFromEnv(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if env.DB == "" {
		env.DB = defaultDB
	}
	if env.CAFile == "" {
		env.CAFile = tenant.CAFileFor(env.DB)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	if err := os.MkdirAll(filepath.Dir(env.DB), 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	st, err := sqlite.Open(ctx, env.DB)
	if err != nil {
		return fmt.Errorf("open %s: %w", env.DB, err)
	}
	defer st.Close()

	ln, err := net.Listen("tcp", env.Addr)
	if err != nil {
		return fmt.Errorf("listen on USERDESK_TENANT_ADDR: %w", err)
	}
	defer ln.Close() // no-op once the server owns and closes it
	scheme := "http"
	if env.TLS {
		scheme = "https"
	}
	base := scheme + "://" + publicHostPort(env.Addr, ln.Addr())

	cfg := tenant.Config{BaseURL: base, Store: st, Logger: logger}
	env.Apply(&cfg)
	tn, err := tenant.Open(ctx, cfg)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           tn.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	serveLn := ln
	if env.TLS {
		tc, err := tenant.LocalTLS(env.CAFile, time.Now())
		if err != nil {
			return err
		}
		srv.TLSConfig = tc
		serveLn = tls.NewListener(ln, tc)
	}

	id, secret := tn.ServiceAccount()
	email, password := tn.DemoStaff()
	fmt.Fprintf(stdout, "Tenant running at %s\n", base)
	fmt.Fprintf(stdout, "Management API audience: %s\n", tn.Audience())
	fmt.Fprintf(stdout, "Service account client id: %s\n", id)
	fmt.Fprintf(stdout, "Service account client secret: %s\n", secret)
	if env.TLS {
		fmt.Fprintf(stdout, "CA certificate: %s\n", env.CAFile)
	}
	fmt.Fprintf(stdout, "Staff sign-in: %s with password %s\n", email, password)
	logger.Info("tenant started", "url", base, "db", env.DB, "rate_limit", env.RateLimit.String(), "seed", env.Seed)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(serveLn) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// publicHostPort is the host:port clients use: the configured host (127.0.0.1 for a wildcard or empty
// host, since the certificate and the issuer need a name clients can reach) with the port the
// listener actually got (port 0 resolves here).
func publicHostPort(addr string, got net.Addr) string {
	host, _, _ := net.SplitHostPort(addr) // validated by ConfigFromEnv
	_, port, _ := net.SplitHostPort(got.String())
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
