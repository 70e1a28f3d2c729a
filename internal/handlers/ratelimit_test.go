package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/handlers"
)

// A burst of 100 changes by one staff member (security.md row 34): the first WriteBurst go through
// (plus what the rate refills meanwhile), the rest get a 429 page with Retry-After, nothing reaches
// Auth0 for them, and each refusal is logged with OWASP's excess_rate_limit_exceeded. Pages (GET)
// and another staff member are not held back by those changes.
func TestStaffWriteLimit(t *testing.T) {
	env := newEnvWith(t, envOptions{limits: &handlers.StaffLimits{WriteRate: 1, WriteBurst: 5}}, jane())
	passed, refused := 0, 0
	for i := range 100 {
		target := janeURL + "/block"
		if i%2 == 1 {
			target = janeURL + "/unblock"
		}
		rec := env.post(t, target, url.Values{})
		switch rec.Code {
		case http.StatusSeeOther:
			passed++
		case http.StatusTooManyRequests:
			refused++
			if rec.Header().Get("Retry-After") != "1" {
				t.Fatalf("Retry-After = %q", rec.Header().Get("Retry-After"))
			}
			if msg := parse(t, rec).textOf("data-testid", "error-message"); !strings.Contains(msg, "making changes faster") ||
				!strings.Contains(msg, "Nothing was sent to Auth0") {
				t.Fatalf("429 page says %q", msg)
			}
		default:
			t.Fatalf("request %d: status %d", i, rec.Code)
		}
	}
	// 100 requests take far less than a second here; allow a refill or two on a slow machine.
	if passed < 5 || passed > 7 || passed+refused != 100 {
		t.Errorf("%d changes went through and %d were refused, want 5 (the burst) through", passed, refused)
	}
	if n := len(env.api.CallsTo("UpdateUser")); n != passed {
		t.Errorf("Auth0 got %d updates for %d accepted changes", n, passed)
	}
	es, _, _ := env.trail.Query(t.Context(), audit.Filter{})
	if len(es) != passed {
		t.Errorf("%d audit entries for %d changes made", len(es), passed)
	}
	if n := strings.Count(env.logs.String(), "excess_rate_limit_exceeded"); n != refused {
		t.Errorf("%d excess_rate_limit_exceeded log lines for %d refusals", n, refused)
	}
	if rec := env.get(t, janeURL); rec.Code != http.StatusOK {
		t.Errorf("a page after the refused changes: status %d", rec.Code)
	}
	other := env.do(t, req{method: http.MethodPost, target: janeURL + "/block", form: url.Values{}, staff: "Other Agent",
		headers: map[string]string{subjectHeader: "s2"}})
	if other.Code != http.StatusSeeOther {
		t.Errorf("another staff member's change: status %d", other.Code)
	}
}

// The request budget covers every page: past it, a 429 page, and no Auth0 read.
func TestStaffRequestLimit(t *testing.T) {
	env := newEnvWith(t, envOptions{limits: &handlers.StaffLimits{RequestRate: 1, RequestBurst: 3}}, jane())
	passed := 0
	for range 20 {
		rec := env.get(t, janeURL)
		switch rec.Code {
		case http.StatusOK:
			passed++
		case http.StatusTooManyRequests:
			if msg := parse(t, rec).textOf("data-testid", "error-message"); !strings.Contains(msg, "opening pages faster") {
				t.Fatalf("429 page says %q", msg)
			}
		default:
			t.Fatalf("status %d", rec.Code)
		}
	}
	if passed < 3 || passed > 5 {
		t.Errorf("%d of 20 pages served, want the burst of 3", passed)
	}
	if n := len(env.api.CallsTo("GetUser")); n != passed {
		t.Errorf("Auth0 got %d user reads for %d pages served", n, passed)
	}
}

// Zero rates turn the limits off.
func TestStaffLimitsOff(t *testing.T) {
	env := newEnvWith(t, envOptions{limits: &handlers.StaffLimits{}}, jane())
	for i := range 150 {
		if rec := env.get(t, janeURL+"/raw"); rec.Code != http.StatusOK {
			t.Fatalf("request %d: status %d", i, rec.Code)
		}
	}
}
