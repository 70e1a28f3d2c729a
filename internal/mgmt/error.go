package mgmt

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors matched by *Error (and, where noted, *TokenError) through errors.Is.
var (
	// ErrNotFound: HTTP 404, e.g. "The user does not exist." (errorCode inexistent_user).
	ErrNotFound = errors.New("mgmt: not found")
	// ErrConflict: HTTP 409, e.g. "The user already exists." on POST /users.
	ErrConflict = errors.New("mgmt: conflict")
	// ErrBadRequest: HTTP 400 (payload or query validation, weak password, unknown connection, ...).
	ErrBadRequest = errors.New("mgmt: bad request")
	// ErrUnauthorized: HTTP 401 from the API, or 401/403 from /oauth/token (bad client credentials,
	// missing client grant).
	ErrUnauthorized = errors.New("mgmt: unauthorized")
	// ErrForbidden: any HTTP 403 from the API.
	ErrForbidden = errors.New("mgmt: forbidden")
	// ErrInsufficientScope: HTTP 403 because the token lacks a scope; see (*Error).MissingScope.
	ErrInsufficientScope = errors.New("mgmt: insufficient scope")
	// ErrRateLimited: HTTP 429; see Error.RetryAfter.
	ErrRateLimited = errors.New("mgmt: rate limited")
	// ErrUnavailable: any HTTP 5xx (Auth0 down, search timeout 503, a proxy's 502/504).
	ErrUnavailable = errors.New("mgmt: service unavailable")
)

// redacted replaces secrets found in text that came from the server.
const redacted = "[REDACTED]"

// Error is a non-2xx answer of the Management API, decoded from Auth0's
// {"statusCode","error","message","errorCode"} body. When the body is not that JSON (a proxy's HTML
// page, say), StatusCode and Err come from the HTTP status line and Message is empty: a foreign body is
// never copied into the error.
type Error struct {
	StatusCode int    `json:"statusCode"`          // HTTP status
	Err        string `json:"error"`               // HTTP reason phrase, e.g. "Not Found"
	Message    string `json:"message"`             // Auth0's explanation, e.g. "The user does not exist."
	ErrorCode  string `json:"errorCode,omitempty"` // e.g. "inexistent_user", "insufficient_scope"; often absent

	// RetryAfter is how long Auth0 asks the caller to wait, from Retry-After (seconds or HTTP date)
	// or else x-ratelimit-reset (Unix seconds), on 429 and 503 answers. Zero when unknown.
	RetryAfter time.Duration `json:"-"`
}

// Status returns the HTTP status code.
func (e *Error) Status() int { return e.StatusCode }

// Error formats as go-auth0 does ("404 Not Found: The user does not exist.") plus the errorCode.
// Message and the other fields were redacted of the access token and client secret when the
// error was built, so the string is safe to log.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("mgmt: ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.Err != "" {
		b.WriteString(" ")
		b.WriteString(e.Err)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.ErrorCode != "" {
		b.WriteString(" (")
		b.WriteString(e.ErrorCode)
		b.WriteString(")")
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " [retry after %s]", e.RetryAfter)
	}
	return b.String()
}

// Is reports whether the error matches one of the package's sentinels by status (and errorCode).
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrInsufficientScope:
		// Some live 403s carry the message without errorCode, so the message counts too.
		return e.StatusCode == http.StatusForbidden &&
			(e.ErrorCode == "insufficient_scope" || strings.HasPrefix(e.Message, "Insufficient scope"))
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrUnavailable:
		return e.StatusCode >= 500 && e.StatusCode <= 599
	}
	return false
}

// MissingScope returns the scope list of an insufficient-scope 403 as Auth0 wrote it after
// "expected any of:", e.g. "read:users" or "read:users, read:user_idp_tokens", or "" for any other
// error. Both live ("Insufficient scope, expected any of: x") and documented ("Insufficient scope;
// expected any of: `x`.") wordings are understood.
func (e *Error) MissingScope() string {
	if !errors.Is(e, ErrInsufficientScope) {
		return ""
	}
	const marker = "expected any of:"
	i := strings.Index(e.Message, marker)
	if i < 0 {
		return ""
	}
	s := strings.TrimSpace(e.Message[i+len(marker):])
	s = strings.TrimSuffix(s, ".")
	return strings.Trim(s, "` ")
}

// TokenError is a failure to obtain the Management API access token from POST /oauth/token. It never
// holds the client secret: the OAuth error description is redacted and the raw response body is
// dropped.
type TokenError struct {
	StatusCode  int    // HTTP status of /oauth/token; 0 when no response arrived
	ErrorCode   string // OAuth "error", e.g. "access_denied", "invalid_client"
	Description string // OAuth "error_description", e.g. "Unauthorized" (secrets redacted)

	cause error  // transport error, deadline, malformed response; nil when the server answered an error
	msg   string // precomputed, redacted Error() text
}

// Error returns a redacted, log-safe description.
func (e *TokenError) Error() string { return e.msg }

// Unwrap exposes the sentinel for the status (401 and 403 → ErrUnauthorized, 429 → ErrRateLimited,
// 5xx → ErrUnavailable) and the underlying cause, e.g. context.DeadlineExceeded.
func (e *TokenError) Unwrap() []error {
	var errs []error
	switch {
	case e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden:
		errs = append(errs, ErrUnauthorized)
	case e.StatusCode == http.StatusTooManyRequests:
		errs = append(errs, ErrRateLimited)
	case e.StatusCode >= 500 && e.StatusCode <= 599:
		errs = append(errs, ErrUnavailable)
	case e.StatusCode == http.StatusBadRequest:
		errs = append(errs, ErrBadRequest)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// retryAfter reads Retry-After (delta seconds or HTTP date) and then x-ratelimit-reset (absolute Unix
// seconds, as Auth0 sends it). It returns 0 when neither header gives a time in the future.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs > 0 {
			return time.Duration(secs) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil && t.After(now) {
			return t.Sub(now)
		}
	}
	if v := strings.TrimSpace(h.Get("X-Ratelimit-Reset")); v != "" {
		if unix, err := strconv.ParseInt(v, 10, 64); err == nil {
			if d := time.Unix(unix, 0).Sub(now); d > 0 {
				return d
			}
		}
	}
	return 0
}
