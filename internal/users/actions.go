package users

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/mgmt"
)

// The user page's write actions. Each one, in this order: validates the form (a missing or too long
// reason included) without calling Auth0; refuses, before any Management API call, an act the
// service account lacks the scope for (audited as denied); re-reads the user (ErrNoUser when gone);
// sends the write(s) with one X-Correlation-ID; records one audit entry (action name, changed fields
// before/after, reason, outcome, Auth0's status, correlation id); and explains a failure with
// Explain. A success whose audit entry could not be written returns the result with ErrAuditFailed.

// Field-level sentences of the user page's forms.
const (
	MsgPictureHTTPS     = "Enter an https:// address of an image, or leave the picture unchanged."
	MsgPhoneE164        = "Enter the phone number in international format, like +14155550123."
	MsgUsernameInvalid  = "A username is 1 to 128 characters without spaces."
	MsgTextTooLong      = "Keep this under 300 characters."
	MsgTextControl      = "This contains characters that cannot be stored (line breaks or control characters)."
	MsgCannotClear      = "Auth0 cannot clear this field from here; enter a value or leave it as it was."
	MsgEmailVerifyMode  = "Choose whether to mark the new address verified or send a verification email."
	MsgEmailSame        = "This is already the user's email address."
	MsgPasswordMismatch = "The two passwords are not the same."
	MsgConfirmEmail     = "Type the user's email address exactly to confirm the deletion."
	MsgNoRoleChosen     = "Choose at least one role."
	MsgNoMethodChosen   = "Choose what to reset."
)

