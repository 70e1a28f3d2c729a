// Package auditlog records staff actions in the audit trail: it completes each entry with who acted,
// from where and in which request (from internal/reqctx), appends it to the audit.Store before the
// response is written, and logs every entry that could not be written at error level. It also
// implements the handlers' Auditor (route-level refusals) and staffauth's sign-in hook.
package auditlog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/reqctx"
)

// Audit action names besides the authz.Action values (which name the user actions: "user.create",
// "user.metadata_update", ...).
const (
	ActionLogin       = "session.login"        // a staff member signed in
	ActionLoginFailed = "session.login_failed" // a sign-in (or a proxy assertion) was refused
	ActionLogout      = "session.logout"       // a staff member signed out
	ActionSessionsEnd = "staff.sessions_end"   // an admin ended every session of a staff member
	ActionDenied      = "authz.denied"         // a role or the metadata policy refused an action
	ActionExport      = "audit.export"         // the audit trail was exported as CSV (authz.ExportAudit)
	ActionUsersExport = "users.export"         // a users-export job was started or its file downloaded (authz.ReadUsers)
	// Profile updates that have their own name, so USERDESK_REASON_REQUIRED can single them out
	// (both need authz.EditProfile; internal/users records them).
	ActionEmailChange = "user.email_change" // a user's email address was changed
	ActionPasswordSet = "user.password_set" // a user's password was set by staff
	// ActionSessionRevoke is one session of a user signed out (authz.RevokeSessions).
	ActionSessionRevoke = "user.session_revoke"
	// ActionIdentityUnlink is a linked identity detached from a user (authz.EditProfile).
	ActionIdentityUnlink = "user.identity_unlink"
	// ActionIdentityLink is another account linked into a user as one of its identities.
	ActionIdentityLink = "user.identity_link"
	// ActionRecoveryCode is a user's MFA recovery code replaced (authz.ResetMFA; the code is never stored).
	ActionRecoveryCode = "user.recovery_code_regenerate"
)

// ActionNames lists every action name the trail can hold, sorted, for the audit page's filter.
func ActionNames() []string {
	out := []string{ActionLogin, ActionLoginFailed, ActionLogout, ActionSessionsEnd, ActionDenied, ActionExport, ActionUsersExport,
		ActionEmailChange, ActionPasswordSet, ActionSessionRevoke, ActionIdentityUnlink, ActionIdentityLink, ActionRecoveryCode}
	for _, a := range authz.Actions() {
		out = append(out, string(a))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// IsUserAction reports whether an entry's target is an Auth0 user (so the audit page links it to the
// user page) rather than a staff member (session and staff-session entries).
func IsUserAction(action string) bool {
	switch action {
	case ActionLogin, ActionLoginFailed, ActionLogout, ActionSessionsEnd, ActionExport, ActionUsersExport:
		return false
	}
	return true
}

// Recorder writes audit entries. It is safe for concurrent use.
type Recorder struct {
	store audit.Store
	log   *slog.Logger
}

// New returns a Recorder over store; log receives an error line for every entry that could not be
// written (nil discards).
func New(store audit.Store, log *slog.Logger) *Recorder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{store: store, log: log}
}

// Append completes e from ctx and stores it, returning it as stored. Fields already set are kept:
// the actor (issuer, subject, email, role) comes from reqctx.StaffFrom when e names no actor, the
// client IP from reqctx.ClientIP and the request id from reqctx.RequestID when empty. The entry is
// durable when Append returns nil. On failure the error is logged at error level (action, target,
// outcome, correlation id; never the changed values) and returned.
func (r *Recorder) Append(ctx context.Context, e audit.Entry) (audit.Entry, error) {
	if e.ActorIssuer == "" && e.ActorSubject == "" {
		if s, ok := reqctx.StaffFrom(ctx); ok {
			e.ActorIssuer, e.ActorSubject, e.ActorEmail = s.Issuer, s.Subject, s.Email
			if e.ActorRole == "" {
				e.ActorRole = string(s.Role)
			}
		}
	}
	if e.ClientIP == "" {
		e.ClientIP = reqctx.ClientIP(ctx)
	}
	if e.RequestID == "" {
		e.RequestID = reqctx.RequestID(ctx)
	}
	// The entry must outlive a client that hangs up right after the upstream call succeeded.
	stored, err := r.store.Append(context.WithoutCancel(ctx), e)
	if err != nil {
		r.log.LogAttrs(ctx, slog.LevelError, "audit_write_failed",
			slog.String("action", e.Action), slog.String("outcome", string(e.Outcome)),
			slog.String("target", e.TargetUserID), slog.String("actor_sub", e.ActorSubject),
			slog.String("correlation_id", e.CorrelationID), slog.String("err", err.Error()))
		return audit.Entry{}, fmt.Errorf("auditlog: %w", err)
	}
	return stored, nil
}

// Denied records a route-level refusal (the handlers' Auditor): action "authz.denied", outcome
// denied, the staff member from ctx, and the attempted action and the role it needs in Detail.
func (r *Recorder) Denied(ctx context.Context, a authz.Action, targetUserID string) error {
	_, err := r.Append(ctx, audit.Entry{
		Action:       ActionDenied,
		TargetUserID: targetUserID,
		Outcome:      audit.OutcomeDenied,
		Detail:       fmt.Sprintf("%s needs role %s", a, authz.MinimumRole(a)),
	})
	return err
}

// Record is staffauth's hook (staffauth.Config.Audit): Append, with a failure only logged, since a
// sign-in or sign-out has no page that could show it.
func (r *Recorder) Record(ctx context.Context, e audit.Entry) {
	_, _ = r.Append(ctx, e)
}

// Query reads one page of the trail, newest first (audit.Store.Query).
func (r *Recorder) Query(ctx context.Context, f audit.Filter) ([]audit.Entry, int, error) {
	return r.store.Query(ctx, f)
}

// ErrExportNotRecorded: an export was refused because its own audit entry could not be written.
var ErrExportNotRecorded = errors.New("auditlog: the export could not be recorded, so it was refused")

// Export writes the entries f selects as CSV (audit.ExportCSV), after recording the export itself
// as "audit.export" with the filter in Detail: reading the whole trail is traceable too. When that
// entry cannot be written nothing is exported and the error wraps ErrExportNotRecorded.
func (r *Recorder) Export(ctx context.Context, w io.Writer, f audit.Filter) error {
	if _, err := r.Append(ctx, audit.Entry{Action: ActionExport, Outcome: audit.OutcomeSuccess, Detail: describe(f)}); err != nil {
		return fmt.Errorf("%w: %w", ErrExportNotRecorded, err)
	}
	return audit.ExportCSV(ctx, w, r.store, f)
}

// describe is the filter as "actor=… target=…", only the fields that filter.
func describe(f audit.Filter) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("actor", f.Actor)
	add("target", f.TargetUserID)
	add("action", f.Action)
	add("outcome", string(f.Outcome))
	if !f.From.IsZero() {
		add("from", f.From.UTC().Format(time.RFC3339))
	}
	if !f.To.IsZero() {
		add("to", f.To.UTC().Format(time.RFC3339))
	}
	if len(parts) == 0 {
		return "all entries"
	}
	return strings.Join(parts, " ")
}
