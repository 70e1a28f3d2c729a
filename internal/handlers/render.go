package handlers

import (
	"bytes"
	"context"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/reqctx"
	"github.com/userdesk/userdesk/internal/views"
)

// render is the one render helper: it renders content inside the layout into a buffer and only then
// writes the status, the content type and the body, so a failing component never leaves a half
// page behind a 200.
func (h *handler) render(c echo.Context, status int, title string, content templ.Component) error {
	body, err := h.renderPage(c.Request().Context(), title, content)
	if err != nil {
		return err
	}
	return c.HTMLBlob(status, body)
}

// renderHTTP is render for the few places outside an echo handler (the cross-origin deny handler).
func (h *handler) renderHTTP(w http.ResponseWriter, r *http.Request, status int, title string, content templ.Component) {
	body, err := h.renderPage(r.Context(), title, content)
	if err != nil {
		h.log.ErrorContext(r.Context(), "render failed", "path", r.URL.Path, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (h *handler) renderPage(ctx context.Context, title string, content templ.Component) ([]byte, error) {
	var buf bytes.Buffer
	if err := views.Layout(h.page(ctx, title), content).Render(ctx, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// page builds the layout's view model from what middleware put on the request context.
func (h *handler) page(ctx context.Context, title string) views.Page {
	p := views.Page{Title: title, Nonce: reqctx.Nonce(ctx), CSSURL: h.assets.css, JSURL: h.assets.js}
	if s, ok := reqctx.StaffFrom(ctx); ok {
		p.SignedIn = true
		p.StaffRole = string(s.Role)
		p.CanCreate = s.Role.Allows(authz.CreateUser)
		p.CanReadAudit = s.Role.Allows(authz.ReadAudit)
		p.CanStaffSessions = s.Role.Allows(authz.StaffSessions)
		p.StaffName = s.Name
		if p.StaffName == "" {
			p.StaffName = s.Email
		}
	}
	return p
}
