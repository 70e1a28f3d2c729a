// Package health answers readiness probes: it runs named checks (database reachable, service-account
// token obtainable, Auth0 circuit closed) concurrently under a short timeout, caches the outcome for a
// few seconds so that probes and scrapes cannot hammer Auth0 or the database, and reports 200 or 503
// with a JSON body naming what is not ready.
package health

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Defaults of Readiness.
const (
	DefaultTTL     = 5 * time.Second
	DefaultTimeout = 2 * time.Second
)

// Check is one readiness condition.
type Check struct {
	Name string
	// Problem is what the probe's body says when Run fails: a fixed sentence, because the body is
	// public and an error text could name hosts or accounts. The error itself is logged.
	Problem string
	Run     func(ctx context.Context) error
}

// Result is one check's outcome in a Report.
type Result struct {
	OK      bool   `json:"ok"`
	Problem string `json:"problem,omitempty"`
}

// Report is the readiness body.
type Report struct {
	Status    string            `json:"status"` // "ready" or "not ready"
	NotReady  []string          `json:"not_ready,omitempty"`
	Checks    map[string]Result `json:"checks"`
	Info      map[string]any    `json:"info,omitempty"`
	CheckedAt time.Time         `json:"checked_at"`
}

// Ready reports whether every check passed.
func (r Report) Ready() bool { return len(r.NotReady) == 0 }

// Readiness runs Checks. Set the fields before first use; the zero TTL and Timeout mean the defaults.
type Readiness struct {
	Checks  []Check
	TTL     time.Duration         // how long a report is reused
	Timeout time.Duration         // bound on each check
	Info    func() map[string]any // optional extra facts for the body (last upstream status)
	Logger  *slog.Logger          // a check's failure and recovery are logged once per change
	Now     func() time.Time      // default time.Now

	mu     sync.Mutex
	last   *Report
	failed map[string]bool
}

// Report returns the cached report while it is younger than TTL, and otherwise runs every check
// concurrently. Concurrent callers share one run.
func (r *Readiness) Report(ctx context.Context) Report {
	now := r.now()
	ttl, timeout := r.TTL, r.Timeout
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last != nil && now.Sub(r.last.CheckedAt) < ttl {
		return *r.last
	}
	errs := make([]error, len(r.Checks))
	var wg sync.WaitGroup
	for i, c := range r.Checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
			defer cancel()
			errs[i] = c.Run(cctx)
		})
	}
	wg.Wait()
	rep := Report{Status: "ready", Checks: map[string]Result{}, CheckedAt: now}
	if r.failed == nil {
		r.failed = map[string]bool{}
	}
	for i, c := range r.Checks {
		if errs[i] == nil {
			rep.Checks[c.Name] = Result{OK: true}
			if r.failed[c.Name] && r.Logger != nil {
				r.Logger.Info("ready_check_recovered", "check", c.Name)
			}
			r.failed[c.Name] = false
			continue
		}
		rep.Checks[c.Name] = Result{Problem: c.Problem}
		rep.NotReady = append(rep.NotReady, c.Name)
		if !r.failed[c.Name] && r.Logger != nil {
			r.Logger.Warn("ready_check_failed", "check", c.Name, "err", errs[i].Error())
		}
		r.failed[c.Name] = true
	}
	sort.Strings(rep.NotReady)
	if len(rep.NotReady) > 0 {
		rep.Status = "not ready"
	}
	if r.Info != nil {
		rep.Info = r.Info()
	}
	r.last = &rep
	return rep
}

// ServeHTTP answers 200 when ready and 503 otherwise, with the Report as JSON, never cached.
func (r *Readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rep := r.Report(req.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !rep.Ready() {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(rep)
}

func (r *Readiness) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
