package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/userdesk/userdesk/internal/audit"
)

// tenantAdmin calls the embedded tenant's Management API with its full service account, for what
// the mgmt client does not cover (clients and client grants).
type tenantAdmin struct {
	t     *testing.T
	base  string
	token string
}

func newTenantAdmin(t *testing.T, app *App) *tenantAdmin {
	t.Helper()
	id, secret := app.tenant.ServiceAccount()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "audience": {app.tenant.Audience()}}
	resp, err := http.PostForm(app.TenantURL+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 || tok.AccessToken == "" {
		t.Fatalf("service-account token: %d %v", resp.StatusCode, err)
	}
	return &tenantAdmin{t: t, base: app.TenantURL, token: tok.AccessToken}
}

// call sends body as JSON and decodes the answer into out, failing unless the status is want.
func (a *tenantAdmin) call(method, path string, body any, want int, out any) {
	a.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, a.base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		a.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			a.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// TestBrowserScopeLessServiceAccount: a second Userdesk runs against the same tenant with a
// least-privilege service account (read:users and read:connections only) and the tenant's staff
// app for sign-in. On a user's page every write action is a disabled button that names the scope it
// lacks; the panel's fixes are disabled too; the delete form's submit is disabled with the reason,
// and when it is forced (the disabled attribute removed) the POST is refused with the scope named,
// nothing is sent to the Management API, the user is still there, and the refusal is audited.
func TestBrowserScopeLessServiceAccount(t *testing.T) {
	b := newBrowser(t)
	app, _ := startTestApp(t, nil)
	admin := newTenantAdmin(t, app)

	// The least-privilege machine client.
	var client struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	admin.call("POST", "/api/v2/clients", map[string]any{"name": "Userdesk read-only", "app_type": "non_interactive"}, http.StatusCreated, &client)
	admin.call("POST", "/api/v2/client-grants", map[string]any{"client_id": client.ClientID, "audience": app.tenant.Audience(),
		"scope": []string{"read:users", "read:connections"}}, http.StatusCreated, nil)

	// The second Userdesk: the tenant as AUTH0_DOMAIN, the staff app for OIDC.
	staffID, staffSecret := app.tenant.StaffApp()
	rec := &recorder{base: http.DefaultTransport, bearer: map[string]bool{}}
	cfg, err := configFromEnv(func(k string) string {
		return map[string]string{
			"USERDESK_ADDR":       "127.0.0.1:0",
			"USERDESK_DATA_DIR":   t.TempDir(),
			"AUTH0_DOMAIN":        app.TenantURL,
			"AUTH0_AUDIENCE":      app.tenant.Audience(),
			"AUTH0_CLIENT_ID":     client.ClientID,
			"AUTH0_CLIENT_SECRET": client.ClientSecret,
			"OIDC_ISSUER_URL":     app.tenant.Issuer(),
			"OIDC_CLIENT_ID":      staffID,
			"OIDC_CLIENT_SECRET":  staffSecret,
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	readOnly, err := start(t.Context(), cfg, options{Logger: slog.New(slog.DiscardHandler), MgmtTransport: rec, BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.close() // the browser goes first: its open connections would hold the shutdown
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := readOnly.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	// The staff app must accept the second Userdesk's callback too (the tenant sets only the first).
	admin.call("PATCH", "/api/v2/clients/"+staffID, map[string]any{"callbacks": []string{
		app.URL + "/auth/callback", readOnly.URL + "/auth/callback"}}, http.StatusOK, nil)

	cust := firstCustomer(t, app)
	b.signInAt(readOnly.URL, app.DemoEmail) // the read-only Userdesk, the same tenant's staff member
	page := readOnly.URL + "/users/" + url.PathEscape(cust.UserID)
	b.step("user page", chromedp.Navigate(page), chromedp.WaitVisible(css(`[data-testid="actions"]`)))
	b.expectText("the user is shown", `[data-testid="profile"]`, cust.Email)

	for act, scope := range map[string]string{
		"delete": "delete:users", "block": "update:users", "profile": "update:users", "email": "update:users",
		"ticket": "create:user_tickets", "mfa": "delete:authentication_methods", "revoke": "delete:sessions",
	} {
		id := "action-" + act
		disabled := b.get(id+" disabled", chromedp.Evaluate[string](`(e => e ? e.tagName + " " + e.disabled : "missing")(document.getElementById(`+jsString(id)+`))`))
		if disabled != "BUTTON true" {
			t.Errorf("%s is %q, want a disabled button", id, disabled)
			continue
		}
		why := b.text(id+" why", "#"+id+"-why")
		if !strings.Contains(why, "lacks") || !strings.Contains(why, scope) {
			t.Errorf("%s: the reason %q does not name %s", id, why, scope)
		}
		if described := b.get(id+" describedby", chromedp.Evaluate[string](`document.getElementById(`+jsString(id)+`).getAttribute('aria-describedby')`)); described != id+"-why" {
			t.Errorf("%s is not described by its reason (%q)", id, described)
		}
	}
	if n := b.get("enabled fixes", chromedp.Evaluate[string](`String(document.querySelectorAll('[data-testid="signin-panel"] a.button').length)`)); n != "0" {
		t.Errorf("the panel offers %s fixes the service account cannot perform", n)
	}

	// The delete form says why it cannot be submitted; forcing it sends nothing.
	b.step("delete form", chromedp.Navigate(page+"/delete"), chromedp.WaitVisible(css("#submit-delete")))
	b.expectText("form reason", `[data-testid="disabled-reason"]`, "delete:users")
	writesBefore := rec.count("DELETE ") + rec.count("PATCH ") + rec.count("POST /api/")
	b.step("force the disabled submit",
		chromedp.Evaluate[chromedp.Void](`document.getElementById('submit-delete').disabled = false`),
		chromedp.SendKeys(css("#confirm"), cust.Email), chromedp.SendKeys(css("#reason"), "SCOPE-1"))
	b.load("submit", chromedp.Click(css("#submit-delete")))
	body := b.text("refusal", "main")
	if !strings.Contains(body, "The service account lacks delete:users.") || !strings.Contains(body, "Nothing was sent to Auth0.") {
		t.Fatalf("the forced delete was not refused with the scope named:\n%s", body)
	}
	if n := rec.count("DELETE ") + rec.count("PATCH ") + rec.count("POST /api/"); n != writesBefore {
		t.Fatalf("the refused delete sent %d writes to the Management API", n-writesBefore)
	}
	if _, err := mgmtFor(t, app).Users.Get(t.Context(), cust.UserID); err != nil {
		t.Fatalf("the user is gone after a refused delete: %v", err)
	}
	es, _, err := readOnly.audit.Query(t.Context(), audit.Filter{Action: "user.delete", Limit: 10})
	if err != nil || len(es) != 1 || es[0].Outcome != audit.OutcomeDenied || es[0].Reason != "SCOPE-1" || !strings.Contains(es[0].Detail, "delete:users") {
		t.Fatalf("audit of the refusal: %+v %v", es, err)
	}
}
