package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// supportTests cover store.SupportStore.
func supportTests() []struct {
	name string
	fn   func(t *testing.T, s store.Store)
} {
	return []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Roles", testRoles},
		{"RoleAssignments", testRoleAssignments},
		{"RoleMembersPaging", testRoleMembersPaging},
		{"Permissions", testPermissions},
		{"Logs", testLogs},
		{"LogSearch", testLogSearch},
		{"LogPaging", testLogPaging},
		{"BruteForceBlocks", testBlocks},
		{"AuthMethods", testAuthMethods},
		{"RecoveryCode", testRecoveryCode}, // recovery.go
		{"SessionsAndRefreshTokens", testSessions},
		{"SingleSession", testSingleSession},
		{"Tickets", testTickets},
		{"Jobs", testJobs},
		{"ClientAndGrantDeletion", testClientDeletion},
		{"UserDeletionCascades", testUserDeletionCascades},
	}
}

func mustDo(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func roleNames(rs []store.Role) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func testRoles(t *testing.T, s store.Store) {
	ctx := t.Context()
	admin := store.Role{ID: "rol_0000000000000002", Name: "admin", Description: "Administrators"}
	agent := store.Role{ID: "rol_0000000000000001", Name: "agent", Description: ""}
	mustDo(t, "CreateRole admin", s.CreateRole(ctx, admin))
	mustDo(t, "CreateRole agent", s.CreateRole(ctx, agent))
	wantErr(t, "duplicate role name", s.CreateRole(ctx, store.Role{ID: "rol_x", Name: "admin"}), store.ErrAlreadyExists)
	wantErr(t, "duplicate role id", s.CreateRole(ctx, store.Role{ID: admin.ID, Name: "other"}), store.ErrAlreadyExists)
	got, err := s.GetRole(ctx, admin.ID)
	if err != nil || got != admin {
		t.Errorf("GetRole = %+v, %v; want %+v", got, err, admin)
	}
	_, err = s.GetRole(ctx, "rol_missing")
	wantErr(t, "GetRole(missing)", err, store.ErrNotFound)
	list, err := s.ListRoles(ctx)
	if err != nil || !slices.Equal(roleNames(list), []string{"admin", "agent"}) {
		t.Errorf("ListRoles = %v, %v; want [admin agent] (by name)", roleNames(list), err)
	}
	up, err := s.UpdateRole(ctx, agent.ID, func(old store.Role) (store.Role, error) {
		if old != agent {
			t.Errorf("UpdateRole fn argument = %+v", old)
		}
		old.Description, old.ID = "Support agents", "rol_hijack"
		return old, nil
	})
	if want := (store.Role{ID: agent.ID, Name: "agent", Description: "Support agents"}); err != nil || up != want {
		t.Errorf("UpdateRole = %+v, %v; want %+v (the id cannot change)", up, err, want)
	}
	_, err = s.UpdateRole(ctx, agent.ID, func(old store.Role) (store.Role, error) { old.Name = "admin"; return old, nil })
	wantErr(t, "rename to a taken name", err, store.ErrAlreadyExists)
	errBoom := errors.New("boom")
	_, err = s.UpdateRole(ctx, agent.ID, func(old store.Role) (store.Role, error) { return old, errBoom })
	wantErr(t, "UpdateRole fn error", err, errBoom)
	_, err = s.UpdateRole(ctx, "rol_missing", func(old store.Role) (store.Role, error) { return old, nil })
	wantErr(t, "UpdateRole(missing)", err, store.ErrNotFound)
	mustDo(t, "DeleteRole", s.DeleteRole(ctx, admin.ID))
	wantErr(t, "DeleteRole again", s.DeleteRole(ctx, admin.ID), store.ErrNotFound)
	_, err = s.GetRole(ctx, admin.ID)
	wantErr(t, "GetRole after delete", err, store.ErrNotFound)
}

func testRoleAssignments(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, dbUser("u1", "one@example.com"), dbUser("u2", "two@example.com"))
	for _, r := range []store.Role{{ID: "rol_a", Name: "b-admin"}, {ID: "rol_b", Name: "a-agent"}} {
		mustDo(t, "CreateRole", s.CreateRole(ctx, r))
	}
	roles, err := s.UserRoles(ctx, "auth0|u1")
	if err != nil || len(roles) != 0 || roles == nil {
		t.Errorf("UserRoles of a user without roles = %#v, %v; want an empty, non-nil list", roles, err)
	}
	mustDo(t, "AssignRoles", s.AssignRoles(ctx, "auth0|u1", []string{"rol_a", "rol_b"}))
	mustDo(t, "AssignRoles again (idempotent)", s.AssignRoles(ctx, "auth0|u1", []string{"rol_a"}))
	roles, err = s.UserRoles(ctx, "auth0|u1")
	if err != nil || !slices.Equal(roleNames(roles), []string{"a-agent", "b-admin"}) {
		t.Errorf("UserRoles = %v, %v; want [a-agent b-admin]", roleNames(roles), err)
	}
	wantErr(t, "AssignRoles unknown role", s.AssignRoles(ctx, "auth0|u2", []string{"rol_a", "rol_missing"}), store.ErrNotFound)
	if roles, _ := s.UserRoles(ctx, "auth0|u2"); len(roles) != 0 {
		t.Errorf("a failed AssignRoles assigned %v", roleNames(roles))
	}
	wantErr(t, "AssignRoles unknown user", s.AssignRoles(ctx, "auth0|ghost", []string{"rol_a"}), store.ErrNotFound)
	_, err = s.UserRoles(ctx, "auth0|ghost")
	wantErr(t, "UserRoles unknown user", err, store.ErrNotFound)
	mustDo(t, "UnassignRoles", s.UnassignRoles(ctx, "auth0|u1", []string{"rol_a", "rol_not_held"}))
	roles, _ = s.UserRoles(ctx, "auth0|u1")
	if !slices.Equal(roleNames(roles), []string{"a-agent"}) {
		t.Errorf("UserRoles after UnassignRoles = %v, want [a-agent]", roleNames(roles))
	}
	mustDo(t, "DeleteRole", s.DeleteRole(ctx, "rol_b"))
	if roles, _ := s.UserRoles(ctx, "auth0|u1"); len(roles) != 0 {
		t.Errorf("a deleted role is still assigned: %v", roleNames(roles))
	}
}

func testRoleMembersPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustDo(t, "CreateRole", s.CreateRole(ctx, store.Role{ID: "rol_m", Name: "members"}))
	var ids []string
	for i := 5; i >= 1; i-- {
		u := dbUser(fmt.Sprintf("m%d", i), fmt.Sprintf("m%d@example.com", i))
		mustCreate(t, s, u)
		mustDo(t, "AssignRoles", s.AssignRoles(ctx, u.ID, []string{"rol_m"}))
		ids = append(ids, u.ID)
	}
	mustCreate(t, s, dbUser("outsider", "out@example.com"))
	slices.Sort(ids)
	users, total, err := s.RoleMembers(ctx, "rol_m", store.RoleMembersQuery{Offset: 1, Limit: 2})
	if err != nil || total != 5 || !slices.Equal(userIDs(users), ids[1:3]) {
		t.Errorf("RoleMembers offset 1 limit 2 = %v (total %d), %v; want %v (total 5)", userIDs(users), total, err, ids[1:3])
	}
	if len(users) > 0 && users[0].Email == "" {
		t.Errorf("RoleMembers returned users without their profile")
	}
	users, _, err = s.RoleMembers(ctx, "rol_m", store.RoleMembersQuery{After: ids[2], Limit: 10})
	if err != nil || !slices.Equal(userIDs(users), ids[3:]) {
		t.Errorf("RoleMembers after %s = %v, %v; want %v", ids[2], userIDs(users), err, ids[3:])
	}
	users, _, _ = s.RoleMembers(ctx, "rol_m", store.RoleMembersQuery{})
	if !slices.Equal(userIDs(users), ids) {
		t.Errorf("RoleMembers without limit = %v, want %v", userIDs(users), ids)
	}
	_, _, err = s.RoleMembers(ctx, "rol_missing", store.RoleMembersQuery{})
	wantErr(t, "RoleMembers(missing role)", err, store.ErrNotFound)
}

func testPermissions(t *testing.T, s store.Store) {
	ctx := t.Context()
	const api = "https://api.example.com/"
	rs := store.ResourceServer{ID: "rs1", Identifier: api, Name: "Example API", Scopes: []store.ResourceServerScope{
		{Value: "read:things", Description: "Read things"}, {Value: "write:things", Description: "Write things"}}}
	mustDo(t, "PutResourceServer", s.PutResourceServer(ctx, rs))
	got, err := s.GetResourceServer(ctx, api)
	if err != nil || !reflect.DeepEqual(got, rs) {
		t.Errorf("GetResourceServer = %+v, %v; want %+v", got, err, rs)
	}
	rs.Name = "Example API v2"
	mustDo(t, "PutResourceServer (replace)", s.PutResourceServer(ctx, rs))
	if got, _ := s.GetResourceServer(ctx, api); got.Name != "Example API v2" {
		t.Errorf("PutResourceServer did not replace: name %q", got.Name)
	}
	_, err = s.GetResourceServer(ctx, "https://missing/")
	wantErr(t, "GetResourceServer(missing)", err, store.ErrNotFound)

	mustCreate(t, s, dbUser("p1", "p1@example.com"))
	mustDo(t, "CreateRole", s.CreateRole(ctx, store.Role{ID: "rol_w", Name: "writers"}))
	read := store.Permission{ResourceServerIdentifier: api, PermissionName: "read:things"}
	write := store.Permission{ResourceServerIdentifier: api, PermissionName: "write:things"}
	perms, err := s.UserPermissions(ctx, "auth0|p1")
	if err != nil || perms == nil || len(perms) != 0 {
		t.Errorf("UserPermissions without any = %#v, %v; want empty non-nil", perms, err)
	}
	mustDo(t, "AddUserPermissions", s.AddUserPermissions(ctx, "auth0|p1", []store.Permission{write, read, read}))
	mustDo(t, "AddRolePermissions", s.AddRolePermissions(ctx, "rol_w", []store.Permission{write}))
	mustDo(t, "AssignRoles", s.AssignRoles(ctx, "auth0|p1", []string{"rol_w"}))
	perms, err = s.UserPermissions(ctx, "auth0|p1")
	want := []store.UserPermission{
		{Permission: read, Description: "Read things", ResourceServerName: "Example API v2",
			Sources: []store.PermissionSource{{SourceType: "DIRECT"}}},
		{Permission: write, Description: "Write things", ResourceServerName: "Example API v2",
			Sources: []store.PermissionSource{{SourceType: "DIRECT"}, {SourceID: "rol_w", SourceName: "writers", SourceType: "ROLE"}}},
	}
	if err != nil || !reflect.DeepEqual(perms, want) {
		t.Errorf("UserPermissions = %+v, %v\nwant %+v", perms, err, want)
	}
	rp, err := s.RolePermissions(ctx, "rol_w")
	wantRP := []store.UserPermission{{Permission: write, Description: "Write things", ResourceServerName: "Example API v2"}}
	if err != nil || !reflect.DeepEqual(rp, wantRP) {
		t.Errorf("RolePermissions = %+v, %v; want %+v", rp, err, wantRP)
	}
	mustDo(t, "AddRolePermissions (a second, and a duplicate)", s.AddRolePermissions(ctx, "rol_w", []store.Permission{read, write}))
	if rp, _ := s.RolePermissions(ctx, "rol_w"); len(rp) != 2 || rp[0].Permission != read || rp[1].Permission != write {
		t.Errorf("RolePermissions after adding read:things = %+v; want read then write, once each", rp)
	}
	mustDo(t, "CreateRole", s.CreateRole(ctx, store.Role{ID: "rol_e", Name: "empty"}))
	if rp, err := s.RolePermissions(ctx, "rol_e"); err != nil || rp == nil || len(rp) != 0 {
		t.Errorf("RolePermissions of a role without any = %#v, %v; want empty non-nil", rp, err)
	}
	_, err = s.RolePermissions(ctx, "rol_ghost")
	wantErr(t, "RolePermissions unknown role", err, store.ErrNotFound)
	mustDo(t, "RemoveUserPermissions", s.RemoveUserPermissions(ctx, "auth0|p1", []store.Permission{write, read}))
	mustDo(t, "RemoveRolePermissions", s.RemoveRolePermissions(ctx, "rol_w", []store.Permission{read}))
	perms, _ = s.UserPermissions(ctx, "auth0|p1")
	if len(perms) != 1 || perms[0].Permission != write || len(perms[0].Sources) != 1 || perms[0].Sources[0].SourceType != "ROLE" {
		t.Errorf("after removal UserPermissions = %+v; want write:things through the role only", perms)
	}
	mustDo(t, "RemoveRolePermissions", s.RemoveRolePermissions(ctx, "rol_w", []store.Permission{write}))
	if perms, _ := s.UserPermissions(ctx, "auth0|p1"); len(perms) != 0 {
		t.Errorf("after removing the role permission: %+v", perms)
	}
	wantErr(t, "AddUserPermissions unknown user", s.AddUserPermissions(ctx, "auth0|ghost", []store.Permission{read}), store.ErrNotFound)
	wantErr(t, "AddRolePermissions unknown role", s.AddRolePermissions(ctx, "rol_ghost", []store.Permission{read}), store.ErrNotFound)
	_, err = s.UserPermissions(ctx, "auth0|ghost")
	wantErr(t, "UserPermissions unknown user", err, store.ErrNotFound)
}

