package users_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
)

func ev(typ, ip string, minutesAgo int) mgmt.LogEvent {
	d := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC).Add(-time.Duration(minutesAgo) * time.Minute)
	return mgmt.LogEvent{Type: typ, IP: ip, Date: &d, Description: "Wrong email or password."}
}

func TestDiagnose(t *testing.T) {
	yes, no := true, false
	db := []mgmt.Identity{{Connection: "Username-Password-Authentication", Provider: "auth0", UserID: "1"}}
	social := []mgmt.Identity{{Connection: "google-oauth2", Provider: "google-oauth2", UserID: "1", IsSocial: true}}
	user := func(mod func(u *mgmt.User)) *mgmt.User {
		u := &mgmt.User{UserID: "auth0|1", Email: "jane@example.com", EmailVerified: &yes, Identities: db}
		if mod != nil {
			mod(u)
		}
		return u
	}
	known := func(f users.SignInFacts) users.SignInFacts {
		f.BlocksKnown, f.MethodsKnown, f.LogsKnown = true, true, true
		return f
	}
	const signsIn = "Signs in with Username-Password-Authentication."
	tests := []struct {
		name  string
		facts users.SignInFacts
		want  []users.Finding
	}{
		{"nothing wrong, database user", known(users.SignInFacts{User: user(nil), Logs: []mgmt.LogEvent{ev("s", "198.51.100.1", 5)}}),
			[]users.Finding{
				{Sentence: "No recent failures; the password may be wrong — send a password-change ticket.", Fix: users.FixTicket},
				{Sentence: signsIn}}},
		{"blocked by an administrator", known(users.SignInFacts{User: user(func(u *mgmt.User) { u.Blocked = &yes })}),
			[]users.Finding{
				{Sentence: "Blocked by an administrator: Auth0 refuses every sign-in — unblock the user.", Fix: users.FixUnblock},
				{Sentence: signsIn}}},
		{"brute-force block", known(users.SignInFacts{User: user(nil),
			Blocks: []mgmt.BlockedFor{{Identifier: "jane@example.com", IP: "203.0.113.5"}, {Identifier: "jane", IP: "203.0.113.5"}},
			Logs:   []mgmt.LogEvent{ev("limit_wc", "203.0.113.5", 1), ev("fp", "203.0.113.5", 2), ev("s", "", 60)}}),
			[]users.Finding{
				{Sentence: "Locked out after too many failed logins from 203.0.113.5 — clear the block.", Fix: users.FixClearBlocks},
				{Sentence: "1 wrong password since the last successful login, the latest from 203.0.113.5 at 2026-11-27 11:58 UTC: the user may have forgotten it — send a password-change ticket.", Fix: users.FixTicket},
				{Sentence: signsIn}}},
		{"admin block outranks brute-force block", known(users.SignInFacts{User: user(func(u *mgmt.User) { u.Blocked = &yes }),
			Blocks: []mgmt.BlockedFor{{Identifier: "jane@example.com", IP: "203.0.113.5"}}}),
			[]users.Finding{
				{Sentence: "Blocked by an administrator: Auth0 refuses every sign-in — unblock the user.", Fix: users.FixUnblock},
				{Sentence: "Locked out after too many failed logins from 203.0.113.5 — clear the block.", Fix: users.FixClearBlocks},
				{Sentence: signsIn}}},
		{"wrong passwords since the last success only", known(users.SignInFacts{User: user(nil),
			Logs: []mgmt.LogEvent{ev("fp", "192.0.2.9", 1), ev("fp", "192.0.2.8", 3), ev("s", "", 10), ev("fp", "192.0.2.7", 20)}}),
			[]users.Finding{
				{Sentence: "2 wrong passwords since the last successful login, the latest from 192.0.2.9 at 2026-11-27 11:59 UTC: the user may have forgotten it — send a password-change ticket.", Fix: users.FixTicket},
				{Sentence: signsIn}}},
		{"email not verified", known(users.SignInFacts{User: user(func(u *mgmt.User) { u.EmailVerified = &no })}),
			[]users.Finding{
				{Sentence: "Email not verified: applications that require a verified email refuse the sign-in — resend verification.", Fix: users.FixVerify},
				{Sentence: signsIn}}},
		{"MFA failures", known(users.SignInFacts{User: user(nil),
			Methods: []mgmt.AuthenticationMethod{{ID: "totp|dev_1", Type: "totp"}},
			Logs:    []mgmt.LogEvent{ev("gd_auth_failed", "192.0.2.1", 1)}}),
			[]users.Finding{
				{Sentence: "1 failed second factor since the last successful login, the latest from 192.0.2.1 at 2026-11-27 11:59 UTC: if the user lost the device, reset MFA.", Fix: users.FixResetMFA},
				{Sentence: signsIn}}},
		{"MFA enrolled without failures is a further fact", known(users.SignInFacts{User: user(nil),
			Methods: []mgmt.AuthenticationMethod{{ID: "totp|dev_1", Type: "totp"}, {ID: "phone|dev_2", Type: "phone"}, {ID: "email|x", Type: "email"}}}),
			[]users.Finding{
				{Sentence: "No recent failures; the password may be wrong — send a password-change ticket.", Fix: users.FixTicket},
				{Sentence: "Enrolled in MFA (totp, phone): a lost device stops the sign-in at the second step — reset MFA then.", Fix: users.FixResetMFA},
				{Sentence: signsIn}}},
		{"a recovery code is not a factor, but is said", known(users.SignInFacts{User: user(nil),
			Methods: []mgmt.AuthenticationMethod{{ID: "totp|dev_1", Type: "totp"}, {ID: "recovery-code|dev_2", Type: "recovery-code"}}}),
			[]users.Finding{
				{Sentence: "No recent failures; the password may be wrong — send a password-change ticket.", Fix: users.FixTicket},
				{Sentence: "Enrolled in MFA (totp) with a recovery code: a lost device stops the sign-in at the second step — the user can use their recovery code, or reset MFA.", Fix: users.FixResetMFA},
				{Sentence: signsIn}}},
		{"a recovery code alone is no MFA enrolment", known(users.SignInFacts{User: user(nil),
			Methods: []mgmt.AuthenticationMethod{{ID: "recovery-code|dev_2", Type: "recovery-code"}}}),
			[]users.Finding{
				{Sentence: "No recent failures; the password may be wrong — send a password-change ticket.", Fix: users.FixTicket},
				{Sentence: signsIn}}},
		{"other failures show Auth0's description", known(users.SignInFacts{User: user(nil), Logs: []mgmt.LogEvent{ev("f", "192.0.2.3", 1)}}),
			[]users.Finding{
				{Sentence: "1 failed login since the last successful login, the latest from 192.0.2.3 at 2026-11-27 11:59 UTC (Failed login: Wrong email or password.)."},
				{Sentence: signsIn}}},
		{"social user", known(users.SignInFacts{User: user(func(u *mgmt.User) { u.Identities = social })}),
			[]users.Finding{
				{Sentence: "No recent failures; the user signs in through google-oauth2, which manages the password, so ask them to check their account there."},
				{Sentence: "Signs in with google-oauth2."}}},
		{"unreadable parts are said, not assumed", users.SignInFacts{User: user(nil)},
			[]users.Finding{
				{Sentence: "No problem found in the user's record, but the log could not be read; check the Logs section."},
				{Sentence: "MFA enrolments could not be read."},
				{Sentence: "Brute-force blocks could not be read."},
				{Sentence: signsIn}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := users.Diagnose(tt.facts).Findings
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("findings:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestLogTypeText(t *testing.T) {
	for code, want := range map[string]string{
		"s": "Successful login", "f": "Failed login", "fp": "Wrong password", "fu": "Unknown user",
		"limit_wc": "Blocked after too many failed logins", "sapi": "Management API write", "scp": "Password changed",
		"sv": "Email verified", "seccft": "Client credentials exchanged for a token", "feccft": "Client credentials exchange failed",
		"zz_new": "Event zz_new",
	} {
		if got := users.LogTypeText(code); got != want {
			t.Errorf("%s: %q, want %q", code, got, want)
		}
	}
	if !users.IsSignInFailure("fp") || !users.IsSignInFailure("limit_wc") || users.IsSignInFailure("s") || users.IsSignInFailure("sapi") {
		t.Error("IsSignInFailure misclassifies")
	}
}
