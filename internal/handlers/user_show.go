package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/views"
)

// UserPage is what the user page's sections and actions (except metadata editing) need from
// internal/users.
type UserPage interface {
	Overview(ctx context.Context, id string, sec users.Section) (*users.Overview, error)
	PasswordPolicyFor(ctx context.Context, u *mgmt.User) (users.PasswordPolicy, string, error)
	UpdateProfile(ctx context.Context, id string, f users.ProfileForm) (users.SaveOutcome, error)
	ChangeEmail(ctx context.Context, id string, f users.EmailChange) error
	SetPassword(ctx context.Context, id string, f users.PasswordSet) error
	SendPasswordTicket(ctx context.Context, id string, f users.TicketRequest) (string, error)
	ResendVerification(ctx context.Context, id, reason string) error
	SetBlocked(ctx context.Context, id string, blocked bool, reason string) error
	ClearBruteForceBlocks(ctx context.Context, id, reason string) (int, error)
	ResetMFA(ctx context.Context, id string, f users.MFAReset) (users.MFAResetResult, error)
	RevokeSessions(ctx context.Context, id, reason string) (users.Revoked, error)
	RevokeSession(ctx context.Context, id, sessionID, reason string) error
	UnlinkIdentity(ctx context.Context, id, provider, identityUserID, reason string) (string, error)
	LinkAccount(ctx context.Context, id string, f users.LinkForm) (string, error)
	RegenerateRecoveryCode(ctx context.Context, id, reason string) (string, error)
	AssignRoles(ctx context.Context, id string, roleIDs []string, reason string) error
	RemoveRoles(ctx context.Context, id string, roleIDs []string, reason string) error
	DeleteUser(ctx context.Context, id, confirm, reason string) error
}

// sectionInfo names each section's tab and path (after /users/<id>).
var sectionInfo = []struct {
	sec   users.Section
	label string
	path  string
	perm  authz.Action
}{
	{users.SectionProfile, "Profile", "", authz.ReadUsers},
	{users.SectionRoles, "Roles & organizations", "/roles", authz.ReadUsers},
	{users.SectionLogs, "Logs", "/logs", authz.ReadLogs},
	{users.SectionSessions, "Sessions & devices", "/sessions", authz.ReadUsers},
	{users.SectionRaw, "Raw JSON", "/raw", authz.ReadUsers},
}

func sectionURL(id string, sec users.Section) string {
	for _, s := range sectionInfo {
		if s.sec == sec {
			return userURL(id) + s.path
		}
	}
	return userURL(id)
}

// userShow: GET /users/:id — the Profile section.
func (h *handler) userShow(c echo.Context) error { return h.userSection(c, users.SectionProfile) }

func (h *handler) userRoles(c echo.Context) error    { return h.userSection(c, users.SectionRoles) }
func (h *handler) userLogs(c echo.Context) error     { return h.userSection(c, users.SectionLogs) }
func (h *handler) userSessions(c echo.Context) error { return h.userSection(c, users.SectionSessions) }
func (h *handler) userRaw(c echo.Context) error      { return h.userSection(c, users.SectionRaw) }

// userSection renders one section after one concurrent round of upstream calls (users.Overview);
// ?msg= (and its counts) becomes the success message.
func (h *handler) userSection(c echo.Context, sec users.Section) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	o, err := h.users.Overview(c.Request().Context(), id, sec)
	if errors.Is(err, users.ErrNoUser) {
		return h.noUser(c, id)
	}
	if err != nil {
		return err
	}
	shell := h.userShell(c, o, sec)
	shell.Flash, shell.Warning = userPageFlash(c.QueryParams())
	return h.renderSection(c, http.StatusOK, o, sec, shell, nil, "", "")
}

// renderSection renders sec of o. For the Roles section, errs, reason and message re-render the
// role picker after a failed assignment.
func (h *handler) renderSection(c echo.Context, status int, o *users.Overview, sec users.Section, shell views.UserShell,
	errs map[string]string, reason, message string) error {
	var body templ.Component
	switch sec {
	case users.SectionRoles:
		r := h.rolesSection(c, o)
		r.Errors, r.Reason = errs, reason
		if message != "" {
			shell.Warning = strings.TrimSpace(shell.Warning + " " + message)
		}
		body = views.RolesBody(r)
	case users.SectionLogs:
		body = views.LogsBody(logsSection(o))
	case users.SectionSessions:
		body = views.SessionsBody(sessionsSection(c, o))
	case users.SectionRaw:
		body = views.RawBody(views.RawSection{JSON: rawJSON(o.User)})
	default:
		body = views.ProfileBody(h.profileSection(c, o))
	}
	return h.render(c, status, heading(o.User), views.UserSectionPage(shell, body))
}

