package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/views"
)

// userNew: GET /users/new — the empty create form. If the connections cannot be listed the form is
// still shown, with the reason.
func (h *handler) userNew(c echo.Context) error {
	form := views.NewUserForm{ReasonRequired: h.users.ReasonRequiredFor(authz.CreateUser)}
	status := http.StatusOK
	conns, err := h.users.DatabaseConnections(c.Request().Context())
	if err != nil {
		var p *users.Problem
		if !errors.As(err, &p) {
			return err
		}
		h.logProblem(c, p)
		form.Message, status = p.Message, p.Status
	}
	form.Connections, form.UsernameConnections = connectionChoices(conns)
	if len(conns) == 1 {
		form.Connection = conns[0].Name
	}
	return h.render(c, status, "New user", views.NewUserPage(form))
}

// connectionChoices splits the database connections into the create form's choices and the names
// of those that require a username.
func connectionChoices(conns []users.DBConnection) (names, needUsername []string) {
	for _, c := range conns {
		names = append(names, c.Name)
		if c.RequiresUsername {
			needUsername = append(needUsername, c.Name)
		}
	}
	return names, needUsername
}
