// Package mgmt is Userdesk's client for the Auth0 Management API v2, shaped like the hand-written
// go-auth0 v1 SDK but small, and built to spend the tenant's rate limit well and never lose or
// double a write.
//
// Endpoints: every call a support console makes, grouped as in the API: Users (CRUD, users-by-email,
// roles, permissions, logs, authentication methods and enrollments, remembered browsers, sessions,
// refresh tokens), UserBlocks (brute-force blocks), Roles, Logs, Tickets (password change, email
// verification) and Jobs (verification email, users export and its download), Connections. Each
// method's documentation names its Auth0 page and the scopes it needs. Response types keep every key
// Auth0 sends (unknown ones in Extra, nulls included), so they re-encode without loss.
//
// Token: one Client holds one client-credentials token for the process (optionally shared across
// replicas through a TokenStore), refreshed in the background when min(5 min, 10% of its lifetime)
// is left, never after a 401. Concurrent callers share one POST /oauth/token; a failing token
// endpoint is asked again only after a backoff (1 s doubling to 30 s), and callers meanwhile get the
// remembered *TokenError at once. Client.Scopes and Client.HasScope expose the granted scopes.
//
// Calls: every call runs under one deadline (WithTimeout, 10 s by default, or the caller's if
// sooner) that covers pacing, token, attempts and waits. An optional client-side limiter
// (WithRateLimit) paces the process. A 429 is waited out until Retry-After or x-ratelimit-reset
// and retried, up to WithMaxRetries times, unless the deadline comes first, in which case the
// 429 *Error comes back at once with RetryAfter. GET and DELETE also retry 502, 503, 504 and
// transport errors with jittered backoff; PATCH and POST retry only 429s. Users.Create never resends
// after an ambiguous failure: it looks the user up and reports created or not (CreateError).
// A circuit breaker (WithBreaker) stops sending after consecutive 5xx/transport failures until a
// probe succeeds. Parallel runs a page's independent calls concurrently. Client.RateLimit shows the
// last x-ratelimit-* headers; WithMetrics receives counters and timings.
//
// Errors: API answers are *Error values matching the sentinels (ErrNotFound, ErrConflict,
// ErrBadRequest with (*Error).Field, ErrInsufficientScope with (*Error).MissingScope,
// ErrRateLimited, ErrUnauthorized, ErrUnavailable) with errors.Is; token failures are *TokenError;
// no answer is *TransportError; the open breaker is *UnavailableError; the client-side limiter's
// refusal is *ThrottledError; RetryAfter(err) reads the wait from any of them. Writes carry
// X-Correlation-ID (WithCorrelationID, or random) and report it in *Error, *TransportError,
// *CreateError and CreateResult. No error string ever contains the access token or the client
// secret.
package mgmt