// userShell builds the heading, tabs and action bar. An action appears only when the role allows
// it, and is disabled with the missing scope named when the service account lacks it.
func (h *handler) userShell(c echo.Context, o *users.Overview, sec users.Section) views.UserShell {
	u := o.User
	base := userURL(u.UserID) // escaped once for every tab and action below
	s := views.UserShell{
		ID: u.UserID, Heading: heading(u), Picture: safePicture(u.Picture), Blocked: u.Blocked != nil && *u.Blocked,
		ScopesProblem: o.ScopesProblem,
		Tabs:          make([]views.Tab, 0, len(sectionInfo)+1), Actions: make([]views.ActionLink, 0, 10),
	}
	for _, si := range sectionInfo {
		if allowed(c, si.perm) {
			s.Tabs = append(s.Tabs, views.Tab{ID: "tab-" + string(si.sec), Label: si.label, URL: base + si.path, Current: si.sec == sec})
		}
		if si.sec == users.SectionProfile && allowed(c, authz.EditMetadata) {
			s.Tabs = append(s.Tabs, views.Tab{ID: "tab-metadata", Label: "Metadata", URL: base + "/metadata"})
		}
	}
	add := func(act users.Act, label string, danger bool) {
		d, ok := actionDefs[act]
		if !ok || !allowed(c, act.Permission()) {
			return
		}
		l := views.ActionLink{ID: "action-" + string(act), Label: label, URL: base + "/" + d.path, Danger: danger}
		if m := o.Missing[act]; m != "" {
			l.Disabled = users.MsgLacksScope(m)
		}
		s.Actions = append(s.Actions, l)
	}
	add(users.ActProfile, "Edit profile", false)
	add(users.ActEmail, "Change email", false)
	if _, db := users.DatabaseIdentity(u); db {
		add(users.ActPassword, "Set password", false)
		add(users.ActTicket, "Password-change ticket", false)
	}
	if u.Email != "" && (u.EmailVerified == nil || !*u.EmailVerified) {
		add(users.ActVerify, "Resend verification email", false)
	}
	if s.Blocked {
		add(users.ActUnblock, "Unblock", false)
	} else {
		add(users.ActBlock, "Block", true)
	}
	add(users.ActClearBlocks, "Clear brute-force blocks", false)
	add(users.ActMFA, "Reset MFA", true)
	add(users.ActRevoke, "Revoke sessions", true)
	add(users.ActLink, "Link another account", true)
	add(users.ActDelete, "Delete user", true)
	return s
}

// fixActs maps the sign-in panel's fixes to the action that performs them.
var fixActs = map[users.Fix]struct {
	act   users.Act
	label string
}{
	users.FixUnblock:     {users.ActUnblock, "Unblock"},
	users.FixClearBlocks: {users.ActClearBlocks, "Clear the block"},
	users.FixVerify:      {users.ActVerify, "Resend verification"},
	users.FixTicket:      {users.ActTicket, "Send a password-change ticket"},
	users.FixResetMFA:    {users.ActMFA, "Reset MFA"},
}

