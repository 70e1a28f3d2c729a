package mgmt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
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
	// ErrUnavailable: Auth0 is not answering: any HTTP 5xx (Auth0 down, search timeout 503, a
	// proxy's 502/504), no answer at all (*TransportError, unless the caller cancelled), a token
	// endpoint that did not answer or answered 5xx, and the open circuit breaker (*UnavailableError).
	ErrUnavailable = errors.New("mgmt: service unavailable")
	// ErrCircuitOpen: the call was not sent because the circuit breaker is open (*UnavailableError).
	ErrCircuitOpen = errors.New("mgmt: circuit breaker open")
	// ErrNotCreated: Users.Create failed and the user certainly does not exist because of it: the
	// request was never sent, or its answer was lost and the lookup did not find the user
	// (*CreateError with Outcome CreateNotCreated). Trying again is safe.
	ErrNotCreated = errors.New("mgmt: user not created")
	// ErrCreateUnknown: Users.Create's answer was lost and the lookup failed too, so whether the
	// user exists is unknown (*CreateError with Outcome CreateUnknown). Look before trying again.
	ErrCreateUnknown = errors.New("mgmt: create outcome unknown")
)

// ErrInvalidInput is ErrBadRequest under the name of the error class: Auth0 rejected the request
// itself (see (*Error).Field and Error.Message).
var ErrInvalidInput = ErrBadRequest

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
	// or else x-ratelimit-reset (Unix seconds), on 429 and 503 answers. Zero when unknown. On a 429
	// the client has already waited and retried as far as the call's deadline allowed.
	RetryAfter time.Duration `json:"-"`

	// CorrelationID is the X-Correlation-ID the write carried ("" for reads).
	CorrelationID string `json:"-"`
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
// expected any of: `x`.") wordings are understood, and "expected all of: a,b" (the embedded
// tenant's multi-scope endpoints) becomes "a and b".
func (e *Error) MissingScope() string {
	if !errors.Is(e, ErrInsufficientScope) {
		return ""
	}
	for _, marker := range []string{"expected any of:", "expected all of:"} {
		i := strings.Index(e.Message, marker)
		if i < 0 {
			continue
		}
		s := strings.TrimSpace(e.Message[i+len(marker):])
		s = strings.Trim(strings.TrimSuffix(s, "."), "` ")
		if marker == "expected all of:" {
			// Every one is needed (the embedded tenant's wording for its multi-scope endpoints).
			var parts []string
			for p := range strings.SplitSeq(s, ",") {
				if p = strings.TrimSpace(p); p != "" {
					parts = append(parts, p)
				}
			}
			s = strings.Join(parts, " and ")
		}
		return s
	}
	return ""
}

// propertyRE finds the field in Auth0's validation messages: "Payload validation error: '…' on
// property email (The user's email)." or "Query validation error: '…' on property per_page (…)".
var propertyRE = regexp.MustCompile(`\bon property ([A-Za-z0-9_.\[\]-]+)`)

// Field names the input a 400 is about, when Auth0's answer tells: the property of a payload or
// query validation error ("email", "per_page", "user_metadata.plan"), "password" for the password
// policy errors, "connection" for an unknown or disabled connection, "email" for a malformed email.
// It returns "" for other errors or when the field cannot be told.
func (e *Error) Field() string {
	if e.StatusCode != http.StatusBadRequest {
		return ""
	}
	m := e.Message
	if sub := propertyRE.FindStringSubmatch(m); sub != nil {
		return strings.TrimSuffix(sub[1], ".")
	}
	switch {
	case strings.HasPrefix(m, "PasswordStrengthError"), strings.HasPrefix(m, "PasswordHistoryError"),
		strings.HasPrefix(m, "PasswordDictionaryError"), strings.HasPrefix(m, "PasswordNoUserInfoError"):
		return "password"
	case e.ErrorCode == "inexistent_connection", strings.HasPrefix(m, "The connection does not exist"),
		strings.HasPrefix(m, "Connection must be enabled"):
		return "connection"
	case strings.Contains(m, "validation for format email"):
		return "email"
	}
	return ""
}

// TransportError is a call that got no HTTP answer: connection refused or reset, TLS failure, the
// deadline, or an answer cut off mid-body. It matches ErrUnavailable unless the caller cancelled,
// and unwraps to the underlying error (a *url.Error; context.DeadlineExceeded on a timeout).
type TransportError struct {
	Method        string
	Endpoint      string // normalised, e.g. "/api/v2/users/{id}"
	CorrelationID string // of a write; "" for reads
	Err           error
}

func (e *TransportError) Error() string { return "mgmt: no answer from Auth0: " + e.Err.Error() }

// Unwrap returns ErrUnavailable (unless the caller cancelled) and the cause.
func (e *TransportError) Unwrap() []error {
	if errors.Is(e.Err, context.Canceled) {
		return []error{e.Err}
	}
	return []error{ErrUnavailable, e.Err}
}

// UnavailableError is a call refused by the open circuit breaker: Auth0 failed Failures times in a
// row, so the client stops sending until a probe succeeds. Nothing was sent. It matches
// ErrUnavailable and ErrCircuitOpen.
type UnavailableError struct {
	Failures   int           // consecutive failures that opened the breaker
	RetryAfter time.Duration // until the next probe may go out; 0 while a probe is in flight
}

