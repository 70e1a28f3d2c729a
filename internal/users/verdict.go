package users

import (
	"fmt"
	"slices"
	"strings"

	"github.com/userdesk/userdesk/internal/mgmt"
)

// Fix is the action that resolves a sign-in problem; the panel links it to that action's form.
type Fix string

// The fixes the panel offers.
const (
	FixNone        Fix = ""
	FixUnblock     Fix = "unblock"
	FixClearBlocks Fix = "clear-blocks"
	FixVerify      Fix = "verify"
	FixTicket      Fix = "ticket"
	FixResetMFA    Fix = "mfa"
)

// Finding is one sentence of the "Why can't this user sign in?" panel and the fix it suggests.
type Finding struct {
	Sentence string
	Fix      Fix
}

// Verdict is the panel: Findings[0] is the verdict, the most likely reason first; the rest are
// further facts worth checking. It always has at least one finding.
type Verdict struct {
	Findings []Finding
}

// SignInFacts is what Diagnose combines. A part whose read failed is marked not Known, so the
// verdict says it could not be checked rather than assuming the best.
type SignInFacts struct {
	User         *mgmt.User
	Blocks       []mgmt.BlockedFor
	BlocksKnown  bool
	Methods      []mgmt.AuthenticationMethod
	MethodsKnown bool
	Logs         []mgmt.LogEvent // newest first
	LogsKnown    bool
}

// mfaFailureTypes are log codes of a failed second factor.
var mfaFailureTypes = []string{"gd_auth_failed", "gd_auth_rejected", "gd_otp_rate_limit_exceed", "gd_recovery_failed"}

// Diagnose turns the facts into a plain-language verdict, in this order of likelihood: blocked by an
// administrator, locked out by brute-force protection, recent wrong passwords, recent MFA failures,
// email not verified, and otherwise "no recent failures". Failures count only after the latest
// successful login in the events given.
func Diagnose(f SignInFacts) Verdict {
	var out []Finding
	u := f.User
	if u != nil && u.Blocked != nil && *u.Blocked {
		out = append(out, Finding{"Blocked by an administrator: Auth0 refuses every sign-in — unblock the user.", FixUnblock})
	}
	if f.BlocksKnown && len(f.Blocks) > 0 {
		var ips []string
		for _, b := range f.Blocks {
			if b.IP != "" && !slices.Contains(ips, b.IP) {
				ips = append(ips, b.IP)
			}
		}
		s := "Locked out after too many failed logins"
		if len(ips) > 0 {
			s += " from " + strings.Join(ips, ", ")
		}
		out = append(out, Finding{s + " — clear the block.", FixClearBlocks})
	}

	// Failures since the latest success.
	var recent []mgmt.LogEvent
	if f.LogsKnown {
		for _, e := range f.Logs {
			if e.Type == "s" {
				break
			}
			recent = append(recent, e)
		}
	}
	count := func(types ...string) (n int, last *mgmt.LogEvent) {
		for i := range recent {
			if slices.Contains(types, recent[i].Type) {
				if last == nil {
					last = &recent[i]
				}
				n++
			}
		}
		return n, last
	}
	database := false
	social := ""
	if u != nil {
		_, database = DatabaseIdentity(u)
		if !database && len(u.Identities) > 0 {
			social = u.Identities[0].Connection
		}
	}
	if n, last := count("fp"); n > 0 {
		s := fmt.Sprintf("%s since the last successful login, the latest%s", times(n, "wrong password"), where(last))
		if database {
			out = append(out, Finding{s + ": the user may have forgotten it — send a password-change ticket.", FixTicket})
		} else {
			out = append(out, Finding{s + ".", FixNone})
		}
	}
	if n, last := count(mfaFailureTypes...); n > 0 {
		out = append(out, Finding{fmt.Sprintf("%s since the last successful login, the latest%s: if the user lost the device, reset MFA.",
			times(n, "failed second factor"), where(last)), FixResetMFA})
	}
	if n, last := count("f", "fu", "fc", "fcoa", "limit_mu", "limit_sul"); n > 0 && len(out) == 0 {
		desc := strings.TrimSpace(last.Description)
		s := fmt.Sprintf("%s since the last successful login, the latest%s", times(n, "failed login"), where(last))
		if desc != "" {
			s += " (" + LogTypeText(last.Type) + ": " + desc + ")"
		}
		out = append(out, Finding{s + ".", FixNone})
	}
	if u != nil && u.EmailVerified != nil && !*u.EmailVerified && u.Email != "" {
		out = append(out, Finding{"Email not verified: applications that require a verified email refuse the sign-in — resend verification.", FixVerify})
	}
	if len(out) == 0 {
		switch {
		case !f.LogsKnown:
			out = append(out, Finding{"No problem found in the user's record, but the log could not be read; check the Logs section.", FixNone})
		case social != "":
			out = append(out, Finding{"No recent failures; the user signs in through " + social + ", which manages the password, so ask them to check their account there.", FixNone})
		case database:
			out = append(out, Finding{"No recent failures; the password may be wrong — send a password-change ticket.", FixTicket})
		default:
			out = append(out, Finding{"No recent failures found.", FixNone})
		}
	}

	// Further facts.
	if f.MethodsKnown {
		var kinds []string
		recovery := false
		for _, m := range f.Methods {
			switch {
			case m.Type == "recovery-code":
				// Not a factor: the way past a lost one.
				recovery = true
			case m.Type != "" && m.Type != "password" && m.Type != "email" && !slices.Contains(kinds, m.Type):
				kinds = append(kinds, m.Type)
			}
		}
		if len(kinds) > 0 && !slices.ContainsFunc(out, func(x Finding) bool { return x.Fix == FixResetMFA }) {
			s := "Enrolled in MFA (" + strings.Join(kinds, ", ") + "): a lost device stops the sign-in at the second step — reset MFA then."
			if recovery {
				s = "Enrolled in MFA (" + strings.Join(kinds, ", ") + ") with a recovery code: a lost device stops the sign-in at the " +
					"second step — the user can use their recovery code, or reset MFA."
			}
			out = append(out, Finding{s, FixResetMFA})
		}
	} else {
		out = append(out, Finding{"MFA enrolments could not be read.", FixNone})
	}
	if !f.BlocksKnown {
		out = append(out, Finding{"Brute-force blocks could not be read.", FixNone})
	}
	if u != nil && len(u.Identities) > 0 {
		names := make([]string, 0, len(u.Identities))
		for _, i := range u.Identities {
			names = append(names, i.Connection)
		}
		out = append(out, Finding{"Signs in with " + strings.Join(names, ", ") + ".", FixNone})
	}
	return Verdict{Findings: out}
}

func times(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func where(e *mgmt.LogEvent) string {
	s := ""
	if e.IP != "" {
		s += " from " + e.IP
	}
	if e.Date != nil {
		s += " at " + e.Date.UTC().Format("2006-01-02 15:04 UTC")
	}
	return s
}
