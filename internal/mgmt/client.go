package mgmt

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/sync/singleflight"
)

// DefaultTimeout is the per-call deadline applied when the caller's context has none sooner.
const DefaultTimeout = 10 * time.Second

const (
	maxBodyBytes  = 32 << 20 // a 100-user page of large profiles fits; a runaway body does not
	maxErrorBytes = 64 << 10
)

// Client calls the Management API of one tenant. It is safe for concurrent use; create one per
// tenant and share it, so that all requests share one cached token.
type Client struct {
	Users       *UserManager
	Connections *ConnectionManager

	core *core
}

// Option configures New.
type Option func(*options)

type options struct {
	httpClient *http.Client
	userAgent  string
	timeout    time.Duration
	now        func() time.Time
}

// WithHTTPClient sets the HTTP client used for API calls and token fetches (its Transport, redirect
// policy and jar). Per-call deadlines come from contexts; token fetches additionally get this client
// with Timeout set to the call timeout when it has none shorter.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithUserAgent sets the User-Agent of API calls and token fetches (default "Userdesk/<version>").
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// WithTimeout sets the per-call deadline (default DefaultTimeout), applied unless the caller's context
// ends sooner. It also bounds each token fetch.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithClock sets the clock used to turn Retry-After dates and x-ratelimit-reset into Error.RetryAfter.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// New returns a client for the tenant at domain, authenticating with the client-credentials grant of
// the machine-to-machine application clientID/clientSecret. domain is a bare host ("acme.eu.auth0.com",
// https implied) or a base URL ("http://127.0.0.1:8081"); see BaseURL. No network call is made here:
// the token is fetched by the first request.
func New(domain, clientID, clientSecret string, opts ...Option) (*Client, error) {
	base, err := BaseURL(domain)
	if err != nil {
		return nil, err
	}
	if clientID == "" {
		return nil, errors.New("mgmt: client ID is empty")
	}
	if clientSecret == "" {
		return nil, errors.New("mgmt: client secret is empty")
	}
	o := options{timeout: DefaultTimeout, now: time.Now, userAgent: defaultUserAgent()}
	for _, opt := range opts {
		opt(&o)
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("mgmt: timeout must be positive, got %s", o.timeout)
	}
	if o.now == nil {
		return nil, errors.New("mgmt: clock is nil")
	}
	if o.httpClient == nil {
		o.httpClient = &http.Client{
			// The API never redirects; following one would only resend the bearer token.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}

	// Token fetches: same transport, the User-Agent, and a hard timeout, because the oauth2 token
	// source has no per-call context of its own.
	tc := *o.httpClient
	if tc.Timeout <= 0 || tc.Timeout > o.timeout {
		tc.Timeout = o.timeout
	}
	tc.Transport = &userAgentTransport{next: transportOf(o.httpClient), ua: o.userAgent}

	cfg := &clientcredentials.Config{
		ClientID:       clientID,
		ClientSecret:   clientSecret,
		TokenURL:       base + "/oauth/token",
		EndpointParams: url.Values{"audience": {base + "/api/v2/"}},
	}
	// Built once, with a long-lived context: the token source keeps this context for every later
	// refresh, so it must not be a request's context.
	tokenCtx := context.WithValue(context.Background(), oauth2.HTTPClient, &tc)

	baseURL, _ := url.Parse(base) // validated by BaseURL
	c := &core{
		base:      baseURL,
		http:      o.httpClient,
		userAgent: o.userAgent,
		timeout:   o.timeout,
		now:       o.now,
		tokens: &tokenCache{
			src: cfg.TokenSource(tokenCtx),
			secrets: []string{
				clientSecret,
				url.QueryEscape(clientSecret),
				base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID) + ":" + url.QueryEscape(clientSecret))),
			},
		},
	}
	return &Client{Users: &UserManager{c: c}, Connections: &ConnectionManager{c: c}, core: c}, nil
}

