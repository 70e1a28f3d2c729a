package health

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestReadiness: 200 and every check named ok when all pass; 503 naming exactly the failing checks
// with their fixed sentences (never the error text, which is logged once instead); results are reused
// for the TTL, so a burst of probes runs each check once; a slow check is cut off by the timeout.
func TestReadiness(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	var storeRuns atomic.Int32
	tokenErr := errors.New("401 from https://secret-host.example: access_denied")
	var logs bytes.Buffer
	r := &Readiness{
		Now:     func() time.Time { return now },
		Timeout: 50 * time.Millisecond,
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
		Info:    func() map[string]any { return map[string]any{"breaker": "closed"} },
		Checks: []Check{
			{Name: "store", Problem: "The database does not answer.", Run: func(context.Context) error { storeRuns.Add(1); return nil }},
			{Name: "token", Problem: "No Management API token can be obtained.", Run: func(context.Context) error { return tokenErr }},
			{Name: "slow", Problem: "Too slow.", Run: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
		},
	}
	for range 5 {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		if rec.Code != 503 || rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("status %d, content type %q", rec.Code, rec.Header().Get("Content-Type"))
		}
		var rep Report
		if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Status != "not ready" || strings.Join(rep.NotReady, ",") != "slow,token" ||
			!rep.Checks["store"].OK || rep.Checks["token"].Problem != "No Management API token can be obtained." ||
			rep.Info["breaker"] != "closed" {
			t.Fatalf("report %+v", rep)
		}
		if strings.Contains(rec.Body.String(), "secret-host") {
			t.Fatal("the error text reached the public body")
		}
	}
	if n := storeRuns.Load(); n != 1 {
		t.Errorf("store checked %d times within the TTL, want 1", n)
	}
	if strings.Count(logs.String(), "ready_check_failed check=token") != 1 || !strings.Contains(logs.String(), "secret-host") {
		t.Errorf("failure not logged exactly once with its cause: %s", logs.String())
	}

	tokenErr = nil
	r.Checks = r.Checks[:2]
	now = now.Add(DefaultTTL)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"status":"ready"`) {
		t.Fatalf("after recovery: %d %s", rec.Code, rec.Body.String())
	}
	if storeRuns.Load() != 2 || !strings.Contains(logs.String(), "ready_check_recovered check=token") {
		t.Errorf("expired report not recomputed, or recovery not logged (%d runs): %s", storeRuns.Load(), logs.String())
	}
}
