// Package staffsessions is the admin view of staff sign-in sessions: the active sessions, ending
// every session of one staff member (audited), and the background sweep of expired sessions.
package staffsessions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/auditlog"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/sessionstore"
)

// Auditor records audit entries; *auditlog.Recorder satisfies it.
type Auditor interface {
	Append(ctx context.Context, e audit.Entry) (audit.Entry, error)
}

// ErrAuditFailed is returned (wrapped) when the sessions were ended but the audit entry could not be
// written; the failure has been logged at error level.
var ErrAuditFailed = errors.New("staffsessions: the sessions were ended but the audit entry could not be written")

// DefaultSweepInterval is how often Sweep removes expired sessions.
const DefaultSweepInterval = 5 * time.Minute

// Service lists and ends staff sessions. Store is required; the rest is optional.
type Service struct {
	Store sessionstore.Store
	Audit Auditor
	// Roles resolves the role each session's groups map to now (shown next to the groups).
	Roles authz.Mapping
	// IdleTimeout hides sessions idle for longer (the session store would refuse them anyway);
	// default sessionstore.DefaultIdleTimeout, negative shows every unexpired session.
	IdleTimeout time.Duration
	Now         func() time.Time
	Logger      *slog.Logger
}

// Session is one active staff session.
type Session struct {
	sessionstore.Session
	Role authz.Role // what Roles resolves the session's groups to now; authz.None = refused on next request
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Active returns the signed-in sessions that are neither expired nor idle, newest first.
func (s *Service) Active(ctx context.Context) ([]Session, error) {
	all, err := s.Store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("staffsessions: list: %w", err)
	}
	idle := s.IdleTimeout
	if idle == 0 {
		idle = sessionstore.DefaultIdleTimeout
	}
	now := s.now()
	var out []Session
	for _, ss := range all {
		if ss.Subject == "" {
			continue // not signed in
		}
		seen := ss.SeenAt
		if seen.IsZero() {
			seen = ss.CreatedAt
		}
		if idle > 0 && now.Sub(seen) >= idle {
			continue
		}
		out = append(out, Session{Session: ss, Role: s.Roles.Resolve(ss.Roles)})
	}
	return out, nil
}

// End removes every session of the staff member (issuer, subject), so their next request is signed
// out, and records "staff.sessions_end" with that staff member as the target and the number ended in
// Detail. It returns how many sessions were removed. An error wraps ErrAuditFailed only when the
// sessions were ended but the entry could not be written; a store failure is returned as itself.
func (s *Service) End(ctx context.Context, issuer, subject string) (int, error) {
	if subject == "" {
		return 0, errors.New("staffsessions: no staff member given")
	}
	email := ""
	if live, err := s.Store.ListBySubject(ctx, issuer, subject); err == nil && len(live) > 0 {
		email = live[0].Email
	}
	n, err := s.Store.DeleteBySubject(ctx, issuer, subject)
	entry := audit.Entry{
		Action:       auditlog.ActionSessionsEnd,
		TargetUserID: subject,
		TargetEmail:  email,
		Outcome:      audit.OutcomeSuccess,
		Detail:       fmt.Sprintf("issuer %s: %d session(s) ended", issuer, n),
	}
	if err != nil {
		entry.Outcome, entry.Detail = audit.OutcomeFailure, fmt.Sprintf("issuer %s: the session store failed", issuer)
	}
	var auditErr error
	if s.Audit != nil {
		if _, aerr := s.Audit.Append(ctx, entry); aerr != nil {
			auditErr = fmt.Errorf("%w: %w", ErrAuditFailed, aerr)
		}
	}
	if err != nil {
		// The store's failure is what the admin must see; a failed entry has been logged as well.
		return 0, fmt.Errorf("staffsessions: end: %w", err)
	}
	s.log().InfoContext(ctx, "staff_sessions_ended", "iss", issuer, "sub", subject, "count", n)
	return n, auditErr
}

// Sweep removes expired sessions now and then every interval (DefaultSweepInterval when not
// positive) until ctx ends. Expired sessions are already invisible to every lookup; the sweep only
// reclaims their storage. Failures are logged and retried at the next tick.
func (s *Service) Sweep(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.Store.DeleteExpired(ctx, s.now()); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log().ErrorContext(ctx, "session sweep failed", "err", err)
		} else if n > 0 {
			s.log().DebugContext(ctx, "expired sessions removed", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