func sp(s string) *string { return &s }

// logEvent returns an event with id 9000…<n> (56 digits) at base+n seconds.
func logEvent(n int, typ string) store.LogEvent {
	return store.LogEvent{
		ID: fmt.Sprintf("900%053d", n), Date: base.Add(time.Duration(n) * time.Second), Type: typ,
		Description: sp(""), ClientID: sp("client1"), ClientName: sp("Userdesk"),
	}
}

func logIDs(es []store.LogEvent) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.ID[len(e.ID)-2:])
	}
	return out
}

func testLogs(t *testing.T, s store.Store) {
	ctx := t.Context()
	full := store.LogEvent{
		ID: "90020231110110819308230000000000000001223372060221940944", Date: base, Type: "sapi",
		Description: sp("Delete a User"), ClientID: sp("11tYwy5rk6iavoGW9BgtXYuzcVrCasjE"), ClientName: sp(""),
		Connection: sp("Username-Password-Authentication"), ConnectionID: sp(""), UserID: sp("auth0|1"),
		UserName: sp("jane@example.com"), IP: sp("203.0.113.9"), Hostname: sp("tenant.example"),
		UserAgent: sp("Go-http-client/1.1"), Audience: sp("https://tenant.example/api/v2/"), Scope: sp("read:users"),
		Strategy: sp("auth0"), StrategyType: sp("database"), OrganizationID: sp("org_1"), OrganizationName: sp("Acme"),
		IsMobile: true, Details: json.RawMessage(`{"request":{"method":"delete"}}`),
		LocationInfo: json.RawMessage(`{"country_code":"GB"}`), CorrelationID: "corr-1",
	}
	sparse := store.LogEvent{ID: "90020231110110819308230000000000000001223372060221940945", Date: base.Add(time.Second), Type: "fu"}
	mustDo(t, "AppendLog full", s.AppendLog(ctx, full))
	mustDo(t, "AppendLog sparse", s.AppendLog(ctx, sparse))
	wantErr(t, "duplicate log id", s.AppendLog(ctx, sparse), store.ErrAlreadyExists)
	for _, want := range []store.LogEvent{full, sparse} {
		got, err := s.GetLog(ctx, want.ID)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("GetLog round trip:\n got %+v, %v\nwant %+v", got, err, want)
		}
	}
	_, err := s.GetLog(ctx, "900missing")
	wantErr(t, "GetLog(missing)", err, store.ErrNotFound)
}

