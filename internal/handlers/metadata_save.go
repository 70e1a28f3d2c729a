package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/views"
)

// metadataSave: POST /users/:id/metadata — every step of the editor, chosen by the button pressed:
//
//   - op=rows / op=json switch the editor, op=more adds empty rows, op=edit goes back to the editor
//     (from the preview or the conflict page): the form comes back with every edit kept, and nothing
//     is asked of Auth0;
//   - no op, op=preview or op=resolve (the conflict page's choices): validate, re-read the user and
//     show the exact PATCH body and its effect in words (users.Service.PreviewMetadata);
//   - confirm=1: save what the preview showed (users.Service.SaveMetadata), then redirect (303) to
//     the user page, which re-reads the user, with ?msg=metadata-saved (or nochange, or a variant
//     saying the audit entry is missing or Auth0's answer did not show every change).
//
// Invalid input comes back as 422 with the messages next to the fields and in a summary at the top,
// before any upstream call; keys changed meanwhile by someone else give the 409 conflict page and
// nothing is sent; a change the metadata write policy refuses is a 403 naming the keys.
func (h *handler) metadataSave(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	in, err := readMetadataInput(c)
	if err != nil {
		return err
	}
	switch {
	case in.op == modeRows || in.op == modeJSON:
		if errs := in.convert(in.op); errs != nil {
			return h.renderMetadataForm(c, http.StatusUnprocessableEntity, id, in, errs, "")
		}
		return h.renderMetadataForm(c, http.StatusOK, id, in, nil, "")
	case in.op == "more":
		return h.renderMetadataFormExtra(c, http.StatusOK, id, in, nil, "", spareRows)
	case in.op == "edit":
		return h.renderMetadataForm(c, http.StatusOK, id, in, nil, "")
	case in.confirm:
		return h.metadataConfirm(c, id, in)
	}
	plan, err := h.users.PreviewMetadata(c.Request().Context(), id, in.serviceForm())
	if err != nil {
		return h.metadataFailed(c, id, in, err)
	}
	if plan.Empty() {
		return c.Redirect(http.StatusSeeOther, metadataRedirect(id, "nochange"))
	}
	return h.render(c, http.StatusOK, "Check the metadata change", views.MetadataPreviewPage(previewView(id, in, plan)))
}

// metadataConfirm saves the previewed edit.
func (h *handler) metadataConfirm(c echo.Context, id string, in metadataInput) error {
	out, err := h.users.SaveMetadata(c.Request().Context(), id, in.serviceForm())
	unaudited := errors.Is(err, users.ErrAuditFailed)
	switch {
	case err != nil && !(unaudited && (out == users.Saved || out == users.SavedUnverified)):
		return h.metadataFailed(c, id, in, err)
	case out == users.NoChange:
		return c.Redirect(http.StatusSeeOther, metadataRedirect(id, "nochange"))
	case out == users.SavedUnverified && unaudited:
		return c.Redirect(http.StatusSeeOther, metadataRedirect(id, "metadata-unverified-unaudited"))
	case out == users.SavedUnverified:
		return c.Redirect(http.StatusSeeOther, metadataRedirect(id, "metadata-unverified"))
	case unaudited:
		return c.Redirect(http.StatusSeeOther, metadataRedirect(id, "metadata-saved-unaudited"))
	}
	return c.Redirect(http.StatusSeeOther, metadataRedirect(id, "metadata-saved"))
}

// metadataFailed shows why a preview or save did not happen: the conflict page (409), the editor
// with the staff member's input and the sentences (422 invalid, 400 damaged form, 403 policy, or
// Auth0's failure), or the missing-user page.
func (h *handler) metadataFailed(c echo.Context, id string, in metadataInput, err error) error {
	var ce *users.ConflictError
	if errors.As(err, &ce) {
		return h.render(c, http.StatusConflict, "Metadata changed meanwhile", views.MetadataConflictPage(conflictView(id, in, ce)))
	}
	if errors.Is(err, users.ErrNoUser) {
		return h.noUser(c, id)
	}
	var p *users.Problem
	if !errors.As(err, &p) {
		return err
	}
	h.logProblem(c, p)
	return h.renderMetadataForm(c, p.Status, id, in, p.Fields, withAuditNote(p))
}

// msgMetadataUnverified warns that Auth0 accepted a metadata save but its answer did not show every
// change (users.SavedUnverified; the audit entry names the keys).
const msgMetadataUnverified = "Auth0's answer to the save did not show every change; check the metadata below."
