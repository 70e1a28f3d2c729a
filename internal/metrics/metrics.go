// Package metrics is Userdesk's Prometheus instrumentation: HTTP requests by route and status, Management
// API calls by endpoint and status (it implements mgmt.Metrics), token fetches, 429s, waits, retries,
// the circuit breaker's state, audit writes and the number of active staff sessions, all in one
// private registry served by Handler.
package metrics

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/mgmt"
)

// Namespace prefixes every metric name.
const Namespace = "userdesk"

// Upstream is the outcome of the most recent Management API attempt (readiness reports it).
type Upstream struct {
	Endpoint string    // normalised route, e.g. /api/v2/users/{id}
	Method   string    // HTTP method
	Status   int       // HTTP status; 0 = no answer (transport error or timeout)
	At       time.Time // when the attempt finished
}

// Metrics holds Userdesk's collectors. The zero value is not usable; call New. It is safe for
// concurrent use, and its methods are cheap enough for the request path.
type Metrics struct {
	reg *prometheus.Registry
	now func() time.Time

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	calls        *prometheus.CounterVec
	callDuration *prometheus.HistogramVec
	tokens       *prometheus.CounterVec
	tokenTime    prometheus.Histogram
	limited      *prometheus.CounterVec
	retries      *prometheus.CounterVec
	waits        *prometheus.CounterVec
	waitTime     *prometheus.CounterVec
	breaker      *prometheus.GaugeVec
	auditWrites  *prometheus.CounterVec

	last atomic.Pointer[Upstream]
}

var _ mgmt.Metrics = (*Metrics)(nil)

// New returns Metrics registered in a registry of their own, which also carries the Go runtime and
// process collectors. now is the clock of Upstream.At (nil = time.Now).
func New(now func() time.Time) *Metrics {
	if now == nil {
		now = time.Now
	}
	latency := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		now: now,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "http_requests_total",
			Help: "HTTP requests served by the console, by route template, method and status code.",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "http_request_duration_seconds", Buckets: latency,
			Help: "Time to serve a console request, by route template and method.",
		}, []string{"route", "method"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "auth0_requests_total",
			Help: "HTTP attempts to the Auth0 Management API, by endpoint, method and status (0 = no answer).",
		}, []string{"endpoint", "method", "status"}),
		callDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "auth0_request_duration_seconds", Buckets: latency,
			Help: "Duration of one HTTP attempt to the Auth0 Management API, by endpoint and method.",
		}, []string{"endpoint", "method"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "auth0_token_fetches_total",
			Help: "POST /oauth/token requests made for the service account's token, by result (ok, error).",
		}, []string{"result"}),
		tokenTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "auth0_token_fetch_duration_seconds", Buckets: latency,
			Help: "Duration of POST /oauth/token.",
		}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "auth0_rate_limited_total",
			Help: "429 answers from the Management API, by endpoint.",
		}, []string{"endpoint"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "auth0_retries_total",
			Help: "Retries of Management API calls, by endpoint and reason (429, 502, 503, 504, transport).",
		}, []string{"endpoint", "reason"}),
		waits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "auth0_waits_total",
			Help: "Waits before a Management API attempt, by endpoint and reason (limiter = client-side pacing, retry = backoff or a 429's reset).",
		}, []string{"endpoint", "reason"}),
		waitTime: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "auth0_wait_seconds_total",
			Help: "Time spent waiting before Management API attempts, by endpoint and reason.",
		}, []string{"endpoint", "reason"}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "auth0_breaker_state",
			Help: "The Management API circuit breaker: 1 for its current state (closed, open, half-open), 0 for the others.",
		}, []string{"state"}),
		auditWrites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "audit_writes_total",
			Help: "Audit trail entries written, by result (ok, error).",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.httpRequests, m.httpDuration, m.calls, m.callDuration, m.tokens, m.tokenTime,
		m.limited, m.retries, m.waits, m.waitTime, m.breaker, m.auditWrites,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Series that exist from the start, so dashboards and alerts see zeros rather than nothing.
	for _, r := range []string{"ok", "error"} {
		m.tokens.WithLabelValues(r)
		m.auditWrites.WithLabelValues(r)
	}
	m.BreakerState(mgmt.BreakerClosed)
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ActiveSessions registers userdesk_staff_sessions_active, read at scrape time from count (bounded by a
// 2-second timeout); a failing count reports NaN. Call it once.
func (m *Metrics) ActiveSessions(count func(ctx context.Context) (int, error)) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "staff_sessions_active",
		Help: "Signed-in staff sessions that are neither expired nor idle (NaN when the store cannot be read).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := count(ctx)
		if err != nil {
			return math.NaN()
		}
		return float64(n)
	}))
}

