package handlers

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/views"
)

// handleError is the one HTTPErrorHandler. It maps every error to a page with a safe sentence and
// logs the cause. For 5xx it shows only our own sentences (a *users.Problem carries those), never an
// upstream message, an error string or a stack.
func (h *handler) handleError(err error, c echo.Context) {
	r := c.Request()
	page := errorPage(c, err)
	level := slog.LevelInfo
	if page.Status >= 500 {
		level = slog.LevelError
	}
	h.log.LogAttrs(r.Context(), level, "request failed",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", page.Status), slog.String("err", err.Error()))

	if c.Response().Committed {
		return
	}
	if r.Method == http.MethodHead {
		_ = c.NoContent(page.Status)
		return
	}
	if rerr := h.render(c, page.Status, page.Title, views.ErrorView(page)); rerr != nil {
		h.log.ErrorContext(r.Context(), "rendering the error page failed", "err", rerr)
		_ = c.String(http.StatusInternalServerError, "Something went wrong")
	}
}

func errorPage(c echo.Context, err error) views.ErrorPage {
	var p *users.Problem
	if errors.As(err, &p) {
		setRetryAfter(c, p)
		msg := p.Message
		if msg == "" {
			for _, m := range p.Fields {
				msg = m
				break
			}
		}
		if p.AuditFailed {
			msg += " " + users.MsgAuditFailed
		}
		return views.ErrorPage{Status: p.Status, Title: statusTitle(p.Status), Message: msg, BackURL: "/users"}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			return views.ErrorPage{Status: he.Code, Title: "Page not found", Message: "There is no page at this address.", BackURL: "/users"}
		case http.StatusMethodNotAllowed:
			return views.ErrorPage{Status: he.Code, Title: "Method not allowed", Message: "This page does not accept that kind of request."}
		case http.StatusUnauthorized, http.StatusForbidden:
			// Only our own authentication code raises these, with sentences written for staff.
			msg, _ := he.Message.(string)
			if msg == "" || msg == http.StatusText(he.Code) {
				msg = "You are not allowed to do that."
			}
			title := "Forbidden"
			if he.Code == http.StatusUnauthorized {
				title = "Sign-in required"
			}
			return views.ErrorPage{Status: he.Code, Title: title, Message: msg}
		case http.StatusRequestEntityTooLarge:
			return views.ErrorPage{Status: he.Code, Title: "Request too large", Message: "The form was too large to accept."}
		}
		if he.Code >= 400 && he.Code < 500 {
			return views.ErrorPage{Status: he.Code, Title: http.StatusText(he.Code), Message: "The request could not be handled."}
		}
	}
	return views.ErrorPage{Status: http.StatusInternalServerError, Title: "Something went wrong",
		Message: "Something went wrong on our side. The error has been logged; please try again."}
}

func statusTitle(status int) string {
	switch {
	case status == http.StatusNotFound:
		return "Not found"
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		return "Auth0 is busy"
	case status >= 500:
		return "Auth0 problem"
	case status == http.StatusForbidden:
		return "Refused by Auth0"
	}
	return "Request refused"
}

// crossOriginDenied answers an unsafe cross-origin request (net/http.CrossOriginProtection) with the
// 403 page. Nothing after it runs, so no handler and no upstream call sees the request.
func (h *handler) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	h.log.LogAttrs(r.Context(), slog.LevelWarn, "cross-origin request refused",
		slog.String("event", "malicious_csrf"), slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.String("sec_fetch_site", r.Header.Get("Sec-Fetch-Site")), slog.String("origin", r.Header.Get("Origin")))
	h.renderHTTP(w, r, http.StatusForbidden, "Forbidden", views.ErrorView(views.ErrorPage{
		Status: http.StatusForbidden, Title: "Forbidden",
		Message: "This request came from another site, so it was refused. Nothing was changed.",
	}))
}

// logPanic is Recover's logger: the panic and its stack go to the log, never to the page.
func (h *handler) logPanic(c echo.Context, err error, stack []byte) error {
	h.log.ErrorContext(c.Request().Context(), "panic", "path", c.Request().URL.Path, "err", err, "stack", string(stack))
	return err
}

// setRetryAfter sends Retry-After (whole seconds, rounded up) when Auth0 said how long to wait.
func setRetryAfter(c echo.Context, p *users.Problem) {
	if p.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(p.RetryAfter.Seconds()))))
	}
}
