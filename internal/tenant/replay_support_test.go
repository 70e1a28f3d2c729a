package tenant

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// TestReplaySupportRecordings replays the recorded interactions of the support-console endpoints
// (roles, permissions, logs, user blocks, MFA, sessions, refresh tokens, tickets, jobs) the way
// TestReplayRecordings does for users and connections: same status, same Content-Type, same body
// shape (both through exchange). Each cassette runs against a fresh seeded tenant. Arrays whose
// elements differ in shape by kind (log events of different types, authentication methods of
// different types) are compared element by element, matched on log_id or type (shapeRules.keys);
// other arrays element-wise against the first recorded element.
//
// Replayed (every interaction unless listed as skipped):
//   - TestRoleManager_Create, _Delete, _List, _Read, _Update, _Users, _UsersCheckpointPagination
//     (checkpoint "next" values are mapped to the tenant's own).
//   - TestUserManager_Roles, _Permissions, _GetUserLogs, _Blocks, _BlocksByIdentifier, _Unblock,
//     _UnblockByIdentifier, _Enrollments, _InvalidateRememberBrowser, _ListUserSessions,
//     _DeleteUserSessions, _DeleteRefreshTokens, _AuthenticationMethods.
//   - TestUserManager_RegenerateRecoveryCode (recoverycode.go): POST /users, POST
//     /users/{id}/recovery-code-regeneration with go-auth0's body {} for a user without any MFA factor
//     (200 {"recovery_code":…}; the code is new, so only its shape is compared) and DELETE /users/{id}.
//   - TestLogManager_Search, _CheckpointPagination: the tenant is first given the recorded log events
//     (with their ids) and, for GET /logs?page=P&per_page=N, enough newer filler events that the
//     recorded page is page P here too.
//   - TestTicketManager_ChangePassword, _VerifyEmail; TestJobManager_VerifyEmail, _ExportUsers (the
//     tenant's database connection is given the recorded connection's options first, so the GET
//     /connections in that cassette has the recorded shape).
//   - TestUserManager_Unlink (account linking, identities.go): the two POST /users, the GET
//     /connections (recorded options adopted as above; its connection id is mapped to the tenant's
//     and sent back as the link's connection_id), the link POST with the full "auth0|…" user_id,
//     the unlink DELETE, and the DELETE of both users (the unlinked one exists again).
//   - TestUserManager_Organizations (organizations.go): POST /users, POST /organizations (201, the
//     organization id is mapped to the tenant's), POST /organizations/{id}/members (204), GET
//     /users/{id}/organizations?include_totals=true&per_page=50 (the recorded GET body "null" is sent
//     empty, as for every replayed GET), DELETE /organizations/{id} (204) and DELETE /users/{id}.
//
// The token holds every scope the tenant implements (implementedScopes), the organization
// administration scopes its service account is not granted included.
//
// Skipped, with the reason:
//   - POST and DELETE /api/v2/resource-servers in TestUserManager_Permissions: the tenant has no
//     resource-server endpoints; the recorded resource server is put into the store instead.
//   - TestUserManager_DeleteRefreshTokens has no user-creating interaction (its user id is the
//     redacted "UserID"): that user and its two refresh tokens are put into the store.
//   - TestJobManager_ImportUsers and TestJobManager_ReadErrors: POST /jobs/users-imports (multipart
//     import) is not implemented, and their later interactions (GET /jobs/{id}, /jobs/{id}/errors,
//     /users-by-email) depend on the imported user.

type replaySetup func(t *testing.T, e *env, cas cassette, ids map[string]string)

type supportCase struct {
	file    string
	skip    func(method, path string) bool
	onSkip  func(t *testing.T, e *env, method, path, body string, ids map[string]string)
	setup   replaySetup
	keys    []string // array elements are matched on these keys
	noSeed  bool     // start without demo data (the log cassettes own the whole log)
	replays int      // interactions expected to be replayed
}

