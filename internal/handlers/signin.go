package handlers

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/safepath"
	"github.com/userdesk/userdesk/internal/views"
)

// Codes internal/staffauth may put in /signin?error=. Any other value shows nothing: the page
// never echoes the parameter.
const (
	SignInErrDenied    = "denied"          // the IdP answered with an error (cancelled, access denied)
	SignInErrExpired   = "expired"         // the login transaction was missing or too old (state cookie)
	SignInErrFailed    = "failed"          // token exchange or ID token verification failed
	SignInErrForbidden = "forbidden"       // signed in, but not allowed to use the console
	SignInErrSession   = "session"         // the session ended (idle or absolute timeout)
	SignInErrIdP       = "idp_unavailable" // the identity provider could not be reached
	SignInSignedOut    = "signed_out"      // not an error: the staff member signed out (shown as a notice)
)

func signInError(code string) string {
	switch code {
	case SignInErrDenied:
		return "Sign-in was cancelled or refused by the identity provider."
	case SignInErrExpired:
		return "The sign-in took too long or was started in another tab. Please try again."
	case SignInErrFailed:
		return "Sign-in failed. Please try again."
	case SignInErrForbidden:
		return "Your account is not allowed to use " + Product + "."
	case SignInErrSession:
		return "Your session has ended. Please sign in again."
	case SignInErrIdP:
		return "The identity provider is not answering. Try again in a moment."
	}
	return ""
}

// signIn is the public page with the one link that starts the OIDC login.
func (h *handler) signIn(c echo.Context) error {
	login := "/auth/login"
	if rt := safepath.ReturnTo(c.QueryParam("return_to")); rt != "" {
		login += "?return_to=" + url.QueryEscape(rt)
	}
	notice := ""
	if c.QueryParam("error") == SignInSignedOut {
		notice = "You have signed out."
	}
	return h.render(c, http.StatusOK, "Sign in", views.SignInPage(views.SignIn{
		Product:  Product,
		Error:    signInError(c.QueryParam("error")),
		Notice:   notice,
		LoginURL: login,
	}))
}
