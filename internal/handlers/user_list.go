package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/views"
)

// userList: GET /users?q=&page= — search box, count, table, pager. A query Auth0 refuses is shown
// next to the search box with Auth0's reason.
func (h *handler) userList(c echo.Context) error {
	q := c.QueryParam("q")
	page, _ := strconv.Atoi(c.QueryParam("page")) // bad or missing → first page
	res, err := h.users.Search(c.Request().Context(), q, page)
	if err != nil {
		var p *users.Problem
		if !errors.As(err, &p) {
			return err
		}
		h.logProblem(c, p)
		return h.render(c, p.Status, "Users", views.UserListPage(views.UserList{
			Query: q, QueryError: p.Fields["q"], Message: p.Message,
		}))
	}
	l := userList(res)
	l.CanCreate = allowed(c, authz.CreateUser)
	return h.render(c, http.StatusOK, "Users", views.UserListPage(l))
}

// logProblem records an explained upstream failure (the page shows only its sentence) and passes on
// how long Auth0 asked to wait as Retry-After.
func (h *handler) logProblem(c echo.Context, p *users.Problem) {
	setRetryAfter(c, p)
	if p.Err == nil {
		return
	}
	r := c.Request()
	h.log.WarnContext(r.Context(), "upstream problem", "method", r.Method, "path", r.URL.Path, "status", p.Status, "err", p.Err.Error())
}