func testLogSearch(t *testing.T, s store.Store) {
	ctx := t.Context()
	events := []store.LogEvent{logEvent(1, "s"), logEvent(2, "fp"), logEvent(3, "sapi"), logEvent(4, "s"), logEvent(5, "seccft")}
	events[0].UserID, events[1].UserID, events[3].UserID = sp("auth0|a"), sp("auth0|a"), sp("auth0|b")
	events[2].Description = sp("Create a User")
	events[4].ClientName = sp("Nightly Sync")
	for _, e := range events {
		mustDo(t, "AppendLog", s.AppendLog(ctx, e))
	}
	cases := []struct {
		name string
		q    store.LogQuery
		want []string
	}{
		{"all, newest first", store.LogQuery{}, []string{"05", "04", "03", "02", "01"}},
		{"type", store.LogQuery{Expr: store.Term{Field: "type", Value: "s"}}, []string{"04", "01"}},
		{"type is case-sensitive", store.LogQuery{Expr: store.Term{Field: "type", Value: "S"}}, []string{}},
		{"prefix", store.LogQuery{Expr: store.Term{Field: "type", Value: "se", Prefix: true}}, []string{"05"}},
		{"suffix", store.LogQuery{Expr: store.Term{Field: "client_name", Value: "Sync", Suffix: true}}, []string{"05"}},
		{"contains", store.LogQuery{Expr: store.Term{Field: "description", Value: "a U", Contains: true}}, []string{"03"}},
		{"or", store.LogQuery{Expr: store.Or{store.Term{Field: "type", Value: "fp"}, store.Term{Field: "type", Value: "sapi"}}}, []string{"03", "02"}},
		{"not", store.LogQuery{Expr: store.Not{X: store.Term{Field: "type", Value: "s"}}}, []string{"05", "03", "02"}},
		{"exists user_id", store.LogQuery{Expr: store.Exists{Field: "user_id"}}, []string{"04", "02", "01"}},
		{"user restriction", store.LogQuery{UserID: "auth0|a"}, []string{"02", "01"}},
		{"user and type", store.LogQuery{UserID: "auth0|a", Expr: store.Term{Field: "type", Value: "s"}}, []string{"01"}},
		{"date range", store.LogQuery{Expr: store.Range{Field: "date", Lo: base.Add(2 * time.Second).Format(time.RFC3339Nano),
			Hi: base.Add(4 * time.Second).Format(time.RFC3339Nano), LoIncl: true}}, []string{"03", "02"}},
		{"sort by date ascending", store.LogQuery{Sort: "date", Asc: true, Limit: 2}, []string{"01", "02"}},
	}
	for _, c := range cases {
		got, total, err := s.ListLogs(ctx, c.q)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !slices.Equal(logIDs(got), c.want) {
			t.Errorf("%s: %v, want %v", c.name, logIDs(got), c.want)
		}
		if c.q.Limit == 0 && total != len(c.want) {
			t.Errorf("%s: total %d, want %d", c.name, total, len(c.want))
		}
	}
	_, _, err := s.ListLogs(ctx, store.LogQuery{Expr: store.Term{Field: "password", Value: "x"}})
	wantErr(t, "unknown log field", err, store.ErrUnsupportedQuery)
	_, _, err = s.ListLogs(ctx, store.LogQuery{Expr: store.Range{Field: "type", Lo: "a"}})
	wantErr(t, "range on a text field", err, store.ErrUnsupportedQuery)
}

func testLogPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := 1; i <= 7; i++ {
		mustDo(t, "AppendLog", s.AppendLog(ctx, logEvent(i, "s")))
	}
	got, total, err := s.ListLogs(ctx, store.LogQuery{Offset: 2, Limit: 3})
	if err != nil || total != 7 || !slices.Equal(logIDs(got), []string{"05", "04", "03"}) {
		t.Errorf("offset 2 limit 3 = %v (total %d), %v; want [05 04 03] (total 7)", logIDs(got), total, err)
	}
	_, total, _ = s.ListLogs(ctx, store.LogQuery{Limit: 1, NoTotal: true})
	if total != 0 {
		t.Errorf("NoTotal: total %d, want 0", total)
	}
	from := logEvent(3, "s").ID
	got, _, err = s.ListLogs(ctx, store.LogQuery{Checkpoint: true, From: from, Limit: 2, Offset: 5, Sort: "date"})
	if err != nil || !slices.Equal(logIDs(got), []string{"04", "05"}) {
		t.Errorf("checkpoint from 03 take 2 = %v, %v; want [04 05] ascending (offset and sort ignored)", logIDs(got), err)
	}
	got, _, _ = s.ListLogs(ctx, store.LogQuery{Checkpoint: true, Limit: 2})
	if !slices.Equal(logIDs(got), []string{"01", "02"}) {
		t.Errorf("checkpoint without from = %v, want [01 02]", logIDs(got))
	}
}

func testBlocks(t *testing.T, s store.Store) {
	ctx := t.Context()
	const conn = "Username-Password-Authentication"
	for i := 1; i <= 3; i++ {
		n, err := s.RecordLoginFailure(ctx, "jane@example.com", "203.0.113.1", conn, base)
		if err != nil || n != i {
			t.Fatalf("RecordLoginFailure #%d = %d, %v", i, n, err)
		}
	}
	if n, _ := s.RecordLoginFailure(ctx, "jane@example.com", "198.51.100.1", conn, base); n != 1 {
		t.Errorf("another IP counts separately: got %d, want 1", n)
	}
	mustDo(t, "ClearLoginFailures", s.ClearLoginFailures(ctx, "jane@example.com", "203.0.113.1", conn))
	if n, _ := s.RecordLoginFailure(ctx, "jane@example.com", "203.0.113.1", conn, base); n != 1 {
		t.Errorf("after ClearLoginFailures the count restarts: got %d, want 1", n)
	}
	blocks, err := s.UserBlocks(ctx, []string{"jane@example.com"}, "")
	if err != nil || blocks == nil || len(blocks) != 0 {
		t.Errorf("UserBlocks without blocks = %#v, %v; want empty non-nil", blocks, err)
	}
	b1 := store.UserBlock{Identifier: "jane@example.com", IP: "203.0.113.1", Connection: conn, CreatedAt: base}
	b2 := store.UserBlock{Identifier: "jane", IP: "203.0.113.1", Connection: "Other", CreatedAt: base}
	mustDo(t, "CreateUserBlock", s.CreateUserBlock(ctx, b1))
	mustDo(t, "CreateUserBlock again", s.CreateUserBlock(ctx, b1))
	mustDo(t, "CreateUserBlock other", s.CreateUserBlock(ctx, b2))
	blocks, _ = s.UserBlocks(ctx, []string{"jane@example.com", "jane"}, "")
	if !reflect.DeepEqual(blocks, []store.UserBlock{b2, b1}) {
		t.Errorf("UserBlocks = %+v, want both, by identifier", blocks)
	}
	blocks, _ = s.UserBlocks(ctx, []string{"jane@example.com", "jane"}, conn)
	if !reflect.DeepEqual(blocks, []store.UserBlock{b1}) {
		t.Errorf("UserBlocks in %s = %+v, want only that connection's", conn, blocks)
	}
	n, err := s.DeleteUserBlocks(ctx, []string{"jane@example.com"}, conn)
	if err != nil || n != 1 {
		t.Errorf("DeleteUserBlocks = %d, %v; want 1", n, err)
	}
	if n, _ := s.RecordLoginFailure(ctx, "jane@example.com", "203.0.113.1", conn, base); n != 1 {
		t.Errorf("DeleteUserBlocks must reset the failure count: got %d, want 1", n)
	}
	if blocks, _ := s.UserBlocks(ctx, []string{"jane@example.com", "jane"}, ""); !reflect.DeepEqual(blocks, []store.UserBlock{b2}) {
		t.Errorf("after delete UserBlocks = %+v, want only the other block", blocks)
	}
	if n, _ := s.DeleteUserBlocks(ctx, nil, ""); n != 0 {
		t.Errorf("DeleteUserBlocks(no identifiers) removed %d", n)
	}
}