// ProfileForm is the profile form as typed.
type ProfileForm struct {
	Name, GivenName, FamilyName, Nickname, Picture, Phone, Username string
	Reason                                                          string
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// profileField ties a form field to the user attribute and the PATCH field it changes.
type profileField struct {
	name string // form field and audit field name (Auth0's attribute name)
	cur  string
	next string
	set  func(u *mgmt.UserUpdate, v *string)
}

func profileFields(u *mgmt.User, f ProfileForm) []profileField {
	return []profileField{
		{"name", u.Name, f.Name, func(p *mgmt.UserUpdate, v *string) { p.Name = v }},
		{"given_name", u.GivenName, f.GivenName, func(p *mgmt.UserUpdate, v *string) { p.GivenName = v }},
		{"family_name", u.FamilyName, f.FamilyName, func(p *mgmt.UserUpdate, v *string) { p.FamilyName = v }},
		{"nickname", u.Nickname, f.Nickname, func(p *mgmt.UserUpdate, v *string) { p.Nickname = v }},
		{"picture", u.Picture, f.Picture, func(p *mgmt.UserUpdate, v *string) { p.Picture = v }},
		{"phone_number", u.PhoneNumber, f.Phone, func(p *mgmt.UserUpdate, v *string) { p.PhoneNumber = v }},
		{"username", u.Username, f.Username, func(p *mgmt.UserUpdate, v *string) { p.Username = v }},
	}
}

// validateProfileValue checks one typed value; "" when acceptable.
func validateProfileValue(field, v string) string {
	switch {
	case strings.ContainsFunc(v, unicode.IsControl):
		return MsgTextControl
	case utf8.RuneCountInString(v) > 300:
		return MsgTextTooLong
	}
	switch field {
	case "picture":
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(v) > 2048 {
			return MsgPictureHTTPS
		}
	case "phone_number":
		if !e164.MatchString(v) {
			return MsgPhoneE164
		}
	case "username":
		if utf8.RuneCountInString(v) > 128 || strings.ContainsFunc(v, unicode.IsSpace) {
			return MsgUsernameInvalid
		}
	}
	return ""
}

// UpdateProfile sends the changed profile fields (only those) in one PATCH. Values are trimmed;
// NoChange when nothing differs. Invalid input is a *Problem (422) with a sentence per field
// ("picture", "phone_number", "username", ...).
func (s *Service) UpdateProfile(ctx context.Context, id string, f ProfileForm) (SaveOutcome, error) {
	fields := map[string]string{}
	if msg := s.CheckReason(ActProfile.AuditName(), f.Reason); msg != "" {
		fields["reason"] = msg
	}
	for _, pf := range profileFields(&mgmt.User{}, f) {
		if v := strings.TrimSpace(pf.next); v != "" {
			if msg := validateProfileValue(pf.name, v); msg != "" {
				fields[pf.name] = msg
			}
		}
	}
	if len(fields) > 0 {
		return 0, &Problem{Status: http.StatusUnprocessableEntity, Fields: fields}
	}
	if p := s.refuseForScope(ctx, ActProfile, id, f.Reason); p != nil {
		return 0, p
	}
	u, err := s.Get(ctx, id)
	if err != nil {
		return 0, err
	}
	upd := &mgmt.UserUpdate{}
	var changes []audit.Change
	for _, pf := range profileFields(u, f) {
		next := strings.TrimSpace(pf.next)
		if next == pf.cur {
			continue
		}
		if next == "" {
			fields[pf.name] = MsgCannotClear
			continue
		}
		pf.set(upd, &next)
		changes = append(changes, audit.Change{Field: pf.name, Before: optJSON(pf.cur), After: jsonValue(next)})
	}
	if len(fields) > 0 {
		return 0, &Problem{Status: http.StatusUnprocessableEntity, Fields: fields}
	}
	if len(changes) == 0 {
		return NoChange, nil
	}
	err = s.write(ctx, writeOp{act: ActProfile, user: u, changes: changes, reason: f.Reason, okStatus: http.StatusOK},
		func(ctx context.Context) error { _, err := s.API.UpdateUser(ctx, id, upd); return err })
	if err != nil && !errors.Is(err, ErrAuditFailed) {
		return 0, fieldProblem(err, "name", "given_name", "family_name", "nickname", "picture", "phone_number", "username")
	}
	return Saved, err
}

// EmailChange is the change-email form. Verify is "mark" (the new address is marked verified) or
// "send" (Auth0 sends a verification email to it).
type EmailChange struct {
	Email  string
	Verify string
	Reason string
}

// ChangeEmail sets a new email address: PATCH {email, email_verified:true} for "mark", or
// {email, email_verified:false, verify_email:true} for "send". An address another user of the
// connection has is a "email" field problem.
func (s *Service) ChangeEmail(ctx context.Context, id string, f EmailChange) error {
	fields := map[string]string{}
	email := strings.TrimSpace(f.Email)
	switch {
	case email == "":
		fields["email"] = MsgEmailRequired
	case !looksLikeEmail(email) || len(email) > 254:
		fields["email"] = MsgEmailInvalid
	}
	if f.Verify != "mark" && f.Verify != "send" {
		fields["verify"] = MsgEmailVerifyMode
	}
	if msg := s.CheckReason(ActEmail.AuditName(), f.Reason); msg != "" {
		fields["reason"] = msg
	}
	if len(fields) > 0 {
		return &Problem{Status: http.StatusUnprocessableEntity, Fields: fields}
	}
	if p := s.refuseForScope(ctx, ActEmail, id, f.Reason); p != nil {
		return p
	}
	u, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if strings.EqualFold(email, u.Email) && f.Verify == "send" {
		return &Problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{"email": MsgEmailSame}}
	}
	verified := f.Verify == "mark"
	upd := &mgmt.UserUpdate{Email: &email, EmailVerified: &verified}
	if !verified {
		upd.VerifyEmail = ptrTo(true)
	}
	before := ""
	if u.EmailVerified != nil {
		before = jsonValue(*u.EmailVerified)
	}
	changes := []audit.Change{
		{Field: "email", Before: optJSON(u.Email), After: jsonValue(email)},
		{Field: "email_verified", Before: before, After: jsonValue(verified)},
	}
	if !verified {
		changes = append(changes, audit.Change{Field: "verify_email", After: "true"})
	}
	err = s.write(ctx, writeOp{act: ActEmail, user: u, changes: changes, reason: f.Reason, okStatus: http.StatusOK},
		func(ctx context.Context) error { _, err := s.API.UpdateUser(ctx, id, upd); return err })
	if err != nil && !errors.Is(err, ErrAuditFailed) {
		var me *mgmt.Error
		if errors.As(err, &me) && (me.Status() == http.StatusConflict ||
			strings.HasPrefix(me.Message, "The specified new email already exists")) {
			p := &Problem{Status: http.StatusConflict, Fields: map[string]string{"email": MsgDuplicateEmail}, Err: err}
			var ep *Problem
			if errors.As(err, &ep) {
				p.AuditFailed = ep.AuditFailed
			}
			return p
		}
		return fieldProblem(err, "email")
	}
	return err
}

