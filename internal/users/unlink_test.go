package users_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/users/userstest"
)

// linkedUser is jane with her own database identity and a Google account linked into it.
func linkedUser() mgmt.User {
	u := metaUser()
	u.Identities = []mgmt.Identity{
		{Connection: "Username-Password-Authentication", Provider: "auth0", UserID: "abc"},
		{Connection: "google-oauth2", Provider: "google-oauth2", UserID: "g1", IsSocial: true,
			ProfileData: map[string]any{"email": "jane@gmail.example", "name": "Jane G"}},
	}
	return u
}

// Unlinking detaches the identity, which becomes a user of its own, and is audited with the
// identity as the before value, Auth0's 200 and the correlation id the call carried.
func TestUnlinkIdentity(t *testing.T) {
	api := userstest.New(nil, linkedUser())
	svc, store := auditedService(api)
	newID, err := svc.UnlinkIdentity(staffCtx(authz.Agent), "auth0|abc", "google-oauth2", "g1", "T-3")
	if err != nil || newID != "google-oauth2|g1" {
		t.Fatalf("UnlinkIdentity = %q, %v", newID, err)
	}
	u, _ := api.User("auth0|abc")
	if len(u.Identities) != 1 || u.Identities[0].Provider != "auth0" {
		t.Errorf("identities left = %+v", u.Identities)
	}
	if nu, ok := api.User("google-oauth2|g1"); !ok || nu.Email != "jane@gmail.example" {
		t.Errorf("the unlinked identity is not a user of its own: %+v %v", nu, ok)
	}
	es := entries(t, store)
	calls := api.CallsTo("UnlinkIdentity")
	if len(es) != 1 || es[0].Action != "user.identity_unlink" || es[0].TargetUserID != "auth0|abc" || es[0].Reason != "T-3" ||
		es[0].Outcome != audit.OutcomeSuccess || es[0].UpstreamStatus != http.StatusOK || len(calls) != 1 ||
		es[0].CorrelationID == "" || es[0].CorrelationID != calls[0].CorrelationID {
		t.Fatalf("audit = %+v; calls %+v", es, calls)
	}
	c := es[0].Changes
	if len(c) != 1 || c[0].Field != "identities" || c[0].After != "null" || !strings.Contains(c[0].Before, `"provider":"google-oauth2"`) ||
		!strings.Contains(c[0].Before, "jane@gmail.example") {
		t.Errorf("changes = %+v", c)
	}
}

// Nothing is sent when the identity is not a linked identity of the user, the form is damaged, a
// reason is missing or the service account lacks update:users.
func TestUnlinkIdentityRefusals(t *testing.T) {
	for _, tc := range []struct {
		name           string
		provider, id   string
		scopes         []string
		reasonRequired bool
		status         int
		message, field string
		audited        audit.Outcome
	}{
		{"the account's own identity", "auth0", "abc", nil, false, 400, users.MsgPrimaryIdentity, "", ""},
		{"not one of the user's", "google-oauth2", "other", nil, false, 404, users.MsgIdentityGone, "", ""},
		{"nothing chosen", "", "", nil, false, 400, users.MsgNoIdentityChosen, "", ""},
		{"reason required", "google-oauth2", "g1", nil, true, 422, "", "reason", ""},
		{"missing scope", "google-oauth2", "g1", []string{"read:users"}, false, 403, "", "", audit.OutcomeDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := userstest.New(nil, linkedUser())
			if tc.scopes != nil {
				api.SetScopes(tc.scopes...)
			}
			svc, store := auditedService(api)
			if tc.reasonRequired {
				svc.ReasonRequired = map[authz.Action]bool{users.ActionIdentityUnlink: true}
			}
			_, err := svc.UnlinkIdentity(staffCtx(authz.Agent), "auth0|abc", tc.provider, tc.id, "")
			var p *users.Problem
			if !errors.As(err, &p) || p.Status != tc.status || (tc.message != "" && p.Message != tc.message) ||
				(tc.field != "" && p.Fields[tc.field] == "") {
				t.Fatalf("err = %v, want %d %q %q", err, tc.status, tc.message, tc.field)
			}
			if n := len(api.CallsTo("UnlinkIdentity")); n != 0 {
				t.Errorf("%d unlinks sent", n)
			}
			es := entries(t, store)
			switch {
			case tc.audited == "" && len(es) != 0:
				t.Errorf("audit entries for a request that sent nothing: %+v", es)
			case tc.audited != "" && (len(es) != 1 || es[0].Outcome != tc.audited):
				t.Errorf("audit = %+v, want one %s entry", es, tc.audited)
			}
		})
	}
}

// An identity unlinked meanwhile (Auth0 answers 404) is reported as gone, not as a missing user.
func TestUnlinkIdentityGoneMeanwhile(t *testing.T) {
	api := userstest.New(nil, linkedUser())
	api.Fail = func(m string) error {
		if m == "UnlinkIdentity" {
			return &mgmt.Error{StatusCode: 404, Err: "Not Found", Message: "The identity does not exist."}
		}
		return nil
	}
	svc, store := auditedService(api)
	id, err := svc.UnlinkIdentity(staffCtx(authz.Agent), "auth0|abc", "google-oauth2", "g1", "")
	var p *users.Problem
	if id != "" || errors.Is(err, users.ErrNoUser) || !errors.As(err, &p) || p.Status != 404 || p.Message != users.MsgIdentityGone {
		t.Fatalf("UnlinkIdentity = %q, %v", id, err)
	}
	if es := entries(t, store); len(es) != 1 || es[0].Outcome != audit.OutcomeFailure || es[0].UpstreamStatus != 404 {
		t.Errorf("audit = %+v", es)
	}
}