func (e *UnavailableError) Error() string {
	s := fmt.Sprintf("mgmt: Auth0 is not answering (%d failed calls in a row); calls are paused", e.Failures)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" [retry after %s]", e.RetryAfter.Round(time.Millisecond))
	}
	return s
}

// Is matches ErrUnavailable and ErrCircuitOpen.
func (e *UnavailableError) Is(target error) bool {
	return target == ErrUnavailable || target == ErrCircuitOpen
}

// ThrottledError is a call the client-side limiter (WithRateLimit) refused because its slot comes
// after the call's deadline. Nothing was sent. It matches ErrRateLimited.
type ThrottledError struct {
	RetryAfter time.Duration // until the slot
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("mgmt: client-side rate limit: next request slot is after the call's deadline [retry after %s]", e.RetryAfter.Round(time.Millisecond))
}

// Is matches ErrRateLimited.
func (e *ThrottledError) Is(target error) bool { return target == ErrRateLimited }

// CreateOutcome says whether a failed Users.Create left a user behind.
type CreateOutcome int

const (
	// CreateUnknown: the answer was lost and the lookup failed too.
	CreateUnknown CreateOutcome = iota
	// CreateNotCreated: the user does not exist because of this call.
	CreateNotCreated
)

func (o CreateOutcome) String() string {
	if o == CreateNotCreated {
		return "not created"
	}
	return "unknown"
}

// CreateError is how Users.Create fails whenever Auth0 did not give a definitive 4xx answer: the
// request was not sent (token, breaker, client-side limiter: Outcome CreateNotCreated), or its
// answer was lost (transport error, timeout, 5xx) and the client looked the user up (by the user_id
// the create chose, else by email within the connection): not found → CreateNotCreated; lookup
// failed → CreateUnknown. When the lookup finds a user that is older than the request, it existed
// before: Outcome is CreateNotCreated, Existing is that user and the error also matches
// ErrConflict. (A lookup that finds the new user is not an error: Create succeeds, see
// CreateResult.Reconciled.)
//
// It matches ErrNotCreated or ErrCreateUnknown, and unwraps to the create's own error (so
// errors.Is(err, ErrUnavailable) and errors.As(err, **Error) keep working).
type CreateError struct {
	Outcome       CreateOutcome
	Err           error // why the create failed
	LookupErr     error // why the lookup failed (CreateUnknown only)
	Existing      *User // a user with that email or user_id that predates the request
	CorrelationID string
}

func (e *CreateError) Error() string {
	var b strings.Builder
	b.WriteString("mgmt: create user: ")
	switch {
	case e.Existing != nil:
		b.WriteString("not created, the user already existed")
	case e.Outcome == CreateNotCreated:
		b.WriteString("not created")
	default:
		b.WriteString("outcome unknown")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.LookupErr != nil {
		b.WriteString("; lookup failed: ")
		b.WriteString(e.LookupErr.Error())
	}
	return b.String()
}

// Unwrap returns the outcome sentinel (and ErrConflict for an existing user) and the create's error.
func (e *CreateError) Unwrap() []error {
	errs := []error{ErrCreateUnknown}
	if e.Outcome == CreateNotCreated {
		errs[0] = ErrNotCreated
	}
	if e.Existing != nil {
		errs = append(errs, ErrConflict)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// RetryAfter returns how long to wait before trying err's call again, when it says: a 429 or 503
// *Error, *ThrottledError, *UnavailableError, or a *TokenError in its backoff. It returns 0 when
// err says nothing about it.
func RetryAfter(err error) time.Duration {
	var (
		ae *Error
		th *ThrottledError
		ue *UnavailableError
		te *TokenError
	)
	switch {
	case errors.As(err, &ae) && ae.RetryAfter > 0:
		return ae.RetryAfter
	case errors.As(err, &th):
		return th.RetryAfter
	case errors.As(err, &ue):
		return ue.RetryAfter
	case errors.As(err, &te):
		return te.RetryAfter
	}
	return 0
}

// TokenError is a failure to obtain the Management API access token from POST /oauth/token. It never
// holds the client secret: the OAuth error description is redacted and the raw response body is
// dropped.
type TokenError struct {
	StatusCode  int    // HTTP status of /oauth/token; 0 when no response arrived
	ErrorCode   string // OAuth "error", e.g. "access_denied", "invalid_client"
	Description string // OAuth "error_description", e.g. "Unauthorized" (secrets redacted)
	// RetryAfter is how long the client will answer with this same error before asking the token
	// endpoint again (the failure backoff). Zero when the caller merely gave up waiting.
	RetryAfter time.Duration

	cause            error         // transport error, deadline, malformed response; nil when the server answered an error
	msg              string        // precomputed, redacted Error() text
	serverRetryAfter time.Duration // the endpoint's Retry-After / x-ratelimit-reset, if any
}

// Error returns a redacted, log-safe description.
func (e *TokenError) Error() string {
	if e.RetryAfter > 0 {
		return e.msg + " [retry after " + e.RetryAfter.Round(time.Millisecond).String() + "]"
	}
	return e.msg
}

// Unwrap exposes the sentinel for the status (401 and 403 → ErrUnauthorized, 429 → ErrRateLimited,
// 5xx and no answer → ErrUnavailable) and the underlying cause, e.g. context.DeadlineExceeded.
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
	case e.StatusCode == 0 && !errors.Is(e.cause, context.Canceled):
		errs = append(errs, ErrUnavailable)
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
