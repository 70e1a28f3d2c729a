package users

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/reqctx"
)

// Auditor records audit entries; *auditlog.Recorder satisfies it (it adds the actor, client IP and
// request id from the context).
type Auditor interface {
	Append(ctx context.Context, e audit.Entry) (audit.Entry, error)
}

// ErrAuditFailed is returned (wrapped) alongside a result when the change was made upstream but its
// audit entry could not be written. The failure has been logged at error level; the page must say so.
var ErrAuditFailed = errors.New("users: the change was made but its audit entry could not be written")

// Sentences about the audit trail and the reason field.
const (
	MsgAuditFailed    = "The audit entry for this action could not be written; the failure has been logged. Tell an administrator."
	MsgReasonRequired = "A reason or ticket reference is required for this change."
	MsgReasonTooLong  = "Keep the reason or ticket reference under 500 characters."
)

// MaxReasonLen bounds the reason or ticket reference, in characters.
const MaxReasonLen = 500

// DefaultReasonRequired is the default USERDESK_REASON_REQUIRED: the actions that always need a
// reason or ticket reference.
const DefaultReasonRequired = "user.delete,user.mfa_reset,user.email_change"

// ParseReasonRequired reads a comma-separated list of action names (USERDESK_REASON_REQUIRED). Names
// are not checked against authz.Actions: an action such as user.email_change may be listed before
// the feature that performs it exists.
func ParseReasonRequired(spec string) map[authz.Action]bool {
	out := map[authz.Action]bool{}
	for _, a := range strings.Split(spec, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out[authz.Action(a)] = true
		}
	}
	return out
}

// ReasonRequiredFor reports whether action a needs a reason or ticket reference.
func (s *Service) ReasonRequiredFor(a authz.Action) bool { return s.ReasonRequired[a] }

// CheckReason returns the sentence for the "reason" field, or "" when reason is acceptable for a:
// present when the action requires one, and at most MaxReasonLen characters.
func (s *Service) CheckReason(a authz.Action, reason string) string {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "" && s.ReasonRequiredFor(a):
		return MsgReasonRequired
	case utf8.RuneCountInString(reason) > MaxReasonLen:
		return MsgReasonTooLong
	}
	return ""
}

// record appends e through s.Audit. It returns ErrAuditFailed (wrapping the cause) when the entry
// could not be written; with no Auditor configured nothing is recorded.
func (s *Service) record(ctx context.Context, e audit.Entry) error {
	if s.Audit == nil {
		return nil
	}
	if _, err := s.Audit.Append(ctx, e); err != nil {
		return fmt.Errorf("%w: %w", ErrAuditFailed, err)
	}
	return nil
}

// withCorrelation gives a write its own X-Correlation-ID, so the audit entry links to the tenant log
// entry of exactly this call, and returns the id as the client will send it.
func withCorrelation(ctx context.Context) (context.Context, string) {
	ctx = mgmt.WithCorrelationID(ctx, mgmt.NewCorrelationID())
	return ctx, mgmt.CorrelationID(ctx)
}

// role is the signed-in staff member's role, authz.None without one (which every check refuses).
func role(ctx context.Context) authz.Role {
	st, _ := reqctx.StaffFrom(ctx)
	return st.Role
}

// upstreamResult classifies a failed write for its audit entry: the outcome (unknown when Auth0 may
// have applied it), Auth0's HTTP status (0 without an answer) and a short, secret-free detail.
func upstreamResult(err error, create bool) (audit.Outcome, int, string) {
	status := 0
	var me *mgmt.Error
	if errors.As(err, &me) {
		status = me.Status()
	}
	switch {
	case errors.Is(err, mgmt.ErrCreateUnknown):
		return audit.OutcomeUnknown, status, "no answer from Auth0 and the lookup failed: outcome unknown"
	case errors.Is(err, mgmt.ErrNotCreated):
		return audit.OutcomeFailure, status, "not created: " + short(errDetail(me, err))
	case isTimeout(err):
		return audit.OutcomeUnknown, status, "timeout: Auth0 may have applied the change"
	case status >= 500 && create:
		return audit.OutcomeUnknown, status, short(errDetail(me, err))
	}
	return audit.OutcomeFailure, status, short(errDetail(me, err))
}

func errDetail(me *mgmt.Error, err error) string {
	switch {
	case me != nil && me.Message != "":
		return fmt.Sprintf("%d %s", me.Status(), me.Message)
	case me != nil:
		return fmt.Sprintf("%d %s", me.Status(), http.StatusText(me.Status()))
	case errors.Is(err, mgmt.ErrUnavailable):
		return "Auth0 unavailable"
	case errors.Is(err, mgmt.ErrRateLimited):
		return "rate limited"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return "error"
}

func short(s string) string {
	if utf8.RuneCountInString(s) <= 200 {
		return s
	}
	return string([]rune(s)[:200]) + "…"
}

// jsonValue is v as the JSON text an audit Change holds.
func jsonValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return `"(not representable as JSON)"`
	}
	return string(b)
}

// metadataChanges lists one Change per changed top-level key of object, sorted: Before is the stored
// value ("" when the key is new) and After the new value ("" when the key is deleted).
func metadataChanges(object string, current, patch map[string]any) []audit.Change {
	var out []audit.Change
	for _, k := range sortedKeys(patch) {
		c := audit.Change{Field: object + "." + k}
		if v, ok := current[k]; ok {
			c.Before = jsonValue(v)
		}
		if v := patch[k]; v != nil {
			c.After = jsonValue(v)
		}
		out = append(out, c)
	}
	return out
}

// changedKeys returns the patch's keys per metadata object, for MetadataPolicy.Forbidden.
func changedKeys(upd *mgmt.UserUpdate) map[string][]string {
	out := map[string][]string{}
	if len(upd.UserMetadata) > 0 {
		out["user_metadata"] = sortedKeys(upd.UserMetadata)
	}
	if len(upd.AppMetadata) > 0 {
		out["app_metadata"] = sortedKeys(upd.AppMetadata)
	}
	return out
}
