package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/views"
)

// userCreate: POST /users — create, then redirect (303) to the new user's page with ?msg=created.
// On failure the form comes back filled in, except the password, with each message next to its field.
func (h *handler) userCreate(c echo.Context) error {
	in := users.NewUser{
		Connection:    c.FormValue("connection"),
		Email:         c.FormValue("email"),
		Password:      c.FormValue("password"),
		EmailVerified: c.FormValue("email_verified") == "true",
	}
	ctx := c.Request().Context()
	id, err := h.users.Create(ctx, in)
	if err == nil {
		return c.Redirect(http.StatusSeeOther, userURL(id)+"?msg=created")
	}
	var p *users.Problem
	if !errors.As(err, &p) {
		return err
	}
	h.logProblem(c, p)
	form := views.NewUserForm{
		Connection:    in.Connection,
		Email:         in.Email,
		EmailVerified: in.EmailVerified,
		Errors:        p.Fields,
		Message:       p.Message,
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
