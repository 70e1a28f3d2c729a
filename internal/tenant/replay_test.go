package tenant

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// The replay test sends the requests of real Auth0 recordings (go-vcr v2 cassettes, contract §9) to the
// tenant and compares each response with the recorded one: the same status code, the same
// Content-Type, and a body of the same SHAPE (the same keys at every level, the same JSON types;
// values such as ids, timestamps and tokens aside).
//
// Replayed cassettes and interactions:
//   - TestUserManager_Create, _Read, _Update, _Delete, _List, _Search, _ListByEmail: every
//     interaction (POST /users, GET /users/{id}, PATCH, DELETE ×2 with the 404 in between, GET /users
//     with q + search_engine=v3 + include_totals, GET /users-by-email).
//   - TestConnectionManager_List and TestConnectionManager_ReadByName/…Auth0…: the GET /connections
//     interactions. Skipped there: POST /connections and DELETE /connections/{id}, because the tenant
//     does not implement connection writes (Userdesk never changes connections); the connection the
//     POST created is instead put into the store with the recorded id, name, strategy and options.
//     Known difference, allowed explicitly below: the 2025 ReadByName recording carries the newer
//     top-level connection attributes "authentication" and "connected_accounts", which the tenant's
//     connection model does not have.
//   - authentication/TestLoginWithClientCredentials/Should_return_tokens: the recorded audience
//     "test-audience" is mapped to the tenant's Management audience (the only API the tenant serves);
//     the client test-client_id/test-client_secret is seeded with a grant for it without scopes,
//     matching the recorded response, which has no "scope".
//   - authentication/TestLoginWithAuthCode/Should_throw_for_an_invalid_code: compared byte for byte
//     (the same client has the authorization_code grant type).
//
// Recorded ids are mapped to the tenant's: user ids from each POST /users response, connection ids
// from the seeded connection. Management requests carry a bearer token minted by the tenant key (the
// recordings stripped Authorization headers).

func TestReplayRecordings(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if err := e.st.CreateClient(ctx, storeClient("test-client_id", "test-client_secret", "client_credentials", "authorization_code")); err != nil {
		t.Fatal(err)
	}
	if err := e.st.CreateClientGrant(ctx, store.ClientGrant{ID: "cgr_replay", ClientID: "test-client_id", Audience: e.tn.Audience()}); err != nil {
		t.Fatal(err)
	}
	token := e.mintToken("read:users", "create:users", "update:users", "delete:users", "read:connections")

	type skipRule func(method, path string) bool
	skipConnWrites := func(method, path string) bool {
		return strings.HasPrefix(path, "/api/v2/connections") && method != "GET"
	}
	cases := []struct {
		file       string
		skip       skipRule
		audience   bool     // map the recorded token audience
		allowExtra []string // recorded top-level keys the tenant does not send (documented above)
	}{
		{file: "TestUserManager_Create.yaml"},
		{file: "TestUserManager_Read.yaml"},
		{file: "TestUserManager_Update.yaml"},
		{file: "TestUserManager_Delete.yaml"},
		{file: "TestUserManager_List.yaml"},
		{file: "TestUserManager_Search.yaml"},
		{file: "TestUserManager_ListByEmail.yaml"},
		{file: "TestConnectionManager_List.yaml", skip: skipConnWrites},
		{file: "TestConnectionManager_ReadByName/It_can_successfully_find_a_Auth0_Connection_by_its_name.yaml", skip: skipConnWrites,
			allowExtra: []string{"authentication", "connected_accounts"}},
		{file: "authentication/TestLoginWithClientCredentials/Should_return_tokens.yaml", audience: true},
		{file: "authentication/TestLoginWithAuthCode/Should_throw_for_an_invalid_code.yaml"},
	}
	replayed := 0
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			cas := loadCassette(t, c.file)
			ids := map[string]string{} // recorded id → tenant id
			for i, in := range cas.Interactions {
				u, err := url.Parse(in.Request.URL)
				if err != nil {
					t.Fatal(err)
				}
				if c.skip != nil && c.skip(in.Request.Method, u.Path) {
					if in.Request.Method == "POST" && u.Path == "/api/v2/connections" {
						seedRecordedConnection(t, e, in.Response.Body, ids)
					}
					continue
				}
				body := in.Request.Body
				if c.audience {
					form, err := url.ParseQuery(strings.TrimSpace(body))
					if err != nil {
						t.Fatal(err)
					}
					form.Set("audience", e.tn.Audience())
					body = form.Encode()
				}
				rq := replayRequest{path: mapIDs(ids, u.EscapedPath(), url.PathEscape), query: u.RawQuery, body: body}
				if strings.HasPrefix(u.Path, "/api/v2/") {
					rq.token = token
				}
				x := exchange(t, e, i, in, u.Path, rq, shapeRules{allowExtra: c.allowExtra})
				if strings.HasPrefix(in.Response.Body, `{"error"`) && string(x.body) != in.Response.Body {
					t.Errorf("%s: OAuth error body %s, recorded %s", x.where, x.body, in.Response.Body)
				}
				if in.Request.Method == "POST" && u.Path == "/api/v2/users" {
					var rec, ours struct {
						UserID string `json:"user_id"`
					}
					_ = json.Unmarshal([]byte(in.Response.Body), &rec)
					_ = json.Unmarshal(x.body, &ours)
					ids[rec.UserID] = ours.UserID
				}
				replayed++
			}
		})
	}
	if replayed != 25 {
		t.Errorf("%d interactions replayed, want 25", replayed)
	}
}

// seedRecordedConnection stores the connection a skipped POST /connections created, under a fresh id.
func seedRecordedConnection(t *testing.T, e *env, recorded string, ids map[string]string) {
	t.Helper()
	var c struct {
		ID, Name, Strategy string
		Options            json.RawMessage
		Realms             []string
	}
	if err := json.Unmarshal([]byte(recorded), &c); err != nil {
		t.Fatal(err)
	}
	id := newConnectionID()
	if err := e.st.CreateConnection(t.Context(), store.Connection{ID: id, Name: c.Name, Strategy: c.Strategy,
		Options: c.Options, Realms: c.Realms, EnabledClients: []string{}}); err != nil {
		t.Fatal(err)
	}
	ids[c.ID] = id
}