func testAuthMethods(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, dbUser("mfa", "mfa@example.com"), dbUser("other", "other@example.com"))
	const uid = "auth0|mfa"
	totp := store.AuthMethod{ID: "totp|dev_1", UserID: uid, Type: "totp", Name: "Authenticator", TOTPSecret: "SECRET",
		Confirmed: true, CreatedAt: base, LastAuthAt: ptr(base.Add(time.Hour))}
	phone := store.AuthMethod{ID: "phone|dev_2", UserID: uid, Type: "phone", PhoneNumber: "+15551234567",
		PreferredAuthenticationMethod: "sms", Confirmed: true, CreatedAt: base.Add(time.Minute)}
	mustDo(t, "CreateAuthMethod phone", s.CreateAuthMethod(ctx, phone))
	mustDo(t, "CreateAuthMethod totp", s.CreateAuthMethod(ctx, totp))
	wantErr(t, "duplicate method", s.CreateAuthMethod(ctx, totp), store.ErrAlreadyExists)
	wantErr(t, "method of unknown user", s.CreateAuthMethod(ctx, store.AuthMethod{ID: "x", UserID: "auth0|ghost", CreatedAt: base}), store.ErrNotFound)
	list, err := s.AuthMethods(ctx, uid)
	if err != nil || !reflect.DeepEqual(list, []store.AuthMethod{totp, phone}) {
		t.Errorf("AuthMethods = %+v, %v; want totp then phone (by creation)", list, err)
	}
	if list, _ := s.AuthMethods(ctx, "auth0|other"); list == nil || len(list) != 0 {
		t.Errorf("AuthMethods of a user without methods = %#v; want empty non-nil", list)
	}
	_, err = s.AuthMethods(ctx, "auth0|ghost")
	wantErr(t, "AuthMethods(unknown user)", err, store.ErrNotFound)
	got, err := s.GetAuthMethod(ctx, uid, totp.ID)
	if err != nil || !reflect.DeepEqual(got, totp) {
		t.Errorf("GetAuthMethod = %+v, %v", got, err)
	}
	_, err = s.GetAuthMethod(ctx, "auth0|other", totp.ID)
	wantErr(t, "GetAuthMethod of another user", err, store.ErrNotFound)
	up, err := s.UpdateAuthMethod(ctx, uid, totp.ID, func(old store.AuthMethod) (store.AuthMethod, error) {
		old.Name, old.ID = "Phone app", "hijack"
		return old, nil
	})
	if err != nil || up.Name != "Phone app" || up.ID != totp.ID {
		t.Errorf("UpdateAuthMethod = %+v, %v", up, err)
	}
	_, err = s.UpdateAuthMethod(ctx, uid, "missing", func(old store.AuthMethod) (store.AuthMethod, error) { return old, nil })
	wantErr(t, "UpdateAuthMethod(missing)", err, store.ErrNotFound)
	mustDo(t, "DeleteAuthMethod", s.DeleteAuthMethod(ctx, uid, phone.ID))
	wantErr(t, "DeleteAuthMethod again", s.DeleteAuthMethod(ctx, uid, phone.ID), store.ErrNotFound)
	email := store.AuthMethod{ID: "email|dev_3", Type: "email", Email: "mfa@example.com", CreatedAt: base}
	mustDo(t, "ReplaceAuthMethods", s.ReplaceAuthMethods(ctx, uid, []store.AuthMethod{email}))
	list, _ = s.AuthMethods(ctx, uid)
	email.UserID = uid
	if !reflect.DeepEqual(list, []store.AuthMethod{email}) {
		t.Errorf("after ReplaceAuthMethods = %+v, want only the email method", list)
	}
	n, err := s.DeleteAuthMethods(ctx, uid)
	if err != nil || n != 1 {
		t.Errorf("DeleteAuthMethods = %d, %v; want 1", n, err)
	}
	_, err = s.DeleteAuthMethods(ctx, "auth0|ghost")
	wantErr(t, "DeleteAuthMethods(unknown user)", err, store.ErrNotFound)
}

func testSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, dbUser("s1", "s1@example.com"))
	const uid = "auth0|s1"
	s1 := store.Session{ID: "sess_b", UserID: uid, ClientIDs: []string{"web"}, CreatedAt: base, UpdatedAt: base,
		AuthenticatedAt: base, LastInteractedAt: base.Add(time.Minute), IdleExpiresAt: base.Add(72 * time.Hour),
		ExpiresAt: base.Add(720 * time.Hour), InitialUserAgent: "Firefox", InitialIP: "203.0.113.1",
		LastUserAgent: "Firefox", LastIP: "203.0.113.2",
		AuthMethods: []store.SessionAuthMethod{{Name: "pwd", Timestamp: base}}}
	s2 := s1
	s2.ID, s2.CreatedAt, s2.AuthMethods = "sess_a", base.Add(time.Hour), nil
	mustDo(t, "CreateSession", s.CreateSession(ctx, s1))
	mustDo(t, "CreateSession 2", s.CreateSession(ctx, s2))
	wantErr(t, "duplicate session", s.CreateSession(ctx, s1), store.ErrAlreadyExists)
	wantErr(t, "session of unknown user", s.CreateSession(ctx, store.Session{ID: "x", UserID: "auth0|ghost"}), store.ErrNotFound)
	list, err := s.Sessions(ctx, uid)
	if err != nil || len(list) != 2 || !reflect.DeepEqual(list[0], s1) || list[1].ID != "sess_a" {
		t.Errorf("Sessions = %+v, %v; want s1 then s2 (by creation)", list, err)
	}
	bound := store.RefreshToken{ID: "rt_1", UserID: uid, ClientID: "web", SessionID: "sess_b", CreatedAt: base,
		ExpiresAt: ptr(base.Add(time.Hour)), Rotating: true,
		ResourceServers: []store.RefreshTokenResource{{Audience: "https://api/", Scopes: "openid offline_access"}}}
	free := store.RefreshToken{ID: "rt_2", UserID: uid, ClientID: "web", CreatedAt: base.Add(time.Second),
		ResourceServers: []store.RefreshTokenResource{{Audience: "https://api/", Scopes: "openid"}}}
	mustDo(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, bound))
	mustDo(t, "CreateRefreshToken 2", s.CreateRefreshToken(ctx, free))
	tokens, err := s.RefreshTokens(ctx, uid)
	if err != nil || !reflect.DeepEqual(tokens, []store.RefreshToken{bound, free}) {
		t.Errorf("RefreshTokens = %+v, %v", tokens, err)
	}
	n, err := s.DeleteSessions(ctx, uid)
	if err != nil || n != 2 {
		t.Errorf("DeleteSessions = %d, %v; want 2", n, err)
	}
	if list, _ := s.Sessions(ctx, uid); len(list) != 0 {
		t.Errorf("sessions left: %+v", list)
	}
	tokens, _ = s.RefreshTokens(ctx, uid)
	if len(tokens) != 1 || tokens[0].ID != "rt_2" {
		t.Errorf("after DeleteSessions refresh tokens = %+v; want only the one without a session", tokens)
	}
	n, err = s.DeleteRefreshTokens(ctx, uid)
	if err != nil || n != 1 {
		t.Errorf("DeleteRefreshTokens = %d, %v; want 1", n, err)
	}
	if tokens, _ := s.RefreshTokens(ctx, uid); tokens == nil || len(tokens) != 0 {
		t.Errorf("RefreshTokens after delete = %#v; want empty non-nil", tokens)
	}
	_, err = s.Sessions(ctx, "auth0|ghost")
	wantErr(t, "Sessions(unknown user)", err, store.ErrNotFound)
	_, err = s.RefreshTokens(ctx, "auth0|ghost")
	wantErr(t, "RefreshTokens(unknown user)", err, store.ErrNotFound)
}

// sessionIDs and tokenIDs list ids in store order, for comparisons.
func sessionIDs(ss []store.Session) []string {
	out := []string{}
	for _, x := range ss {
		out = append(out, x.ID)
	}
	return out
}

func tokenIDs(ts []store.RefreshToken) []string {
	out := []string{}
	for _, x := range ts {
		out = append(out, x.ID)
	}
	return out
}