// PasswordSet is the set-password form.
type PasswordSet struct {
	Password string
	Confirm  string
	Reason   string
}

// SetPassword checks the password against the user's connection policy (PasswordPolicyFor) and
// sends PATCH {password, connection}. The password is never audited, logged or returned: the
// audit entry records only that a password was set.
func (s *Service) SetPassword(ctx context.Context, id string, f PasswordSet) error {
	fields := map[string]string{}
	if f.Password == "" {
		fields["password"] = "Enter the new password."
	} else if f.Password != f.Confirm {
		fields["confirm"] = MsgPasswordMismatch
	}
	if len(f.Password) > 72 {
		fields["password"] = "Auth0 accepts passwords of at most 72 bytes."
	}
	if msg := s.CheckReason(ActPassword.AuditName(), f.Reason); msg != "" {
		fields["reason"] = msg
	}
	if len(fields) > 0 {
		return &Problem{Status: http.StatusUnprocessableEntity, Fields: fields}
	}
	if p := s.refuseForScope(ctx, ActPassword, id, f.Reason); p != nil {
		return p
	}
	u, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	policy, conn, err := s.PasswordPolicyFor(ctx, u)
	if err != nil {
		return err
	}
	if broken := policy.Check(f.Password); len(broken) > 0 {
		return &Problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{"password": strings.Join(broken, " ")}}
	}
	pw := f.Password
	upd := &mgmt.UserUpdate{Password: &pw, Connection: &conn}
	err = s.write(ctx, writeOp{act: ActPassword, user: u, reason: f.Reason, okStatus: http.StatusOK,
		changes: []audit.Change{{Field: "password", After: `"(set)"`}}},
		func(ctx context.Context) error { _, err := s.API.UpdateUser(ctx, id, upd); return err })
	if err != nil && !errors.Is(err, ErrAuditFailed) {
		return fieldProblem(err, "password")
	}
	return err
}

// TicketRequest is the password-change ticket form.
type TicketRequest struct {
	// MarkVerified also marks the email verified once the user sets the password.
	MarkVerified bool
	Reason       string
}

// SendPasswordTicket creates a password-change ticket for the user and returns its URL, for staff to
// hand to the user. The URL is a credential: it is returned only, never audited or logged.
func (s *Service) SendPasswordTicket(ctx context.Context, id string, f TicketRequest) (string, error) {
	if msg := s.CheckReason(ActTicket.AuditName(), f.Reason); msg != "" {
		return "", &Problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{"reason": msg}}
	}
	if p := s.refuseForScope(ctx, ActTicket, id, f.Reason); p != nil {
		return "", p
	}
	u, err := s.Get(ctx, id)
	if err != nil {
		return "", err
	}
	if _, ok := DatabaseIdentity(u); !ok {
		return "", &Problem{Status: http.StatusUnprocessableEntity, Message: MsgNoDatabaseIdentity}
	}
	var ticket string
	err = s.write(ctx, writeOp{act: ActTicket, user: u, reason: f.Reason, okStatus: http.StatusCreated,
		changes: []audit.Change{{Field: "mark_email_as_verified", After: jsonValue(f.MarkVerified)}}},
		func(ctx context.Context) (err error) {
			ticket, err = s.API.PasswordChangeTicket(ctx, mgmt.PasswordChangeTicket{UserID: id, MarkEmailAsVerified: f.MarkVerified})
			return err
		})
	if err != nil && !errors.Is(err, ErrAuditFailed) {
		return "", err
	}
	return ticket, err
}

