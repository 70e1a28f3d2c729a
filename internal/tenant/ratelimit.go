package tenant

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RateLimit is the tenant-wide Management API limit: a token bucket of Burst requests refilled at
// Rate requests per second, as Auth0 applies its "API-global" limit (contract §6.3). The zero value
// means "off".
type RateLimit struct {
	// Rate is the sustained rate in requests per second; 0 = off.
	Rate float64
	// Burst is the bucket size, the most requests accepted at once.
	Burst int
}

// Presets for USERDESK_TENANT_RATE_LIMIT. Sources: contract §6.3.
var (
	// rateLimitFree is the Free plan's Management API limit, "2 / 2 per second" (burst / sustained) in
	// Auth0's rate-limit table. A community answer mentions bursts of 10; the table is followed.
	rateLimitFree = RateLimit{Rate: 2, Burst: 2}
	// rateLimitSelfService models the Essentials/Professional (self-service) plans. Their table lists
	// per-endpoint groups only; the group a support console hits most, Read Users, allows a burst of
	// 40 and 500 per minute. The tenant applies that one bucket to every /api/v2 call (a simplification:
	// Auth0 keeps one bucket per group).
	rateLimitSelfService = RateLimit{Rate: 500.0 / 60, Burst: 40}
	// rateLimitEnterprise is the Enterprise production limit, "50 / 16 per second".
	rateLimitEnterprise = RateLimit{Rate: 16, Burst: 50}
)

// Off reports whether the limit is disabled. Headers are still sent then (see offLimit).
func (l RateLimit) Off() bool { return l.Rate <= 0 || l.Burst <= 0 }

// String is the value ParseRateLimit reads back.
func (l RateLimit) String() string {
	switch l {
	case rateLimitFree:
		return "free"
	case rateLimitSelfService:
		return "self-service"
	case rateLimitEnterprise:
		return "enterprise"
	}
	if l.Off() {
		return "off"
	}
	return strconv.FormatFloat(l.Rate, 'f', -1, 64)
}

// ParseRateLimit reads USERDESK_TENANT_RATE_LIMIT: "off" or "" (no limit), "free", "self-service",
// "enterprise", or a positive number of requests per second (burst = the number rounded up, at least 1).
func ParseRateLimit(s string) (RateLimit, error) {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case "", "off":
		return RateLimit{}, nil
	case "free":
		return rateLimitFree, nil
	case "self-service":
		return rateLimitSelfService, nil
	case "enterprise":
		return rateLimitEnterprise, nil
	default:
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) || n <= 0 || n > 1e6 {
			return RateLimit{}, fmt.Errorf("rate limit %q: want off, free, self-service, enterprise or a number of requests per second (0 < n ≤ 1000000)", s)
		}
		return RateLimit{Rate: n, Burst: max(1, int(math.Ceil(n)))}, nil
	}
}

// offLimit is what the headers announce when limiting is off: a bucket so large no client reaches it,
// so SDKs that read the headers keep working.
var offLimit = RateLimit{Rate: 1_000_000, Burst: 1_000_000}

// bucket is a token bucket on an injectable clock.
type bucket struct {
	mu     sync.Mutex
	limit  RateLimit
	off    bool
	now    func() time.Time
	tokens float64
	last   time.Time
}

func newBucket(l RateLimit, now func() time.Time) *bucket {
	b := &bucket{limit: l, now: now}
	if l.Off() {
		b.limit, b.off = offLimit, true
	}
	b.tokens = float64(b.limit.Burst)
	b.last = now()
	return b
}

// decision is the outcome of one take: whether the request may proceed and the header values.
type decision struct {
	ok         bool
	limit      int
	remaining  int
	reset      int64         // Unix seconds when the bucket is full again
	retryAfter time.Duration // until the next token, when !ok
}

// take refills the bucket for the time passed and takes one token when there is one.
func (b *bucket) take() decision {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(float64(b.limit.Burst), b.tokens+el*b.limit.Rate)
		b.last = now
	}
	d := decision{limit: b.limit.Burst}
	if b.tokens >= 1 {
		d.ok = true
		if !b.off {
			b.tokens--
		}
	} else {
		d.retryAfter = time.Duration((1 - b.tokens) / b.limit.Rate * float64(time.Second))
	}
	d.remaining = int(math.Floor(b.tokens))
	full := time.Duration((float64(b.limit.Burst) - b.tokens) / b.limit.Rate * float64(time.Second))
	d.reset = int64(math.Ceil(float64(now.Add(full).UnixNano()) / 1e9))
	return d
}

// rateLimited applies the bucket to every /api/v2 request (authenticated or not, as Auth0 counts
// calls) and sets x-ratelimit-limit, x-ratelimit-remaining and x-ratelimit-reset (absolute Unix
// seconds) on each response. Over the limit it answers 429 with Auth0's global-limit body and a
// Retry-After in whole seconds (rounded up), which both go-auth0 versions read first (contract §7),
// and calls limited (which logs the api_limit event) before answering.
func rateLimited(b *bucket, limited func(r *http.Request), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/v2/") {
			next.ServeHTTP(w, r)
			return
		}
		d := b.take()
		h := w.Header()
		h.Set("X-Ratelimit-Limit", strconv.Itoa(d.limit))
		h.Set("X-Ratelimit-Remaining", strconv.Itoa(d.remaining))
		h.Set("X-Ratelimit-Reset", strconv.FormatInt(d.reset, 10))
		if !d.ok {
			h.Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(d.retryAfter.Seconds())))))
			limited(r)
			writeAPIError(w, errGlobalLimit)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// errGlobalLimit is Auth0's tenant-wide 429 (contract §6.2).
var errGlobalLimit = &apiError{Status: http.StatusTooManyRequests, Code: "too_many_requests",
	Message: "Global limit has been reached"}

// limitLog throttles the api_limit log events: at most one per second of the tenant clock. A client
// hammering the API past its limit must not turn every refused call into a synchronous disk write (the
// store commits with fsync); one event per second still shows when and from where the limit was hit.
// Auth0's own throttling of these events is not documented [I].
type limitLog struct {
	mu   sync.Mutex
	last time.Time
}

// logRateLimit writes an "api_limit" event, "Global limit has been reached" as Auth0 does (contract
// §6.2), with the caller's ip, hostname and user agent and the refused method and path, unless one was
// written less than a second ago. The caller's token is not verified at this point, so no client id
// or name is claimed.
func (t *Tenant) logRateLimit(r *http.Request) {
	now := t.now()
	t.limitLog.mu.Lock()
	if !t.limitLog.last.IsZero() && now.Sub(t.limitLog.last) < time.Second {
		t.limitLog.mu.Unlock()
		return
	}
	t.limitLog.last = now
	t.limitLog.mu.Unlock()
	e := requestEvent(r, "api_limit")
	e.Description = strp(errGlobalLimit.Message)
	e.Details, _ = marshal(map[string]string{"method": r.Method, "path": r.URL.Path})
	t.writeLog(r.Context(), e)
}
