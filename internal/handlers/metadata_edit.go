package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

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
	return h.render(c, http.StatusOK, "Edit metadata", views.MetadataPage(metadataForm(id, users.MetadataForm{
		UserMetadata: users.PrettyJSON(u.UserMetadata),
		AppMetadata:  users.PrettyJSON(u.AppMetadata),
	})))
}

func metadataForm(id string, f users.MetadataForm) views.MetadataForm {
	return views.MetadataForm{
		Heading:      id,
		ActionURL:    userURL(id) + "/metadata",
		CancelURL:    userURL(id),
		UserMetadata: f.UserMetadata,
		AppMetadata:  f.AppMetadata,
	}
}