// ResendVerification asks Auth0 to email the verification link again (a verification-email job).
func (s *Service) ResendVerification(ctx context.Context, id, reason string) error {
	if msg := s.CheckReason(ActVerify.AuditName(), reason); msg != "" {
		return &Problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{"reason": msg}}
	}
	if p := s.refuseForScope(ctx, ActVerify, id, reason); p != nil {
		return p
	}
	u, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if u.Email == "" {
		return &Problem{Status: http.StatusUnprocessableEntity, Message: "This user has no email address to verify."}
	}
	if u.EmailVerified != nil && *u.EmailVerified {
		return &Problem{Status: http.StatusUnprocessableEntity, Message: "The email address is already verified."}
	}
	return s.write(ctx, writeOp{act: ActVerify, user: u, reason: reason, okStatus: http.StatusCreated,
		changes: []audit.Change{{Field: "verification_email", After: jsonValue(u.Email)}}},
		func(ctx context.Context) error {
			_, err := s.API.VerificationEmail(ctx, mgmt.VerificationEmailJob{UserID: id})
			return err
		})
}

// SetBlocked blocks (true) or unblocks (false) the user: PATCH {blocked}. Unblocking does not lift
// brute-force blocks (ClearBruteForceBlocks does).
func (s *Service) SetBlocked(ctx context.Context, id string, blocked bool, reason string) error {
	act := ActUnblock
	if blocked {
		act = ActBlock
	}
	if msg := s.CheckReason(act.AuditName(), reason); msg != "" {
		return &Problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{"reason": msg}}
	}
	if p := s.refuseForScope(ctx, act, id, reason); p != nil {
		return p
	}
	u, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	was := u.Blocked != nil && *u.Blocked
	return s.write(ctx, writeOp{act: act, user: u, reason: reason, okStatus: http.StatusOK,
		changes: []audit.Change{{Field: "blocked", Before: jsonValue(was), After: jsonValue(blocked)}}},
		func(ctx context.Context) error {
			_, err := s.API.UpdateUser(ctx, id, &mgmt.UserUpdate{Blocked: &blocked})
			return err
		})
}

// ClearBruteForceBlocks lifts every brute-force block of the user's identifiers and returns how many
// there were.
func (s *Service) ClearBruteForceBlocks(ctx context.Context, id, reason string) (int, error) {
	if msg := s.CheckReason(ActClearBlocks.AuditName(), reason); msg != "" {
		return 0, &Problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{"reason": msg}}
	}
	if p := s.refuseForScope(ctx, ActClearBlocks, id, reason); p != nil {
		return 0, p
	}
	u, err := s.Get(ctx, id)
	if err != nil {
		return 0, err
	}
	blocks, err := s.API.UserBlocks(ctx, id)
	if err != nil {
		return 0, Explain(OpRead, err)
	}
	before := make([]string, 0, len(blocks))
	for _, b := range blocks {
		before = append(before, b.Identifier+" from "+b.IP)
	}
	err = s.write(ctx, writeOp{act: ActClearBlocks, user: u, reason: reason, okStatus: http.StatusNoContent,
		changes: []audit.Change{{Field: "brute_force_blocks", Before: jsonValue(before), After: "[]"}}},
		func(ctx context.Context) error { return s.API.DeleteUserBlocks(ctx, id) })
	if err != nil && !errors.Is(err, ErrAuditFailed) {
		return 0, err
	}
	return len(blocks), err
}

// MFAReset is the reset-MFA form: MethodID removes one authentication method, All removes every
// one, Browsers invalidates the browsers remembered for MFA. At least one must be chosen.
type MFAReset struct {
	MethodID string
	All      bool
	Browsers bool
	Reason   string
}

// MFAResetResult says what ResetMFA did.
type MFAResetResult struct {
	Removed  int  // authentication methods removed
	Browsers bool // remembered browsers invalidated
}

