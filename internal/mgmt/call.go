package mgmt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// core is what the resource groups share: base URL, HTTP client, token manager, limiter, breaker
// and the retry policy.
type core struct {
	base       *url.URL
	http       *http.Client
	userAgent  string
	timeout    time.Duration
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	metrics    Metrics
	maxRetries int
	retryBase  time.Duration
	retryMax   time.Duration
	tokens     *tokenManager
	breaker    *breaker
	limiter    *rate.Limiter // nil: no client-side limit
	rateLimit  atomic.Pointer[RateLimit]
}

// Normalised endpoint names, used for metrics and errors instead of raw paths.
const (
	routeUsers       = "/api/v2/users"
	routeUser        = "/api/v2/users/{id}"
	routeUsersEmail  = "/api/v2/users-by-email"
	routeConnections = "/api/v2/connections"

	routeUserRoles           = "/api/v2/users/{id}/roles"
	routeUserPermissions     = "/api/v2/users/{id}/permissions"
	routeUserLogs            = "/api/v2/users/{id}/logs"
	routeUserAuthMethods     = "/api/v2/users/{id}/authentication-methods"
	routeUserAuthMethod      = "/api/v2/users/{id}/authentication-methods/{method_id}"
	routeUserEnrollments     = "/api/v2/users/{id}/enrollments"
	routeUserRememberBrowser = "/api/v2/users/{id}/multifactor/actions/invalidate-remember-browser"
	routeUserSessions        = "/api/v2/users/{id}/sessions"
	routeUserRefreshTokens   = "/api/v2/users/{id}/refresh-tokens"
	routeUserOrganizations   = "/api/v2/users/{id}/organizations"
	routeUserRecoveryCode    = "/api/v2/users/{id}/recovery-code-regeneration"
	routeUserIdentities      = "/api/v2/users/{id}/identities"
	routeUserIdentity        = "/api/v2/users/{id}/identities/{provider}/{user_id}"
	routeSession             = "/api/v2/sessions/{id}"
	routeSessionRevoke       = "/api/v2/sessions/{id}/revoke"
	routeUserBlocks          = "/api/v2/user-blocks"
	routeUserBlock           = "/api/v2/user-blocks/{id}"
	routeRoles               = "/api/v2/roles"
	routeRole                = "/api/v2/roles/{id}"
	routeLogs                = "/api/v2/logs"
	routeLog                 = "/api/v2/logs/{id}"
	routeTicketPassword      = "/api/v2/tickets/password-change"
	routeTicketEmail         = "/api/v2/tickets/email-verification"
	routeJobVerification     = "/api/v2/jobs/verification-email"
	routeJobExport           = "/api/v2/jobs/users-exports"
	routeJob                 = "/api/v2/jobs/{id}"
	// routeJobDownload names an export download (Jobs.Download): the location is a signed URL,
	// usually on another host, and never appears in metrics or errors.
	routeJobDownload = "{export location}"
)

// endpoint returns base + "/api/v2/" + the segments, each path-escaped, with Path and RawPath set
// so that "auth0|a/b" goes on the wire as "auth0%7Ca%2Fb".
func (c *core) endpoint(segments ...string) *url.URL {
	escaped := make([]string, len(segments))
	for i, s := range segments {
		escaped[i] = url.PathEscape(s)
	}
	u := *c.base
	u.Path = "/api/v2/" + strings.Join(segments, "/")
	u.RawPath = "/api/v2/" + strings.Join(escaped, "/")
	if u.RawPath == u.Path {
		u.RawPath = ""
	}
	return &u
}

// checkID rejects IDs that cannot address a single resource: empty, or a dot segment that a proxy
// could resolve to a different path.
func checkID(kind, id string) error {
	if id == "" || id == "." || id == ".." {
		return fmt.Errorf("mgmt: invalid %s ID %q", kind, id)
	}
	return nil
}

// request is one logical call; do may send it several times.
type request struct {
	method string
	route  string // normalised endpoint
	u      *url.URL
	query  url.Values
	in     any // JSON body, nil = none
	out    any // decoded 2xx body, nil = ignored

	skipBreaker bool // a create's reconciliation lookup: it must run even while the breaker is open
	// notIdempotent: a DELETE whose repeat would fail once the first took effect (an unlink):
	// resent only after a 429, like a POST.
	notIdempotent bool

	sent bool // set once an attempt reached the HTTP client: the upstream may have seen it
}

func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// retriesUnavailable: methods that may be resent after a 502/503/504 or a transport error. GET
// reads; DELETE is idempotent at Auth0 (204 even when the user is already gone). PATCH and POST are
// resent only after a 429, which Auth0 answers before applying anything.
func retriesUnavailable(method string) bool {
	return method == http.MethodGet || method == http.MethodDelete
}

// do runs the call under the per-call deadline: pacing, token, breaker, the attempt, and retries
// with waits, all within that one deadline. Writes carry X-Correlation-ID (from ctx or new), the
// same on every attempt.
func (c *core) do(ctx context.Context, r *request) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	var body []byte
	if r.in != nil {
		b, err := json.Marshal(r.in)
		if err != nil {
			return fmt.Errorf("mgmt: encoding %s %s body: %w", r.method, r.route, err)
		}
		body = b
	}
	if len(r.query) > 0 {
		r.u.RawQuery = r.query.Encode()
	}
	cid := ""
	if isWrite(r.method) {
		cid = correlationFor(ctx)
	}

	for attempt := 0; ; attempt++ {
		err := c.attempt(ctx, r, body, cid)
		if err == nil {
			return nil
		}
		wait, reason, ok := c.retryWait(r, err, attempt)
		if !ok || ctx.Err() != nil {
			return err
		}
		// A wait that outlasts the deadline is not started: the caller gets the answer now,
		// with its RetryAfter, instead of at the deadline.
		if dl, has := ctx.Deadline(); has && time.Until(dl) <= wait {
			return err
		}
		c.metrics.Retry(r.route, reason)
		c.metrics.Wait(r.route, "retry", wait)
		if c.sleep(ctx, wait) != nil {
			return err
		}
	}
}

