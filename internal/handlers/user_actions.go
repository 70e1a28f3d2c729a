package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/views"
)

// The user page's actions. Each has a GET page (its form, or the confirmation step of a destructive
// action, which works without JavaScript) and a POST that performs it through internal/users and
// redirects (303) to the section that shows the result, with a fixed ?msg= code: that page re-reads
// the user from Auth0. A password-change ticket is the exception: its URL is a credential, so it is
// shown in the POST's own answer (never in a URL) together with the re-read profile.

// done is where a successful action goes.
type done struct {
	msg    string     // the ?msg= code
	extra  url.Values // counts for the message
	sec    users.Section
	ticket string // a ticket URL: render the profile with it instead of redirecting
	code   string // an MFA recovery code: render Sessions & devices with it instead of redirecting
	to     string // redirect here instead of the section (delete: the list)
}

// actionDef describes one action's page and what its POST does.
type actionDef struct {
	path    string // after /users/<id>/
	heading string
	submit  string
	danger  bool
	// section is what the GET page reads besides the user and the scopes (SectionRaw: nothing).
	section users.Section
	intro   func(o *users.Overview) []string
	// introFor, when set, replaces intro for pages that depend on the request (which session).
	introFor func(c echo.Context, o *users.Overview, in url.Values) []string
	fields   func(h *handler, c echo.Context, o *users.Overview, in url.Values) []views.FormField
	labels   map[string]string
	run      func(h *handler, c echo.Context, id string, in url.Values) (done, error)
}