func TestReplaySupportRecordings(t *testing.T) {
	resourceServers := func(method, path string) bool { return strings.HasPrefix(path, "/api/v2/resource-servers") }
	cases := []supportCase{
		{file: "TestRoleManager_Create.yaml", replays: 2},
		{file: "TestRoleManager_Delete.yaml", replays: 4},
		{file: "TestRoleManager_List.yaml", replays: 3},
		{file: "TestRoleManager_Read.yaml", replays: 3},
		{file: "TestRoleManager_Update.yaml", replays: 3},
		{file: "TestRoleManager_Users.yaml", replays: 6},
		{file: "TestRoleManager_UsersCheckpointPagination.yaml", replays: 11},
		{file: "TestUserManager_Roles.yaml", replays: 8},
		{file: "TestUserManager_Permissions.yaml", skip: resourceServers, onSkip: seedRecordedResourceServer, replays: 6},
		{file: "TestUserManager_GetUserLogs.yaml", replays: 3},
		{file: "TestUserManager_Blocks.yaml", replays: 3},
		{file: "TestUserManager_BlocksByIdentifier.yaml", replays: 3},
		{file: "TestUserManager_Unblock.yaml", replays: 3},
		{file: "TestUserManager_UnblockByIdentifier.yaml", replays: 3},
		{file: "TestUserManager_Enrollments.yaml", replays: 3},
		{file: "TestUserManager_InvalidateRememberBrowser.yaml", replays: 3},
		{file: "TestUserManager_ListUserSessions.yaml", replays: 3},
		{file: "TestUserManager_DeleteUserSessions.yaml", replays: 3},
		{file: "TestUserManager_DeleteRefreshTokens.yaml", setup: seedRecordedRefreshTokens, replays: 3},
		{file: "TestUserManager_AuthenticationMethods.yaml", keys: []string{"type"}, replays: 13},
		{file: "TestUserManager_RegenerateRecoveryCode.yaml", replays: 3},
		{file: "TestLogManager_Search.yaml", setup: seedRecordedLogs, keys: []string{"log_id"}, noSeed: true, replays: 3},
		{file: "TestLogManager_CheckpointPagination.yaml", setup: seedRecordedLogs, keys: []string{"log_id"}, noSeed: true, replays: 2},
		{file: "TestTicketManager_ChangePassword.yaml", replays: 3},
		{file: "TestTicketManager_VerifyEmail.yaml", replays: 3},
		{file: "TestJobManager_VerifyEmail.yaml", replays: 4},
		{file: "TestJobManager_ExportUsers.yaml", setup: adoptRecordedConnection, replays: 4},
		{file: "TestUserManager_Unlink.yaml", setup: adoptRecordedConnection, replays: 7},
		{file: "TestUserManager_Organizations.yaml", replays: 6},
	}
	total := 0
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			n := replaySupportCassette(t, c)
			if n != c.replays {
				t.Errorf("%d interactions replayed, want %d", n, c.replays)
			}
			total += n
		})
	}
	if total != 124 {
		t.Errorf("%d interactions replayed in all, want 124", total)
	}
}

func replaySupportCassette(t *testing.T, c supportCase) int {
	e := newEnv(t, func(cfg *Config) { cfg.Seed = !c.noSeed })
	t.Cleanup(e.tn.waitJobs)
	cas := loadCassette(t, c.file)
	token := e.mintToken(implementedScopes()...)
	ids := map[string]string{} // recorded value → tenant value (ids, cursors)
	if c.setup != nil {
		c.setup(t, e, cas, ids)
	}
	replayed := 0
	for i, in := range cas.Interactions {
		u, err := url.Parse(in.Request.URL)
		if err != nil {
			t.Fatal(err)
		}
		if c.skip != nil && c.skip(in.Request.Method, u.Path) {
			if c.onSkip != nil {
				c.onSkip(t, e, in.Request.Method, u.Path, in.Request.Body, ids)
			}
			continue
		}
		rq := replayRequest{
			path:  mapIDs(ids, u.EscapedPath(), url.PathEscape),
			query: mapIDs(ids, u.RawQuery, url.QueryEscape),
			body:  mapIDs(ids, in.Request.Body, func(s string) string { return s }),
			token: token,
		}
		if rq.body == "null" {
			rq.body = ""
		}
		x := exchange(t, e, i, in, u.Path, rq, shapeRules{keys: c.keys})
		learnIDs(x.rec, x.ours, ids) // no-op unless both bodies are JSON
		replayed++
	}
	return replayed
}