// testSingleSession covers Session, DeleteSession and RevokeSession: each acts on one session only;
// DeleteSession keeps the session's refresh tokens, RevokeSession removes exactly them.
func testSingleSession(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, dbUser("ss1", "ss1@example.com"))
	mustCreate(t, s, dbUser("ss2", "ss2@example.com"))
	const uid, other = "auth0|ss1", "auth0|ss2"
	sess := func(id, user string, at time.Time) store.Session {
		return store.Session{ID: id, UserID: user, ClientIDs: []string{"web", "cli"}, CreatedAt: at, UpdatedAt: at,
			AuthenticatedAt: at, LastInteractedAt: at.Add(time.Minute), IdleExpiresAt: at.Add(72 * time.Hour),
			ExpiresAt: at.Add(720 * time.Hour), InitialUserAgent: "Firefox", InitialIP: "203.0.113.1",
			LastUserAgent: "Safari", LastIP: "203.0.113.2",
			AuthMethods: []store.SessionAuthMethod{{Name: "pwd", Timestamp: at}, {Name: "mfa", Type: "otp", Timestamp: at.Add(time.Second)}}}
	}
	token := func(id, user, session string, at time.Time) store.RefreshToken {
		return store.RefreshToken{ID: id, UserID: user, ClientID: "web", SessionID: session, CreatedAt: at,
			ResourceServers: []store.RefreshTokenResource{{Audience: "https://api/", Scopes: "openid offline_access"}}}
	}
	keep, del, rev, foreign := sess("sess_keep", uid, base), sess("sess_del", uid, base.Add(time.Hour)),
		sess("sess_rev", uid, base.Add(2*time.Hour)), sess("sess_other", other, base)
	for _, x := range []store.Session{keep, del, rev, foreign} {
		mustDo(t, "CreateSession "+x.ID, s.CreateSession(ctx, x))
	}
	for _, x := range []store.RefreshToken{
		token("rt_keep", uid, "sess_keep", base),
		token("rt_del", uid, "sess_del", base.Add(time.Second)),
		token("rt_rev1", uid, "sess_rev", base.Add(2*time.Second)),
		token("rt_rev2", uid, "sess_rev", base.Add(3*time.Second)),
		token("rt_free", uid, "", base.Add(4*time.Second)),
		token("rt_other", other, "sess_other", base.Add(5*time.Second)),
	} {
		mustDo(t, "CreateRefreshToken "+x.ID, s.CreateRefreshToken(ctx, x))
	}

	got, err := s.Session(ctx, "sess_del")
	if err != nil || !reflect.DeepEqual(got, del) {
		t.Errorf("Session(sess_del) = %+v, %v; want %+v", got, err, del)
	}
	_, err = s.Session(ctx, "sess_ghost")
	wantErr(t, "Session(unknown)", err, store.ErrNotFound)

	// DeleteSession: only that session goes; its refresh token stays.
	mustDo(t, "DeleteSession", s.DeleteSession(ctx, "sess_del"))
	_, err = s.Session(ctx, "sess_del")
	wantErr(t, "Session after DeleteSession", err, store.ErrNotFound)
	wantErr(t, "second DeleteSession", s.DeleteSession(ctx, "sess_del"), store.ErrNotFound)
	wantErr(t, "DeleteSession(unknown)", s.DeleteSession(ctx, "sess_ghost"), store.ErrNotFound)
	if list, err := s.Sessions(ctx, uid); err != nil || !slices.Equal(sessionIDs(list), []string{"sess_keep", "sess_rev"}) {
		t.Errorf("sessions after DeleteSession = %v, %v; want sess_keep, sess_rev", sessionIDs(list), err)
	}
	if tokens, err := s.RefreshTokens(ctx, uid); err != nil || !slices.Equal(tokenIDs(tokens), []string{"rt_keep", "rt_del", "rt_rev1", "rt_rev2", "rt_free"}) {
		t.Errorf("refresh tokens after DeleteSession = %v, %v; want all five kept", tokenIDs(tokens), err)
	}

	// RevokeSession: that session and exactly its refresh tokens go.
	n, err := s.RevokeSession(ctx, "sess_rev")
	if err != nil || n != 2 {
		t.Errorf("RevokeSession = %d, %v; want 2 tokens", n, err)
	}
	_, err = s.Session(ctx, "sess_rev")
	wantErr(t, "Session after RevokeSession", err, store.ErrNotFound)
	if list, err := s.Sessions(ctx, uid); err != nil || !slices.Equal(sessionIDs(list), []string{"sess_keep"}) {
		t.Errorf("sessions after RevokeSession = %v, %v; want sess_keep", sessionIDs(list), err)
	}
	if tokens, err := s.RefreshTokens(ctx, uid); err != nil || !slices.Equal(tokenIDs(tokens), []string{"rt_keep", "rt_del", "rt_free"}) {
		t.Errorf("refresh tokens after RevokeSession = %v, %v; want rt_keep, rt_del, rt_free", tokenIDs(tokens), err)
	}
	n, err = s.RevokeSession(ctx, "sess_rev")
	wantErr(t, "second RevokeSession", err, store.ErrNotFound)
	if n != 0 {
		t.Errorf("second RevokeSession reported %d tokens", n)
	}
	_, err = s.RevokeSession(ctx, "sess_ghost")
	wantErr(t, "RevokeSession(unknown)", err, store.ErrNotFound)

	// A session without refresh tokens revokes with a count of 0.
	mustDo(t, "CreateSession bare", s.CreateSession(ctx, sess("sess_bare", uid, base.Add(3*time.Hour))))
	if n, err := s.RevokeSession(ctx, "sess_bare"); err != nil || n != 0 {
		t.Errorf("RevokeSession(bare) = %d, %v; want 0, nil", n, err)
	}

	// The other user was never touched.
	if list, err := s.Sessions(ctx, other); err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], foreign) {
		t.Errorf("other user's sessions = %+v, %v; want only sess_other, unchanged", list, err)
	}
	if tokens, err := s.RefreshTokens(ctx, other); err != nil || !slices.Equal(tokenIDs(tokens), []string{"rt_other"}) {
		t.Errorf("other user's refresh tokens = %v, %v; want rt_other", tokenIDs(tokens), err)
	}
}

func testTickets(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, dbUser("t1", "t1@example.com"))
	tk := store.Ticket{ID: "hash1", Type: "password-change", UserID: "auth0|t1", ClientID: "web",
		ResultURL: "https://app.example/done", MarkEmailAsVerified: true, IncludeEmailInRedirect: true,
		CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	mustDo(t, "CreateTicket", s.CreateTicket(ctx, tk))
	wantErr(t, "duplicate ticket", s.CreateTicket(ctx, tk), store.ErrAlreadyExists)
	wantErr(t, "ticket of unknown user", s.CreateTicket(ctx, store.Ticket{ID: "h2", UserID: "auth0|ghost"}), store.ErrNotFound)
	for i := 0; i < 2; i++ {
		got, err := s.GetTicket(ctx, "hash1")
		if err != nil || got != tk {
			t.Errorf("GetTicket #%d = %+v, %v; want %+v (reading does not use it up)", i, got, err, tk)
		}
	}
	got, err := s.TakeTicket(ctx, "hash1")
	if err != nil || got != tk {
		t.Errorf("TakeTicket = %+v, %v", got, err)
	}
	_, err = s.TakeTicket(ctx, "hash1")
	wantErr(t, "TakeTicket twice", err, store.ErrNotFound)
	_, err = s.GetTicket(ctx, "hash1")
	wantErr(t, "GetTicket after take", err, store.ErrNotFound)
}

