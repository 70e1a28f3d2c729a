package users_test

import (
	"slices"
	"testing"

	"github.com/userdesk/userdesk/internal/auditlog"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/users"
)

// The audit page's action filter offers auditlog.ActionNames(): every action an entry recorded by
// this package can carry must be among them, or staff could not filter for it.
func TestRecordedActionsAreFilterable(t *testing.T) {
	names := auditlog.ActionNames()
	seen := map[string]bool{}
	for _, tc := range actionCases() {
		api := pageAPI()
		svc, store := auditedService(api)
		if err := tc.call(svc, staffCtx(authz.Admin)); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, e := range entries(t, store) {
			seen[e.Action] = true
			if !slices.Contains(names, e.Action) {
				t.Errorf("%s recorded %q, which the audit filter does not offer", tc.name, e.Action)
			}
		}
	}
	for _, want := range []string{"user.email_change", "user.password_set", "user.block", "user.delete"} {
		if !seen[want] {
			t.Errorf("no action case recorded %q: the check above proves less than it claims", want)
		}
	}
	for _, act := range users.Acts() {
		if n := string(act.AuditName()); !slices.Contains(names, n) {
			t.Errorf("act %s is audited as %q, which the audit filter does not offer", act, n)
		}
	}
	for _, n := range []string{string(authz.CreateUser), string(authz.EditMetadata), auditlog.ActionUsersExport} {
		if !slices.Contains(names, n) {
			t.Errorf("%q is recorded by this package but not offered by the audit filter", n)
		}
	}
}
