package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/userdesk/userdesk/internal/mgmt"
)

// browserContext starts headless Chromium, or skips when browser tests are off. `make test` (and so
// CI) turns them on; then a missing Chromium is a failure, not a skip.
func browserContext(t *testing.T) context.Context {
	t.Helper()
	if v := os.Getenv("USERDESK_BROWSER_TESTS"); v == "" || v == "0" {
		t.Skip("browser tests are off; `make test` sets USERDESK_BROWSER_TESTS=1")
	}
	var bin string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Fatal("USERDESK_BROWSER_TESTS is on but no Chromium is installed (apt-get install -y chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// TestBrowserJourney drives Chromium through what a support engineer does first: sign in on the
// tenant's page, search, open a user, edit metadata, try a duplicate create (error shown, form kept),
// then create a new user.
func TestBrowserJourney(t *testing.T) {
	ctx := browserContext(t)
	app, _ := startTestApp(t, nil)
	cust := firstCustomer(t, app)

	fail := func(name string, err error) {
		t.Helper()
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		page, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		t.Fatalf("%s: %v\nat %s\n%s", name, err, loc, page)
	}
	step := func(name string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			fail(name, err)
		}
	}
	get := func(name string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			fail(name, err)
		}
		return v
	}
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	step("open Userdesk", chromedp.Navigate(app.URL+"/"), chromedp.WaitVisible(css("#signin-link")))
	step("click Sign in", chromedp.Click(css("#signin-link")), chromedp.WaitVisible(css("#password")))
	if loc := get("location", chromedp.Location()); !strings.HasPrefix(loc, app.TenantURL+"/") {
		t.Fatalf("sign-in page is not the tenant's: %s", loc)
	}
	step("submit credentials",
		chromedp.SendKeys(css("#email"), app.DemoEmail),
		chromedp.SendKeys(css("#password"), demoPassword),
		chromedp.Click(css("#signin")),
		chromedp.WaitVisible(css("#q")),
	)
	if loc := get("location", chromedp.Location()); !strings.HasPrefix(loc, app.URL+"/users") {
		t.Fatalf("after sign-in landed on %s", loc)
	}

	step("search",
		chromedp.SendKeys(css("#q"), cust.Email),
		chromedp.Click(css("#search")),
		chromedp.WaitVisible(css(`[data-testid="user-row"] a`)),
	)
	if text := get("result row", chromedp.Text(css(`[data-testid="user-row"]`))); !strings.Contains(text, cust.Email) {
		t.Fatalf("search result row %q lacks %s", text, cust.Email)
	}
	step("open user", chromedp.Click(css(`[data-testid="user-row"] a`)), chromedp.WaitVisible(css("#edit-metadata")))
	if text := get("user page", chromedp.Text(css("body"))); !strings.Contains(text, cust.Email) || !strings.Contains(text, cust.UserID) {
		t.Fatalf("user page lacks the email or id:\n%s", text)
	}

	// Edit user_metadata: keep what is there and add one key.
	step("open metadata form", chromedp.Click(css("#edit-metadata")), chromedp.WaitVisible(css("#user_metadata")))
	current := get("metadata textarea", chromedp.Value(css("#user_metadata")))
	um := map[string]any{}
	if strings.TrimSpace(current) != "" {
		if err := json.Unmarshal([]byte(current), &um); err != nil {
			t.Fatalf("metadata textarea is not JSON: %v\n%s", err, current)
		}
	}
	um["support_note"] = "called about billing"
	edited, _ := json.MarshalIndent(um, "", "  ")
	step("save metadata",
		chromedp.SetValue(css("#user_metadata"), string(edited)),
		chromedp.Click(css("#save-metadata")),
		chromedp.WaitVisible(css("#confirm-metadata")), // the preview of the PATCH
		chromedp.Click(css("#confirm-metadata")),
		chromedp.WaitVisible(css(`[data-testid="flash"]`)),
	)
	if text := get("flash", chromedp.Text(css(`[data-testid="flash"]`))); !strings.Contains(text, "Metadata saved") {
		t.Fatalf("flash after saving: %q", text)
	}
	if text := get("metadata", chromedp.Text(css(`[data-testid="user-metadata-json"]`))); !strings.Contains(text, "called about billing") {
		t.Fatalf("user page does not show the saved metadata: %s", text)
	}

	// A duplicate create shows the error next to the email field and keeps the form filled in.
	step("duplicate create",
		chromedp.Click(css("#nav-new-user")),
		chromedp.WaitVisible(css("#create")),
		chromedp.SetValue(css("#connection"), "Username-Password-Authentication"),
		chromedp.SendKeys(css("#email"), cust.Email),
		chromedp.SendKeys(css("#password"), "Str0ng-Password!"),
		chromedp.Click(css("#create")),
		chromedp.WaitVisible(css(`[data-testid="error-email"]`)),
	)
	if text := get("email error", chromedp.Text(css(`[data-testid="error-email"]`))); !strings.Contains(strings.ToLower(text), "already exists") {
		t.Fatalf("duplicate create error: %q", text)
	}
	if v := get("email value", chromedp.Value(css("#email"))); v != cust.Email {
		t.Fatalf("email field not kept after the error: %q", v)
	}

	newEmail := "journey-" + time.Now().Format("150405") + "@example.org"
	step("create a new user",
		chromedp.SetValue(css("#email"), newEmail),
		chromedp.SendKeys(css("#password"), "Str0ng-Password!"),
		chromedp.Click(css("#create")),
		chromedp.WaitVisible(css(`[data-testid="flash"]`)),
	)
	if text := get("after create", chromedp.Text(css("body"))); !strings.Contains(text, "User created") || !strings.Contains(text, newEmail) {
		t.Fatalf("after create:\n%s", text)
	}

	// The tenant really holds both changes.
	id, secret := app.tenant.ServiceAccount()
	c, err := mgmt.New(app.TenantURL, id, secret)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Users.Get(t.Context(), cust.UserID)
	if err != nil || got.UserMetadata["support_note"] != "called about billing" {
		t.Fatalf("metadata not stored upstream: %v %v", got, err)
	}
	for k := range cust.UserMetadata {
		if _, ok := got.UserMetadata[k]; !ok {
			t.Errorf("metadata key %q lost by the edit", k)
		}
	}
	l, err := c.Users.List(t.Context(), mgmt.ListUsersParams{Q: `email:"` + newEmail + `"`})
	if err != nil || l.Total != 1 {
		t.Fatalf("new user not found upstream: %v %v", l, err)
	}
}