// ResetMFA removes the chosen authentication method(s) and/or invalidates remembered browsers, in
// one audited action. A method already gone counts as removed.
func (s *Service) ResetMFA(ctx context.Context, id string, f MFAReset) (MFAResetResult, error) {
	fields := map[string]string{}
	if f.MethodID == "" && !f.All && !f.Browsers {
		fields["method"] = MsgNoMethodChosen
	}
	if msg := s.CheckReason(ActMFA.AuditName(), f.Reason); msg != "" {
		fields["reason"] = msg
	}
	if len(fields) > 0 {
		return MFAResetResult{}, &Problem{Status: http.StatusUnprocessableEntity, Fields: fields}
	}
	if f.MethodID != "" || f.All {
		if p := s.refuseForScope(ctx, ActMFA, id, f.Reason); p != nil {
			return MFAResetResult{}, p
		}
	}
	if f.Browsers {
		if p := s.refuseForScope(ctx, ActMFABrowsers, id, f.Reason); p != nil {
			return MFAResetResult{}, p
		}
	}
	u, err := s.Get(ctx, id)
	if err != nil {
		return MFAResetResult{}, err
	}
	var methods []mgmt.AuthenticationMethod
	if f.MethodID != "" || f.All {
		if methods, err = s.API.AuthenticationMethods(ctx, id); err != nil {
			return MFAResetResult{}, Explain(OpRead, err)
		}
	}
	var removed []string
	for _, m := range methods {
		if f.All || m.ID == f.MethodID {
			removed = append(removed, m.Type+" "+m.ID)
		}
	}
	if f.MethodID != "" && !f.All && len(removed) == 0 {
		return MFAResetResult{}, &Problem{Status: http.StatusUnprocessableEntity,
			Fields: map[string]string{"method": "That method is no longer enrolled; nothing was removed."}}
	}
	if f.All && len(removed) == 0 && !f.Browsers {
		return MFAResetResult{}, &Problem{Status: http.StatusUnprocessableEntity,
			Fields: map[string]string{"method": "No authentication methods are enrolled; nothing was removed."}}
	}
	changes := []audit.Change{}
	if len(removed) > 0 {
		changes = append(changes, audit.Change{Field: "authentication_methods", Before: jsonValue(removed), After: "[]"})
	}
	if f.Browsers {
		changes = append(changes, audit.Change{Field: "remembered_browsers", After: `"invalidated"`})
	}
	var res MFAResetResult
	err = s.write(ctx, writeOp{act: ActMFA, user: u, reason: f.Reason, okStatus: http.StatusNoContent, changes: changes},
		func(ctx context.Context) error {
			switch {
			case f.All && len(removed) > 0:
				if err := s.API.DeleteAuthenticationMethods(ctx, id); err != nil {
					return err
				}
			case len(removed) > 0:
				if err := s.API.DeleteAuthenticationMethod(ctx, id, f.MethodID); err != nil && !errors.Is(err, mgmt.ErrNotFound) {
					return err
				}
			}
			res.Removed = len(removed)
			if f.Browsers {
				if err := s.API.InvalidateRememberBrowser(ctx, id); err != nil {
					return err
				}
				res.Browsers = true
			}
			return nil
		})
	if err != nil && !errors.Is(err, ErrAuditFailed) {
		return res, err
	}
	return res, err
}

// Revoked says what RevokeSessions revoked.
type Revoked struct {
	Sessions      int
	RefreshTokens int
}

// String is the sentence for staff: "Revoked 2 sessions and 3 refresh tokens."
func (r Revoked) String() string {
	return fmt.Sprintf("Revoked %s and %s.", plural(r.Sessions, "session"), plural(r.RefreshTokens, "refresh token"))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// RevokeSessions counts the user's sessions and refresh tokens, then revokes all of them (Auth0
// completes the revocation shortly after its 202).
func (s *Service) RevokeSessions(ctx context.Context, id, reason string) (Revoked, error) {
	if msg := s.CheckReason(ActRevoke.AuditName(), reason); msg != "" {
		return Revoked{}, &Problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{"reason": msg}}
	}
	if p := s.refuseForScope(ctx, ActRevoke, id, reason); p != nil {
		return Revoked{}, p
	}
	u, err := s.Get(ctx, id)
	if err != nil {
		return Revoked{}, err
	}
	var sessions []mgmt.Session
	var tokens []mgmt.RefreshToken
	err = parallel(ctx,
		func(ctx context.Context) (err error) { sessions, err = s.API.Sessions(ctx, id); return err },
		func(ctx context.Context) (err error) { tokens, err = s.API.RefreshTokens(ctx, id); return err },
	)
	if err != nil {
		return Revoked{}, Explain(OpRead, err)
	}
	r := Revoked{Sessions: len(sessions), RefreshTokens: len(tokens)}
	err = s.write(ctx, writeOp{act: ActRevoke, user: u, reason: reason, okStatus: http.StatusAccepted,
		changes: []audit.Change{
			{Field: "sessions", Before: jsonValue(r.Sessions), After: "0"},
			{Field: "refresh_tokens", Before: jsonValue(r.RefreshTokens), After: "0"},
		}},
		func(ctx context.Context) error {
			if err := s.API.DeleteSessions(ctx, id); err != nil {
				return err
			}
			return s.API.DeleteRefreshTokens(ctx, id)
		})
	if err != nil && !errors.Is(err, ErrAuditFailed) {
		return Revoked{}, err
	}
	return r, err
}

