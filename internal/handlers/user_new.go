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
	form.Connections = conns
	if len(conns) == 1 {
		form.Connection = conns[0]
	}
	return h.render(c, status, "New user", views.NewUserPage(form))
}