// actionDefs is every action's page (read-only after package initialisation).
var actionDefs = map[users.Act]actionDef{
	users.ActProfile: {path: "profile", heading: "Edit profile", submit: "Save profile", section: users.SectionRaw,
		fields: profileFormFields, labels: map[string]string{"name": "Name", "given_name": "Given name", "family_name": "Family name",
			"nickname": "Nickname", "picture": "Picture URL", "phone_number": "Phone", "username": "Username", "reason": "Reason or ticket"},
		run: runProfile},
	users.ActEmail: {path: "email", heading: "Change email", submit: "Change email", section: users.SectionRaw,
		intro:  func(o *users.Overview) []string { return []string{"Current address: " + orNone(o.User.Email) + "."} },
		fields: emailFormFields, labels: map[string]string{"email": "New email", "verify": "Verification", "reason": "Reason or ticket"},
		run: runEmail},
	users.ActPassword: {path: "password", heading: "Set password", submit: "Set password", section: users.SectionRaw,
		fields: passwordFormFields, labels: map[string]string{"password": "New password", "confirm": "Repeat the password", "reason": "Reason or ticket"},
		run: runPassword},
	users.ActTicket: {path: "ticket", heading: "Password-change ticket", submit: "Create ticket", section: users.SectionRaw,
		intro: func(*users.Overview) []string {
			return []string{"Creates a one-time link with which the user sets a new password. Nothing is emailed: the link is shown once for you to send."}
		},
		fields: func(_ *handler, _ echo.Context, _ *users.Overview, in url.Values) []views.FormField {
			return []views.FormField{{Name: "mark_verified", Label: "Also mark the email verified when the password is set", Type: "checkbox",
				Checked: in.Get("mark_verified") == "true"}}
		},
		labels: map[string]string{"reason": "Reason or ticket"}, run: runTicket},
	users.ActVerify: {path: "verify", heading: "Resend verification email", submit: "Send verification email", section: users.SectionRaw,
		intro: func(o *users.Overview) []string {
			return []string{"Auth0 emails a verification link to " + orNone(o.User.Email) + "."}
		},
		labels: map[string]string{"reason": "Reason or ticket"}, run: runVerify},
	users.ActBlock: {path: "block", heading: "Block user", submit: "Block user", danger: true, section: users.SectionRaw,
		intro: func(*users.Overview) []string {
			return []string{"Auth0 will refuse every sign-in of this user until someone unblocks them. Existing sessions are not ended: revoke them too if needed."}
		},
		labels: map[string]string{"reason": "Reason or ticket"}, run: runBlock(true)},
	users.ActUnblock: {path: "unblock", heading: "Unblock user", submit: "Unblock user", section: users.SectionRaw,
		intro: func(*users.Overview) []string {
			return []string{"The user can sign in again. Brute-force blocks are separate: clear them too if the user is locked out."}
		},
		labels: map[string]string{"reason": "Reason or ticket"}, run: runBlock(false)},
	users.ActClearBlocks: {path: "blocks/clear", heading: "Clear brute-force blocks", submit: "Clear blocks", section: users.SectionProfile,
		intro: func(o *users.Overview) []string {
			if o.BlocksProblem != "" {
				return []string{o.BlocksProblem}
			}
			if len(o.Blocks) == 0 {
				return []string{"There are no brute-force blocks for this user right now."}
			}
			out := []string{"These blocks will be lifted:"}
			for _, b := range o.Blocks {
				out = append(out, b.Identifier+" from "+b.IP)
			}
			return out
		},
		labels: map[string]string{"reason": "Reason or ticket"}, run: runClearBlocks},
	users.ActMFA: {path: "mfa", heading: "Reset MFA", submit: "Reset MFA", danger: true, section: users.SectionSessions,
		intro: func(o *users.Overview) []string {
			out := []string{"Removing a method makes the user enrol again at the next sign-in. This cannot be undone."}
			if o.MethodsProblem != "" {
				out = append(out, o.MethodsProblem)
			}
			return out
		},
		fields: mfaFormFields, labels: map[string]string{"method": "What to reset", "reason": "Reason or ticket"}, run: runMFA},
	users.ActRevoke: {path: "revoke", heading: "Revoke sessions and refresh tokens", submit: "Revoke all", danger: true, section: users.SectionSessions,
		intro: func(o *users.Overview) []string {
			s := "Signs the user out of every browser and stops every application from refreshing its tokens"
			if o.SessionProblem == "" && o.TokensProblem == "" {
				s += " (" + plural(len(o.Sessions), "session") + " and " + plural(len(o.Tokens), "refresh token") + " now)"
			}
			return []string{s + "."}
		},
		labels: map[string]string{"reason": "Reason or ticket"}, run: runRevoke},
	users.ActRevokeSession: {path: revokeSessionPath, heading: "Sign out one session", submit: "Sign out this session", danger: true,
		section: users.SectionSessions, introFor: revokeSessionIntro,
		fields: func(_ *handler, c echo.Context, _ *users.Overview, in url.Values) []views.FormField {
			return []views.FormField{{Name: "session", Type: "hidden", Value: chosenSession(c, in)}}
		},
		labels: map[string]string{"session": "Session", "reason": "Reason or ticket"}, run: runRevokeSession},
	users.ActRecoveryCode: {path: recoveryCodePath, heading: "New MFA recovery code", submit: "Create a new code", danger: true,
		section: users.SectionSessions,
		intro: func(*users.Overview) []string {
			return []string{
				"Replaces the user's MFA recovery code: the old one stops working. The new code is shown once, on the next page.",
				"A recovery code signs in instead of the second factor: pass it on only once you are sure who you are talking to.",
			}
		},
		labels: map[string]string{"reason": "Reason or ticket"}, run: runRecoveryCode},
	users.ActLink: {path: "identities/link", heading: "Link another account", submit: "Link", danger: true, section: users.SectionRaw,
		intro: func(o *users.Overview) []string {
			return []string{
				"Makes another account one of this user's identities: signing in with it then opens this user (" +
					firstNonEmpty(o.User.Email, o.User.UserID) + ").",
				"The other account stops being a user of its own: its metadata, roles, sessions and MFA enrolments are deleted. " +
					"Its profile is kept with the identity, and unlinking it later makes it a separate user again, without them.",
			}
		},
		fields: func(_ *handler, _ echo.Context, _ *users.Overview, in url.Values) []views.FormField {
			return []views.FormField{
				{Name: "other", Label: "The other account: its user id or email address", Type: "text", Value: in.Get("other"),
					Hint: "An email address that several users have is not enough: use the user id (auth0|…, google-oauth2|…)."},
				{Name: "confirm", Label: "I understand that the other account's metadata, roles, sessions and MFA enrolments are deleted",
					Type: "checkbox", Checked: in.Get("confirm") == "true"},
			}
		},
		labels: map[string]string{"other": "The other account", "confirm": "Confirmation", "reason": "Reason or ticket"}, run: runLink},
	users.ActUnlink: {path: unlinkPath, heading: "Unlink an identity", submit: "Unlink", danger: true, section: users.SectionRaw,
		introFor: unlinkIntro,
		fields: func(_ *handler, c echo.Context, _ *users.Overview, in url.Values) []views.FormField {
			provider, identity := chosenIdentity(c, in)
			return []views.FormField{{Name: "provider", Type: "hidden", Value: provider}, {Name: "identity", Type: "hidden", Value: identity}}
		},
		labels: map[string]string{"reason": "Reason or ticket"}, run: runUnlink},
	users.ActRoleRemove: {path: "roles/remove", heading: "Remove roles", submit: "Remove", danger: true, section: users.SectionUserRoles,
		introFor: roleRemoveIntro,
		fields: func(_ *handler, c echo.Context, _ *users.Overview, in url.Values) []views.FormField {
			var out []views.FormField
			for _, id := range chosenRoles(c, in) {
				out = append(out, views.FormField{Name: "role", Type: "hidden", Value: id})
			}
			return out
		},
		labels: map[string]string{"role": "Role", "reason": "Reason or ticket"}, run: runRoleRemove},
	users.ActDelete: {path: "delete", heading: "Delete user", submit: "Delete user", danger: true, section: users.SectionRaw,
		intro: func(o *users.Overview) []string {
			return []string{"The user, their identities and metadata are deleted for good. This cannot be undone.",
				"To confirm, type the user's " + confirmWhat(o) + " below."}
		},
		fields: func(_ *handler, _ echo.Context, o *users.Overview, in url.Values) []views.FormField {
			return []views.FormField{{Name: "confirm", Label: "Type " + confirmWhat(o) + " to confirm", Type: "text", Value: in.Get("confirm")}}
		},
		labels: map[string]string{"confirm": "Confirmation", "reason": "Reason or ticket"}, run: runDelete},
}