func (h *handler) profileSection(c echo.Context, o *users.Overview) views.ProfileSection {
	u := o.User
	p := views.ProfileSection{Detail: userDetail(u, ""), BlocksProblem: o.BlocksProblem}
	p.Detail.Fields = append(p.Detail.Fields,
		views.Field{Label: "Given name", Value: u.GivenName},
		views.Field{Label: "Family name", Value: u.FamilyName},
		views.Field{Label: "Phone verified", Value: yesNo(u.PhoneVerified)},
		views.Field{Label: "Last password reset", Value: formatTime(u.LastPasswordReset, "never")},
	)
	if len(p.Detail.Identities) > 1 && allowed(c, users.ActUnlink.Permission()) {
		for i := range p.Detail.Identities[1:] {
			x := &p.Detail.Identities[i+1]
			if m := o.Missing[users.ActUnlink]; m != "" {
				x.UnlinkDisabled = users.MsgLacksScope(m)
				continue
			}
			x.UnlinkURL = userURL(u.UserID) + "/" + unlinkPath + "?" +
				url.Values{"provider": {x.Provider}, "identity": {x.UserID}}.Encode()
		}
	}
	p.Detail.CanEditMetadata = allowed(c, authz.EditMetadata)
	p.Detail.Audit = h.userAudit(c, u.UserID)
	for _, b := range o.Blocks {
		p.Blocks = append(p.Blocks, views.BlockRow{Identifier: b.Identifier, IP: b.IP, Connection: b.Connection})
	}
	if o.Verdict != nil {
		for _, f := range o.Verdict.Findings {
			pf := views.PanelFinding{Sentence: f.Sentence}
			if fx, ok := fixActs[f.Fix]; ok && allowed(c, fx.act.Permission()) {
				pf.FixLabel, pf.FixURL = fx.label, userURL(u.UserID)+"/"+actionDefs[fx.act].path
				if m := o.Missing[fx.act]; m != "" {
					pf.Disabled = users.MsgLacksScope(m)
				}
			}
			p.Panel.Findings = append(p.Panel.Findings, pf)
		}
	}
	return p
}

func (h *handler) rolesSection(c echo.Context, o *users.Overview) views.RolesSection {
	id := o.User.UserID
	r := views.RolesSection{Problem: o.RolesProblem, CanAssign: allowed(c, authz.AssignRoles), AssignURL: userURL(id) + "/roles",
		PickerProblem: o.AllRoleProblem, ReasonNeeded: h.users.ReasonRequiredFor(users.ActRoleAssign.AuditName())}
	if m := o.Missing[users.ActRoleAssign]; m != "" {
		r.Disabled = users.MsgLacksScope(m)
	}
	has := map[string]bool{}
	if r.CanAssign && len(o.Roles) > 1 {
		r.RemoveURL = userURL(id) + "/roles/remove"
	}
	for _, role := range o.Roles {
		has[role.ID] = true
		row := views.RoleRow{ID: role.ID, Name: role.Name, Description: role.Description}
		if r.CanAssign {
			row.RemoveURL = userURL(id) + "/roles/remove?role=" + url.QueryEscape(role.ID)
		}
		r.Rows = append(r.Rows, row)
	}
	r.OrgsProblem = o.OrgsProblem
	for _, org := range o.Orgs {
		r.Orgs = append(r.Orgs, views.OrgRow{ID: org.ID, Name: org.Name, DisplayName: firstNonEmpty(org.DisplayName, org.Name)})
	}
	for _, role := range o.AllRoles {
		if !has[role.ID] {
			r.Picker = append(r.Picker, views.Option{Value: role.ID, Label: role.Name})
		}
	}
	return r
}

func logsSection(o *users.Overview) views.LogsSection {
	l := views.LogsSection{Problem: o.LogsProblem}
	for _, e := range o.Logs {
		client := e.ClientName
		if client == "" {
			client = e.ClientID
		}
		l.Rows = append(l.Rows, views.LogRow{Date: formatTime(e.Date, "—"), Type: users.LogTypeText(e.Type), Code: e.Type,
			Description: e.Description, Client: client, IP: e.IP, Failure: users.IsSignInFailure(e.Type)})
	}
	return l
}

func sessionsSection(c echo.Context, o *users.Overview) views.SessionsSection {
	s := views.SessionsSection{SessionsProblem: o.SessionProblem, TokensProblem: o.TokensProblem,
		CanRevoke: allowed(c, users.ActRevokeSession.Permission())}
	revokeBase := userURL(o.User.UserID) + "/" + revokeSessionPath + "?session="
	for _, x := range o.Sessions {
		r := views.SessionRow{ID: x.ID, Created: formatTime(x.CreatedAt, "—"), LastSeen: formatTime(x.LastInteractedAt, "—"),
			Expires: formatTime(x.ExpiresAt, "—")}
		if s.CanRevoke {
			if m := o.Missing[users.ActRevokeSession]; m != "" {
				r.RevokeDisabled = users.MsgLacksScope(m)
			} else {
				r.RevokeURL = revokeBase + url.QueryEscape(x.ID)
			}
		}
		if x.Device != nil {
			r.Device, r.IP = x.Device.LastUserAgent, x.Device.LastIP
		}
		var clients, methods []string
		for _, cl := range x.Clients {
			clients = append(clients, cl.ClientID)
		}
		if x.Authentication != nil {
			for _, m := range x.Authentication.Methods {
				methods = append(methods, m.Name)
			}
		}
		r.Clients, r.Methods = strings.Join(clients, ", "), strings.Join(methods, ", ")
		s.Sessions = append(s.Sessions, r)
	}
	for _, t := range o.Tokens {
		sess := t.SessionID
		if sess == "" {
			sess = "not bound to a session"
		}
		s.Tokens = append(s.Tokens, views.TokenRow{ID: t.ID, Client: t.ClientID, Created: formatTime(t.CreatedAt, "—"),
			Expires: formatTime(t.ExpiresAt, "never"), Session: sess, Rotating: t.Rotating})
	}
	s.Methods, s.MethodsProblem = methodRows(o.Methods), o.MethodsProblem
	if allowed(c, users.ActRecoveryCode.Permission()) {
		if m := o.Missing[users.ActRecoveryCode]; m != "" {
			s.RecoveryCodeDisabled = users.MsgLacksScope(m)
		} else {
			s.RecoveryCodeURL = userURL(o.User.UserID) + "/" + recoveryCodePath
		}
	}
	return s
}