// learnIDs maps the ids and cursors of a recorded response to the tenant's: user_id (and its part
// after "|"), role and job ids, connection ids, authentication-method ids and "next".
func learnIDs(r, g any, ids map[string]string) {
	rm, rok := r.(map[string]any)
	gm, gok := g.(map[string]any)
	if rok && gok {
		for _, k := range []string{"user_id", "id", "next"} {
			rv, _ := rm[k].(string)
			gv, _ := gm[k].(string)
			if rv == "" || gv == "" || rv == gv {
				continue
			}
			if k == "user_id" || (k == "id" && strings.Contains(rv, "|")) {
				if _, ok := ids[rv]; ok {
					continue
				}
			}
			ids[rv] = gv
			if k == "user_id" {
				_, rs, _ := strings.Cut(rv, "|")
				_, gs, _ := strings.Cut(gv, "|")
				if rs != "" && gs != "" {
					ids[rs] = gs
				}
			}
		}
		if rc, ok := rm["connections"].([]any); ok {
			learnIDs(rc, gm["connections"], ids)
		}
		return
	}
	ra, rok := r.([]any)
	ga, gok := g.([]any)
	if rok && gok && len(ra) == len(ga) {
		for i := range ra {
			learnIDs(ra[i], ga[i], ids)
		}
	}
}

// seedRecordedResourceServer stores the resource server a skipped POST /resource-servers created.
func seedRecordedResourceServer(t *testing.T, e *env, method, _, body string, _ map[string]string) {
	if method != http.MethodPost {
		return
	}
	var rs struct {
		Name, Identifier string
		Scopes           []struct{ Value, Description string }
	}
	mustUnmarshal(t, []byte(body), &rs)
	x := store.ResourceServer{ID: "rs_" + randomString(8, alnum), Identifier: rs.Identifier, Name: rs.Name}
	for _, s := range rs.Scopes {
		x.Scopes = append(x.Scopes, store.ResourceServerScope(s))
	}
	if err := e.st.PutResourceServer(t.Context(), x); err != nil {
		t.Fatal(err)
	}
}

