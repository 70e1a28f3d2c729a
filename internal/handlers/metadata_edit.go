package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/views"
)

// metadataEdit: GET /users/:id/metadata — one JSON textarea per metadata object.
func (h *handler) metadataEdit(c echo.Context) error {
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
	return h.render(c, http.StatusOK, "Edit metadata", views.MetadataPage(h.metadataForm(id, users.MetadataForm{
		UserMetadata: users.PrettyJSON(u.UserMetadata),
		AppMetadata:  users.PrettyJSON(u.AppMetadata),
	})))
}

func (h *handler) metadataForm(id string, f users.MetadataForm) views.MetadataForm {
	return views.MetadataForm{
		Heading:        id,
		ActionURL:      userURL(id) + "/metadata",
		CancelURL:      userURL(id),
		UserMetadata:   f.UserMetadata,
		AppMetadata:    f.AppMetadata,
		Reason:         f.Reason,
		ReasonRequired: h.users.ReasonRequiredFor(authz.EditMetadata),
	}
}

// withAuditNote is the problem's sentence, followed by users.MsgAuditFailed when its audit entry is
// missing.
func withAuditNote(p *users.Problem) string {
	if !p.AuditFailed {
		return p.Message
	}
	if p.Message == "" {
		return users.MsgAuditFailed
	}
	return p.Message + " " + users.MsgAuditFailed
}
