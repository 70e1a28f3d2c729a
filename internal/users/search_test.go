package users_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/users/userstest"
)

func TestBuildQuery(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty lists everyone", "", ""},
		{"spaces only", "   ", ""},
		{"email becomes exact match", "jane@example.com", `email:"jane@example.com"`},
		{"email is trimmed", "  jane@example.com ", `email:"jane@example.com"`},
		{"plus address", "jane+tag@example.com", `email:"jane+tag@example.com"`},
		{"plain text prefix on name or email", "jan", "name:jan* OR email:jan*"},
		{"space escaped and collapsed", "jane   doe", `name:jane\ doe* OR email:jane\ doe*`},
		{"lucene specials escaped", `a(b)"c*`, `name:a\(b\)\"c\** OR email:a\(b\)\"c\**`},
		{"text with colon is lucene, untouched", `email.domain:"example.com"`, `email.domain:"example.com"`},
		{"lucene boolean untouched", "blocked:true AND logins_count:0", "blocked:true AND logins_count:0"},
		{"at sign without domain is not an email", "jane@", `name:jane@* OR email:jane@*`},
		{"display-name form is not an email", "Jane <jane@example.com>", `name:Jane\ <jane@example.com>* OR email:Jane\ <jane@example.com>*`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := users.BuildQuery(tt.in); got != tt.want {
				t.Errorf("BuildQuery(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func manyUsers(n int) []mgmt.User {
	us := make([]mgmt.User, n)
	for i := range us {
		us[i] = mgmt.User{UserID: fmt.Sprintf("auth0|%024d", i), Email: fmt.Sprintf("u%03d@example.com", i)}
	}
	return us
}

func TestSearchPaging(t *testing.T) {
	api := userstest.New(nil, manyUsers(120)...)
	svc := &users.Service{API: api}
	tests := []struct {
		name                    string
		page                    int
		wantPage, wantAuth0Page int
		wantFirst               string
		wantCount, wantLastPage int
	}{
		{"first page", 1, 1, 0, "u000@example.com", 50, 3},
		{"zero is first page", 0, 1, 0, "u000@example.com", 50, 3},
		{"negative is first page", -4, 1, 0, "u000@example.com", 50, 3},
		{"last partial page", 3, 3, 2, "u100@example.com", 20, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := svc.Search(context.Background(), "jan", tt.page)
			if err != nil {
				t.Fatal(err)
			}
			calls := api.CallsTo("ListUsers")
			p := calls[len(calls)-1].Params.(mgmt.ListUsersParams)
			if p.Page != tt.wantAuth0Page || p.PerPage != users.PerPage || p.Q != "name:jan* OR email:jan*" {
				t.Errorf("sent %+v, want page %d per_page %d and the prefix query", p, tt.wantAuth0Page, users.PerPage)
			}
			if res.Page != tt.wantPage || res.Total != 120 || len(res.Users) != tt.wantCount || res.LastPage() != tt.wantLastPage {
				t.Errorf("got page %d total %d users %d last %d", res.Page, res.Total, len(res.Users), res.LastPage())
			}
			if res.Users[0].Email != tt.wantFirst || res.Text != "jan" || res.Query != p.Q {
				t.Errorf("first %q text %q query %q", res.Users[0].Email, res.Text, res.Query)
			}
		})
	}
}

func TestLastPageCapsAtAuth0Limit(t *testing.T) {
	for _, tt := range []struct{ total, want int }{{0, 1}, {1, 1}, {50, 1}, {51, 2}, {1000, 20}, {250000, 20}} {
		r := users.SearchResult{Total: tt.total, PerPage: 50}
		if got := r.LastPage(); got != tt.want {
			t.Errorf("LastPage with total %d = %d, want %d", tt.total, got, tt.want)
		}
	}
}

func TestSearchBadQueryIsProblemForSearchBox(t *testing.T) {
	api := userstest.New(nil)
	msg := "Query validation error: 'invalid query' on property q"
	api.Fail = func(string) error {
		return &mgmt.Error{StatusCode: 400, Err: "Bad Request", Message: msg, ErrorCode: "invalid_query_string"}
	}
	_, err := (&users.Service{API: api}).Search(context.Background(), "name:(", 1)
	var p *users.Problem
	if !errors.As(err, &p) {
		t.Fatalf("err = %v, want *Problem", err)
	}
	if p.Status != http.StatusBadRequest || p.Fields["q"] != msg || p.Message != "" {
		t.Errorf("problem = %+v", p)
	}
}
