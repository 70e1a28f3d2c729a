package users

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/mgmt"
)

// Sentences of linking another account into a user.
const (
	MsgLinkWhoRequired   = "Enter the other account's user id (like auth0|63d1…) or email address."
	MsgLinkConfirm       = "Tick the box to confirm that the other account's metadata, roles, sessions and MFA enrolments are deleted."
	MsgLinkNoSuchEmail   = "No user has this email address."
	MsgLinkNoSuchUser    = "No user has this id."
	MsgLinkSelf          = "That is this user: choose another account."
	MsgLinkHasIdentities = "That account has linked identities of its own: unlink them from it first."
)

// LinkForm is the link-account form: the other account (a user id or an email address that only
// one user has), the confirmation and the reason.
type LinkForm struct {
	Other     string
	Confirmed bool
	Reason    string
}

// LinkAccount links the other account into user id: Auth0 deletes it as a user of its own (with its
// metadata, roles, sessions and MFA enrolments) and adds its identity, with its profile as
// profileData, to id's identities, so signing in with it opens id. It returns the other account's
// user id. The other account is found by id or by email (users-by-email; several users with the
// email are a question back, with their ids), must not be id itself nor have linked identities of
// its own; nothing is sent otherwise.
//
// Refused like every action (reason rule for "user.identity_link", missing scope audited as
// denied); audited with the linked account (id, connection, email) as the after value.
func (s *Service) LinkAccount(ctx context.Context, id string, f LinkForm) (string, error) {
	other := strings.TrimSpace(f.Other)
	fields := map[string]string{}
	if other == "" {
		fields["other"] = MsgLinkWhoRequired
	}
	if !f.Confirmed {
		fields["confirm"] = MsgLinkConfirm
	}
	if msg := s.CheckReason(ActLink.AuditName(), f.Reason); msg != "" {
		fields["reason"] = msg
	}
	if len(fields) > 0 {
		return "", &Problem{Status: http.StatusUnprocessableEntity, Fields: fields}
	}
	if p := s.refuseForScope(ctx, ActLink, id, f.Reason); p != nil {
		return "", p
	}
	u, err := s.Get(ctx, id)
	if err != nil {
		return "", err
	}
	sec, err := s.findOther(ctx, other)
	if err != nil {
		return "", err
	}
	switch {
	case sec.UserID == u.UserID:
		return "", &Problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{"other": MsgLinkSelf}}
	case len(sec.Identities) != 1:
		return "", &Problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{"other": MsgLinkHasIdentities}}
	}
	ident := sec.Identities[0]
	l := mgmt.LinkRequest{Provider: ident.Provider, UserID: sec.UserID}
	// Auth0 wants the connection when several database connections share the auth0 provider; the
	// list page's cached connection list usually has it.
	if conns, err := s.Connections(ctx); err == nil {
		for _, c := range conns {
			if c.Name == ident.Connection {
				l.ConnectionID = c.ID
			}
		}
	}
	after := struct {
		UserID     string `json:"user_id"`
		Connection string `json:"connection"`
		Email      string `json:"email,omitempty"`
	}{sec.UserID, ident.Connection, sec.Email}
	err = s.write(ctx, writeOp{act: ActLink, user: u, reason: f.Reason, okStatus: http.StatusCreated,
		changes: []audit.Change{{Field: "identities", After: jsonValue(after)}}},
		func(ctx context.Context) error {
			_, err := s.API.LinkIdentity(ctx, id, l)
			return err
		})
	if err != nil && !errors.Is(err, ErrAuditFailed) {
		return "", err
	}
	return sec.UserID, err
}

// findOther resolves the link form's "other account": an email address that exactly one user has,
// or a user id.
func (s *Service) findOther(ctx context.Context, other string) (*mgmt.User, error) {
	field := func(msg string) error {
		return &Problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{"other": msg}}
	}
	if looksLikeEmail(other) {
		us, err := s.API.FindUsersByEmail(ctx, other)
		if err != nil {
			return nil, Explain(OpRead, err)
		}
		switch len(us) {
		case 0:
			return nil, field(MsgLinkNoSuchEmail)
		case 1:
			return &us[0], nil
		}
		ids := make([]string, len(us))
		for i, x := range us {
			ids[i] = x.UserID
		}
		return nil, field(fmt.Sprintf("%d users have this email address: enter the user id of the one to link (%s).",
			len(us), strings.Join(ids, ", ")))
	}
	sec, err := s.API.GetUser(ctx, other)
	if errors.Is(err, mgmt.ErrNotFound) {
		return nil, field(MsgLinkNoSuchUser)
	}
	if err != nil {
		return nil, Explain(OpRead, err)
	}
	return sec, nil
}
