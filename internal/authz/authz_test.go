package authz

import (
	"slices"
	"strings"
	"testing"
)

func TestRolesAllowActions(t *testing.T) {
	// The definition of each role, written out independently of the table in authz.go.
	want := map[Role][]Action{
		Viewer:   {ReadUsers, ReadLogs, ReadAudit},
		Helpdesk: {ReadUsers, ReadLogs, ReadAudit, SendTicket, SendVerify, Unblock, ResetMFA, RevokeSessions},
		Agent: {ReadUsers, ReadLogs, ReadAudit, SendTicket, SendVerify, Unblock, ResetMFA, RevokeSessions,
			CreateUser, EditProfile, EditMetadata, Block, AssignRoles},
		Admin: Actions(),
		None:  nil,
	}
	for role, allowed := range want {
		for _, a := range Actions() {
			if got, exp := role.Allows(a), slices.Contains(allowed, a); got != exp {
				t.Errorf("%q allows %s = %v, want %v", role, a, got, exp)
			}
		}
	}
	if Admin.Allows(Action("made.up")) {
		t.Error("an unknown action was allowed")
	}
}

func TestParseRole(t *testing.T) {
	for _, s := range []string{"viewer", " Admin ", "AGENT", "helpdesk"} {
		if _, err := ParseRole(s); err != nil {
			t.Errorf("ParseRole(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "root", "superadmin"} {
		if _, err := ParseRole(s); err == nil {
			t.Errorf("ParseRole(%q) accepted", s)
		}
	}
}

func TestMapping(t *testing.T) {
	m, err := ParseMapping("groups", "support-admins=admin, support=agent,tier1=helpdesk,everyone=viewer")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		values []string
		want   Role
	}{
		{nil, None},
		{[]string{"marketing"}, None},
		{[]string{"everyone"}, Viewer},
		{[]string{"everyone", "tier1"}, Helpdesk},
		{[]string{"support", "everyone"}, Agent},
		{[]string{"everyone", "support-admins", "support"}, Admin},
		{[]string{"admin"}, Admin}, // role names map to themselves
		{[]string{"Admin"}, Admin},
	}
	for _, c := range cases {
		if got := m.Resolve(c.values); got != c.want {
			t.Errorf("Resolve(%v) = %q, want %q", c.values, got, c.want)
		}
	}
	_, err = ParseMapping("groups", "a=admin,broken,b=emperor,=viewer")
	if err == nil {
		t.Fatal("bad mapping accepted")
	}
	for _, part := range []string{`"broken"`, `"b=emperor"`, `"=viewer"`} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not name %s", err, part)
		}
	}
}

func TestMetadataPolicy(t *testing.T) {
	p, err := ParseMetadataPolicy("app_metadata.plan=agent, app_metadata.roles=nobody, app_metadata.*=admin, user_metadata.*=agent")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		role        Role
		object, key string
		want        bool
	}{
		{Agent, "app_metadata", "plan", true},
		{Helpdesk, "app_metadata", "plan", false}, // may not edit metadata at all
		{Agent, "app_metadata", "roles", false},
		{Admin, "app_metadata", "roles", false}, // nobody
		{Agent, "app_metadata", "support_tier", false},
		{Admin, "app_metadata", "support_tier", true},
		{Agent, "user_metadata", "theme", true},
		{Viewer, "user_metadata", "theme", false},
	}
	for _, c := range cases {
		if got := p.MayChange(c.role, c.object, c.key); got != c.want {
			t.Errorf("%s may change %s.%s = %v, want %v", c.role, c.object, c.key, got, c.want)
		}
	}
	got := p.Forbidden(Agent, map[string][]string{"app_metadata": {"plan", "roles", "tier"}, "user_metadata": {"x"}})
	if want := []string{"app_metadata.roles", "app_metadata.tier"}; !slices.Equal(got, want) {
		t.Errorf("Forbidden = %v, want %v", got, want)
	}

	var empty MetadataPolicy
	if !empty.MayChange(Agent, "app_metadata", "anything") || empty.MayChange(Helpdesk, "user_metadata", "x") {
		t.Error("the empty policy must follow EditMetadata")
	}
	if _, err := ParseMetadataPolicy("plan=agent,app_metadata.x=god,profile.y=admin"); err == nil {
		t.Error("bad policy accepted")
	}
}
