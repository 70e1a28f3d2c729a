package users

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/mgmt"
)

// Sentences of unlinking an identity.
const (
	MsgNoIdentityChosen = "No identity was chosen: use the Unlink link next to the identity in the user's profile."
	MsgIdentityGone     = "This user has no such linked identity any more: it was unlinked already, or the link was edited. Nothing was sent."
	MsgPrimaryIdentity  = "The first identity is the user's own account: it cannot be unlinked. Only identities linked into it can."
)

// LinkedIdentity finds the user's linked identity (provider, identityUserID): not the first
// identity, which is the account itself. The *Problem says why there is none.
func LinkedIdentity(u *mgmt.User, provider, identityUserID string) (mgmt.Identity, error) {
	if strings.TrimSpace(provider) == "" || strings.TrimSpace(identityUserID) == "" {
		return mgmt.Identity{}, &Problem{Status: http.StatusBadRequest, Message: MsgNoIdentityChosen}
	}
	for i, x := range u.Identities {
		if x.Provider == provider && x.UserID == identityUserID {
			if i == 0 {
				return mgmt.Identity{}, &Problem{Status: http.StatusBadRequest, Message: MsgPrimaryIdentity}
			}
			return x, nil
		}
	}
	return mgmt.Identity{}, &Problem{Status: http.StatusNotFound, Message: MsgIdentityGone}
}

// UnlinkIdentity detaches a linked identity from the user: Auth0 removes it from the user's
// identities and makes it a user of its own again, whose id it returns ("<provider>|<user_id>").
// The identity is checked against the user as Auth0 has it now (LinkedIdentity); nothing is sent
// otherwise. Refused like every action (reason rule for "user.identity_unlink", missing scope
// audited as denied) and audited with the identity (connection, provider, user id, email) as the
// before value.
func (s *Service) UnlinkIdentity(ctx context.Context, id, provider, identityUserID, reason string) (string, error) {
	if strings.TrimSpace(provider) == "" || strings.TrimSpace(identityUserID) == "" {
		return "", &Problem{Status: http.StatusBadRequest, Message: MsgNoIdentityChosen}
	}
	if msg := s.CheckReason(ActUnlink.AuditName(), reason); msg != "" {
		return "", &Problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{"reason": msg}}
	}
	if p := s.refuseForScope(ctx, ActUnlink, id, reason); p != nil {
		return "", p
	}
	u, err := s.Get(ctx, id)
	if err != nil {
		return "", err
	}
	x, err := LinkedIdentity(u, provider, identityUserID)
	if err != nil {
		return "", err
	}
	before := struct {
		Connection string `json:"connection"`
		Provider   string `json:"provider"`
		UserID     string `json:"user_id"`
		Email      any    `json:"email,omitempty"`
	}{x.Connection, x.Provider, x.UserID, x.ProfileData["email"]}
	err = s.write(ctx, writeOp{act: ActUnlink, user: u, reason: reason, okStatus: http.StatusOK,
		changes: []audit.Change{{Field: "identities", Before: jsonValue(before), After: "null"}},
		gone:    &Problem{Status: http.StatusNotFound, Message: MsgIdentityGone}},
		func(ctx context.Context) error {
			_, err := s.API.UnlinkIdentity(ctx, id, provider, identityUserID)
			return err
		})
	if err != nil && !errors.Is(err, ErrAuditFailed) {
		return "", err
	}
	return provider + "|" + identityUserID, err
}
