package mgmt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/sync/singleflight"
)

// Token-failure backoff: after a failed fetch, callers get that failure back without a new POST
// until the backoff has passed; it doubles per consecutive failure.
const (
	tokenBackoffMin = time.Second
	tokenBackoffMax = 30 * time.Second
	// defaultTokenLifetime is assumed when a token response has no expires_in (Auth0 always sends
	// it; the Management API default is 24 h, so an hour is conservative).
	defaultTokenLifetime = time.Hour
	// tokenSendMargin: a token this close to expiry (or 5% of its lifetime, if less: always inside
	// the 10% refresh window) is not sent, because it could expire on the way.
	tokenSendMargin = 10 * time.Second
)

// Token is a Management API access token as the client caches it. Its String and GoString omit the
// access token, so printing a Token (or a struct holding one) never leaks it.
type Token struct {
	AccessToken string
	TokenType   string    // "Bearer"
	Scopes      []string  // granted scopes from the token response's "scope", sorted
	IssuedAt    time.Time // client clock when the fetch started
	Expiry      time.Time // IssuedAt + expires_in
}

// String describes the token without its secret value.
func (t Token) String() string {
	return fmt.Sprintf("mgmt.Token{%s, expires %s, scopes %q}", redacted, t.Expiry.UTC().Format(time.RFC3339), t.Scopes)
}

// GoString is String, so %#v does not print the access token either.
func (t Token) GoString() string { return t.String() }

// lifetime is how long the token was issued for.
func (t *Token) lifetime() time.Duration { return t.Expiry.Sub(t.IssuedAt) }

// TokenStore keeps the Management API token beyond one process's memory, so that replicas can share
// one token (the operations issue backs it with the shared database). The client keeps its own
// in-memory copy and consults the store only when that copy is due for refresh: before fetching, it
// loads, and if the stored token is fresh it uses it instead; after fetching, it saves. Load returns
// nil and no error when nothing is stored. Errors are not fatal: a failed Load means a fetch, a
// failed Save only costs the other replicas a fetch of their own. A store serves one tenant and
// one client ID; keying is the implementation's business. Implementations must be safe for
// concurrent use and must never log the token.
type TokenStore interface {
	Load(ctx context.Context) (*Token, error)
	Save(ctx context.Context, t *Token) error
}

// MemoryTokenStore is the default TokenStore: nothing beyond the process.
type MemoryTokenStore struct {
	mu  sync.Mutex
	tok *Token
}

// Load returns a copy of the saved token, or nil.
func (s *MemoryTokenStore) Load(context.Context) (*Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == nil {
		return nil, nil
	}
	t := *s.tok
	t.Scopes = slices.Clone(t.Scopes)
	return &t, nil
}

// Save keeps a copy of t.
func (s *MemoryTokenStore) Save(_ context.Context, t *Token) error {
	c := *t
	c.Scopes = slices.Clone(t.Scopes)
	s.mu.Lock()
	s.tok = &c
	s.mu.Unlock()
	return nil
}

// tokenManager serves the cached token without locking. A token is "fresh" until its refresh point
// (expiry minus min(window, 10% of the lifetime)); after that, until shortly before expiry, calls
// still use it while one background fetch replaces it; past that, callers wait for a fetch. All
// fetches go through one singleflight key, so concurrent callers share one POST /oauth/token, and a
// fetch runs under its own context, not a caller's. A failed fetch is remembered with exponential
// backoff (1 s doubling to 30 s, or longer if the endpoint's Retry-After says so): until then
// callers get the same *TokenError at once and the endpoint is not asked again.
type tokenManager struct {
	cfg      *clientcredentials.Config
	fetchCtx context.Context // background context carrying the token HTTP client
	timeout  time.Duration
	store    TokenStore
	now      func() time.Time
	window   time.Duration
	metrics  Metrics
	secrets  []string // redacted from any text a token endpoint sends back

	cur   atomic.Pointer[Token]
	group singleflight.Group

	mu       sync.Mutex
	failures int
	retryAt  time.Time
	lastErr  *TokenError
}

// refreshAt is when t stops being fresh.
func (m *tokenManager) refreshAt(t *Token) time.Time {
	return t.Expiry.Add(-min(m.window, t.lifetime()/10))
}

// usableUntil is when t may no longer be sent.
func usableUntil(t *Token) time.Time {
	return t.Expiry.Add(-min(tokenSendMargin, t.lifetime()/20))
}

// token returns a token to send, fetching one when needed. It waits no longer than ctx allows; the
// fetch itself goes on and serves the next caller.
func (m *tokenManager) token(ctx context.Context) (*Token, error) {
	now := m.now()
	if t := m.cur.Load(); t != nil {
		if now.Before(m.refreshAt(t)) {
			return t, nil
		}
		if now.Before(usableUntil(t)) {
			if m.backoffErr(now) == nil {
				m.group.DoChan("token", m.fetch) // buffered channel: nobody needs to read it
			}
			return t, nil
		}
	}
	if te := m.backoffErr(now); te != nil {
		return nil, te
	}
	ch := m.group.DoChan("token", m.fetch)
	select {
	case <-ctx.Done():
		return nil, m.tokenError(ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Token), nil
	}
}

