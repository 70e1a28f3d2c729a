package users

import (
	"context"
	"errors"
	"net/http"

	"github.com/userdesk/userdesk/internal/audit"
)

// RegenerateRecoveryCode replaces the user's MFA recovery code and returns the new one, for the
// staff member to pass on once (after checking who they are talking to): the old code stops
// working. Refused like every action (reason rule for "user.recovery_code_regenerate", missing
// scope audited as denied); audited without the code, which is never stored or logged.
func (s *Service) RegenerateRecoveryCode(ctx context.Context, id, reason string) (string, error) {
	if msg := s.CheckReason(ActRecoveryCode.AuditName(), reason); msg != "" {
		return "", &Problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{"reason": msg}}
	}
	if p := s.refuseForScope(ctx, ActRecoveryCode, id, reason); p != nil {
		return "", p
	}
	u, err := s.Get(ctx, id)
	if err != nil {
		return "", err
	}
	var code string
	err = s.write(ctx, writeOp{act: ActRecoveryCode, user: u, reason: reason, okStatus: http.StatusOK,
		changes: []audit.Change{{Field: "recovery_code", Before: `"(previous code)"`, After: `"(new code, not recorded)"`}}},
		func(ctx context.Context) (err error) {
			code, err = s.API.RegenerateRecoveryCode(ctx, id)
			return err
		})
	if err != nil && !errors.Is(err, ErrAuditFailed) {
		return "", err
	}
	return code, err
}
