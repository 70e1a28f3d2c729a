package users

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/mgmt"
)

// Sentences of signing one session out.
const (
	MsgSessionGone = "This user has no session with that id any more: it has ended or was signed out already. " +
		"Nothing was sent."
	MsgNoSessionChosen = "No session was chosen: open the user's Sessions & devices tab and choose the session to sign out there."
)

// SessionFor returns the user's session sessionID as Auth0 has it now. A session that does not
// exist, or that belongs to another user, is a 404 *Problem (MsgSessionGone); other failures are
// explained as reads.
func (s *Service) SessionFor(ctx context.Context, id, sessionID string) (*mgmt.Session, error) {
	if strings.TrimSpace(sessionID) == "" {
		return nil, &Problem{Status: http.StatusBadRequest, Message: MsgNoSessionChosen}
	}
	sess, err := s.API.Session(ctx, sessionID)
	switch {
	case errors.Is(err, mgmt.ErrNotFound):
		return nil, &Problem{Status: http.StatusNotFound, Message: MsgSessionGone, Err: err}
	case err != nil:
		return nil, Explain(OpRead, err)
	case sess.UserID != id:
		// Another user's session (a stale or edited link): neither shown nor touched from this page.
		return nil, &Problem{Status: http.StatusNotFound, Message: MsgSessionGone}
	}
	return sess, nil
}

// RevokeSession signs one of the user's sessions out: Auth0 ends the session and revokes the
// refresh tokens bound to it (POST /sessions/{id}/revoke), so that browser or device must sign in
// again while the user's other sessions stay. The session is read first and must belong to the
// user (SessionFor); nothing is sent otherwise.
//
// It is refused like every action (reason rule for "user.session_revoke", missing scopes audited as
// denied) and audited with the session's id, devices and applications as the before value.
func (s *Service) RevokeSession(ctx context.Context, id, sessionID, reason string) error {
	if strings.TrimSpace(sessionID) == "" {
		return &Problem{Status: http.StatusBadRequest, Message: MsgNoSessionChosen}
	}
	if msg := s.CheckReason(ActRevokeSession.AuditName(), reason); msg != "" {
		return &Problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{"reason": msg}}
	}
	if p := s.refuseForScope(ctx, ActRevokeSession, id, reason); p != nil {
		return p
	}
	var (
		u       *mgmt.User
		sess    *mgmt.Session
		userErr error
		sessErr error
	)
	_ = parallel(ctx,
		func(ctx context.Context) error { u, userErr = s.Get(ctx, id); return nil },
		func(ctx context.Context) error { sess, sessErr = s.SessionFor(ctx, id, sessionID); return nil },
	)
	if userErr != nil { // a missing user outranks a missing session
		return userErr
	}
	if sessErr != nil {
		return sessErr
	}
	return s.write(ctx, writeOp{act: ActRevokeSession, user: u, reason: reason, okStatus: http.StatusAccepted,
		changes: []audit.Change{{Field: "session", Before: jsonValue(summariseSession(sess)), After: "null"}},
		gone:    &Problem{Status: http.StatusNotFound, Message: MsgSessionGone}},
		func(ctx context.Context) error { return s.API.RevokeSession(ctx, sessionID) })
}

// sessionSummary is what the audit entry keeps of a revoked session: enough to tell which browser
// or device it was, never a token.
type sessionSummary struct {
	ID            string     `json:"id"`
	CreatedAt     *time.Time `json:"created_at,omitempty"`
	LastUsedAt    *time.Time `json:"last_interacted_at,omitempty"`
	LastIP        string     `json:"last_ip,omitempty"`
	LastUserAgent string     `json:"last_user_agent,omitempty"`
	Clients       []string   `json:"clients,omitempty"`
}

func summariseSession(x *mgmt.Session) sessionSummary {
	sum := sessionSummary{ID: x.ID, CreatedAt: x.CreatedAt, LastUsedAt: x.LastInteractedAt}
	if x.Device != nil {
		sum.LastIP, sum.LastUserAgent = x.Device.LastIP, x.Device.LastUserAgent
	}
	for _, c := range x.Clients {
		sum.Clients = append(sum.Clients, c.ClientID)
	}
	return sum
}