// retryWait decides whether err is worth another attempt and how long to wait first.
func (c *core) retryWait(r *request, err error, attempt int) (time.Duration, string, bool) {
	if attempt >= c.maxRetries {
		return 0, "", false
	}
	var ae *Error
	if errors.As(err, &ae) {
		switch {
		case ae.StatusCode == http.StatusTooManyRequests:
			if ae.RetryAfter <= 0 {
				return c.backoff(attempt), "429", true
			}
			// The bucket refills at the reset second; a little jitter keeps replicas that were
			// told the same second from arriving together.
			return ae.RetryAfter + jitter(min(ae.RetryAfter/10, 500*time.Millisecond)), "429", true
		case retriesUnavailable(r.method) && !r.notIdempotent && (ae.StatusCode == http.StatusBadGateway ||
			ae.StatusCode == http.StatusServiceUnavailable || ae.StatusCode == http.StatusGatewayTimeout):
			return max(c.backoff(attempt), ae.RetryAfter), strconv.Itoa(ae.StatusCode), true
		}
		return 0, "", false
	}
	var te *TransportError
	if retriesUnavailable(r.method) && !r.notIdempotent && errors.As(err, &te) && !errors.Is(err, context.Canceled) {
		return c.backoff(attempt), "transport", true
	}
	return 0, "", false
}

// backoff is a random wait in [d/2, d], d = min(base·2^attempt, max).
func (c *core) backoff(attempt int) time.Duration {
	d := c.retryMax
	if attempt < 30 {
		d = min(c.retryBase<<attempt, c.retryMax)
	}
	return d/2 + jitter(d/2)
}

// jitter returns a random duration in [0, d].
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}

// attempt sends the request once and decodes the answer.
func (c *core) attempt(ctx context.Context, r *request, body []byte, cid string) (err error) {
	if err := c.pace(ctx, r.route); err != nil {
		return err
	}
	tok, err := c.tokens.token(ctx)
	if err != nil {
		return err
	}
	probe := false
	if !r.skipBreaker {
		if probe, err = c.breaker.allow(); err != nil {
			return err
		}
	}
	result := outcomeNeutral
	defer func() { c.breaker.record(probe, result) }()

	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.u.String(), rd)
	if err != nil {
		return fmt.Errorf("mgmt: building %s %s: %w", r.method, r.route, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cid != "" {
		req.Header.Set("X-Correlation-ID", cid)
	}

	r.sent = true
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.metrics.Call(r.route, r.method, 0, time.Since(start))
		if !errors.Is(err, context.Canceled) {
			result = outcomeFailure
		}
		// *url.Error names method and URL (no credentials: those are only in headers).
		return &TransportError{Method: r.method, Endpoint: r.route, CorrelationID: cid, Err: err}
	}
	defer resp.Body.Close()
	c.observeRateLimit(resp.Header, r.route)

	limit := int64(maxBodyBytes + 1)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		limit = maxErrorBytes
	}
	raw, rerr := io.ReadAll(io.LimitReader(resp.Body, limit))
	c.metrics.Call(r.route, r.method, resp.StatusCode, time.Since(start))
	switch {
	case resp.StatusCode >= 500:
		result = outcomeFailure
	case rerr != nil && !errors.Is(rerr, context.Canceled):
		result = outcomeFailure // the answer was cut off
	default:
		result = outcomeSuccess
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if resp.StatusCode == http.StatusTooManyRequests {
			c.metrics.RateLimited(r.route)
		}
		return c.apiError(resp, raw, tok.AccessToken, cid)
	}
	if rerr != nil {
		return &TransportError{Method: r.method, Endpoint: r.route, CorrelationID: cid, Err: fmt.Errorf("reading response: %w", rerr)}
	}
	if len(raw) > maxBodyBytes {
		return fmt.Errorf("mgmt: %s %s response exceeds %d bytes", r.method, r.route, maxBodyBytes)
	}
	if r.out == nil {
		return nil
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		// Every wrapped endpoint that has a result returns a JSON body; a zero value would pass
		// for a real user or list.
		return fmt.Errorf("mgmt: %s %s: empty %d response", r.method, r.route, resp.StatusCode)
	}
	if err := json.Unmarshal(raw, r.out); err != nil {
		return fmt.Errorf("mgmt: decoding %s %s response: %w", r.method, r.route, err)
	}
	return nil
}

// apiError builds *Error from a non-2xx response. The HTTP status is authoritative; text fields come
// from Auth0's JSON error body only, with the bearer token redacted in case a server echoes it.
func (c *core) apiError(resp *http.Response, body []byte, accessToken, cid string) *Error {
	e := &Error{StatusCode: resp.StatusCode, CorrelationID: cid}
	var wire Error
	if json.Unmarshal(body, &wire) == nil {
		secrets := append([]string{accessToken}, c.tokens.secrets...)
		e.Err = redact(wire.Err, secrets...)
		e.Message = redact(wire.Message, secrets...)
		e.ErrorCode = redact(wire.ErrorCode, secrets...)
	}
	if e.Err == "" {
		e.Err = http.StatusText(resp.StatusCode)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		e.RetryAfter = retryAfter(resp.Header, c.now())
	}
	return e
}

// call runs one request built from its parts (see do).
func (c *core) call(ctx context.Context, method, route string, u *url.URL, q url.Values, in, out any) error {
	return c.do(ctx, &request{method: method, route: route, u: u, query: q, in: in, out: out})
}
