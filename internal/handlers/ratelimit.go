package handlers

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/userdesk/userdesk/internal/reqctx"
	"github.com/userdesk/userdesk/internal/views"
)

// StaffLimits bound how fast one staff member may use the console (security.md row 34): every
// request, and changes (POST) on their own tighter budget, so that a runaway script or a stolen
// session cannot page through every user or spend the tenant's Management API budget. Each staff
// member (issuer and subject) has a token bucket per kind; a rate of 0 means no limit of that kind.
// The buckets are per process: with replicas behind a load balancer each one counts on its own.
type StaffLimits struct {
	RequestRate  float64 // requests per second, any method
	RequestBurst int
	WriteRate    float64 // POSTs per second (every change the console makes is a POST)
	WriteBurst   int
}

// DefaultStaffLimits: far above what a person clicking through pages does (a page every few
// seconds; a burst of a few dozen while working fast), far below a script.
var DefaultStaffLimits = StaffLimits{RequestRate: 5, RequestBurst: 60, WriteRate: 1, WriteBurst: 20}

// staffBucketIdle is how long an unused staff member's buckets are kept; a bucket is full again
// long before that, so forgetting it changes nothing.
const staffBucketIdle = 10 * time.Minute

// staffLimit returns the middleware that runs after RequireStaff: it refuses a request over the
// staff member's budget with a 429 page, Retry-After and an excess_rate_limit_exceeded log line
// (OWASP's logging vocabulary), before any handler or Auth0 call.
func (h *handler) staffLimit(l StaffLimits) echo.MiddlewareFunc {
	var limits []echo.MiddlewareFunc
	if l.WriteRate > 0 {
		limits = append(limits, h.staffBucket("write", l.WriteRate, l.WriteBurst, func(c echo.Context) bool {
			return c.Request().Method != http.MethodPost
		}))
	}
	if l.RequestRate > 0 {
		limits = append(limits, h.staffBucket("request", l.RequestRate, l.RequestBurst, func(echo.Context) bool { return false }))
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		for i := len(limits) - 1; i >= 0; i-- {
			next = limits[i](next)
		}
		return next
	}
}

func (h *handler) staffBucket(kind string, perSecond float64, burst int, skip middleware.Skipper) echo.MiddlewareFunc {
	if burst <= 0 {
		burst = max(1, int(math.Ceil(perSecond)))
	}
	// A refused request waits for one token: at least a second, as Retry-After counts seconds.
	retryAfter := max(1, int(math.Ceil(1/perSecond)))
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Skipper: skip,
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(perSecond), Burst: burst, ExpiresIn: staffBucketIdle,
		}),
		IdentifierExtractor: func(c echo.Context) (string, error) {
			s, _ := reqctx.StaffFrom(c.Request().Context())
			return s.Issuer + "\x00" + s.Subject, nil
		},
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			r := c.Request()
			s, _ := reqctx.StaffFrom(r.Context())
			h.log.WarnContext(r.Context(), "excess_rate_limit_exceeded", "iss", s.Issuer, "sub", s.Subject, "limit", kind,
				"method", r.Method, "path", r.URL.Path)
			c.Response().Header().Set("Retry-After", strconv.Itoa(retryAfter))
			msg := "You are opening pages faster than Userdesk allows one staff member. Wait a few seconds and try again."
			if kind == "write" {
				msg = "You are making changes faster than Userdesk allows one staff member. Nothing was sent to Auth0; " +
					"wait a few seconds and try again."
			}
			return h.render(c, http.StatusTooManyRequests, "Too many requests", views.ErrorView(views.ErrorPage{
				Status: http.StatusTooManyRequests, Title: "Too many requests", Message: msg, BackURL: "/users",
			}))
		},
	})
}
