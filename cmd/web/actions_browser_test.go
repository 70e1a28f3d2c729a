package main

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/userdesk/userdesk/internal/mgmt"
)

// TestBrowserUserActions drives every user-page action in Chromium against the embedded tenant and
// checks the tenant holds each result.
func TestBrowserUserActions(t *testing.T) {
	b := newBrowser(t)
	app, _ := startTestApp(t, nil)
	cust := firstCustomer(t, app)
	page := app.URL + "/users/" + url.PathEscape(cust.UserID)
	api := mgmtFor(t, app)
	b.signIn(app)

	b.step("profile", chromedp.Navigate(page), chromedp.WaitVisible(css("#signin-panel")))
	b.expectText("tabs", `[aria-current="page"]`, "Profile")

	// Block, then unblock.
	b.step("block", chromedp.Click(css("#action-block")), chromedp.WaitVisible(css("#submit-block")),
		chromedp.Click(css("#submit-block")), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	b.expectText("blocked", `[data-testid="flash"]`, "User blocked.")
	b.expectText("badge", `h1`, "Blocked")
	b.expectText("panel", `[data-testid="signin-panel"]`, "Blocked by an administrator")
	b.step("unblock", chromedp.Click(css("#action-unblock")), chromedp.WaitVisible(css("#submit-unblock")),
		chromedp.Click(css("#submit-unblock")), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	b.expectText("unblocked", `[data-testid="flash"]`, "User unblocked.")
	if u, err := api.Users.Get(t.Context(), cust.UserID); err != nil || u.Blocked == nil || *u.Blocked {
		t.Fatalf("tenant blocked state after unblock: %v %v", u.Blocked, err)
	}

	// Password-change ticket: the link is shown to copy and opens the tenant's page.
	b.step("ticket", chromedp.Navigate(page+"/ticket"), chromedp.WaitVisible(css("#submit-ticket")),
		chromedp.Click(css("#submit-ticket")), chromedp.WaitVisible(css("#ticket-url")))
	if v := b.value("ticket url", "#ticket-url"); !strings.HasPrefix(v, app.TenantURL+"/") || !strings.Contains(v, "ticket=") {
		t.Fatalf("ticket url %q", v)
	}

	// Profile edit, re-read from the tenant.
	nick := "nick-" + time.Now().Format("150405")
	b.step("edit profile", chromedp.Navigate(page+"/profile"), chromedp.WaitVisible(css("#nickname")),
		chromedp.SetValue(css("#nickname"), nick), chromedp.Click(css("#submit-profile")), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	b.expectText("profile saved", `[data-testid="flash"]`, "Profile saved.")
	b.expectText("nickname shown", `[data-testid="profile"]`, nick)

	// Set a password: the tenant records the reset.
	b.step("set password", chromedp.Navigate(page+"/password"), chromedp.WaitVisible(css("#password")),
		chromedp.SendKeys(css("#password"), "Journey-Passw0rd!"), chromedp.SendKeys(css("#confirm"), "Journey-Passw0rd!"),
		chromedp.Click(css("#submit-password")), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	b.expectText("password set", `[data-testid="flash"]`, "Password set.")
	if u, err := api.Users.Get(t.Context(), cust.UserID); err != nil || u.LastPasswordReset == nil {
		t.Fatalf("last_password_reset not set: %v", err)
	}

	// Roles: assign from the picker, then remove after the confirmation step.
	b.step("roles", chromedp.Navigate(page+"/roles"), chromedp.WaitVisible(css("#assign-role")))
	attr := read(b, "first role in the picker", chromedp.AttributeValue(css(`#role option:nth-child(2)`), "value"))
	if !attr.Exists {
		b.fail("first role in the picker", errors.New("the option has no value"))
	}
	opt := attr.Value
	b.step("assign", chromedp.SetValue(css("#role"), opt), chromedp.Click(css("#assign-role")), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	b.expectText("assigned", `[data-testid="flash"]`, "Role assigned.")
	b.expectText("role listed", `[data-testid="roles"]`, opt)
	b.step("remove", chromedp.Navigate(page+"/roles/remove?role="+url.QueryEscape(opt)), chromedp.WaitVisible(css("#submit-role-remove")),
		chromedp.Click(css("#submit-role-remove")), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	b.expectText("removed", `[data-testid="flash"]`, "Role removed.")

	// Several roles at once: tick them in the section (a plain GET form), confirm, both go.
	roles, err := api.Roles.List(t.Context(), mgmt.RoleListParams{})
	if err != nil || len(roles.Roles) < 2 {
		t.Fatalf("tenant roles: %v %v", roles, err)
	}
	two := []string{roles.Roles[0].ID, roles.Roles[1].ID}
	if err := api.Users.AssignRoles(t.Context(), cust.UserID, two); err != nil {
		t.Fatal(err)
	}
	b.step("tick two roles", chromedp.Navigate(page+"/roles"), chromedp.WaitVisible(css("#remove-selected-roles")),
		chromedp.Click(css(`tr:nth-child(1) input[data-testid="pick-role"]`)), chromedp.Click(css(`tr:nth-child(2) input[data-testid="pick-role"]`)),
		chromedp.Click(css("#remove-selected-roles")), chromedp.WaitVisible(css("#submit-role-remove")))
	for _, id := range two {
		b.expectText("confirmation names "+id, "main", id)
	}
	b.step("remove both", chromedp.Click(css("#submit-role-remove")), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	b.expectText("both removed", `[data-testid="flash"]`, "2 roles removed.")

	// A new MFA recovery code is shown once, on the answer to the form.
	b.step("recovery code", chromedp.Navigate(page+"/sessions"), chromedp.WaitVisible(css(`[data-testid="new-recovery-code"]`)),
		chromedp.Click(css(`[data-testid="new-recovery-code"]`)), chromedp.WaitVisible(css("#submit-recovery-code")),
		chromedp.Click(css("#submit-recovery-code")), chromedp.WaitVisible(css("#recovery-code-value")))
	if code := b.value("recovery code", "#recovery-code-value"); len(code) != 24 {
		t.Fatalf("recovery code shown = %q", code)
	}

	// Sign one session out from its row.
	b.step("sign one session out", chromedp.Navigate(page+"/sessions"), chromedp.WaitVisible(css(`[data-testid="revoke-session"]`)),
		chromedp.Click(css(`[data-testid="revoke-session"]`)), chromedp.WaitVisible(css("#submit-revoke-session")),
		chromedp.Click(css("#submit-revoke-session")), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	b.expectText("session signed out", `[data-testid="flash"]`, "Session signed out")

	// Link another customer into this one, then unlink it again.
	other := otherCustomer(t, api, cust.UserID)
	b.step("link", chromedp.Navigate(page+"/identities/link"), chromedp.WaitVisible(css("#other")),
		chromedp.SendKeys(css("#other"), other.UserID), chromedp.Click(css("#confirm")), chromedp.Click(css("#submit-link")),
		chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	b.expectText("linked", `[data-testid="flash"]`, "Account "+other.UserID+" linked")
	b.step("unlink", chromedp.Click(css(`[data-testid="unlink-identity"]`)), chromedp.WaitVisible(css("#submit-unlink")),
		chromedp.Click(css("#submit-unlink")), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	b.expectText("unlinked", `[data-testid="flash"]`, "it is now a separate user, "+other.UserID)
	if _, err := api.Users.Get(t.Context(), other.UserID); err != nil {
		t.Fatalf("the unlinked account is not a user again: %v", err)
	}

	// Revoke sessions: the message says exactly what was revoked.
	b.step("revoke", chromedp.Navigate(page+"/revoke"), chromedp.WaitVisible(css("#submit-revoke")),
		chromedp.Click(css("#submit-revoke")), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	b.expectText("revoked", `[data-testid="flash"]`, "Revoked ")
	if ss, err := api.Users.Sessions(t.Context(), cust.UserID); err != nil || len(ss) != 0 {
		t.Fatalf("sessions after revoke: %d %v", len(ss), err)
	}

	// MFA reset needs a reason by default.
	b.step("mfa form", chromedp.Navigate(page+"/mfa"), chromedp.WaitVisible(css("#submit-mfa")))
	b.step("mfa without reason", chromedp.Click(css("#browsers")), chromedp.Click(css("#submit-mfa")), chromedp.WaitVisible(css("#error-summary")))
	b.expectText("reason required", `[data-testid="error-reason"]`, "reason")
	b.step("mfa with reason", chromedp.SendKeys(css("#reason"), "JOURNEY-1"), chromedp.Click(css("#submit-mfa")), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	b.expectText("mfa reset", `[data-testid="flash"]`, "Remembered browsers will ask for MFA again.")

	// Change the email, marking it verified (a reason is required by default).
	newEmail := "journey-" + time.Now().Format("150405") + "@example.org"
	b.step("change email", chromedp.Navigate(page+"/email"), chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), newEmail), chromedp.Click(css("#verify-1")), chromedp.SendKeys(css("#reason"), "JOURNEY-2"),
		chromedp.Click(css("#submit-email")), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	b.expectText("email changed", `[data-testid="profile"]`, newEmail)

	// Delete a throwaway user: a wrong confirmation sends nothing, the right one deletes.
	no := false
	victim, err := api.Users.Create(t.Context(), &mgmt.UserCreate{Connection: "Username-Password-Authentication",
		Email: "delete-me-" + time.Now().Format("150405") + "@example.org", Password: "Str0ng-Password!", EmailVerified: &no})
	if err != nil {
		t.Fatal(err)
	}
	vpage := app.URL + "/users/" + url.PathEscape(victim.UserID)
	b.step("resend verification", chromedp.Navigate(vpage), chromedp.WaitVisible(css("#action-verify")), chromedp.Click(css("#action-verify")),
		chromedp.WaitVisible(css("#submit-verify")), chromedp.Click(css("#submit-verify")), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	b.expectText("verification", `[data-testid="flash"]`, "Verification email requested")
	b.step("delete wrong", chromedp.Navigate(vpage+"/delete"), chromedp.WaitVisible(css("#confirm")),
		chromedp.SendKeys(css("#confirm"), "someone@example.org"), chromedp.SendKeys(css("#reason"), "JOURNEY-3"),
		chromedp.Click(css("#submit-delete")), chromedp.WaitVisible(css(`[data-testid="error-confirm"]`)))
	if _, err := api.Users.Get(t.Context(), victim.UserID); err != nil {
		t.Fatalf("user gone after a wrong confirmation: %v", err)
	}
	b.step("delete right", chromedp.SetValue(css("#confirm"), victim.Email), chromedp.Click(css("#submit-delete")), chromedp.WaitVisible(css("#q")))
	if loc := b.get("after delete", chromedp.Location()); !strings.HasPrefix(loc, app.URL+"/users") {
		t.Fatalf("after delete at %s", loc)
	}
	if _, err := api.Users.Get(t.Context(), victim.UserID); err == nil {
		t.Fatal("user still exists after delete")
	}
}

// TestBrowserUserPageWithoutJavaScript: with scripts disabled, every section and action form loads,
// and a block, an unblock and a refused delete confirmation work with plain form posts.
func TestBrowserUserPageWithoutJavaScript(t *testing.T) {
	b := newBrowser(t)
	app, _ := startTestApp(t, nil)
	cust := firstCustomer(t, app)
	b.withoutJavaScript()
	b.signIn(app)
	page := app.URL + "/users/" + url.PathEscape(cust.UserID)
	for _, tc := range []struct{ path, sel string }{
		{"", "#signin-panel"}, {"/roles", "#assign-role"}, {"/logs", `[data-testid="section"] h2`}, {"/sessions", `[data-testid="section"] h2`},
		{"/raw", `[data-testid="raw-json"]`}, {"/profile", "#submit-profile"}, {"/email", "#submit-email"}, {"/password", "#submit-password"},
		{"/ticket", "#submit-ticket"}, {"/block", "#submit-block"}, {"/blocks/clear", "#submit-clear-blocks"}, {"/mfa", "#submit-mfa"},
		{"/revoke", "#submit-revoke"}, {"/delete", "#submit-delete"},
	} {
		b.step("load "+tc.path, chromedp.Navigate(page+tc.path), chromedp.WaitVisible(css(tc.sel)))
	}
	b.step("block", chromedp.Navigate(page+"/block"), chromedp.WaitVisible(css("#submit-block")),
		chromedp.Click(css("#submit-block")), chromedp.WaitVisible(css(`[data-testid="blocked"]`)))
	b.step("unblock", chromedp.Click(css("#action-unblock")), chromedp.WaitVisible(css("#submit-unblock")),
		chromedp.Click(css("#submit-unblock")), chromedp.WaitVisible(css(`[data-testid="flash"]`)))
	b.expectText("unblocked", `[data-testid="flash"]`, "User unblocked.")
	b.step("delete typed wrong", chromedp.Navigate(page+"/delete"), chromedp.WaitVisible(css("#confirm")),
		chromedp.SendKeys(css("#confirm"), "nobody@example.org"), chromedp.SendKeys(css("#reason"), "NOJS-1"),
		chromedp.Click(css("#submit-delete")), chromedp.WaitVisible(css("#error-summary")))
	b.expectText("wrong confirmation", `[data-testid="error-confirm"]`, "Type the user's email address exactly")
}