// BaseURL normalizes a tenant domain to "scheme://host[:port]" with no trailing slash. A bare host gets
// https. Only http and https are accepted, with no user info, query, fragment or path other than "/".
func BaseURL(domain string) (string, error) {
	d := strings.TrimSpace(domain)
	if d == "" {
		return "", errors.New("mgmt: tenant domain is empty")
	}
	if !strings.Contains(d, "://") {
		d = "https://" + d
	}
	u, err := url.Parse(d)
	if err != nil {
		return "", fmt.Errorf("mgmt: invalid tenant domain %q: %w", domain, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("mgmt: tenant domain %q: scheme must be http or https", domain)
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("mgmt: tenant domain %q has no host", domain)
	case u.User != nil:
		return "", fmt.Errorf("mgmt: tenant domain %q must not contain user info", domain)
	case u.Path != "" && u.Path != "/":
		return "", fmt.Errorf("mgmt: tenant domain %q must not contain a path", domain)
	case u.RawQuery != "" || u.ForceQuery:
		return "", fmt.Errorf("mgmt: tenant domain %q must not contain a query", domain)
	case u.Fragment != "" || strings.Contains(d, "#"):
		return "", fmt.Errorf("mgmt: tenant domain %q must not contain a fragment", domain)
	}
	return u.Scheme + "://" + u.Host, nil
}

func defaultUserAgent() string {
	v := "dev"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return "Userdesk/" + v
}

func transportOf(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

type userAgentTransport struct {
	next http.RoundTripper
	ua   string
}

func (t *userAgentTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context()) // a RoundTripper must not modify the caller's request
	r.Header.Set("User-Agent", t.ua)
	return t.next.RoundTrip(r)
}

// tokenCache serves the cached token without locking and, on a miss, lets exactly one goroutine ask
// the oauth2 token source while every caller waits only as long as its own context allows. The
// source (x/oauth2's ReuseTokenSource) refreshes 10 s before expiry.
type tokenCache struct {
	src     oauth2.TokenSource
	cur     atomic.Pointer[oauth2.Token]
	group   singleflight.Group
	secrets []string // redacted from any text a token endpoint sends back
}

func (t *tokenCache) token(ctx context.Context) (*oauth2.Token, error) {
	if tok := t.cur.Load(); tok.Valid() {
		return tok, nil
	}
	ch := t.group.DoChan("token", func() (any, error) {
		tok, err := t.src.Token()
		if err != nil {
			return nil, err
		}
		t.cur.Store(tok)
		return tok, nil
	})
	select {
	case <-ctx.Done():
		// The fetch goes on in the background (bounded by the token client's timeout) and
		// will serve the next caller.
		return nil, t.tokenError(ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return nil, t.tokenError(r.Err)
		}
		return r.Val.(*oauth2.Token), nil
	}
}

func (t *tokenCache) tokenError(err error) *TokenError {
	te := &TokenError{}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		// The raw body is dropped on purpose: it is the server's text and may echo credentials.
		if re.Response != nil {
			te.StatusCode = re.Response.StatusCode
		}
		te.ErrorCode = redact(re.ErrorCode, t.secrets...)
		te.Description = redact(re.ErrorDescription, t.secrets...)
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
	te.msg = redact(b.String(), t.secrets...)
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

// core is what the resource groups share: base URL, HTTP client, token cache and defaults.
type core struct {
	base      *url.URL
	http      *http.Client
	userAgent string
	timeout   time.Duration
	now       func() time.Time
	tokens    *tokenCache
}

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

// do sends one request and decodes the 2xx JSON body into out; with a nil out the body is ignored
// (DELETE's 204). Any other status becomes *Error.
func (c *core) do(ctx context.Context, method string, u *url.URL, query url.Values, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("mgmt: encoding %s %s body: %w", method, u.Path, err)
		}
		body = bytes.NewReader(b)
	}
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return fmt.Errorf("mgmt: building %s %s: %w", method, u.Path, err)
	}
	tok, err := c.tokens.token(ctx)
	if err != nil {
		return err
	}
	tok.SetAuthHeader(req)
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error names method and URL (no credentials: those are only in headers).
		return fmt.Errorf("mgmt: %w", err)
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
		return c.apiError(resp, raw, tok.AccessToken)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		return fmt.Errorf("mgmt: reading %s %s response: %w", method, u.Path, err)
	}
	if len(raw) > maxBodyBytes {
		return fmt.Errorf("mgmt: %s %s response exceeds %d bytes", method, u.Path, maxBodyBytes)
	}
	if out == nil {
		return nil
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		// Every wrapped endpoint that has a result returns a JSON body; a zero value would pass
		// for a real user or list.
		return fmt.Errorf("mgmt: %s %s: empty %d response", method, u.Path, resp.StatusCode)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("mgmt: decoding %s %s response: %w", method, u.Path, err)
	}
	return nil
}

// apiError builds *Error from a non-2xx response. The HTTP status is authoritative; text fields come
// from Auth0's JSON error body only, with the bearer token redacted in case a server echoes it.
func (c *core) apiError(resp *http.Response, body []byte, accessToken string) *Error {
	e := &Error{StatusCode: resp.StatusCode}
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