// backoffErr returns the remembered failure while the backoff lasts, with RetryAfter set to what
// is left of it.
func (m *tokenManager) backoffErr(now time.Time) *TokenError {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lastErr == nil || !now.Before(m.retryAt) {
		return nil
	}
	te := *m.lastErr
	te.RetryAfter = m.retryAt.Sub(now)
	return &te
}

// fetch is the singleflight body: another replica's stored token, else one POST /oauth/token.
func (m *tokenManager) fetch() (any, error) {
	now := m.now()
	if te := m.backoffErr(now); te != nil {
		return nil, te
	}
	if t := m.loadStored(now); t != nil {
		m.cur.Store(t)
		return t, nil
	}

	ctx, cancel := context.WithTimeout(m.fetchCtx, m.timeout)
	defer cancel()
	start := time.Now()
	raw, err := m.cfg.Token(ctx) // exactly one POST: AuthStyle is fixed
	m.metrics.TokenFetch(err == nil, time.Since(start))
	if err != nil {
		te := m.tokenError(err)
		m.mu.Lock()
		m.failures++
		wait := min(tokenBackoffMin<<min(m.failures-1, 16), tokenBackoffMax)
		wait = max(wait, te.serverRetryAfter)
		m.retryAt = now.Add(wait)
		m.lastErr = te
		m.mu.Unlock()
		out := *te
		out.RetryAfter = wait
		return nil, &out
	}

	life := tokenLifetime(raw)
	t := &Token{
		AccessToken: raw.AccessToken,
		TokenType:   raw.Type(),
		Scopes:      parseScopes(raw.Extra("scope")),
		IssuedAt:    now,
		Expiry:      now.Add(life),
	}
	m.mu.Lock()
	m.failures, m.retryAt, m.lastErr = 0, time.Time{}, nil
	m.mu.Unlock()
	m.cur.Store(t)
	sctx, scancel := context.WithTimeout(context.Background(), m.timeout)
	_ = m.store.Save(sctx, t) // best effort: this process has the token either way
	scancel()
	return t, nil
}

// loadStored returns the store's token when it is fresh.
func (m *tokenManager) loadStored(now time.Time) *Token {
	ctx, cancel := context.WithTimeout(context.Background(), m.timeout)
	defer cancel()
	t, err := m.store.Load(ctx)
	if err != nil || t == nil || t.AccessToken == "" || !now.Before(m.refreshAt(t)) {
		return nil
	}
	return t
}

// tokenLifetime reads expires_in from the raw response (clientcredentials does not copy it into
// Token.ExpiresIn), so that expiry is measured on the client's own clock.
func tokenLifetime(raw *oauth2.Token) time.Duration {
	var secs float64
	switch v := raw.Extra("expires_in").(type) {
	case float64:
		secs = v
	case int64:
		secs = float64(v)
	case string: // some servers send a string
		secs, _ = strconv.ParseFloat(v, 64)
	}
	if secs <= 0 && raw.ExpiresIn > 0 {
		secs = float64(raw.ExpiresIn)
	}
	if secs <= 0 {
		return defaultTokenLifetime
	}
	return time.Duration(secs * float64(time.Second))
}

func parseScopes(v any) []string {
	s, _ := v.(string)
	out := strings.Fields(s)
	slices.Sort(out)
	return slices.Compact(out)
}

func (m *tokenManager) tokenError(err error) *TokenError {
	te := &TokenError{}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		// The raw body is dropped on purpose: it is the server's text and may echo credentials.
		if re.Response != nil {
			te.StatusCode = re.Response.StatusCode
			te.serverRetryAfter = min(retryAfter(re.Response.Header, m.now()), 10*time.Minute)
		}
		te.ErrorCode = redact(re.ErrorCode, m.secrets...)
		te.Description = redact(re.ErrorDescription, m.secrets...)
	} else {
		te.cause = err
	}
	var b strings.Builder
	b.WriteString("mgmt: fetching Management API token: ")
	switch {
	case te.StatusCode != 0:
		fmt.Fprintf(&b, "%d %s", te.StatusCode, http.StatusText(te.StatusCode))
		if te.ErrorCode != "" {
			b.WriteString(": " + te.ErrorCode)
		}
		if te.Description != "" {
			b.WriteString(": " + te.Description)
		}
	case te.cause != nil:
		b.WriteString(te.cause.Error())
	default:
		b.WriteString("token endpoint error")
	}
	te.msg = redact(b.String(), m.secrets...)
	return te
}

func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, redacted)
		}
	}
	return s
}
