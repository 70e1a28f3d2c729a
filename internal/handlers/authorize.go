package handlers

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/reqctx"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/views"
)

// allowed reports whether the signed-in staff member's role permits a.
func allowed(c echo.Context, a authz.Action) bool {
	s, ok := reqctx.StaffFrom(c.Request().Context())
	return ok && s.Role.Allows(a)
}

// can is the route-level permission check. It runs after RequireStaff, so the staff member is known;
// a refusal is a 403 page that names the role needed, is logged as authz_fail, and reaches neither the
// handler nor Auth0.
func (h *handler) can(a authz.Action) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if allowed(c, a) {
				return next(c)
			}
			r := c.Request()
			s, _ := reqctx.StaffFrom(r.Context())
			h.log.WarnContext(r.Context(), "authz_fail", "iss", s.Issuer, "sub", s.Subject, "role", string(s.Role),
				"action", string(a), "method", r.Method, "path", r.URL.Path)
			role := string(s.Role)
			if role == "" {
				role = "no role"
			}
			msg := "Your role (" + role + ") cannot do this; it needs " + string(authz.MinimumRole(a)) + " or higher."
			if h.audit != nil {
				target, _ := url.PathUnescape(c.Param("id"))
				if err := h.audit.Denied(r.Context(), a, target); err != nil {
					msg += " " + users.MsgAuditFailed
				}
			}
			return h.render(c, http.StatusForbidden, "Not allowed", views.ErrorView(views.ErrorPage{
				Status:  http.StatusForbidden,
				Title:   "Not allowed",
				Message: msg,
				BackURL: "/users",
			}))
		}
	}
}
