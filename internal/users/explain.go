package users

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/userdesk/userdesk/internal/mgmt"
)

// Op names what the staff member was doing when an upstream call failed; the sentence depends on it
// (a failed create has an unknown outcome, a failed search belongs next to the search box).
type Op int

const (
	OpRead   Op = iota // GET one user or the connection list
	OpSearch           // list/search users
	OpCreate           // POST /api/v2/users
	OpUpdate           // PATCH /api/v2/users/{id}
)

// Sentences shown to staff. They never contain upstream text for 5xx answers.
const (
	MsgDuplicateEmail = "A user with this email already exists."
	// MsgDuplicateEmailOrUsername is the 409 of a create that sent a username too: Auth0 does not
	// say which of the two is taken.
	MsgDuplicateEmailOrUsername = "A user with this email or this username already exists in this connection."
	MsgRateLimited              = "Auth0 is rate limiting requests; try again in a few seconds."
	MsgNotCreated               = "Auth0 did not answer, and Userdesk checked: the user was not created. You can try again."
	MsgUnavailable              = "Auth0 is not answering right now; nothing was changed."
	MsgReadFailed               = "Auth0 is not answering right now; try again in a moment."
	MsgCreateUnknown            = "Auth0 is not answering right now, so it is unknown whether the user was created; search for the email before trying again."
	MsgUpdateUnknown            = "Auth0 did not answer in time, so it is unknown whether the change was saved; reload the user before trying again."
	MsgUnauthorized             = "Auth0 rejected Userdesk's service account credentials; ask an administrator to check them."
	MsgScopeUnknown             = "The service account is missing a permission this action needs."
)

// MsgRateLimitedFor names the wait when Auth0 (or the client's own pacing) said how long it is.
func MsgRateLimitedFor(wait time.Duration) string {
	if wait <= 0 {
		return MsgRateLimited
	}
	return fmt.Sprintf("Auth0 is rate limiting requests; try again in %d s.", int(math.Ceil(wait.Seconds())))
}

// MsgPausedFor is the sentence while the circuit breaker holds calls back: nothing was sent.
func MsgPausedFor(wait time.Duration) string {
	s := "Auth0 is not answering; Userdesk paused its calls"
	if wait > 0 {
		s += fmt.Sprintf(" for %d s", int(math.Ceil(wait.Seconds())))
	}
	return s + ". Nothing was changed."
}

// MsgMissingScope is the sentence for a 403 insufficient_scope answer; scopes is Auth0's "expected
// any of" list, of which one would have been enough.
func MsgMissingScope(scopes string) string {
	if strings.Contains(scopes, ",") {
		return "The service account is missing one of these permissions: " + scopes + "."
	}
	return "The service account is missing the " + scopes + " permission."
}

