package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/views"
)

// userShow: GET /users/:id — profile, identities, both metadata objects, and a flash for ?msg=.
func (h *handler) userShow(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	u, err := h.users.Get(c.Request().Context(), id)
	if errors.Is(err, users.ErrNoUser) {
		return h.noUser(c, id)
	}
	if err != nil {
		return err
	}
	d := userDetail(u, "")
	d.Flash, d.Warning = flashMessage(c.QueryParam("msg"))
	d.CanEditMetadata = allowed(c, authz.EditMetadata)
	d.Audit = h.userAudit(c, u.UserID)
	return h.render(c, http.StatusOK, heading(u), views.UserPage(d))
}

// noUser is the 404 page for an id Auth0 does not know.
func (h *handler) noUser(c echo.Context, id string) error {
	return h.render(c, http.StatusNotFound, "User not found", views.ErrorView(views.ErrorPage{
		Status: http.StatusNotFound, Title: "User not found", Message: "No user with id " + id + ".", BackURL: "/users",
	}))
}
