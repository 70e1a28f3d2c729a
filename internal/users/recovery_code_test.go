package users_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/users/userstest"
)

// A new recovery code comes back to the caller and nowhere else: the audit entry says the code was
// replaced, with Auth0's 200 and the correlation id, but never holds it.
func TestRegenerateRecoveryCode(t *testing.T) {
	api := userstest.New(nil, metaUser())
	svc, store := auditedService(api)
	code, err := svc.RegenerateRecoveryCode(staffCtx(authz.Helpdesk), "auth0|abc", "lost it, ID checked")
	if err != nil || len(code) != 24 {
		t.Fatalf("RegenerateRecoveryCode = %q, %v", code, err)
	}
	es := entries(t, store)
	calls := api.CallsTo("RegenerateRecoveryCode")
	if len(es) != 1 || es[0].Action != "user.recovery_code_regenerate" || es[0].Outcome != audit.OutcomeSuccess ||
		es[0].UpstreamStatus != http.StatusOK || len(calls) != 1 || es[0].CorrelationID != calls[0].CorrelationID {
		t.Fatalf("audit = %+v; calls %+v", es, calls)
	}
	for _, c := range es[0].Changes {
		if strings.Contains(c.Before+c.After, code) {
			t.Errorf("the audit entry holds the code: %+v", c)
		}
	}
	if again, _ := svc.RegenerateRecoveryCode(staffCtx(authz.Helpdesk), "auth0|abc", ""); again == code {
		t.Error("a second regeneration returned the same code")
	}
}

func TestRegenerateRecoveryCodeRefusals(t *testing.T) {
	t.Run("missing scope", func(t *testing.T) {
		api := userstest.New(nil, metaUser())
		api.SetScopes("read:users")
		svc, store := auditedService(api)
		_, err := svc.RegenerateRecoveryCode(staffCtx(authz.Helpdesk), "auth0|abc", "")
		var p *users.Problem
		if !errors.As(err, &p) || p.Status != http.StatusForbidden || !strings.Contains(p.Message, "update:users") {
			t.Fatalf("err = %v", err)
		}
		if n := len(api.CallsTo("RegenerateRecoveryCode")); n != 0 {
			t.Errorf("%d regenerations sent", n)
		}
		if es := entries(t, store); len(es) != 1 || es[0].Outcome != audit.OutcomeDenied {
			t.Errorf("audit = %+v, want one denial", es)
		}
	})
	t.Run("reason required", func(t *testing.T) {
		api := userstest.New(nil, metaUser())
		svc := &users.Service{API: api, ReasonRequired: map[authz.Action]bool{users.ActionRecoveryCode: true}}
		_, err := svc.RegenerateRecoveryCode(staffCtx(authz.Helpdesk), "auth0|abc", " ")
		var p *users.Problem
		if !errors.As(err, &p) || p.Fields["reason"] == "" || len(api.Calls()) != 0 {
			t.Fatalf("err = %v, calls %+v", err, api.Calls())
		}
	})
	t.Run("unknown user", func(t *testing.T) {
		api := userstest.New(nil)
		svc := &users.Service{API: api}
		if _, err := svc.RegenerateRecoveryCode(staffCtx(authz.Helpdesk), "auth0|gone", ""); !errors.Is(err, users.ErrNoUser) {
			t.Fatalf("err = %v", err)
		}
		if n := len(api.CallsTo("RegenerateRecoveryCode")); n != 0 {
			t.Errorf("%d regenerations sent", n)
		}
	})
}
