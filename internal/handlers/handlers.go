// Package handlers is the console's HTTP layer: the one route table, the middleware order, thin
// handlers over the UserService they declare, one render helper and one error handler.
package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/auditlog"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/staffsessions"
	"github.com/userdesk/userdesk/internal/users"
)

// Auth is implemented by internal/staffauth.
type Auth interface {
	Login(c echo.Context) error                          // GET  /auth/login: start OIDC, redirect to the IdP
	Callback(c echo.Context) error                       // GET  /auth/callback
	Logout(c echo.Context) error                         // POST /auth/logout
	RequireStaff(next echo.HandlerFunc) echo.HandlerFunc // sets reqctx.Staff on the request context or redirects to /signin
}

// UserService is what the handlers need from internal/users; *users.Service satisfies it. Feature
// areas with several screens declare their own interface next to their handlers and embed it here.
type UserService interface {
	FindingUsers // finding users: search, filters, users exports (user_list.go, user_export.go)
	Get(ctx context.Context, id string) (*mgmt.User, error)
	DatabaseConnections(ctx context.Context) ([]users.DBConnection, error)
	Create(ctx context.Context, n users.NewUser) (string, error)
	MetadataService // metadata editing: preview, three-way conflict check, save (metadata_edit.go)
	UserPage        // the user page's sections and actions, except metadata (user_show.go, user_actions.go)
	ReasonRequiredFor(a authz.Action) bool
}

var _ UserService = (*users.Service)(nil)

// Auditor records route-level refusals in the audit trail; writes are recorded by the service that
// performs them. *auditlog.Recorder satisfies it. A non-nil error means the entry is missing (the
// recorder has logged it); the refusal page says so.
type Auditor interface {
	Denied(ctx context.Context, a authz.Action, targetUserID string) error
}

// AuditTrail reads the audit trail for the audit page and the user page, and exports it (recording
// the export first). *auditlog.Recorder satisfies it.
type AuditTrail interface {
	Query(ctx context.Context, f audit.Filter) ([]audit.Entry, int, error)
	Export(ctx context.Context, w io.Writer, f audit.Filter) error
}

// StaffSessions lists and ends staff sessions; *staffsessions.Service satisfies it.
type StaffSessions interface {
	Active(ctx context.Context) ([]staffsessions.Session, error)
	End(ctx context.Context, issuer, subject string) (int, error)
}

var (
	_ Auditor       = (*auditlog.Recorder)(nil)
	_ AuditTrail    = (*auditlog.Recorder)(nil)
	_ StaffSessions = (*staffsessions.Service)(nil)
)

// Deps are the handlers' collaborators.
type Deps struct {
	Users    UserService
	Audit    Auditor       // optional: route-level refusals are then only logged
	Trail    AuditTrail    // optional: the audit pages say the trail is not configured
	Sessions StaffSessions // optional: the staff sessions page says they are not configured
	Auth     Auth
	Logger   *slog.Logger
	Dev      bool // local http: no HSTS
	// IPExtractor resolves the client IP (audit entries, logs, c.RealIP()); default the peer address.
	// cmd/web passes clientip.Extractor, which believes X-Forwarded-For from trusted proxies only.
	IPExtractor echo.IPExtractor
	// StaffLimits bound each staff member's request and change rates (nil: DefaultStaffLimits).
	StaffLimits *StaffLimits
}

// Product is the name on the sign-in page and in every title.
const Product = "Userdesk"

// maxBody bounds request bodies. The largest form is the metadata editor: two textareas of at most
// users.MaxMetadataBytes each, which URL-encoding can roughly triple.
const maxBody = "512K"

type handler struct {
	users    UserService
	audit    Auditor
	trail    AuditTrail
	sessions StaffSessions
	log      *slog.Logger
	assets   assets
}