func methodRows(ms []mgmt.AuthenticationMethod) []views.MethodRow {
	var out []views.MethodRow
	for _, m := range ms {
		name := m.Name
		if name == "" {
			name = m.Email
		}
		if name == "" {
			name = m.PhoneNumber
		}
		out = append(out, views.MethodRow{ID: m.ID, Type: m.Type, Name: name, Confirmed: m.Confirmed,
			Created: formatTime(m.CreatedAt, "—"), LastUsed: formatTime(m.LastAuthAt, "never")})
	}
	return out
}

// rawJSON is the user object as Auth0 returned it (unknown keys included), indented; templ escapes
// it on output.
func rawJSON(u *mgmt.User) string {
	b, err := json.MarshalIndent(u, "", "  ")
	if err != nil {
		return "(cannot show as JSON)"
	}
	return string(b)
}

// userPageFlash maps the fixed ?msg= codes (and their counts) to a confirmation, and audit=failed
// to the warning that the change's audit entry is missing. Unknown codes fall back to flashMessage.
func userPageFlash(q url.Values) (flash, warning string) {
	n := func(k string) int { v, _ := strconv.Atoi(q.Get(k)); return max(v, 0) }
	switch q.Get("msg") {
	case "profile-saved":
		flash = "Profile saved."
	case "email-changed":
		flash = "Email address changed."
	case "email-changed-sent":
		flash = "Email address changed; Auth0 is sending a verification email to it."
	case "password-set":
		flash = "Password set."
	case "verification-sent":
		flash = "Verification email requested; Auth0 is sending it."
	case "blocked":
		flash = "User blocked."
	case "unblocked":
		flash = "User unblocked."
	case "blocks-cleared":
		flash = "Cleared " + plural(n("n"), "brute-force block") + "."
	case "mfa-reset":
		flash = "Removed " + plural(n("removed"), "authentication method") + "."
		if q.Get("browsers") == "1" {
			flash += " Remembered browsers will ask for MFA again."
		}
	case "revoked":
		flash = users.Revoked{Sessions: n("sessions"), RefreshTokens: n("tokens")}.String()
	case "role-assigned":
		flash = "Role assigned."
	case "role-removed":
		flash = "Role removed."
		if n("n") > 1 {
			flash = strconv.Itoa(n("n")) + " roles removed."
		}
	case "identity-linked":
		flash = "Account linked: it is now one of this user's identities."
		if id := q.Get("user"); id != "" {
			flash = "Account " + id + " linked: it is now one of this user's identities."
		}
	case "identity-unlinked":
		flash = "Identity unlinked: it is now a separate user."
		if id := q.Get("user"); id != "" {
			flash = "Identity unlinked: it is now a separate user, " + id + "."
		}
	case "session-revoked":
		flash = "Session signed out; the refresh tokens bound to it were revoked."
	default:
		flash, warning = flashMessage(q.Get("msg"))
	}
	if q.Get("audit") == "failed" && flash != "" {
		warning = users.MsgAuditFailed
	}
	return flash, warning
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// noUser is the 404 page for an id Auth0 does not know.
func (h *handler) noUser(c echo.Context, id string) error {
	return h.render(c, http.StatusNotFound, "User not found", views.ErrorView(views.ErrorPage{
		Status: http.StatusNotFound, Title: "User not found", Message: "No user with id " + id + ".", BackURL: "/users",
	}))
}
