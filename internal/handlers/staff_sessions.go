package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/staffsessions"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/views"
)

const (
	msgNoSessions     = "Staff sessions are not configured."
	msgSessionsFailed = "The sessions could not be read. The error has been logged; please try again."
)

// staffSessions: GET /staff/sessions — the active (not idle, not expired) staff sessions.
func (h *handler) staffSessions(c echo.Context) error {
	p := views.StaffSessions{}
	switch c.QueryParam("msg") {
	case "ended":
		p.Flash = "The staff member's sessions were ended; their next request signs them out."
	case "ended-unaudited":
		p.Flash = "The staff member's sessions were ended; their next request signs them out."
		p.Warning = users.MsgAuditFailed
	}
	if h.sessions == nil {
		p.Message = msgNoSessions
		return h.render(c, http.StatusServiceUnavailable, "Staff sessions", views.StaffSessionsPage(p))
	}
	list, err := h.sessions.Active(c.Request().Context())
	if err != nil {
		h.log.ErrorContext(c.Request().Context(), "listing staff sessions failed", "err", err)
		p.Message = msgSessionsFailed
		return h.render(c, http.StatusInternalServerError, "Staff sessions", views.StaffSessionsPage(p))
	}
	for _, s := range list {
		p.Rows = append(p.Rows, staffSessionRow(s))
	}
	return h.render(c, http.StatusOK, "Staff sessions", views.StaffSessionsPage(p))
}

// staffSessionsEnd: POST /staff/sessions/end — end every session of one staff member (issuer and
// subject from the form), then back to the list (303).
func (h *handler) staffSessionsEnd(c echo.Context) error {
	issuer, subject := c.FormValue("issuer"), c.FormValue("subject")
	if subject == "" {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	if h.sessions == nil {
		return &users.Problem{Status: http.StatusServiceUnavailable, Message: msgNoSessions}
	}
	_, err := h.sessions.End(c.Request().Context(), issuer, subject)
	switch {
	case err == nil:
		return c.Redirect(http.StatusSeeOther, "/staff/sessions?msg=ended")
	case errors.Is(err, staffsessions.ErrAuditFailed):
		return c.Redirect(http.StatusSeeOther, "/staff/sessions?msg=ended-unaudited")
	}
	return err
}

func staffSessionRow(s staffsessions.Session) views.StaffSessionRow {
	name := s.Email
	if name == "" {
		name = s.Name
	}
	if name == "" {
		name = s.Subject
	}
	role := string(s.Role)
	if role == "" {
		role = "no role"
	}
	seen := s.SeenAt
	if seen.IsZero() {
		seen = s.CreatedAt
	}
	return views.StaffSessionRow{
		Staff: name, Issuer: s.Issuer, Subject: s.Subject, Role: role, Groups: strings.Join(s.Roles, ", "),
		IP: s.IP, UserAgent: s.UserAgent, Created: s.CreatedAt.UTC().Format(timeLayout), LastSeen: seen.UTC().Format(timeLayout),
	}
}