// actionGet: GET /users/:id/<action> — the form or the confirmation step, disabled with the missing
// scope named when the service account cannot perform it.
func (h *handler) actionGet(act users.Act) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := userID(c)
		if err != nil {
			return err
		}
		return h.renderAction(c, act, id, http.StatusOK, url.Values{}, nil, "")
	}
}

// actionPost: POST /users/:id/<action> — perform, then redirect to the re-read user; on failure the
// form again with the input, the messages next to the fields and the error summary.
func (h *handler) actionPost(act users.Act) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := userID(c)
		if err != nil {
			return err
		}
		in, err := c.FormParams()
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest)
		}
		res, err := actionDefs[act].run(h, c, id, in)
		audited := !errors.Is(err, users.ErrAuditFailed)
		if err == nil || !audited {
			return h.afterAction(c, id, res, audited)
		}
		if errors.Is(err, users.ErrNoUser) {
			return h.noUser(c, id)
		}
		var p *users.Problem
		if !errors.As(err, &p) {
			return err
		}
		h.logProblem(c, p)
		return h.renderAction(c, act, id, p.Status, in, p.Fields, withAuditNote(p))
	}
}

// afterAction redirects to the section that shows the result, or renders the profile with a ticket.
func (h *handler) afterAction(c echo.Context, id string, d done, audited bool) error {
	q := url.Values{}
	for k, v := range d.extra {
		q[k] = v
	}
	if d.msg != "" {
		q.Set("msg", d.msg)
	}
	if !audited {
		q.Set("audit", "failed")
	}
	if d.ticket != "" || d.code != "" {
		// A credential to show once: rendered in this answer (never in a URL), with the section that
		// shows its context, not cached.
		sec, flash := users.SectionProfile, "Password-change ticket created."
		if d.code != "" {
			sec, flash = users.SectionSessions, "New recovery code created."
		}
		o, err := h.users.Overview(c.Request().Context(), id, sec)
		if err != nil {
			if errors.Is(err, users.ErrNoUser) {
				return h.noUser(c, id)
			}
			return err
		}
		shell := h.userShell(c, o, sec)
		shell.Ticket, shell.RecoveryCode = d.ticket, d.code
		shell.Flash, shell.Warning = flash, ""
		if !audited {
			shell.Warning = users.MsgAuditFailed
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return h.renderSection(c, http.StatusOK, o, sec, shell, nil, "", "")
	}
	to := d.to
	if to == "" {
		to = sectionURL(id, d.sec)
	}
	if len(q) > 0 {
		to += "?" + q.Encode()
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// renderAction renders act's page for the user (re-read with the scopes and what the page shows).
func (h *handler) renderAction(c echo.Context, act users.Act, id string, status int, in url.Values, errs map[string]string, message string) error {
	d := actionDefs[act]
	o, err := h.users.Overview(c.Request().Context(), id, d.section)
	if errors.Is(err, users.ErrNoUser) {
		return h.noUser(c, id)
	}
	if err != nil {
		return err
	}
	f := views.ActionForm{
		Heading: d.heading, User: firstNonEmpty(o.User.Email, o.User.UserID), UserURL: userURL(id),
		ActionURL: userURL(id) + "/" + d.path, SubmitID: "submit-" + string(act), Submit: d.submit, Danger: d.danger,
		Reason: in.Get("reason"), ReasonRequired: h.users.ReasonRequiredFor(act.AuditName()),
		Errors: errs, Message: message, Labels: d.labels,
	}
	if m := o.Missing[act]; m != "" {
		f.Disabled = users.MsgLacksScope(m)
	}
	if d.intro != nil {
		f.Intro = d.intro(o)
	}
	if d.introFor != nil {
		f.Intro = d.introFor(c, o, in)
	}
	if d.fields != nil {
		f.Fields = d.fields(h, c, o, in)
	}
	return h.render(c, status, d.heading, views.ActionPage(f))
}

func profileFormFields(_ *handler, _ echo.Context, o *users.Overview, in url.Values) []views.FormField {
	u := o.User
	v := func(k, cur string) string {
		if _, ok := in[k]; ok {
			return in.Get(k)
		}
		return cur
	}
	return []views.FormField{
		{Name: "name", Label: "Name", Type: "text", Value: v("name", u.Name)},
		{Name: "given_name", Label: "Given name", Type: "text", Value: v("given_name", u.GivenName)},
		{Name: "family_name", Label: "Family name", Type: "text", Value: v("family_name", u.FamilyName)},
		{Name: "nickname", Label: "Nickname", Type: "text", Value: v("nickname", u.Nickname)},
		{Name: "picture", Label: "Picture URL", Type: "url", Value: v("picture", u.Picture), Hint: "An https:// address of an image."},
		{Name: "phone_number", Label: "Phone", Type: "tel", Value: v("phone_number", u.PhoneNumber), Hint: "International format, like +14155550123."},
		{Name: "username", Label: "Username", Type: "text", Value: v("username", u.Username)},
	}
}

func runProfile(h *handler, c echo.Context, id string, in url.Values) (done, error) {
	out, err := h.users.UpdateProfile(c.Request().Context(), id, users.ProfileForm{
		Name: in.Get("name"), GivenName: in.Get("given_name"), FamilyName: in.Get("family_name"), Nickname: in.Get("nickname"),
		Picture: in.Get("picture"), Phone: in.Get("phone_number"), Username: in.Get("username"), Reason: in.Get("reason"),
	})
	if out == users.NoChange && err == nil {
		return done{msg: "nochange"}, nil
	}
	return done{msg: "profile-saved"}, err
}

func emailFormFields(_ *handler, _ echo.Context, _ *users.Overview, in url.Values) []views.FormField {
	verify := in.Get("verify")
	return []views.FormField{
		{Name: "email", Label: "New email", Type: "email", Value: in.Get("email")},
		{Name: "verify", Label: "Verification", Type: "radio", Options: []views.Option{
			{Value: "send", Label: "Send a verification email to the new address", Selected: verify == "send"},
			{Value: "mark", Label: "Mark the new address verified (you checked it yourself)", Selected: verify == "mark"},
		}},
	}
}

func runEmail(h *handler, c echo.Context, id string, in url.Values) (done, error) {
	f := users.EmailChange{Email: in.Get("email"), Verify: in.Get("verify"), Reason: in.Get("reason")}
	err := h.users.ChangeEmail(c.Request().Context(), id, f)
	if f.Verify == "send" {
		return done{msg: "email-changed-sent"}, err
	}
	return done{msg: "email-changed"}, err
}

func passwordFormFields(h *handler, c echo.Context, o *users.Overview, _ url.Values) []views.FormField {
	pw := views.FormField{Name: "password", Label: "New password", Type: "password", Autocomplete: "new-password"}
	policy, conn, err := h.users.PasswordPolicyFor(c.Request().Context(), o.User)
	var p *users.Problem
	switch {
	case err == nil:
		pw.Hint = "The " + conn + " connection's password policy (" + policy.Level + "):"
		pw.Hints = policy.Rules()
	case errors.As(err, &p):
		pw.Hint = withAuditNote(p)
	}
	return []views.FormField{pw, {Name: "confirm", Label: "Repeat the password", Type: "password", Autocomplete: "new-password"}}
}

func runPassword(h *handler, c echo.Context, id string, in url.Values) (done, error) {
	err := h.users.SetPassword(c.Request().Context(), id, users.PasswordSet{Password: in.Get("password"), Confirm: in.Get("confirm"), Reason: in.Get("reason")})
	return done{msg: "password-set"}, err
}

func runTicket(h *handler, c echo.Context, id string, in url.Values) (done, error) {
	t, err := h.users.SendPasswordTicket(c.Request().Context(), id, users.TicketRequest{MarkVerified: in.Get("mark_verified") == "true", Reason: in.Get("reason")})
	return done{ticket: t}, err
}

func runVerify(h *handler, c echo.Context, id string, in url.Values) (done, error) {
	return done{msg: "verification-sent"}, h.users.ResendVerification(c.Request().Context(), id, in.Get("reason"))
}

func runBlock(blocked bool) func(h *handler, c echo.Context, id string, in url.Values) (done, error) {
	return func(h *handler, c echo.Context, id string, in url.Values) (done, error) {
		msg := "unblocked"
		if blocked {
			msg = "blocked"
		}
		return done{msg: msg}, h.users.SetBlocked(c.Request().Context(), id, blocked, in.Get("reason"))
	}
}

func runClearBlocks(h *handler, c echo.Context, id string, in url.Values) (done, error) {
	n, err := h.users.ClearBruteForceBlocks(c.Request().Context(), id, in.Get("reason"))
	return done{msg: "blocks-cleared", extra: url.Values{"n": {strconv.Itoa(n)}}}, err
}

func mfaFormFields(_ *handler, _ echo.Context, o *users.Overview, in url.Values) []views.FormField {
	opts := []views.Option{}
	for _, m := range methodRows(o.Methods) {
		label := m.Type
		if m.Name != "" {
			label += " (" + m.Name + ")"
		}
		opts = append(opts, views.Option{Value: m.ID, Label: "Remove " + label, Selected: in.Get("method") == m.ID})
	}
	if len(o.Methods) > 1 {
		opts = append(opts, views.Option{Value: "all", Label: "Remove every method", Selected: in.Get("method") == "all"})
	}
	opts = append(opts, views.Option{Value: "none", Label: "Remove nothing", Selected: in.Get("method") == "none"})
	return []views.FormField{
		{Name: "method", Label: "Authentication method", Type: "radio", Options: opts},
		{Name: "browsers", Label: "Also make remembered browsers ask for MFA again", Type: "checkbox", Checked: in.Get("browsers") == "true"},
	}
}

func runMFA(h *handler, c echo.Context, id string, in url.Values) (done, error) {
	f := users.MFAReset{Browsers: in.Get("browsers") == "true", Reason: in.Get("reason")}
	switch m := in.Get("method"); m {
	case "all":
		f.All = true
	case "", "none":
	default:
		f.MethodID = m
	}
	r, err := h.users.ResetMFA(c.Request().Context(), id, f)
	extra := url.Values{"removed": {strconv.Itoa(r.Removed)}}
	if r.Browsers {
		extra.Set("browsers", "1")
	}
	return done{msg: "mfa-reset", extra: extra, sec: users.SectionSessions}, err
}

func runRevoke(h *handler, c echo.Context, id string, in url.Values) (done, error) {
	r, err := h.users.RevokeSessions(c.Request().Context(), id, in.Get("reason"))
	return done{msg: "revoked", sec: users.SectionSessions,
		extra: url.Values{"sessions": {strconv.Itoa(r.Sessions)}, "tokens": {strconv.Itoa(r.RefreshTokens)}}}, err
}

// unlinkPath is the page that detaches a linked identity (?provider=&identity=), linked from the
// profile's identities.
const unlinkPath = "identities/unlink"

// chosenIdentity is the identity an unlink page is about: the form's, else the link's.
func chosenIdentity(c echo.Context, in url.Values) (provider, identity string) {
	return firstNonEmpty(in.Get("provider"), c.QueryParam("provider")), firstNonEmpty(in.Get("identity"), c.QueryParam("identity"))
}

// unlinkIntro describes the identity and what unlinking does to it.
func unlinkIntro(c echo.Context, o *users.Overview, in url.Values) []string {
	provider, identity := chosenIdentity(c, in)
	x, err := users.LinkedIdentity(o.User, provider, identity)
	var p *users.Problem
	if errors.As(err, &p) {
		return []string{p.Message}
	}
	what := x.Provider + " identity " + x.UserID + " (connection " + orNone(x.Connection) + ")"
	if email, _ := x.ProfileData["email"].(string); email != "" {
		what += ", " + email
	}
	return []string{
		"Detaches the " + what + " from this user.",
		"It becomes a separate user again, " + x.Provider + "|" + x.UserID + ", without this user's metadata, roles or sessions; " +
			"signing in with it no longer opens this account.",
	}
}

// recoveryCodePath is the page that replaces the user's MFA recovery code, linked from Sessions &
// devices.
const recoveryCodePath = "mfa/recovery-code"

func runRecoveryCode(h *handler, c echo.Context, id string, in url.Values) (done, error) {
	code, err := h.users.RegenerateRecoveryCode(c.Request().Context(), id, in.Get("reason"))
	return done{code: code, sec: users.SectionSessions}, err
}

func runLink(h *handler, c echo.Context, id string, in url.Values) (done, error) {
	linked, err := h.users.LinkAccount(c.Request().Context(), id,
		users.LinkForm{Other: in.Get("other"), Confirmed: in.Get("confirm") == "true", Reason: in.Get("reason")})
	return done{msg: "identity-linked", extra: url.Values{"user": {linked}}}, err
}

func runUnlink(h *handler, c echo.Context, id string, in url.Values) (done, error) {
	provider, identity := chosenIdentity(c, in)
	newID, err := h.users.UnlinkIdentity(c.Request().Context(), id, provider, identity, in.Get("reason"))
	return done{msg: "identity-unlinked", extra: url.Values{"user": {newID}}}, err
}

// revokeSessionPath is the page that signs one session out (?session=<id>), linked from each row
// of the Sessions tab.
const revokeSessionPath = "sessions/revoke"

// chosenSession is the session a revoke-session page is about: the form's, else the link's.
func chosenSession(c echo.Context, in url.Values) string {
	return firstNonEmpty(in.Get("session"), c.QueryParam("session"))
}

// revokeSessionIntro describes the chosen session as the Sessions tab lists it, so the staff member
// can tell it is the right browser or device.
func revokeSessionIntro(c echo.Context, o *users.Overview, in url.Values) []string {
	sid := chosenSession(c, in)
	if o.SessionProblem != "" {
		return []string{o.SessionProblem}
	}
	var row *views.SessionRow
	for _, r := range sessionsSection(c, o).Sessions {
		if r.ID == sid {
			row = &r
			break
		}
	}
	if row == nil {
		return []string{users.MsgSessionGone}
	}
	bound := 0
	for _, t := range o.Tokens {
		if t.SessionID == sid {
			bound++
		}
	}
	out := []string{
		"Started " + row.Created + "; last used " + row.LastSeen + " from " + orNone(row.IP) + " (" + orNone(row.Device) + ").",
		"Applications: " + orNone(row.Clients) + ".",
		"The user must sign in again on that browser or device, and the refresh tokens bound to this session are revoked too",
	}
	if o.TokensProblem == "" {
		out[2] += " (" + plural(bound, "refresh token") + " now)"
	}
	out[2] += ". The user's other sessions stay signed in."
	return out
}

func runRevokeSession(h *handler, c echo.Context, id string, in url.Values) (done, error) {
	err := h.users.RevokeSession(c.Request().Context(), id, in.Get("session"), in.Get("reason"))
	return done{msg: "session-revoked", sec: users.SectionSessions}, err
}

// chosenRoles are the roles a remove-roles page is about: the form's, else the link's or the ticked
// ones (one role parameter each).
func chosenRoles(c echo.Context, in url.Values) []string {
	ids := in["role"]
	if len(ids) == 0 {
		ids = c.QueryParams()["role"]
	}
	var out []string
	for _, id := range ids {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// roleRemoveIntro names the roles to remove, with the user's roles for context.
func roleRemoveIntro(c echo.Context, o *users.Overview, in url.Values) []string {
	ids := chosenRoles(c, in)
	if len(ids) == 0 {
		return []string{"No role was chosen: tick the roles to remove in the Roles section. The user's roles: " + roleNames(o) + "."}
	}
	names := map[string]string{}
	for _, r := range o.Roles {
		names[r.ID] = r.Name
	}
	var chosen []string
	for _, id := range ids {
		if n, ok := names[id]; ok {
			chosen = append(chosen, n+" ("+id+")")
		} else {
			chosen = append(chosen, id+" (not one of the user's roles)")
		}
	}
	return []string{"Removes " + strings.Join(chosen, ", ") + ". The user loses the permissions these roles give.",
		"The user's roles now: " + roleNames(o) + "."}
}

func roleNames(o *users.Overview) string {
	if o.RolesProblem != "" {
		return o.RolesProblem
	}
	s := ""
	for i, r := range o.Roles {
		if i > 0 {
			s += ", "
		}
		s += r.Name + " (" + r.ID + ")"
	}
	return orNone(s)
}

func runRoleRemove(h *handler, c echo.Context, id string, in url.Values) (done, error) {
	roles := chosenRoles(c, in)
	err := h.users.RemoveRoles(c.Request().Context(), id, roles, in.Get("reason"))
	return done{msg: "role-removed", extra: url.Values{"n": {strconv.Itoa(len(roles))}}, sec: users.SectionRoles}, err
}

// roleAssign: POST /users/:id/roles — the Roles section's picker. A failure re-renders the section
// with the message next to the picker.
func (h *handler) roleAssign(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	role, reason := c.FormValue("role"), c.FormValue("reason")
	err = h.users.AssignRoles(ctx, id, []string{role}, reason)
	audited := !errors.Is(err, users.ErrAuditFailed)
	if err == nil || !audited {
		return h.afterAction(c, id, done{msg: "role-assigned", sec: users.SectionRoles}, audited)
	}
	if errors.Is(err, users.ErrNoUser) {
		return h.noUser(c, id)
	}
	var p *users.Problem
	if !errors.As(err, &p) {
		return err
	}
	h.logProblem(c, p)
	o, oerr := h.users.Overview(ctx, id, users.SectionRoles)
	if oerr != nil {
		if errors.Is(oerr, users.ErrNoUser) {
			return h.noUser(c, id)
		}
		return oerr
	}
	return h.renderSection(c, p.Status, o, users.SectionRoles, h.userShell(c, o, users.SectionRoles), p.Fields, reason, withAuditNote(p))
}

func runDelete(h *handler, c echo.Context, id string, in url.Values) (done, error) {
	err := h.users.DeleteUser(c.Request().Context(), id, in.Get("confirm"), in.Get("reason"))
	return done{msg: "deleted", to: "/users"}, err
}

func confirmWhat(o *users.Overview) string {
	if o.User.Email != "" {
		return "email address (" + o.User.Email + ")"
	}
	return "user id (" + o.User.UserID + ")"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