// seedRecordedRefreshTokens creates the redacted user "UserID" with two refresh tokens shaped like
// the recorded ones (no session, no expiry).
func seedRecordedRefreshTokens(t *testing.T, e *env, _ cassette, _ map[string]string) {
	ctx := t.Context()
	now := e.clock.Now().UTC().Truncate(time.Millisecond)
	if err := e.st.CreateUser(ctx, store.User{ID: "UserID", Connection: DatabaseConnection, Provider: "auth0",
		Email: "userid@example.com", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	for i, scopes := range []string{"openid profile offline_access", "openid profile email offline_access"} {
		if err := e.st.CreateRefreshToken(ctx, store.RefreshToken{ID: fmt.Sprintf("rt_%d", i), UserID: "UserID",
			ClientID: e.tn.staffID, CreatedAt: now.Add(time.Duration(i) * time.Hour),
			ResourceServers: []store.RefreshTokenResource{{Audience: e.tn.Audience(), Scopes: scopes}}}); err != nil {
			t.Fatal(err)
		}
	}
}

// adoptRecordedConnection gives the tenant's database connection the options of the recorded one
// (and a non-empty enabled_clients), so that GET /connections has the recorded shape.
func adoptRecordedConnection(t *testing.T, e *env, cas cassette, _ map[string]string) {
	for _, in := range cas.Interactions {
		if !strings.Contains(in.Request.URL, "/api/v2/connections") {
			continue
		}
		var body struct {
			Connections []struct {
				Options json.RawMessage `json:"options"`
			} `json:"connections"`
		}
		mustUnmarshal(t, []byte(in.Response.Body), &body)
		c, err := e.st.GetConnectionByName(t.Context(), DatabaseConnection)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.UpdateConnection(t.Context(), c.ID, func(old store.Connection) (store.Connection, error) {
			old.Options = body.Connections[0].Options
			if len(old.EnabledClients) == 0 {
				old.EnabledClients = []string{e.tn.staffID}
			}
			return old, nil
		}); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("no GET /connections in the cassette")
}

// seedRecordedLogs stores every log event of the cassette's responses with its recorded id, and for
// each GET /logs?page=P&per_page=N (no q) enough newer filler events ("s") that the recorded page
// is page P of the tenant's log too.
func seedRecordedLogs(t *testing.T, e *env, cas cassette, _ map[string]string) {
	ctx := t.Context()
	seen := map[string]bool{}
	var all []string
	for _, in := range cas.Interactions {
		var list []json.RawMessage
		if json.Unmarshal([]byte(in.Response.Body), &list) != nil {
			list = []json.RawMessage{json.RawMessage(in.Response.Body)}
		}
		for _, raw := range list {
			ev := recordedLogEvent(t, raw)
			if seen[ev.ID] {
				continue
			}
			seen[ev.ID] = true
			all = append(all, ev.ID)
			if err := e.st.AppendLog(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	filler := 0
	for _, in := range cas.Interactions {
		u, _ := url.Parse(in.Request.URL)
		q := u.Query()
		if u.Path != "/api/v2/logs" || !q.Has("page") || q.Has("q") {
			continue
		}
		var page, per int
		fmt.Sscan(q.Get("page"), &page)
		fmt.Sscan(q.Get("per_page"), &per)
		var recorded []struct {
			LogID string `json:"log_id"`
		}
		mustUnmarshal(t, []byte(in.Response.Body), &recorded)
		top := ""
		for _, r := range recorded {
			top = max(top, r.LogID)
		}
		newer := 0
		for _, id := range all {
			if id > top {
				newer++
			}
		}
		for ; newer < page*per; newer++ {
			filler++
			ev := store.LogEvent{ID: fmt.Sprintf("999%053d", filler), Date: e.clock.Now(), Type: "s", Description: strp("")}
			if err := e.st.AppendLog(ctx, ev); err != nil {
				t.Fatal(err)
			}
			all = append(all, ev.ID)
		}
	}
	slices.Sort(all)
}

// recordedLogEvent converts a recorded log object into a store event, keeping nulls.
func recordedLogEvent(t *testing.T, raw json.RawMessage) store.LogEvent {
	var m map[string]json.RawMessage
	mustUnmarshal(t, raw, &m)
	str := func(k string) *string {
		var s *string
		if v, ok := m[k]; ok {
			mustUnmarshal(t, v, &s)
		}
		return s
	}
	obj := func(k string) json.RawMessage {
		if v := m[k]; len(v) > 0 && string(v) != "null" {
			return v
		}
		return nil
	}
	date, err := time.Parse(time.RFC3339Nano, *str("date"))
	if err != nil {
		t.Fatal(err)
	}
	var mobile bool
	mustUnmarshal(t, m["isMobile"], &mobile)
	return store.LogEvent{ID: *str("log_id"), Date: date, Type: *str("type"), Description: str("description"),
		ClientID: str("client_id"), ClientName: str("client_name"), Connection: str("connection"),
		ConnectionID: str("connection_id"), UserID: str("user_id"), UserName: str("user_name"), IP: str("ip"),
		Hostname: str("hostname"), UserAgent: str("user_agent"), Audience: str("audience"), Scope: str("scope"),
		Strategy: str("strategy"), StrategyType: str("strategy_type"), OrganizationID: str("organization_id"),
		OrganizationName: str("organization_name"), IsMobile: mobile, Details: obj("details"),
		LocationInfo: obj("location_info")}
}
