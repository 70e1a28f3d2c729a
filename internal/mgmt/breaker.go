package mgmt

import (
	"sync"
	"time"
)

// BreakerState is the state of the client's circuit breaker.
type BreakerState int

const (
	// BreakerClosed: calls go out normally.
	BreakerClosed BreakerState = iota
	// BreakerOpen: calls fail at once with *UnavailableError until the cooldown ends.
	BreakerOpen
	// BreakerHalfOpen: the cooldown is over; one probe call is let through, the others fail at once.
	BreakerHalfOpen
)

func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half-open"
	}
	return "unknown"
}

// outcome is what one attempt tells the breaker.
type outcome int

const (
	outcomeNeutral outcome = iota // not about Auth0's health (the caller gave up, no request sent)
	outcomeSuccess                // an answer below 500, 4xx and 429 included
	outcomeFailure                // a 5xx answer, a transport error or a timeout
)

// breaker is a consecutive-failure circuit breaker on the client's clock. (sony/gobreaker reads the
// wall clock, which would make the cooldown untestable with a fake clock; the logic is small.)
type breaker struct {
	threshold int // <= 0: disabled
	cooldown  time.Duration
	now       func() time.Time
	metrics   Metrics

	mu        sync.Mutex
	state     BreakerState
	failures  int
	openUntil time.Time
	probing   bool
}

func newBreaker(threshold int, cooldown time.Duration, now func() time.Time, m Metrics) *breaker {
	return &breaker{threshold: threshold, cooldown: cooldown, now: now, metrics: m}
}

func (b *breaker) current() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

// allow decides whether an attempt may go out. probe is true for the single half-open probe, whose
// outcome must be passed back to record.
func (b *breaker) allow() (probe bool, err error) {
	if b.threshold <= 0 {
		return false, nil
	}
	b.mu.Lock()
	changed := false
	defer func() {
		st := b.state
		b.mu.Unlock()
		if changed {
			b.metrics.BreakerState(st)
		}
	}()
	switch b.state {
	case BreakerOpen:
		now := b.now()
		if now.Before(b.openUntil) {
			return false, &UnavailableError{Failures: b.failures, RetryAfter: b.openUntil.Sub(now)}
		}
		b.state, changed = BreakerHalfOpen, true
		fallthrough
	case BreakerHalfOpen:
		if b.probing {
			return false, &UnavailableError{Failures: b.failures}
		}
		b.probing = true
		return true, nil
	}
	return false, nil
}

// record feeds an attempt's outcome back.
func (b *breaker) record(probe bool, o outcome) {
	if b.threshold <= 0 {
		return
	}
	b.mu.Lock()
	before := b.state
	if probe {
		b.probing = false
	}
	switch o {
	case outcomeSuccess:
		b.failures = 0
		if probe {
			b.state = BreakerClosed
		}
	case outcomeFailure:
		b.failures++
		if probe || (b.state == BreakerClosed && b.failures >= b.threshold) {
			b.state = BreakerOpen
			b.openUntil = b.now().Add(b.cooldown)
		}
	case outcomeNeutral:
		// Nothing learned. A neutral probe leaves the breaker half-open, so the next call probes.
	}
	after := b.state
	b.mu.Unlock()
	if after != before {
		b.metrics.BreakerState(after)
	}
}
