package staffauth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/auditlog"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/reqctx"
)

// ProxyConfig configures sign-in behind an identity-aware proxy (Google IAP, Cloudflare Access,
// oauth2-proxy, a company gateway) that adds a signed assertion to every request.
type ProxyConfig struct {
	Header    string   // the assertion header, e.g. "Cf-Access-Jwt-Assertion" or "X-Goog-IAP-JWT-Assertion"
	JWKSURL   string   // where the proxy publishes its signing keys
	Issuer    string   // the assertion's exact iss
	Audience  string   // the assertion's aud (IAP: /projects/…/backendServices/…; Cloudflare: the AUD tag)
	Algs      []string // accepted signature algorithms; default RS256 and ES256
	LogoutURL string   // where "Sign out" sends the browser (the proxy's logout); default /signin
	Roles     authz.Mapping
	Logger    *slog.Logger
	// Audit, when set, records a present but rejected assertion and a staff member who maps to no role
	// as "session.login_failed" (a missing assertion is only logged: health checks and probes hit
	// that all the time). See Config.Audit.
	Audit func(ctx context.Context, e audit.Entry)
}

// Proxy trusts only a verified signed assertion: the signature against the proxy's JWKS, the issuer,
// the audience and the expiry. Plain identity headers such as X-Email are never read, so a request that
// bypassed the proxy cannot claim to be anyone.
type Proxy struct {
	cfg    ProxyConfig
	verify *oidc.IDTokenVerifier
}

// NewProxy checks cfg; ctx bounds the key set's background fetches for the life of the process.
func NewProxy(ctx context.Context, cfg ProxyConfig) (*Proxy, error) {
	var errs []error
	if cfg.Header == "" {
		errs = append(errs, errors.New("proxy assertion header is empty"))
	}
	if cfg.JWKSURL == "" {
		errs = append(errs, errors.New("proxy JWKS URL is empty"))
	}
	if cfg.Issuer == "" {
		errs = append(errs, errors.New("proxy issuer is empty"))
	}
	if cfg.Audience == "" {
		errs = append(errs, errors.New("proxy audience is empty"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(cfg.Algs) == 0 {
		cfg.Algs = []string{oidc.RS256, oidc.ES256}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ks := oidc.NewRemoteKeySet(ctx, cfg.JWKSURL)
	v := oidc.NewVerifier(cfg.Issuer, ks, &oidc.Config{ClientID: cfg.Audience, SupportedSigningAlgs: cfg.Algs})
	return &Proxy{cfg: cfg, verify: v}, nil
}

// Login has nothing to start: the proxy already authenticated the browser.
func (p *Proxy) Login(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/users") }

// Callback does not exist in proxy mode.
func (p *Proxy) Callback(c echo.Context) error { return echo.ErrNotFound }

// Logout hands over to the proxy's own sign-out.
func (p *Proxy) Logout(c echo.Context) error {
	c.Response().Header().Set("Clear-Site-Data", `"cache", "cookies", "storage"`)
	if p.cfg.LogoutURL != "" {
		return c.Redirect(http.StatusSeeOther, p.cfg.LogoutURL)
	}
	return c.Redirect(http.StatusSeeOther, "/signin?error=signed_out")
}

// RequireStaff verifies the assertion on every request: 401 without a valid one, 403 when the staff
// member maps to no role.
func (p *Proxy) RequireStaff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		raw := strings.TrimSpace(r.Header.Get(p.cfg.Header))
		if raw == "" {
			p.cfg.Logger.Warn("authn_fail", "reason", "no proxy assertion", "path", r.URL.Path)
			return echo.NewHTTPError(http.StatusUnauthorized, "Sign in through your company's access proxy.")
		}
		tok, err := p.verify.Verify(r.Context(), raw)
		if err != nil {
			p.cfg.Logger.Warn("authn_fail", "reason", "proxy assertion rejected", "err", err.Error())
			recordAudit(c, p.cfg.Audit, audit.Entry{Action: auditlog.ActionLoginFailed, Outcome: audit.OutcomeFailure,
				Detail: "proxy assertion rejected"})
			return echo.NewHTTPError(http.StatusUnauthorized, "Sign in through your company's access proxy.")
		}
		var claims map[string]any
		if err := tok.Claims(&claims); err != nil {
			return echo.NewHTTPError(http.StatusUnauthorized, "Sign in through your company's access proxy.")
		}
		staff := reqctx.Staff{Issuer: tok.Issuer, Subject: tok.Subject, Email: str(claims["email"]), Name: str(claims["name"]),
			Roles: ClaimValues(claims[p.cfg.Roles.Claim])}
		staff.Role = p.cfg.Roles.Resolve(staff.Roles)
		if staff.Role == authz.None {
			p.cfg.Logger.Warn("authz_fail", "reason", "no role", "iss", staff.Issuer, "sub", staff.Subject)
			e := staffEntry(staff, auditlog.ActionLoginFailed, audit.OutcomeDenied)
			e.Detail = "no role: the proxy assertion's groups map to no Userdesk role"
			recordAudit(c, p.cfg.Audit, e)
			return echo.NewHTTPError(http.StatusForbidden, "Your account is not allowed to use Userdesk: it maps to no role.")
		}
		c.SetRequest(r.WithContext(reqctx.WithStaff(r.Context(), staff)))
		return next(c)
	}
}
