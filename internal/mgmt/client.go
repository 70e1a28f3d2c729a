package mgmt

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/time/rate"
)

// DefaultTimeout is the per-call deadline applied when the caller's context has none sooner. It
// covers the whole call: limiter wait, token, every attempt and every wait between attempts.
const DefaultTimeout = 10 * time.Second

// Defaults of the resilience options (see the With... options).
const (
	DefaultTokenRefreshWindow = 5 * time.Minute // refresh when min(this, 10% of the lifetime) is left
	DefaultMaxRetries         = 3               // retries after the first attempt
	DefaultBreakerFailures    = 5               // consecutive failures that open the breaker
	DefaultBreakerCooldown    = 10 * time.Second
	DefaultRetryBase          = 250 * time.Millisecond
	DefaultRetryMax           = 4 * time.Second
	createSettleDelay         = time.Second // pause before looking up a create that timed out
	createClockSkew           = 2 * time.Minute
)

const (
	maxBodyBytes  = 32 << 20 // a 100-user page of large profiles fits; a runaway body does not
	maxErrorBytes = 64 << 10
)

// Client calls the Management API of one tenant. It is safe for concurrent use; create one per
// tenant and share it, so that all requests share one cached token, one limiter and one breaker.
type Client struct {
	Users       *UserManager
	Connections *ConnectionManager
	UserBlocks  *UserBlockManager
	Roles       *RoleManager
	Logs        *LogManager
	Tickets     *TicketManager
	Jobs        *JobManager
	Sessions    *SessionManager

	core *core
}

// Option configures New.
type Option func(*options)

type options struct {
	httpClient      *http.Client
	userAgent       string
	timeout         time.Duration
	now             func() time.Time
	sleep           func(context.Context, time.Duration) error
	tokenStore      TokenStore
	refreshWindow   time.Duration
	rps             float64
	burst           int
	maxRetries      int
	retryBase       time.Duration
	retryMax        time.Duration
	breakerFailures int
	breakerCooldown time.Duration
	metrics         Metrics
	audience        string
}

// WithHTTPClient sets the HTTP client used for API calls and token fetches (its Transport, redirect
// policy and jar). Per-call deadlines come from contexts; token fetches additionally get this client
// with Timeout set to the call timeout when it has none shorter.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithUserAgent sets the User-Agent of API calls and token fetches (default "Userdesk/<version>").
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// WithTimeout sets the per-call deadline (default DefaultTimeout), applied unless the caller's context
// ends sooner. It also bounds each token fetch and the lookup after an ambiguous create.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithClock sets the clock used for token expiry, the token-failure backoff, the breaker cooldown,
// the client-side limiter and turning Retry-After dates and x-ratelimit-reset into waits.
// Context deadlines stay in real time.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSleep sets how the client waits (between retries, for the limiter); it must return ctx.Err()
// when ctx ends first. Tests pair it with WithClock to make waits instant and observable.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(o *options) { o.sleep = sleep }
}

// WithTokenStore sets where the token is kept besides the process memory (default: memory only). A
// store shared by replicas (see TokenStore) lets them share one token.
func WithTokenStore(s TokenStore) Option { return func(o *options) { o.tokenStore = s } }

// WithTokenRefreshWindow sets how early a token is refreshed: when less than min(d, 10% of its
// lifetime) is left (default DefaultTokenRefreshWindow). Calls keep using the current token while
// one background fetch replaces it.
func WithTokenRefreshWindow(d time.Duration) Option { return func(o *options) { o.refreshWindow = d } }

// WithRateLimit keeps the process under rps requests per second to the Management API with bursts
// of up to burst requests (golang.org/x/time/rate). A call waits for its slot within its deadline;
// when the slot is later than the deadline it fails at once with *ThrottledError and nothing is
// sent. rps <= 0 (the default) means no client-side limit. Retries take slots too.
func WithRateLimit(rps float64, burst int) Option {
	return func(o *options) { o.rps, o.burst = rps, burst }
}

// WithMaxRetries bounds the retries after the first attempt (default DefaultMaxRetries; 0 = never
// retry). The package documentation says which answers are retried.
func WithMaxRetries(n int) Option { return func(o *options) { o.maxRetries = n } }

// WithRetryBackoff sets the jittered exponential backoff between retries of 5xx answers and
// transport errors (and of a 429 that says nothing about when to come back): attempt n waits a
// random time in [d/2, d] with d = min(base·2^n, max). Defaults DefaultRetryBase, DefaultRetryMax.
func WithRetryBackoff(base, max time.Duration) Option {
	return func(o *options) { o.retryBase, o.retryMax = base, max }
}

// WithBreaker opens the circuit breaker after failures consecutive failed calls (5xx answers,
// transport errors, timeouts; never 4xx or 429) for cooldown; then one probe call is let through
// and its success closes the breaker. failures <= 0 disables the breaker.
// Defaults DefaultBreakerFailures, DefaultBreakerCooldown.
func WithBreaker(failures int, cooldown time.Duration) Option {
	return func(o *options) { o.breakerFailures, o.breakerCooldown = failures, cooldown }
}

// WithAudience sets the audience the client-credentials grant asks for (default
// "<base URL>/api/v2/"). Set it when domain is a custom domain or a proxy in front of the tenant:
// the Management API's audience is always the tenant's canonical https://<tenant>.auth0.com/api/v2/.
func WithAudience(audience string) Option { return func(o *options) { o.audience = audience } }

