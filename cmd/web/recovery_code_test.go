package main

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestRecoveryCodeEndToEnd: against the embedded tenant, a new recovery code is shown once in the
// answer to the staff member's POST, and the tenant lists exactly one recovery-code method for the
// user afterwards; the code appears in no log line.
func TestRecoveryCodeEndToEnd(t *testing.T) {
	logs := &syncBuffer{}
	app, _ := startTestApp(t, logs)
	cust := firstCustomer(t, app)
	s := newSession(t, app)
	s.signIn(app.DemoEmail, demoPassword)
	esc := url.PathEscape(cust.UserID)
	s.get("/users/" + esc + "/mfa/recovery-code")
	resp, body := s.post("/users/"+esc+"/mfa/recovery-code", url.Values{"reason": {"INC-11"}})
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	m := regexp.MustCompile(`id="recovery-code-value" readonly value="([A-Z0-9]{24})"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no recovery code in the answer:\n%s", body)
	}
	methods, err := mgmtFor(t, app).Users.AuthenticationMethods(t.Context(), cust.UserID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, x := range methods {
		if x.Type == "recovery-code" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d recovery-code methods after regenerating, want 1: %+v", n, methods)
	}
	if strings.Contains(logs.String(), m[1]) {
		t.Error("the recovery code is in the logs")
	}
}
