package handlers

import (
	"bytes"
	"context"
	"net/http"
	"sync"

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
	buf, err := h.renderPage(c.Request().Context(), title, content)
	defer putPageBuffer(buf)
	if err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// renderHTTP is render for the few places outside an echo handler (the cross-origin deny handler).
func (h *handler) renderHTTP(w http.ResponseWriter, r *http.Request, status int, title string, content templ.Component) {
	buf, err := h.renderPage(r.Context(), title, content)
	defer putPageBuffer(buf)
	if err != nil {
		h.log.ErrorContext(r.Context(), "render failed", "path", r.URL.Path, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderPage renders content inside the layout into a buffer from pageBuffers; the caller writes
// it out, then hands it back with putPageBuffer.
func (h *handler) renderPage(ctx context.Context, title string, content templ.Component) (*bytes.Buffer, error) {
	buf := pageBuffers.Get().(*bytes.Buffer)
	if err := views.Layout(h.page(ctx, title), content).Render(ctx, buf); err != nil {
		return buf, err
	}
	return buf, nil
}

// pageBuffers keeps page buffers between requests: a page is a few kilobytes, and growing a fresh
// buffer to that size on every request was a good part of what rendering allocated.
var pageBuffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 16<<10)) }}

// maxPooledPage: buffers that grew past this (a long audit page) are left to the collector rather
// than kept for every later request.
const maxPooledPage = 256 << 10

func putPageBuffer(buf *bytes.Buffer) {
	if buf.Cap() > maxPooledPage {
		return
	}
	buf.Reset()
	pageBuffers.Put(buf)
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