// WithMetrics sets the receiver of the client's counters and timings (default: none).
func WithMetrics(m Metrics) Option { return func(o *options) { o.metrics = m } }

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
	o := options{
		timeout: DefaultTimeout, now: time.Now, sleep: sleepCtx, userAgent: defaultUserAgent(),
		refreshWindow: DefaultTokenRefreshWindow, maxRetries: DefaultMaxRetries,
		retryBase: DefaultRetryBase, retryMax: DefaultRetryMax,
		breakerFailures: DefaultBreakerFailures, breakerCooldown: DefaultBreakerCooldown,
	}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case o.timeout <= 0:
		return nil, fmt.Errorf("mgmt: timeout must be positive, got %s", o.timeout)
	case o.now == nil:
		return nil, errors.New("mgmt: clock is nil")
	case o.sleep == nil:
		return nil, errors.New("mgmt: sleep function is nil")
	case o.refreshWindow < 0:
		return nil, fmt.Errorf("mgmt: token refresh window must not be negative, got %s", o.refreshWindow)
	case o.maxRetries < 0:
		return nil, fmt.Errorf("mgmt: max retries must not be negative, got %d", o.maxRetries)
	case o.retryBase <= 0 || o.retryMax < o.retryBase:
		return nil, fmt.Errorf("mgmt: retry backoff needs 0 < base <= max, got %s, %s", o.retryBase, o.retryMax)
	case o.rps > 0 && o.burst < 1:
		return nil, fmt.Errorf("mgmt: rate limit burst must be at least 1, got %d", o.burst)
	case o.breakerFailures > 0 && o.breakerCooldown <= 0:
		return nil, fmt.Errorf("mgmt: breaker cooldown must be positive, got %s", o.breakerCooldown)
	}
	if o.audience == "" {
		o.audience = base + "/api/v2/"
	} else if u, err := url.Parse(o.audience); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("mgmt: audience %q is not an http(s) URL", o.audience)
	}
	if o.metrics == nil {
		o.metrics = NopMetrics{}
	}
	if o.tokenStore == nil {
		o.tokenStore = &MemoryTokenStore{}
	}
	if o.httpClient == nil {
		o.httpClient = &http.Client{
			// The API never redirects; following one would only resend the bearer token.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}

	// Token fetches: same transport, the User-Agent, and a hard timeout as a second bound besides
	// the fetch context's own deadline.
	tc := *o.httpClient
	if tc.Timeout <= 0 || tc.Timeout > o.timeout {
		tc.Timeout = o.timeout
	}
	tc.Transport = &userAgentTransport{next: transportOf(o.httpClient), ua: o.userAgent}

	cfg := &clientcredentials.Config{
		ClientID:       clientID,
		ClientSecret:   clientSecret,
		TokenURL:       base + "/oauth/token",
		EndpointParams: url.Values{"audience": {o.audience}},
		// Credentials in the form body, as Auth0 documents. Left unset, x/oauth2 would try Basic
		// first and POST again with the body on any failure: two requests per attempt.
		AuthStyle: oauth2.AuthStyleInParams,
	}

	baseURL, _ := url.Parse(base) // validated by BaseURL
	c := &core{
		base:       baseURL,
		http:       o.httpClient,
		userAgent:  o.userAgent,
		timeout:    o.timeout,
		now:        o.now,
		sleep:      o.sleep,
		metrics:    o.metrics,
		maxRetries: o.maxRetries,
		retryBase:  o.retryBase,
		retryMax:   o.retryMax,
		tokens: &tokenManager{
			cfg: cfg,
			// Not any request's context: a fetch serves every caller and outlives the one that
			// started it.
			fetchCtx: context.WithValue(context.Background(), oauth2.HTTPClient, &tc),
			timeout:  o.timeout,
			store:    o.tokenStore,
			now:      o.now,
			window:   o.refreshWindow,
			metrics:  o.metrics,
			secrets: []string{
				clientSecret,
				url.QueryEscape(clientSecret),
				base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID) + ":" + url.QueryEscape(clientSecret))),
			},
		},
		breaker: newBreaker(o.breakerFailures, o.breakerCooldown, o.now, o.metrics),
	}
	if o.rps > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(o.rps), o.burst)
	}
	return &Client{
		Users: &UserManager{c: c}, Connections: &ConnectionManager{c: c}, UserBlocks: &UserBlockManager{c: c},
		Roles: &RoleManager{c: c}, Logs: &LogManager{c: c}, Tickets: &TicketManager{c: c}, Jobs: &JobManager{c: c},
		Sessions: &SessionManager{c: c},
		core:     c,
	}, nil
}

// Scopes returns the scopes granted to the service account, as the token response listed them
// (sorted), fetching the token if there is none yet. A token response without "scope" gives an
// empty list. The UI uses it to disable actions and name the missing scope before a call fails.
func (c *Client) Scopes(ctx context.Context) ([]string, error) {
	tok, err := c.core.tokens.token(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Clone(tok.Scopes), nil
}

// HasScope reports whether the service account was granted scope. It is false when the token
// cannot be obtained; call Scopes to see why.
func (c *Client) HasScope(ctx context.Context, scope string) bool {
	tok, err := c.core.tokens.token(ctx)
	if err != nil {
		return false
	}
	_, found := slices.BinarySearch(tok.Scopes, scope)
	return found
}

// RateLimit returns the x-ratelimit-* headers of the most recent Management API response that
// carried them (the zero value before any).
func (c *Client) RateLimit() RateLimit {
	if rl := c.core.rateLimit.Load(); rl != nil {
		return *rl
	}
	return RateLimit{}
}

// BreakerState returns the circuit breaker's current state (BreakerClosed when disabled).
func (c *Client) BreakerState() BreakerState { return c.core.breaker.current() }

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
