package handlers

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/views"
)

// userCreate: POST /users — create, then redirect (303) to the new user's page with ?msg=created.
// On failure the form comes back filled in, except the password, with each message next to its field.
// A user created whose audit entry could not be written lands on its page with that warning.
func (h *handler) userCreate(c echo.Context) error {
	in := users.NewUser{
		Connection:    c.FormValue("connection"),
		Email:         c.FormValue("email"),
		Username:      c.FormValue("username"),
		Password:      c.FormValue("password"),
		EmailVerified: c.FormValue("email_verified") == "true",
		Invite:        c.FormValue("invite") == "true",
		Reason:        c.FormValue("reason"),
	}
	ctx := c.Request().Context()
	id, err := h.users.Create(ctx, in)
	switch {
	case in.Invite && (err == nil || id != "" && errors.Is(err, users.ErrAuditFailed)):
		return h.invite(c, id, in.Reason, err == nil)
	case err == nil:
		return c.Redirect(http.StatusSeeOther, userURL(id)+"?msg=created")
	case id != "" && errors.Is(err, users.ErrAuditFailed):
		// The user exists; say so, and that the audit entry is missing (the recorder logged it).
		return c.Redirect(http.StatusSeeOther, userURL(id)+"?msg=created-unaudited")
	}
	var p *users.Problem
	if !errors.As(err, &p) {
		return err
	}
	h.logProblem(c, p)
	form := views.NewUserForm{
		Connection:     in.Connection,
		Email:          in.Email,
		Username:       in.Username,
		EmailVerified:  in.EmailVerified,
		Invite:         in.Invite,
		Errors:         p.Fields,
		Message:        withAuditNote(p),
		Reason:         in.Reason,
		ReasonRequired: h.users.ReasonRequiredFor(authz.CreateUser),
	}
	conns, cerr := h.users.DatabaseConnections(ctx)
	if cerr != nil {
		var cp *users.Problem
		if !errors.As(cerr, &cp) {
			return cerr
		}
		if form.Message == "" {
			form.Message = cp.Message
		}
	}
	form.Connections, form.UsernameConnections = connectionChoices(conns)
	return h.render(c, p.Status, "New user", views.NewUserPage(form))
}

// invite completes the invite path of a create: the user exists with a random password, so a
// password-change ticket (marking the email verified when used) is created and shown once with the
// new user's profile. If the ticket fails, the ticket form comes back with the reason, so it can be
// tried again; the user is created either way.
func (h *handler) invite(c echo.Context, id, reason string, audited bool) error {
	t, err := h.users.SendPasswordTicket(c.Request().Context(), id, users.TicketRequest{MarkVerified: true, Reason: reason})
	if err == nil || t != "" && errors.Is(err, users.ErrAuditFailed) {
		return h.afterAction(c, id, done{ticket: t}, audited && err == nil)
	}
	var p *users.Problem
	if !errors.As(err, &p) {
		return err
	}
	h.logProblem(c, p)
	return h.renderAction(c, users.ActTicket, id, p.Status, url.Values{"reason": {reason}}, p.Fields,
		"The user was created, but the password-change ticket could not be: "+withAuditNote(p))
}