// AssignRoles assigns the roles (ids "rol_…") to the user.
func (s *Service) AssignRoles(ctx context.Context, id string, roleIDs []string, reason string) error {
	return s.changeRoles(ctx, id, roleIDs, reason, true)
}

// RemoveRoles removes the roles from the user.
func (s *Service) RemoveRoles(ctx context.Context, id string, roleIDs []string, reason string) error {
	return s.changeRoles(ctx, id, roleIDs, reason, false)
}

func (s *Service) changeRoles(ctx context.Context, id string, roleIDs []string, reason string, assign bool) error {
	act := ActRoleRemove
	if assign {
		act = ActRoleAssign
	}
	var ids []string
	for _, r := range roleIDs {
		if r = strings.TrimSpace(r); r != "" && !slices.Contains(ids, r) {
			ids = append(ids, r)
		}
	}
	fields := map[string]string{}
	if len(ids) == 0 {
		fields["role"] = MsgNoRoleChosen
	}
	if msg := s.CheckReason(act.AuditName(), reason); msg != "" {
		fields["reason"] = msg
	}
	if len(fields) > 0 {
		return &Problem{Status: http.StatusUnprocessableEntity, Fields: fields}
	}
	if p := s.refuseForScope(ctx, act, id, reason); p != nil {
		return p
	}
	u, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	cur, err := s.API.UserRoles(ctx, id)
	if err != nil {
		return Explain(OpRead, err)
	}
	before := make([]string, 0, len(cur))
	for _, r := range cur {
		before = append(before, r.ID)
	}
	slices.Sort(before)
	after := slices.Clone(before)
	if assign {
		after = append(after, ids...)
	} else {
		after = slices.DeleteFunc(after, func(r string) bool { return slices.Contains(ids, r) })
	}
	slices.Sort(after)
	after = slices.Compact(after)
	return s.write(ctx, writeOp{act: act, user: u, reason: reason, okStatus: http.StatusNoContent,
		changes: []audit.Change{{Field: "roles", Before: jsonValue(before), After: jsonValue(after)}}},
		func(ctx context.Context) error {
			if assign {
				return s.API.AssignRoles(ctx, id, ids)
			}
			return s.API.RemoveRoles(ctx, id, ids)
		})
}

// DeleteUser deletes the user after the staff member typed the user's email address (or, for a user
// without one, the user id) as confirmation. A wrong confirmation is a "confirm" field problem and
// nothing is sent. Every mistake is reported at once: when the reason is missing too, the typed
// confirmation is still checked against the user (one read), so a mismatch does not surface only on
// the next try; if that read fails, the mismatch is left to the next try, which always checks it.
func (s *Service) DeleteUser(ctx context.Context, id, confirm, reason string) error {
	fields := map[string]string{}
	if strings.TrimSpace(confirm) == "" {
		fields["confirm"] = MsgConfirmEmail
	}
	if msg := s.CheckReason(ActDelete.AuditName(), reason); msg != "" {
		fields["reason"] = msg
	}
	if len(fields) > 0 {
		if _, blank := fields["confirm"]; !blank {
			if u, err := s.Get(ctx, id); err == nil && !confirmsDeletion(u, confirm) {
				fields["confirm"] = MsgConfirmEmail
			}
		}
		return &Problem{Status: http.StatusUnprocessableEntity, Fields: fields}
	}
	if p := s.refuseForScope(ctx, ActDelete, id, reason); p != nil {
		return p
	}
	u, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if !confirmsDeletion(u, confirm) {
		return &Problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{"confirm": MsgConfirmEmail}}
	}
	return s.write(ctx, writeOp{act: ActDelete, user: u, reason: reason, okStatus: http.StatusNoContent,
		changes: []audit.Change{{Field: "user", Before: jsonValue(u.UserID)}}},
		func(ctx context.Context) error { return s.API.DeleteUser(ctx, id) })
}

