package users_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/users/userstest"
)

func TestBuildQuery(t *testing.T) {
	tests := []struct {
		name string
		in   users.SearchParams
		want users.Plan
	}{
		{"empty lists everyone", users.SearchParams{}, users.Plan{Kind: users.KindAll}},
		{"spaces only", users.SearchParams{Text: "   "}, users.Plan{Kind: users.KindAll}},

		{"email goes to users-by-email, lower-cased", users.SearchParams{Text: " Jane@Example.com "},
			users.Plan{Kind: users.KindEmail, Lookup: users.LookupEmail, Email: "jane@example.com"}},
		{"plus address", users.SearchParams{Text: "jane+tag@example.com"},
			users.Plan{Kind: users.KindEmail, Lookup: users.LookupEmail, Email: "jane+tag@example.com"}},
		{"email ignores filters (applied to the result)", users.SearchParams{Text: "jane@example.com", Blocked: "true", Connection: "x"},
			users.Plan{Kind: users.KindEmail, Lookup: users.LookupEmail, Email: "jane@example.com"}},

		{"database user id", users.SearchParams{Text: "auth0|abc"}, users.Plan{Kind: users.KindUserID, Lookup: users.LookupID, UserID: "auth0|abc"}},
		{"social user id", users.SearchParams{Text: "google-oauth2|123"}, users.Plan{Kind: users.KindUserID, Lookup: users.LookupID, UserID: "google-oauth2|123"}},
		{"enterprise user id with two bars", users.SearchParams{Text: "samlp|acme|jane"}, users.Plan{Kind: users.KindUserID, Lookup: users.LookupID, UserID: "samlp|acme|jane"}},

		{"E.164 phone", users.SearchParams{Text: "+14155550123"}, users.Plan{Kind: users.KindPhone, Q: `phone_number:"+14155550123"`}},
		{"phone with spaces and dashes", users.SearchParams{Text: "+1 (415) 555-0123"}, users.Plan{Kind: users.KindPhone, Q: `phone_number:"+14155550123"`}},
		{"digits without + are a name prefix", users.SearchParams{Text: "4155550123"}, users.Plan{Kind: users.KindName, Q: `name:4155550123* OR email:4155550123*`}},

		{"name prefix on name or email", users.SearchParams{Text: "jan"}, users.Plan{Kind: users.KindName, Q: "name:jan* OR email:jan*"}},
		{"spaces escaped and collapsed", users.SearchParams{Text: "jane   doe"}, users.Plan{Kind: users.KindName, Q: `name:jane\ doe* OR email:jane\ doe*`}},
		{"quotes and backslashes escaped", users.SearchParams{Text: `o"neil\x`}, users.Plan{Kind: users.KindName, Q: `name:o\"neil\\x* OR email:o\"neil\\x*`}},
		{"lucene specials escaped", users.SearchParams{Text: `a(b)"c*`}, users.Plan{Kind: users.KindName, Q: `name:a\(b\)\"c\** OR email:a\(b\)\"c\**`}},
		{"at sign without domain is a name", users.SearchParams{Text: "jane@"}, users.Plan{Kind: users.KindName, Q: `name:jane@* OR email:jane@*`}},
		{"display-name form is not an email", users.SearchParams{Text: "Jane <jane@example.com>"},
			users.Plan{Kind: users.KindName, Q: `name:Jane\ <jane@example.com>* OR email:Jane\ <jane@example.com>*`}},
		{"a bar with a space is no user id", users.SearchParams{Text: "a|b c"}, users.Plan{Kind: users.KindName, Q: `name:a\|b\ c* OR email:a\|b\ c*`}},

		{"lucene mode is verbatim", users.SearchParams{Text: `email.domain:"example.com" AND logins_count:[1 TO *]`, Mode: users.ModeLucene},
			users.Plan{Kind: users.KindLucene, Q: `email.domain:"example.com" AND logins_count:[1 TO *]`}},
		{"lucene mode does not look up an email", users.SearchParams{Text: "jane@example.com", Mode: users.ModeLucene},
			users.Plan{Kind: users.KindLucene, Q: "jane@example.com"}},
		{"field:value in the plain box is lucene", users.SearchParams{Text: "blocked:true AND logins_count:0"},
			users.Plan{Kind: users.KindLucene, Q: "blocked:true AND logins_count:0"}},

		{"filters alone", users.SearchParams{Connection: "Username-Password-Authentication", Blocked: "true", Verified: "false"},
			users.Plan{Kind: users.KindAll, Q: `identities.connection:"Username-Password-Authentication" AND blocked:true AND email_verified:false`}},
		{"not blocked matches users never blocked", users.SearchParams{Blocked: "false"}, users.Plan{Kind: users.KindAll, Q: "NOT blocked:true"}},
		{"name and filters", users.SearchParams{Text: "jan", Verified: "true", Blocked: "false"},
			users.Plan{Kind: users.KindName, Q: "(name:jan* OR email:jan*) AND NOT blocked:true AND email_verified:true"}},
		{"lucene and filters, grouped", users.SearchParams{Text: "name:a OR name:b", Mode: users.ModeLucene, Blocked: "true"},
			users.Plan{Kind: users.KindLucene, Q: "(name:a OR name:b) AND blocked:true"}},
		{"phone and connection", users.SearchParams{Text: "+447700900123", Connection: "sms"},
			users.Plan{Kind: users.KindPhone, Q: `(phone_number:"+447700900123") AND identities.connection:"sms"`}},
		{"connection name quoted and escaped", users.SearchParams{Connection: `we"ird\conn name`},
			users.Plan{Kind: users.KindAll, Q: `identities.connection:"we\"ird\\conn name"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := users.BuildQuery(tt.in.Normalize()); got != tt.want {
				t.Errorf("BuildQuery(%+v)\n got  %+v\n want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   users.SearchParams
		want users.SearchParams
	}{
		{"defaults", users.SearchParams{}, users.SearchParams{Page: 1, PerPage: 50}},
		{"kept", users.SearchParams{Text: " x ", Mode: "lucene", Connection: "c", Blocked: "true", Verified: "false", Sort: "created_at:-1", Page: 3, PerPage: 25},
			users.SearchParams{Text: "x", Mode: "lucene", Connection: "c", Blocked: "true", Verified: "false", Sort: "created_at:-1", Page: 3, PerPage: 25}},
		{"unknown values dropped", users.SearchParams{Mode: "sql", Blocked: "yes", Verified: "1", Sort: "app_metadata.plan:1", Page: -2, PerPage: 1000},
			users.SearchParams{Page: 1, PerPage: 50}},
		{"bad sort direction", users.SearchParams{Sort: "email:2"}, users.SearchParams{Page: 1, PerPage: 50}},
		{"page held inside the first 1,000", users.SearchParams{Page: 400, PerPage: 100}, users.SearchParams{Page: 10, PerPage: 100}},
		{"page held inside the first 1,000 at 25", users.SearchParams{Page: 41, PerPage: 25}, users.SearchParams{Page: 40, PerPage: 25}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.Normalize(); got != tt.want {
				t.Errorf("Normalize(%+v) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestFilterUsers(t *testing.T) {
	us := []mgmt.User{
		{UserID: "a", Blocked: ptr(true), EmailVerified: ptr(true), Identities: []mgmt.Identity{{Connection: "db"}}},
		{UserID: "b", EmailVerified: ptr(false), Identities: []mgmt.Identity{{Connection: "google-oauth2"}, {Connection: "db"}}},
		{UserID: "c", Identities: []mgmt.Identity{{Connection: "sms"}}}, // no email: neither verified nor not
	}
	ids := func(us []mgmt.User) []string {
		var out []string
		for _, u := range us {
			out = append(out, u.UserID)
		}
		return out
	}
	for _, tt := range []struct {
		p    users.SearchParams
		want []string
	}{
		{users.SearchParams{}, []string{"a", "b", "c"}},
		{users.SearchParams{Connection: "db"}, []string{"a", "b"}},
		{users.SearchParams{Blocked: "true"}, []string{"a"}},
		{users.SearchParams{Blocked: "false"}, []string{"b", "c"}},
		{users.SearchParams{Verified: "true"}, []string{"a"}},
		{users.SearchParams{Verified: "false"}, []string{"b"}},
		{users.SearchParams{Connection: "db", Blocked: "false", Verified: "false"}, []string{"b"}},
	} {
		if got := ids(users.FilterUsers(us, tt.p)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("FilterUsers(%+v) = %v, want %v", tt.p, got, tt.want)
		}
	}
}

func manyUsers(n int) []mgmt.User {
	us := make([]mgmt.User, n)
	for i := range us {
		us[i] = mgmt.User{UserID: fmt.Sprintf("auth0|%024d", i), Email: fmt.Sprintf("u%03d@example.com", i)}
	}
	return us
}

func searchConns() []mgmt.Connection {
	return []mgmt.Connection{{ID: "con_2", Name: "google-oauth2", Strategy: "google-oauth2"}, {ID: "con_1", Name: "Username-Password-Authentication", Strategy: "auth0"}}
}

func TestSearchPaging(t *testing.T) {
	api := userstest.New(searchConns(), manyUsers(120)...)
	svc := &users.Service{API: api}
	tests := []struct {
		name                    string
		page, perPage           int
		wantPage, wantAuth0Page int
		wantFirst               string
		wantCount, wantLastPage int
	}{
		{"first page", 1, 0, 1, 0, "u000@example.com", 50, 3},
		{"zero is first page", 0, 50, 1, 0, "u000@example.com", 50, 3},
		{"negative is first page", -4, 50, 1, 0, "u000@example.com", 50, 3},
		{"last partial page", 3, 50, 3, 2, "u100@example.com", 20, 3},
		{"25 per page", 2, 25, 2, 1, "u025@example.com", 25, 5},
		{"100 per page", 2, 100, 2, 1, "u100@example.com", 20, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := svc.Search(context.Background(), users.SearchParams{Text: "jan", Page: tt.page, PerPage: tt.perPage, Sort: "created_at:-1"})
			if err != nil {
				t.Fatal(err)
			}
			calls := api.CallsTo("ListUsers")
			p := calls[len(calls)-1].Params.(mgmt.ListUsersParams)
			want := mgmt.ListUsersParams{Q: "name:jan* OR email:jan*", Page: tt.wantAuth0Page, PerPage: res.Params.PerPage, Sort: "created_at:-1"}
			if p != want {
				t.Errorf("sent %+v, want %+v", p, want)
			}
			if res.Params.Page != tt.wantPage || res.Total != 120 || len(res.Users) != tt.wantCount || res.LastPage() != tt.wantLastPage {
				t.Errorf("got page %d total %d users %d last %d", res.Params.Page, res.Total, len(res.Users), res.LastPage())
			}
			if res.Users[0].Email != tt.wantFirst || res.Params.Text != "jan" || res.Plan.Q != p.Q || res.Capped() {
				t.Errorf("first %q text %q query %q capped %v", res.Users[0].Email, res.Params.Text, res.Plan.Q, res.Capped())
			}
			if len(res.Connections) != 2 || res.Connections[0].Name != "Username-Password-Authentication" || res.ConnectionsErr != nil {
				t.Errorf("connections = %+v, %v; want both, sorted by name", res.Connections, res.ConnectionsErr)
			}
		})
	}
}

func TestLastPageAndCap(t *testing.T) {
	for _, tt := range []struct {
		total, per, want int
		capped           bool
	}{{0, 50, 1, false}, {1, 50, 1, false}, {50, 50, 1, false}, {51, 50, 2, false}, {1000, 50, 20, false}, {1001, 50, 20, true}, {250000, 100, 10, true}, {250000, 25, 40, true}} {
		r := users.SearchResult{Total: tt.total, Params: users.SearchParams{PerPage: tt.per}}
		if got := r.LastPage(); got != tt.want || r.Capped() != tt.capped {
			t.Errorf("total %d per %d: LastPage %d capped %v, want %d %v", tt.total, tt.per, got, r.Capped(), tt.want, tt.capped)
		}
	}
	// An exact look-up is never capped.
	r := users.SearchResult{Total: 5000, Params: users.SearchParams{PerPage: 50}, Plan: users.Plan{Lookup: users.LookupEmail}}
	if r.Capped() {
		t.Error("an email look-up reported as capped")
	}
}

// TestSearchLookups: an email or a user id is answered by the immediately consistent endpoints and
// never by the search index; filters and sort apply to what they return.
func TestSearchLookups(t *testing.T) {
	t1, t2 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	api := userstest.New(searchConns(),
		mgmt.User{UserID: "auth0|1", Email: "jane@example.com", CreatedAt: &t1, Identities: []mgmt.Identity{{Connection: "Username-Password-Authentication"}}},
		mgmt.User{UserID: "google-oauth2|2", Email: "jane@example.com", CreatedAt: &t2, Blocked: ptr(true), Identities: []mgmt.Identity{{Connection: "google-oauth2"}}},
		mgmt.User{UserID: "auth0|3", Email: "other@example.com"},
	)
	svc := &users.Service{API: api}
	ctx := context.Background()

	res, err := svc.Search(ctx, users.SearchParams{Text: "JANE@example.com", Sort: "created_at:-1", Page: 4})
	if err != nil {
		t.Fatal(err)
	}
	if got := api.CallsTo("FindUsersByEmail"); len(got) != 1 || got[0].ID != "jane@example.com" {
		t.Errorf("users-by-email calls = %+v, want one with the lower-cased address", got)
	}
	if len(res.Users) != 2 || res.Users[0].UserID != "google-oauth2|2" || res.Total != 2 || res.Params.Page != 1 {
		t.Errorf("email result = %+v (total %d, page %d), want both users, newest first, on page 1", res.Users, res.Total, res.Params.Page)
	}

	res, _ = svc.Search(ctx, users.SearchParams{Text: "jane@example.com", Blocked: "false"})
	if len(res.Users) != 1 || res.Users[0].UserID != "auth0|1" {
		t.Errorf("email result with the not-blocked filter = %+v", res.Users)
	}

	res, _ = svc.Search(ctx, users.SearchParams{Text: "google-oauth2|2"})
	if got := api.CallsTo("GetUser"); len(got) != 1 || got[0].ID != "google-oauth2|2" {
		t.Errorf("GetUser calls = %+v", got)
	}
	if len(res.Users) != 1 || res.Users[0].Email != "jane@example.com" {
		t.Errorf("id result = %+v", res.Users)
	}
	res, err = svc.Search(ctx, users.SearchParams{Text: "auth0|missing"})
	if err != nil || len(res.Users) != 0 || res.Total != 0 {
		t.Errorf("unknown id = %+v, %v; want an empty result", res, err)
	}
	res, _ = svc.Search(ctx, users.SearchParams{Text: "google-oauth2|2", Connection: "Username-Password-Authentication"})
	if len(res.Users) != 0 {
		t.Errorf("id result outside the chosen connection shown: %+v", res.Users)
	}
	if n := len(api.CallsTo("ListUsers")); n != 0 {
		t.Errorf("exact look-ups used the search index %d times", n)
	}
	if n := len(api.CallsTo("ListConnections")); n != 1 {
		t.Errorf("connections listed %d times for 5 pages, want once (kept for ConnectionsTTL)", n)
	}
}

func TestSearchBadQueryIsProblemForSearchBox(t *testing.T) {
	api := userstest.New(nil)
	msg := "Query validation error: 'invalid query' on property q"
	api.Fail = func(m string) error {
		if m == "ListUsers" {
			return &mgmt.Error{StatusCode: 400, Err: "Bad Request", Message: msg, ErrorCode: "invalid_query_string"}
		}
		return nil
	}
	_, err := (&users.Service{API: api}).Search(context.Background(), users.SearchParams{Text: "name:(", Mode: users.ModeLucene})
	var p *users.Problem
	if !errors.As(err, &p) {
		t.Fatalf("err = %v, want *Problem", err)
	}
	if p.Status != http.StatusBadRequest || p.Fields["q"] != msg || p.Message != "" {
		t.Errorf("problem = %+v", p)
	}
}

func TestSearchSurvivesConnectionsFailure(t *testing.T) {
	api := userstest.New(searchConns(), manyUsers(3)...)
	api.Fail = func(m string) error {
		if m == "ListConnections" {
			return &mgmt.Error{StatusCode: 403, Err: "Forbidden", Message: "Insufficient scope, expected any of: read:connections", ErrorCode: "insufficient_scope"}
		}
		return nil
	}
	res, err := (&users.Service{API: api}).Search(context.Background(), users.SearchParams{})
	if err != nil || len(res.Users) != 3 {
		t.Fatalf("search failed with the connections: %v", err)
	}
	var p *users.Problem
	if !errors.As(res.ConnectionsErr, &p) || p.Message == "" || res.Connections != nil {
		t.Errorf("ConnectionsErr = %v, want an explained problem", res.ConnectionsErr)
	}
}

// TestConnectionsKeptForTTL: the list page reads the connections once per ConnectionsTTL, so a page
// costs Auth0 one call; a failed read is not kept, and the kept list cannot be changed by a caller.
func TestConnectionsKeptForTTL(t *testing.T) {
	api := userstest.New(searchConns())
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	svc := &users.Service{API: api, Now: func() time.Time { return now }}
	ctx := context.Background()

	api.Fail = func(m string) error {
		if m == "ListConnections" {
			return &mgmt.Error{StatusCode: 503}
		}
		return nil
	}
	if _, err := svc.Connections(ctx); err == nil {
		t.Fatal("failure not reported")
	}
	api.Fail = nil
	first, err := svc.Connections(ctx)
	if err != nil || len(first) == 0 {
		t.Fatalf("Connections = %v, %v", first, err)
	}
	first[0].Name = "changed by the caller"
	now = now.Add(users.ConnectionsTTL - time.Second) // still inside the TTL
	again, _ := svc.Connections(ctx)
	if again[0].Name == "changed by the caller" {
		t.Error("a caller changed the kept list")
	}
	if n := len(api.CallsTo("ListConnections")); n != 2 {
		t.Errorf("%d reads within the TTL (after one failure), want 2: the failure was kept or the list was not", n)
	}
	now = now.Add(users.ConnectionsTTL)
	if _, err := svc.Connections(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(api.CallsTo("ListConnections")); n != 3 {
		t.Errorf("%d reads after the TTL, want 3", n)
	}
}
