package mgmt

import "time"

// Metrics receives the client's counters and timings; the operations issue wires it to Prometheus.
// Endpoints are normalised route names such as "/api/v2/users/{id}", never raw IDs, so label
// cardinality stays fixed. Implementations must be safe for concurrent use and fast: they are
// called on the request path. Embed NopMetrics to implement only some methods.
type Metrics interface {
	// TokenFetch: one POST /oauth/token finished (ok = a token came back) after d.
	TokenFetch(ok bool, d time.Duration)
	// Call: one HTTP attempt to endpoint finished with status (0 = no answer) after d.
	Call(endpoint, method string, status int, d time.Duration)
	// RateLimited: Auth0 answered 429.
	RateLimited(endpoint string)
	// Retry: the client is about to retry a call; reason is "429", "502", "503", "504" or "transport".
	Retry(endpoint, reason string)
	// Wait: the client slept d before an attempt; reason is "limiter" (client-side pacing) or
	// "retry" (backoff or a 429's reset time).
	Wait(endpoint, reason string, d time.Duration)
	// BreakerState: the circuit breaker changed to state.
	BreakerState(state BreakerState)
}

// NopMetrics is the default Metrics: it records nothing.
type NopMetrics struct{}

func (NopMetrics) TokenFetch(bool, time.Duration)          {}
func (NopMetrics) Call(string, string, int, time.Duration) {}
func (NopMetrics) RateLimited(string)                      {}
func (NopMetrics) Retry(string, string)                    {}
func (NopMetrics) Wait(string, string, time.Duration)      {}
func (NopMetrics) BreakerState(BreakerState)               {}
