package tenant

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// TestSearchUsersOverHTTP runs v3 queries through GET /api/v2/users against a known population and
// checks exactly who matches: case rules, wildcards, ranges with partial dates, metadata, _exists_,
// operators, sorting and field selection.
func TestSearchUsersOverHTTP(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Seed = false })
	tok := e.admin()
	day := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tp := func(s string) *time.Time { tm := day(s); return &tm }
	yes, no := true, false
	users := []store.User{
		{ID: "auth0|a1", Email: "jane.smith@exampleco.com", Name: "Jane Smith", GivenName: "Jane", FamilyName: "Smith",
			Nickname: "janes", Username: "JaneS", PhoneNumber: "+14155550100", PhoneVerified: &yes,
			CreatedAt: day("2017-11-20T10:00:00Z"), LastLogin: tp("2017-12-31T23:59:59Z"), LoginsCount: 150, LastIP: "203.0.113.7",
			UserMetadata: json.RawMessage(`{"addresses":[{"city":"Paris"}],"display":{"fontSize":13},"fav_color":"Blue"}`),
			AppMetadata:  json.RawMessage(`{"subscription":{"plan":"gold"},"vip":true}`)},
		{ID: "auth0|a2", Email: "richard.roe@usa.example", Name: "Richard Roe", Nickname: "rich",
			CreatedAt: day("2017-12-05T08:00:00Z"), LastLogin: tp("2018-01-15T00:00:00Z"), LoginsCount: 200, Blocked: &yes,
			UserMetadata: json.RawMessage(`{"fav_color":"blue"}`), AppMetadata: json.RawMessage(`{"subscription":{"plan":"silver"}}`)},
		{ID: "auth0|a3", Email: "john.doe@exampleco.com", Name: "John Doe", Nickname: "johnny",
			CreatedAt: day("2018-01-15T12:00:00Z"), LoginsCount: 0, Blocked: &no, PhoneNumber: "+442071838750", PhoneVerified: &no},
		{ID: "google-oauth2|104", Connection: GoogleConnection, Provider: "google-oauth2", IsSocial: true,
			Email: "ana@gmail.example", Name: "Ana Sánchez", Nickname: "ana", EmailVerified: true,
			CreatedAt: day("2019-06-01T00:00:00Z"), LastLogin: tp("2019-06-02T00:00:00Z"), LoginsCount: 3},
	}
	for i := range users {
		if users[i].Connection == "" {
			users[i].Connection, users[i].Provider = DatabaseConnection, "auth0"
		}
		users[i].UpdatedAt = users[i].CreatedAt
	}
	if err := e.st.CreateUsers(t.Context(), users); err != nil {
		t.Fatal(err)
	}
	ids := func(q string, extra ...string) []string {
		t.Helper()
		r := e.do("GET", "/api/v2/users?search_engine=v3&q="+url.QueryEscape(q)+strings.Join(extra, ""), tok, nil)
		expect(t, r, 200, "")
		var arr []struct {
			UserID string `json:"user_id"`
		}
		mustUnmarshal(t, r.body, &arr)
		out := []string{}
		// Keep only this test's users: the tenant also holds its staff user, whose random id may
		// start like theirs ("auth0|a…").
		for _, u := range arr {
			if slices.ContainsFunc(users, func(x store.User) bool { return x.ID == u.UserID }) {
				out = append(out, u.UserID)
			}
		}
		return out
	}
	cases := []struct {
		q    string
		want []string
	}{
		{`name:"jane smith"`, []string{"auth0|a1"}},              // case-insensitive phrase
		{`email:"JOHN.DOE@exampleco.com"`, []string{"auth0|a3"}}, // case-insensitive email
		{`given_name:JANE`, []string{"auth0|a1"}},                //
		{`username:janes`, []string{}},                           // username is case-sensitive
		{`username:JaneS`, []string{"auth0|a1"}},                 //
		{`name:j*`, []string{"auth0|a1", "auth0|a3"}},            // prefix
		{`name:*roe`, []string{"auth0|a2"}},                      // suffix ≥3
		{`name:*ICHAR*`, []string{"auth0|a2"}},                   // infix, case-insensitive
		{`name:jane*smith`, []string{"auth0|a1"}},                // begin*end
		{`user_id:auth0*`, []string{"auth0|a1", "auth0|a2", "auth0|a3"}},
		{`user_id:auth0`, []string{}}, // fields are not tokenized
		{`email.domain:"exampleco.com"`, []string{"auth0|a1", "auth0|a3"}},
		{`identities.connection:"google-oauth2"`, []string{"google-oauth2|104"}},
		{`phone_number:"+14155550100"`, []string{"auth0|a1"}},
		{`phone_verified:false`, []string{"auth0|a3"}},
		{`blocked:true`, []string{"auth0|a2"}},
		{`blocked:false`, []string{"auth0|a3"}}, // never-set blocked matches neither
		{`email_verified:true`, []string{"google-oauth2|104"}},
		{`last_ip:"203.0.113.7"`, []string{"auth0|a1"}},
		{`logins_count:{100 TO *]`, []string{"auth0|a1", "auth0|a2"}},
		{`logins_count:[100 TO 200}`, []string{"auth0|a1"}},
		{`last_login:[* TO 2017-12-31]`, []string{"auth0|a1"}},    // the whole last day counts
		{`last_login:{2017-11 TO 2017-12]`, []string{"auth0|a1"}}, // through the end of December
		{`updated_at:[2018-01-15 TO *]`, []string{"auth0|a3", "google-oauth2|104"}},
		{`created_at:[2017 TO 2017]`, []string{"auth0|a1", "auth0|a2"}},
		{`created_at:{2017-12 TO *}`, []string{"auth0|a3", "google-oauth2|104"}},
		{`app_metadata.subscription.plan:"gold"`, []string{"auth0|a1"}},
		{`app_metadata.vip:true`, []string{"auth0|a1"}},
		{`user_metadata.addresses.city:"Paris"`, []string{"auth0|a1"}}, // array level ignored
		{`user_metadata.display.fontSize:13`, []string{"auth0|a1"}},
		{`user_metadata.fav_color:"blue"`, []string{"auth0|a2"}}, // metadata is case-sensitive
		{`_exists_:user_metadata.fav_color`, []string{"auth0|a1", "auth0|a2"}},
		{`NOT _exists_:logins_count OR logins_count:0`, []string{"auth0|a3"}},
		{`_exists_:last_login AND NOT blocked:true`, []string{"auth0|a1", "google-oauth2|104"}},
		{`(name:jane* OR name:john*) AND email.domain:"exampleco.com"`, []string{"auth0|a1", "auth0|a3"}},
		{`email:("jane.smith@exampleco.com" OR "ana@gmail.example")`, []string{"auth0|a1", "google-oauth2|104"}},
		{`rich`, []string{"auth0|a2"}}, // bare word: email, name, nickname prefix
		{`name:John\ Doe`, []string{"auth0|a3"}},
	}
	for _, c := range cases {
		if got := ids(c.q); !slices.Equal(got, c.want) {
			t.Errorf("q=%s: got %v, want %v", c.q, got, c.want)
		}
	}

	// Sorting.
	if got := ids(`user_id:auth0*`, "&sort=logins_count:-1"); !slices.Equal(got, []string{"auth0|a2", "auth0|a1", "auth0|a3"}) {
		t.Errorf("sort logins_count:-1: %v", got)
	}
	if got := ids(`user_id:auth0*`, "&sort=created_at:1"); !slices.Equal(got, []string{"auth0|a1", "auth0|a2", "auth0|a3"}) {
		t.Errorf("sort created_at:1: %v", got)
	}
	for _, bad := range []string{"created_at", "created_at:2", "app_metadata.plan:1", "password:1"} {
		expect(t, e.do("GET", "/api/v2/users?sort="+url.QueryEscape(bad), tok, nil), 400, "")
	}

	// fields with include_fields=false drops the listed keys only.
	r := e.do("GET", "/api/v2/users?q="+url.QueryEscape(`user_id:"auth0|a1"`)+"&fields=user_metadata,app_metadata,identities&include_fields=false", tok, nil)
	var arr []map[string]any
	mustUnmarshal(t, r.body, &arr)
	if len(arr) != 1 || arr[0]["user_metadata"] != nil || arr[0]["identities"] != nil || arr[0]["email"] != "jane.smith@exampleco.com" {
		t.Errorf("include_fields=false: %s", r.body)
	}

	// Rejected syntax: 400 invalid_query_string naming the problem.
	for q, want := range map[string]string{
		`name:j?ne`:                   "? wildcard",
		`name:*th`:                    "at least 3 characters",
		`user_metadata.fav_color:bl*`: "not allowed on metadata",
		`app_metadata.n:[1 TO 2]`:     "not allowed on metadata",
		`updated_at:>=2018-01-15`:     "v2 syntax",
		`email.raw:"a@b.co"`:          "unsupported search field",
		`name:"open`:                  "unterminated quote",
	} {
		r := e.do("GET", "/api/v2/users?search_engine=v3&q="+url.QueryEscape(q), tok, nil)
		expect(t, r, 400, "")
		m := r.json(t)
		if m["errorCode"] != "invalid_query_string" || !strings.Contains(m["message"].(string), want) {
			t.Errorf("q=%s: %s (want a message with %q)", q, r.body, want)
		}
	}
}
