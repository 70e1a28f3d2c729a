package handlers

import (
	"errors"
	"net/http"

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
		Password:      c.FormValue("password"),
		EmailVerified: c.FormValue("email_verified") == "true",
		Reason:        c.FormValue("reason"),
	}
	ctx := c.Request().Context()
	id, err := h.users.Create(ctx, in)
	switch {
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
		EmailVerified:  in.EmailVerified,
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
	form.Connections = conns
	return h.render(c, p.Status, "New user", views.NewUserPage(form))
}