// confirmsDeletion reports whether typed is u's email address (or, for a user without one, its id),
// ignoring case and surrounding spaces.
func confirmsDeletion(u *mgmt.User, typed string) bool {
	want := u.Email
	if want == "" {
		want = u.UserID
	}
	return strings.EqualFold(strings.TrimSpace(typed), want)
}

// writeOp is one audited write of the user page.
type writeOp struct {
	act      Act
	user     *mgmt.User
	changes  []audit.Change
	reason   string
	okStatus int // Auth0's status on success, for the audit entry
	// gone, when set, is the problem a 404 from the call means (the resource the call acts on has
	// gone); nil: the user is gone (ErrNoUser).
	gone *Problem
}

// refuseForScope refuses act, before any Management API call, when the service account lacks its
// scope: the refusal is audited (outcome denied) and returned as a *Problem (403) naming the scope.
func (s *Service) refuseForScope(ctx context.Context, act Act, id, reason string) *Problem {
	missing := s.missingScope(ctx, act)
	if missing == "" {
		return nil
	}
	p := &Problem{Status: http.StatusForbidden, Message: MsgLacksScope(missing) + " Nothing was sent to Auth0."}
	entry := audit.Entry{Action: string(act.AuditName()), TargetUserID: id, Reason: strings.TrimSpace(reason),
		Outcome: audit.OutcomeDenied, Detail: "service account lacks " + missing}
	if aerr := s.record(ctx, entry); aerr != nil {
		p.AuditFailed, p.Err = true, aerr
	}
	return p
}

// write runs call with a fresh correlation id and records the audit entry. A 404 means the user is
// gone (ErrNoUser); other failures are explained with OpUpdate.
func (s *Service) write(ctx context.Context, op writeOp, call func(ctx context.Context) error) error {
	ctx, cid := withCorrelation(ctx)
	entry := audit.Entry{
		Action:        string(op.act.AuditName()),
		TargetUserID:  op.user.UserID,
		TargetEmail:   op.user.Email,
		Changes:       op.changes,
		Reason:        strings.TrimSpace(op.reason),
		CorrelationID: cid,
	}
	if err := call(ctx); err != nil {
		entry.Outcome, entry.UpstreamStatus, entry.Detail = upstreamResult(err, false)
		aerr := s.record(ctx, entry)
		if errors.Is(err, mgmt.ErrNotFound) && op.gone != nil {
			p := *op.gone
			p.Err = err
			if aerr != nil {
				return withAuditFailure(&p, aerr)
			}
			return &p
		}
		if errors.Is(err, mgmt.ErrNotFound) {
			return errors.Join(fmt.Errorf("%w: %w", ErrNoUser, err), aerr)
		}
		explained := Explain(OpUpdate, err)
		if aerr != nil {
			return withAuditFailure(explained, aerr)
		}
		return explained
	}
	entry.Outcome, entry.UpstreamStatus = audit.OutcomeSuccess, op.okStatus
	return s.record(ctx, entry)
}

// fieldProblem moves a 4xx problem's sentence next to the form field Auth0 named (mgmt.Error.Field),
// when that field is one of the form's.
func fieldProblem(err error, formFields ...string) error {
	var p *Problem
	var me *mgmt.Error
	if !errors.As(err, &p) || !errors.As(err, &me) || p.Message == "" {
		return err
	}
	f := me.Field()
	if slices.Contains(formFields, f) {
		p.Fields = map[string]string{f: p.Message}
		p.Message = ""
	}
	return err
}

func optJSON(s string) string {
	if s == "" {
		return ""
	}
	return jsonValue(s)
}

func ptrTo[T any](v T) *T { return &v }