// Middleware counts and times every request by its route template (c.Path(): "/users/:id", never the
// raw path, so label cardinality is fixed). routes is the Echo instance's route table (e.Routes());
// a request no route in it served (404 for an unknown path, 405) is labelled "unmatched". It hands a
// returned error to Echo's error handler first, so the counted status is the one the client got.
// Install it with e.Use once the route table is built.
func (m *Metrics) Middleware(routes []*echo.Route) echo.MiddlewareFunc {
	known := make(map[string]bool, len(routes))
	for _, r := range routes {
		known[r.Method+" "+r.Path] = true
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err)
			}
			method := c.Request().Method
			route := c.Path()
			if !known[method+" "+route] {
				route = "unmatched"
			}
			method = methodLabel(method)
			m.httpRequests.WithLabelValues(route, method, strconv.Itoa(c.Response().Status)).Inc()
			m.httpDuration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
			return nil
		}
	}
}

// methodLabel bounds the method label to the standard methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// AuditStore wraps s so that every Append is counted in userdesk_audit_writes_total.
func (m *Metrics) AuditStore(s audit.Store) audit.Store { return &countingAudit{Store: s, m: m} }

type countingAudit struct {
	audit.Store
	m *Metrics
}

func (a *countingAudit) Append(ctx context.Context, e audit.Entry) (audit.Entry, error) {
	out, err := a.Store.Append(ctx, e)
	if err != nil {
		a.m.auditWrites.WithLabelValues("error").Inc()
	} else {
		a.m.auditWrites.WithLabelValues("ok").Inc()
	}
	return out, err
}

// LastUpstream returns the most recent Management API attempt, and false before any.
func (m *Metrics) LastUpstream() (Upstream, bool) {
	if u := m.last.Load(); u != nil {
		return *u, true
	}
	return Upstream{}, false
}

// TokenFetch implements mgmt.Metrics.
func (m *Metrics) TokenFetch(ok bool, d time.Duration) {
	r := "ok"
	if !ok {
		r = "error"
	}
	m.tokens.WithLabelValues(r).Inc()
	m.tokenTime.Observe(d.Seconds())
}

// Call implements mgmt.Metrics.
func (m *Metrics) Call(endpoint, method string, status int, d time.Duration) {
	method = methodLabel(method)
	m.calls.WithLabelValues(endpoint, method, strconv.Itoa(status)).Inc()
	m.callDuration.WithLabelValues(endpoint, method).Observe(d.Seconds())
	m.last.Store(&Upstream{Endpoint: endpoint, Method: method, Status: status, At: m.now()})
}

// RateLimited implements mgmt.Metrics.
func (m *Metrics) RateLimited(endpoint string) { m.limited.WithLabelValues(endpoint).Inc() }

// Retry implements mgmt.Metrics.
func (m *Metrics) Retry(endpoint, reason string) { m.retries.WithLabelValues(endpoint, reason).Inc() }

// Wait implements mgmt.Metrics.
func (m *Metrics) Wait(endpoint, reason string, d time.Duration) {
	m.waits.WithLabelValues(endpoint, reason).Inc()
	m.waitTime.WithLabelValues(endpoint, reason).Add(d.Seconds())
}

// BreakerState implements mgmt.Metrics.
func (m *Metrics) BreakerState(s mgmt.BreakerState) {
	for _, st := range []mgmt.BreakerState{mgmt.BreakerClosed, mgmt.BreakerOpen, mgmt.BreakerHalfOpen} {
		v := 0.0
		if st == s {
			v = 1
		}
		m.breaker.WithLabelValues(st.String()).Set(v)
	}
}
