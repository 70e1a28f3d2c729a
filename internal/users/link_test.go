package users_test

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/users/userstest"
)

func dbUser(id, email string) mgmt.User {
	return mgmt.User{UserID: "auth0|" + id, Email: email,
		Identities: []mgmt.Identity{{Connection: "Username-Password-Authentication", Provider: "auth0", UserID: id}}}
}

// linkFixture: jane (auth0|abc), bob (auth0|bob), two users sharing dup@example.com, and carl, who
// already has a linked identity.
func linkFixture() *userstest.API {
	carl := dbUser("carl", "carl@example.com")
	carl.Identities = append(carl.Identities, mgmt.Identity{Connection: "google-oauth2", Provider: "google-oauth2", UserID: "c1", IsSocial: true})
	dup2 := dbUser("dup2", "dup@example.com")
	dup2.Identities[0].Connection = "Staff-DB"
	return userstest.New(conns(), dbUser("abc", "jane@example.com"), dbUser("bob", "bob@example.com"),
		dbUser("dup1", "dup@example.com"), dup2, carl)
}

// Linking by email or by id sends Auth0 the other account's provider, full id and connection id,
// removes it as a user of its own, and is audited with the account as the after value.
func TestLinkAccount(t *testing.T) {
	for _, other := range []string{"bob@example.com", " auth0|bob "} {
		t.Run(other, func(t *testing.T) {
			api := linkFixture()
			svc, store := auditedService(api)
			got, err := svc.LinkAccount(staffCtx(authz.Agent), "auth0|abc", users.LinkForm{Other: other, Confirmed: true, Reason: "T-8"})
			if err != nil || got != "auth0|bob" {
				t.Fatalf("LinkAccount = %q, %v", got, err)
			}
			calls := api.CallsTo("LinkIdentity")
			want := mgmt.LinkRequest{Provider: "auth0", UserID: "auth0|bob", ConnectionID: "con_2"}
			if len(calls) != 1 || calls[0].ID != "auth0|abc" || !reflect.DeepEqual(calls[0].Params, want) {
				t.Fatalf("link calls = %+v, want one with %+v", calls, want)
			}
			if _, ok := api.User("auth0|bob"); ok {
				t.Error("bob is still a user of his own")
			}
			if u, _ := api.User("auth0|abc"); len(u.Identities) != 2 || u.Identities[1].UserID != "bob" {
				t.Errorf("jane's identities = %+v", u.Identities)
			}
			es := entries(t, store)
			if len(es) != 1 || es[0].Action != "user.identity_link" || es[0].TargetUserID != "auth0|abc" || es[0].Reason != "T-8" ||
				es[0].Outcome != audit.OutcomeSuccess || es[0].UpstreamStatus != http.StatusCreated || es[0].CorrelationID != calls[0].CorrelationID {
				t.Fatalf("audit = %+v", es)
			}
			if c := es[0].Changes; len(c) != 1 || c[0].Field != "identities" || c[0].Before != "" ||
				!strings.Contains(c[0].After, `"user_id":"auth0|bob"`) || !strings.Contains(c[0].After, "bob@example.com") {
				t.Errorf("changes = %+v", c)
			}
		})
	}
}

// Everything that is not a clear, confirmed link to another single account is refused next to the
// field, with nothing sent.
func TestLinkAccountRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		form   users.LinkForm
		scopes []string
		status int
		fields map[string]string
		msgHas string // for the several-users case
	}{
		{"empty and unconfirmed", users.LinkForm{}, nil, 422,
			map[string]string{"other": users.MsgLinkWhoRequired, "confirm": users.MsgLinkConfirm}, ""},
		{"no user with the email", users.LinkForm{Other: "nobody@example.com", Confirmed: true}, nil, 422,
			map[string]string{"other": users.MsgLinkNoSuchEmail}, ""},
		{"no user with the id", users.LinkForm{Other: "auth0|nobody", Confirmed: true}, nil, 422,
			map[string]string{"other": users.MsgLinkNoSuchUser}, ""},
		{"itself", users.LinkForm{Other: "jane@example.com", Confirmed: true}, nil, 422,
			map[string]string{"other": users.MsgLinkSelf}, ""},
		{"has linked identities", users.LinkForm{Other: "auth0|carl", Confirmed: true}, nil, 422,
			map[string]string{"other": users.MsgLinkHasIdentities}, ""},
		{"several users with the email", users.LinkForm{Other: "dup@example.com", Confirmed: true}, nil, 422, nil,
			"2 users have this email address: enter the user id of the one to link (auth0|dup1, auth0|dup2)."},
		{"missing scope", users.LinkForm{Other: "bob@example.com", Confirmed: true}, []string{"read:users"}, 403, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := linkFixture()
			if tc.scopes != nil {
				api.SetScopes(tc.scopes...)
			}
			svc, _ := auditedService(api)
			_, err := svc.LinkAccount(staffCtx(authz.Agent), "auth0|abc", tc.form)
			var p *users.Problem
			if !errors.As(err, &p) || p.Status != tc.status || (tc.fields != nil && !reflect.DeepEqual(p.Fields, tc.fields)) ||
				(tc.msgHas != "" && p.Fields["other"] != tc.msgHas) {
				t.Fatalf("err = %#v", err)
			}
			if n := len(api.CallsTo("LinkIdentity")); n != 0 {
				t.Errorf("%d links sent", n)
			}
		})
	}
}