func testJobs(t *testing.T, s store.Store) {
	ctx := t.Context()
	j := store.Job{ID: "job_1", Type: "users_export", Status: "pending", ConnectionID: "con_1",
		Connection: "Username-Password-Authentication", Format: "csv", Limit: 5,
		Fields: json.RawMessage(`[{"name":"email"}]`), CreatedAt: base}
	mustDo(t, "CreateJob", s.CreateJob(ctx, j))
	wantErr(t, "duplicate job", s.CreateJob(ctx, j), store.ErrAlreadyExists)
	got, err := s.GetJob(ctx, "job_1")
	if err != nil || !reflect.DeepEqual(got, j) {
		t.Errorf("GetJob = %+v, %v; want %+v", got, err, j)
	}
	v := store.Job{ID: "job_2", Type: "verification_email", Status: "pending", UserID: "auth0|x", CreatedAt: base}
	mustDo(t, "CreateJob without fields", s.CreateJob(ctx, v))
	if got, _ := s.GetJob(ctx, "job_2"); !reflect.DeepEqual(got, v) {
		t.Errorf("GetJob (nil fields) = %+v, want %+v", got, v)
	}
	up, err := s.UpdateJob(ctx, "job_1", func(old store.Job) (store.Job, error) {
		old.Status, old.FileToken, old.Exported = "completed", "tok", 1234
		return old, nil
	})
	if err != nil || up.Status != "completed" || up.Exported != 1234 {
		t.Errorf("UpdateJob = %+v, %v", up, err)
	}
	if got, _ := s.GetJob(ctx, "job_1"); got.Status != "completed" || got.FileToken != "tok" {
		t.Errorf("GetJob after update = %+v", got)
	}
	_, err = s.UpdateJob(ctx, "job_missing", func(old store.Job) (store.Job, error) { return old, nil })
	wantErr(t, "UpdateJob(missing)", err, store.ErrNotFound)
	_, err = s.GetJobFile(ctx, "job_1")
	wantErr(t, "GetJobFile before PutJobFile", err, store.ErrNotFound)
	data := []byte{0x1f, 0x8b, 0, 1, 2, 255}
	mustDo(t, "PutJobFile", s.PutJobFile(ctx, "job_1", data))
	mustDo(t, "PutJobFile (replace)", s.PutJobFile(ctx, "job_1", append(data, 7)))
	if b, err := s.GetJobFile(ctx, "job_1"); err != nil || !slices.Equal(b, append(data, 7)) {
		t.Errorf("GetJobFile = %v, %v", b, err)
	}
	wantErr(t, "PutJobFile for a missing job", s.PutJobFile(ctx, "job_missing", data), store.ErrNotFound)
}

func testClientDeletion(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"b", "a"} {
		mustDo(t, "CreateClient", s.CreateClient(ctx, store.Client{ClientID: id, Name: id, AppType: "non_interactive"}))
	}
	ga := store.ClientGrant{ID: "cgr_a", ClientID: "a", Audience: "https://x/", Scope: []string{"read:users"}}
	gb := store.ClientGrant{ID: "cgr_b", ClientID: "b", Audience: "https://x/", Scope: []string{}}
	mustDo(t, "CreateClientGrant b", s.CreateClientGrant(ctx, gb))
	mustDo(t, "CreateClientGrant a", s.CreateClientGrant(ctx, ga))
	grants, err := s.ListClientGrants(ctx)
	if err != nil || !reflect.DeepEqual(grants, []store.ClientGrant{ga, gb}) {
		t.Errorf("ListClientGrants = %+v, %v; want a then b", grants, err)
	}
	mustDo(t, "DeleteClientGrant", s.DeleteClientGrant(ctx, "cgr_a"))
	wantErr(t, "DeleteClientGrant again", s.DeleteClientGrant(ctx, "cgr_a"), store.ErrNotFound)
	mustDo(t, "DeleteClient", s.DeleteClient(ctx, "b"))
	wantErr(t, "DeleteClient again", s.DeleteClient(ctx, "b"), store.ErrNotFound)
	_, err = s.GetClient(ctx, "b")
	wantErr(t, "GetClient after delete", err, store.ErrNotFound)
	if grants, _ := s.ListClientGrants(ctx); len(grants) != 0 {
		t.Errorf("a deleted client's grants remain: %+v", grants)
	}
}

func testUserDeletionCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := dbUser("gone", "gone@example.com")
	mustCreate(t, s, u)
	mustDo(t, "CreateRole", s.CreateRole(ctx, store.Role{ID: "rol_1", Name: "r"}))
	mustDo(t, "AssignRoles", s.AssignRoles(ctx, u.ID, []string{"rol_1"}))
	mustDo(t, "CreateAuthMethod", s.CreateAuthMethod(ctx, store.AuthMethod{ID: "m", UserID: u.ID, Type: "totp", CreatedAt: base}))
	mustDo(t, "CreateSession", s.CreateSession(ctx, store.Session{ID: "sess", UserID: u.ID, CreatedAt: base}))
	mustDo(t, "CreateTicket", s.CreateTicket(ctx, store.Ticket{ID: "tk", UserID: u.ID, CreatedAt: base, ExpiresAt: base}))
	ev := logEvent(1, "s")
	ev.UserID = sp(u.ID)
	mustDo(t, "AppendLog", s.AppendLog(ctx, ev))
	mustDo(t, "DeleteUser", s.DeleteUser(ctx, u.ID))
	members, total, err := s.RoleMembers(ctx, "rol_1", store.RoleMembersQuery{})
	if err != nil || total != 0 || len(members) != 0 {
		t.Errorf("role members after user deletion = %v (total %d), %v", userIDs(members), total, err)
	}
	_, err = s.GetTicket(ctx, "tk")
	wantErr(t, "ticket after user deletion", err, store.ErrNotFound)
	// Recreating the user must not resurrect anything.
	mustCreate(t, s, u)
	if ms, _ := s.AuthMethods(ctx, u.ID); len(ms) != 0 {
		t.Errorf("authentication methods survived user deletion: %+v", ms)
	}
	if ss, _ := s.Sessions(ctx, u.ID); len(ss) != 0 {
		t.Errorf("sessions survived user deletion: %+v", ss)
	}
	if rs, _ := s.UserRoles(ctx, u.ID); len(rs) != 0 {
		t.Errorf("roles survived user deletion: %v", roleNames(rs))
	}
	if _, err := s.GetLog(ctx, ev.ID); err != nil {
		t.Errorf("log events must outlive the user: %v", err)
	}
}