// New returns the console's Echo instance: THE route table, with the middleware order written out.
func New(d Deps) *echo.Echo {
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{users: d.Users, audit: d.Audit, trail: d.Trail, sessions: d.Sessions, log: log, assets: newAssets()}

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = h.handleError
	// RealIP must not trust X-Forwarded-For from clients; cmd/web installs the trusted-proxy extractor.
	e.IPExtractor = echo.ExtractIPDirect()
	if d.IPExtractor != nil {
		e.IPExtractor = d.IPExtractor
	}

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(h.crossOriginDenied))

	// Order matters, outermost first.
	e.Use(
		middleware.RecoverWithConfig(middleware.RecoverConfig{LogErrorFunc: h.logPanic}), // 1. a panic becomes a 500 page
		requestContext(),                 // 2. request id and client IP on the context (audit entries, logs)
		requestLogger(log),               // 3. one line per request, after the error page is written
		securityHeaders(d.Dev),           // 4. CSP with a fresh nonce and the other headers, on every response
		echo.WrapMiddleware(cop.Handler), // 5. cross-origin unsafe methods → 403, before any handler
		middleware.BodyLimit(maxBody),    // 6. bounded bodies
	)

	// Public.
	e.GET("/healthz", h.health)
	e.GET("/static/*", h.static)
	e.GET("/signin", h.signIn)
	e.GET("/auth/login", d.Auth.Login)
	e.GET("/auth/callback", d.Auth.Callback)
	e.POST("/auth/logout", d.Auth.Logout)

	// Staff only: a session first, then the staff member's rate budget (ratelimit.go), then the
	// role's permission for the action (authz.go).
	limits := DefaultStaffLimits
	if d.StaffLimits != nil {
		limits = *d.StaffLimits
	}
	requireStaff, staffLimit := d.Auth.RequireStaff, h.staffLimit(limits)
	staff := func(next echo.HandlerFunc) echo.HandlerFunc { return requireStaff(staffLimit(next)) }
	e.GET("/", h.home, staff, h.can(authz.ReadUsers))
	e.GET("/users", h.userList, staff, h.can(authz.ReadUsers))
	// Finding users: exports get past the search's 1,000-result cap. ReadUsers suffices (the list
	// already shows every user page by page); every start and download is audited (users.export).
	e.GET("/users/exports", h.exportNew, staff, h.can(authz.ReadUsers))
	e.POST("/users/exports", h.exportStart, staff, h.can(authz.ReadUsers))
	e.GET("/users/exports/:job", h.exportShow, staff, h.can(authz.ReadUsers))
	e.GET("/users/exports/:job/download", h.exportDownload, staff, h.can(authz.ReadUsers))
	e.GET("/users/new", h.userNew, staff, h.can(authz.CreateUser))
	e.POST("/users", h.userCreate, staff, h.can(authz.CreateUser))
	e.GET("/users/:id", h.userShow, staff, h.can(authz.ReadUsers))
	// The user page: sections, then each action's form (GET) and its POST (user_show.go, user_actions.go).
	e.GET("/users/:id/roles", h.userRoles, staff, h.can(authz.ReadUsers))
	e.GET("/users/:id/logs", h.userLogs, staff, h.can(authz.ReadLogs))
	e.GET("/users/:id/sessions", h.userSessions, staff, h.can(authz.ReadUsers))
	e.GET("/users/:id/raw", h.userRaw, staff, h.can(authz.ReadUsers))
	e.POST("/users/:id/roles", h.roleAssign, staff, h.can(authz.AssignRoles))
	e.GET("/users/:id/profile", h.actionGet(users.ActProfile), staff, h.can(authz.EditProfile))
	e.POST("/users/:id/profile", h.actionPost(users.ActProfile), staff, h.can(authz.EditProfile))
	e.GET("/users/:id/email", h.actionGet(users.ActEmail), staff, h.can(authz.EditProfile))
	e.POST("/users/:id/email", h.actionPost(users.ActEmail), staff, h.can(authz.EditProfile))
	e.GET("/users/:id/password", h.actionGet(users.ActPassword), staff, h.can(authz.EditProfile))
	e.POST("/users/:id/password", h.actionPost(users.ActPassword), staff, h.can(authz.EditProfile))
	e.GET("/users/:id/ticket", h.actionGet(users.ActTicket), staff, h.can(authz.SendTicket))
	e.POST("/users/:id/ticket", h.actionPost(users.ActTicket), staff, h.can(authz.SendTicket))
	e.GET("/users/:id/verify", h.actionGet(users.ActVerify), staff, h.can(authz.SendVerify))
	e.POST("/users/:id/verify", h.actionPost(users.ActVerify), staff, h.can(authz.SendVerify))
	e.GET("/users/:id/block", h.actionGet(users.ActBlock), staff, h.can(authz.Block))
	e.POST("/users/:id/block", h.actionPost(users.ActBlock), staff, h.can(authz.Block))
	e.GET("/users/:id/unblock", h.actionGet(users.ActUnblock), staff, h.can(authz.Unblock))
	e.POST("/users/:id/unblock", h.actionPost(users.ActUnblock), staff, h.can(authz.Unblock))
	e.GET("/users/:id/blocks/clear", h.actionGet(users.ActClearBlocks), staff, h.can(authz.Unblock))
	e.POST("/users/:id/blocks/clear", h.actionPost(users.ActClearBlocks), staff, h.can(authz.Unblock))
	e.GET("/users/:id/mfa", h.actionGet(users.ActMFA), staff, h.can(authz.ResetMFA))
	e.POST("/users/:id/mfa", h.actionPost(users.ActMFA), staff, h.can(authz.ResetMFA))
	e.GET("/users/:id/revoke", h.actionGet(users.ActRevoke), staff, h.can(authz.RevokeSessions))
	e.POST("/users/:id/revoke", h.actionPost(users.ActRevoke), staff, h.can(authz.RevokeSessions))
	e.GET("/users/:id/mfa/recovery-code", h.actionGet(users.ActRecoveryCode), staff, h.can(authz.ResetMFA))
	e.POST("/users/:id/mfa/recovery-code", h.actionPost(users.ActRecoveryCode), staff, h.can(authz.ResetMFA))
	e.GET("/users/:id/identities/link", h.actionGet(users.ActLink), staff, h.can(authz.EditProfile))
	e.POST("/users/:id/identities/link", h.actionPost(users.ActLink), staff, h.can(authz.EditProfile))
	e.GET("/users/:id/identities/unlink", h.actionGet(users.ActUnlink), staff, h.can(authz.EditProfile))
	e.POST("/users/:id/identities/unlink", h.actionPost(users.ActUnlink), staff, h.can(authz.EditProfile))
	e.GET("/users/:id/sessions/revoke", h.actionGet(users.ActRevokeSession), staff, h.can(authz.RevokeSessions))
	e.POST("/users/:id/sessions/revoke", h.actionPost(users.ActRevokeSession), staff, h.can(authz.RevokeSessions))
	e.GET("/users/:id/roles/remove", h.actionGet(users.ActRoleRemove), staff, h.can(authz.AssignRoles))
	e.POST("/users/:id/roles/remove", h.actionPost(users.ActRoleRemove), staff, h.can(authz.AssignRoles))
	e.GET("/users/:id/delete", h.actionGet(users.ActDelete), staff, h.can(authz.DeleteUser))
	e.POST("/users/:id/delete", h.actionPost(users.ActDelete), staff, h.can(authz.DeleteUser))
	e.GET("/users/:id/metadata", h.metadataEdit, staff, h.can(authz.EditMetadata))
	e.POST("/users/:id/metadata", h.metadataSave, staff, h.can(authz.EditMetadata))
	e.GET("/audit", h.auditList, staff, h.can(authz.ReadAudit))
	e.GET("/audit.csv", h.auditCSV, staff, h.can(authz.ExportAudit))
	e.GET("/staff/sessions", h.staffSessions, staff, h.can(authz.StaffSessions))
	e.POST("/staff/sessions/end", h.staffSessionsEnd, staff, h.can(authz.StaffSessions))
	return e
}

func (h *handler) health(c echo.Context) error { return c.String(http.StatusOK, "ok") }

func (h *handler) home(c echo.Context) error { return c.Redirect(http.StatusFound, "/users") }