// Explain turns an upstream error into a *Problem with a sentence for staff. Errors that are not
// about Auth0's answer (a cancelled request, a bug) are returned unchanged, so they end as a generic
// 500 page. It never returns nil for a non-nil err.
func Explain(op Op, err error) error {
	if err == nil {
		return nil
	}
	var p *Problem
	if errors.As(err, &p) || errors.Is(err, context.Canceled) {
		return err
	}
	var me *mgmt.Error
	hasMgmt := errors.As(err, &me)
	status := 0
	if hasMgmt {
		status = me.Status()
	}

	switch {
	case errors.Is(err, mgmt.ErrRateLimited) || status == http.StatusTooManyRequests:
		wait := mgmt.RetryAfter(err)
		return &Problem{Status: http.StatusServiceUnavailable, Message: MsgRateLimitedFor(wait), RetryAfter: wait, Err: err}

	case errors.Is(err, mgmt.ErrCircuitOpen):
		wait := mgmt.RetryAfter(err)
		return &Problem{Status: http.StatusServiceUnavailable, Message: MsgPausedFor(wait), RetryAfter: wait, Err: err}

	case errors.Is(err, mgmt.ErrInsufficientScope):
		msg := MsgScopeUnknown
		if hasMgmt {
			if s := strings.TrimSpace(me.MissingScope()); s != "" {
				msg = MsgMissingScope(s)
			}
		}
		return &Problem{Status: http.StatusBadGateway, Message: msg, Err: err}

	case errors.Is(err, mgmt.ErrUnauthorized) || status == http.StatusUnauthorized:
		return &Problem{Status: http.StatusBadGateway, Message: MsgUnauthorized, Err: err}

	case op == OpCreate && (errors.Is(err, mgmt.ErrConflict) || status == http.StatusConflict):
		return &Problem{Status: http.StatusConflict, Fields: map[string]string{"email": MsgDuplicateEmail}, Err: err}

	case op == OpCreate && errors.Is(err, mgmt.ErrNotCreated):
		// The client looked the user up after the lost answer (or never sent the request).
		return &Problem{Status: unavailableStatus(err), Message: MsgNotCreated, Err: err}

	case errors.Is(err, mgmt.ErrUnavailable) || status >= 500 || isTimeout(err) || noAnswer(err):
		return &Problem{Status: unavailableStatus(err), Message: unavailableMessage(op, status, err), Err: err}

	case hasMgmt && status >= 400:
		// A 4xx other than the above is about the request itself; Auth0's message says what was wrong.
		msg := strings.TrimSpace(me.Message)
		if msg == "" {
			msg = "Auth0 refused the request (HTTP " + http.StatusText(status) + ")."
		}
		field := fieldFor(op, msg)
		pageStatus := http.StatusUnprocessableEntity
		if op == OpSearch {
			pageStatus = http.StatusBadRequest
		}
		if status == http.StatusForbidden {
			pageStatus = http.StatusForbidden
			field = ""
		}
		if field != "" {
			return &Problem{Status: pageStatus, Fields: map[string]string{field: msg}, Err: err}
		}
		return &Problem{Status: pageStatus, Message: msg, Err: err}
	}
	return err
}

// fieldFor picks the form field an Auth0 4xx message belongs to.
func fieldFor(op Op, msg string) string {
	switch op {
	case OpSearch:
		return "q"
	case OpCreate:
		switch {
		case strings.HasPrefix(msg, "PasswordStrengthError"), strings.HasPrefix(msg, "PasswordHistoryError"),
			strings.HasPrefix(msg, "PasswordDictionaryError"), strings.HasPrefix(msg, "PasswordNoUserInfoError"):
			return "password"
		case strings.Contains(msg, "format email"), strings.Contains(msg, "property email"):
			return "email"
		case strings.Contains(msg, "username"):
			return "username"
		case strings.Contains(msg, "connection"):
			return "connection"
		}
	}
	return ""
}

func unavailableStatus(err error) int {
	if isTimeout(err) {
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}

// unavailableMessage: a write that may have reached Auth0 (a timeout, a connection lost after the
// request went out, a 500 or 504) may have been applied, so only a request that never left (a failed
// dial) or a gateway's 502/503 is reported as "nothing was changed". A create reaching this point is
// one the client could not check (mgmt.ErrCreateUnknown).
func unavailableMessage(op Op, status int, err error) string {
	switch op {
	case OpCreate:
		return MsgCreateUnknown
	case OpUpdate:
		if status == http.StatusBadGateway || status == http.StatusServiceUnavailable || neverSent(err) {
			return MsgUnavailable
		}
		return MsgUpdateUnknown
	default:
		return MsgReadFailed
	}
}

// noAnswer reports a request that got no HTTP answer at all (connection refused, DNS, TLS).
func noAnswer(err error) bool {
	var te *mgmt.TokenError
	if errors.As(err, &te) && te.StatusCode == 0 {
		return true
	}
	var ue *url.Error
	var oe *net.OpError
	return errors.As(err, &ue) || errors.As(err, &oe)
}

// neverSent reports a request that failed before it left: the connection could not be opened.
func neverSent(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial" && !isTimeout(err)
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
