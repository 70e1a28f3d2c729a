package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/views"
)

// metadataSave: POST /users/:id/metadata — validate both texts, send only the changed top-level
// keys, then redirect (303) with ?msg=metadata-saved or ?msg=nochange. On failure the staff
// member's text comes back with the message next to the textarea it concerns; a change the
// metadata write policy refuses comes back as a 403 naming the keys (users.Service.SaveMetadata).
func (h *handler) metadataSave(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	in := users.MetadataForm{UserMetadata: c.FormValue("user_metadata"), AppMetadata: c.FormValue("app_metadata"),
		Reason: c.FormValue("reason")}
	out, err := h.users.SaveMetadata(c.Request().Context(), id, in)
	switch {
	case err == nil && out == users.NoChange:
		return c.Redirect(http.StatusSeeOther, userURL(id)+"?msg=nochange")
	case err == nil:
		return c.Redirect(http.StatusSeeOther, userURL(id)+"?msg=metadata-saved")
	case out == users.Saved && errors.Is(err, users.ErrAuditFailed):
		return c.Redirect(http.StatusSeeOther, userURL(id)+"?msg=metadata-saved-unaudited")
	case errors.Is(err, users.ErrNoUser):
		return h.noUser(c, id)
	}
	var p *users.Problem
	if !errors.As(err, &p) {
		return err
	}
	h.logProblem(c, p)
	form := h.metadataForm(id, in)
	form.Errors, form.Message = p.Fields, withAuditNote(p)
	return h.render(c, p.Status, "Edit metadata", views.MetadataPage(form))
}
