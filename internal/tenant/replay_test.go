package tenant

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

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

const recordings = "../../testdata/auth0-recordings" // a copy of shared/fixtures/auth0-recordings (see its LICENSE.md)

type cassette struct {
	Interactions []struct {
		Request struct {
			Body    string              `yaml:"body"`
			Headers map[string][]string `yaml:"headers"`
			URL     string              `yaml:"url"`
			Method  string              `yaml:"method"`
		} `yaml:"request"`
		Response struct {
			Body    string              `yaml:"body"`
			Headers map[string][]string `yaml:"headers"`
			Code    int                 `yaml:"code"`
		} `yaml:"response"`
	} `yaml:"interactions"`
}

func loadCassette(t *testing.T, name string) cassette {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(recordings, name))
	if err != nil {
		t.Fatal(err)
	}
	var c cassette
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(c.Interactions) == 0 {
		t.Fatalf("%s: no interactions", name)
	}
	return c
}

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
				path := u.EscapedPath()
				q := u.RawQuery
				for rec, ours := range ids {
					path = strings.ReplaceAll(path, url.PathEscape(rec), url.PathEscape(ours))
				}
				target := e.srv.URL + path
				if q != "" {
					target += "?" + q
				}
				req, err := http.NewRequest(in.Request.Method, target, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if ct := in.Request.Headers["Content-Type"]; len(ct) > 0 {
					req.Header.Set("Content-Type", ct[0])
				}
				if strings.HasPrefix(u.Path, "/api/v2/") {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				where := fmt.Sprintf("interaction %d %s %s", i, in.Request.Method, u.Path)
				if res.StatusCode != in.Response.Code {
					t.Fatalf("%s: status %d, recorded %d; body %s", where, res.StatusCode, in.Response.Code, got)
				}
				if want := in.Response.Headers["Content-Type"]; len(want) > 0 && res.Header.Get("Content-Type") != want[0] {
					t.Errorf("%s: Content-Type %q, recorded %q", where, res.Header.Get("Content-Type"), want[0])
				}
				compareShape(t, where, in.Response.Body, string(got), c.allowExtra)
				if strings.HasPrefix(in.Response.Body, `{"error"`) && string(got) != in.Response.Body {
					t.Errorf("%s: OAuth error body %s, recorded %s", where, got, in.Response.Body)
				}
				if in.Request.Method == "POST" && u.Path == "/api/v2/users" {
					var rec, ours struct {
						UserID string `json:"user_id"`
					}
					_ = json.Unmarshal([]byte(in.Response.Body), &rec)
					_ = json.Unmarshal(got, &ours)
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

// compareShape checks that got has the recorded body's shape. Arrays: both empty or both non-empty,
// and every element of got has the shape of the first recorded element.
func compareShape(t *testing.T, where, recorded, got string, allowExtra []string) {
	t.Helper()
	if recorded == "" || got == "" {
		if recorded != got {
			t.Errorf("%s: body %q, recorded %q", where, got, recorded)
		}
		return
	}
	var r, g any
	if err := json.Unmarshal([]byte(recorded), &r); err != nil {
		t.Fatalf("%s: recorded body: %v", where, err)
	}
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("%s: body %s: %v", where, got, err)
	}
	for _, d := range shapeDiff("$", r, g, allowExtra) {
		t.Errorf("%s: %s", where, d)
	}
}

func shapeDiff(path string, r, g any, allowExtra []string) []string {
	switch rv := r.(type) {
	case map[string]any:
		gv, ok := g.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, recorded object", path, g)}
		}
		var diffs []string
		keys := make([]string, 0, len(rv)+len(gv))
		for k := range rv {
			keys = append(keys, k)
		}
		for k := range gv {
			if _, ok := rv[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			rx, inR := rv[k]
			gx, inG := gv[k]
			switch {
			case inR && !inG:
				// Connection-level extras only (the key is allowed wherever a connection appears).
				if !slices.Contains(allowExtra, k) {
					diffs = append(diffs, fmt.Sprintf("%s.%s missing", path, k))
				}
			case !inR && inG:
				diffs = append(diffs, fmt.Sprintf("%s.%s not recorded", path, k))
			default:
				diffs = append(diffs, shapeDiff(path+"."+k, rx, gx, allowExtra)...)
			}
		}
		return diffs
	case []any:
		gv, ok := g.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, recorded array", path, g)}
		}
		if (len(rv) == 0) != (len(gv) == 0) {
			return []string{fmt.Sprintf("%s: %d elements, recorded %d", path, len(gv), len(rv))}
		}
		var diffs []string
		for i, x := range gv {
			diffs = append(diffs, shapeDiff(fmt.Sprintf("%s[%d]", path, i), rv[0], x, allowExtra)...)
		}
		return diffs
	default:
		if fmt.Sprintf("%T", r) != fmt.Sprintf("%T", g) {
			return []string{fmt.Sprintf("%s: %T, recorded %T", path, g, r)}
		}
		return nil
	}
}

// TestShapeDiff shows the comparator notices what the replay relies on it to notice.
func TestShapeDiff(t *testing.T) {
	cases := []struct {
		rec, got string
		allow    []string
		diffs    int
	}{
		{`{"a":1,"b":{"c":"x"}}`, `{"b":{"c":"y"},"a":2}`, nil, 0},
		{`{"a":1}`, `{"a":"1"}`, nil, 1},
		{`{"a":1,"b":2}`, `{"a":1}`, nil, 1},
		{`{"a":1,"b":2}`, `{"a":1}`, []string{"b"}, 0},
		{`{"a":1}`, `{"a":1,"z":true}`, nil, 1},
		{`[{"id":"x"}]`, `[]`, nil, 1},
		{`[{"id":"x"}]`, `[{"id":"y"},{"id":1}]`, nil, 1},
		{`{"u":[{"k":{"n":null}}]}`, `{"u":[{"k":{"n":null}}]}`, nil, 0},
	}
	for _, c := range cases {
		var r, g any
		mustUnmarshal(t, []byte(c.rec), &r)
		mustUnmarshal(t, []byte(c.got), &g)
		if d := shapeDiff("$", r, g, c.allow); len(d) != c.diffs {
			t.Errorf("shapeDiff(%s, %s) = %v, want %d differences", c.rec, c.got, d, c.diffs)
		}
	}
}
