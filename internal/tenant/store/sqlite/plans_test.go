package sqlite_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
	"github.com/userdesk/userdesk/internal/tenant/store/sqlite"
)

// planUser is a user of the plan tests with the attributes their oracle filters on.
type planUser struct {
	store.User
	plan int
}

// planPopulation returns n users whose ids are a permutation of their creation order; names cycle
// through four given names (a filter spread evenly in every order), emails follow creation (a
// filter clustered in created_at order), several users share created_at and logins_count, and some
// have no last_login or username (NULL / empty keys).
func planPopulation(n int) []planUser {
	given := []string{"Jane", "John", "Ana", "Luis"}
	t0 := time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)
	out := make([]planUser, n)
	for i := range out {
		ts := t0.Add(time.Duration(i/2) * time.Minute)
		u := store.User{
			ID:         fmt.Sprintf("auth0|%06d", (i*7919)%n),
			Connection: "Username-Password-Authentication", Provider: "auth0",
			Email: fmt.Sprintf("user%05d@example.com", i), Name: fmt.Sprintf("%s %05d", given[i%4], (i*31)%n),
			Nickname: fmt.Sprintf("n%03d", i%700), CreatedAt: ts, UpdatedAt: ts.Add(time.Duration(n-i) * time.Second),
			LoginsCount: i % 50, AppMetadata: json.RawMessage(fmt.Sprintf(`{"plan":"p%d"}`, i%5)),
		}
		if i%3 != 0 {
			ll := ts.Add(time.Duration(i%7) * time.Hour)
			u.LastLogin = &ll
			u.Username = fmt.Sprintf("login%04d", (i*13)%n)
		}
		out[i] = planUser{u, i % 5}
	}
	return out
}

// TestListUsersPlansAgree checks ListUsers against an in-Go oracle over filters that match many users
// (spread evenly or clustered), few, or one, every sort field in both directions, several pages, with
// and without the total: whichever plan the store picks (order-scan probe, a probe that gives up, or
// filter-and-sort), the page is the true page. With 3,000 users both probe outcomes occur.
func TestListUsersPlansAgree(t *testing.T) {
	for _, n := range []int{3000, 120} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			testPlansAgree(t, n)
		})
	}
}

func testPlansAgree(t *testing.T, n int) {
	ctx := t.Context()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tenant.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pop := planPopulation(n)
	us := make([]store.User, n)
	for i, p := range pop {
		us[i] = p.User
	}
	if err := s.CreateUsers(ctx, us); err != nil {
		t.Fatal(err)
	}
	filters := []struct {
		name  string
		expr  store.Expr
		match func(p planUser) bool
	}{
		{"name prefix (a quarter, spread)", store.Term{Field: "name", Value: "JANE", Prefix: true},
			func(p planUser) bool { return strings.HasPrefix(strings.ToLower(p.Name), "jane") }},
		{"logins_count range", store.Range{Field: "logins_count", Lo: "10", Hi: "12", LoIncl: true, HiIncl: true},
			func(p planUser) bool { return p.LoginsCount >= 10 && p.LoginsCount <= 12 }},
		{"email prefix (clustered by creation)", store.Term{Field: "email", Value: "user00", Prefix: true},
			func(p planUser) bool { return strings.HasPrefix(p.Email, "user00") }},
		{"app_metadata (no index)", store.Term{Field: "app_metadata.plan", Value: "p1"},
			func(p planUser) bool { return p.plan == 1 }},
		{"and not", store.And{store.Term{Field: "name", Value: "jane", Prefix: true},
			store.Not{X: store.Range{Field: "logins_count", Lo: "25", LoIncl: true}}},
			func(p planUser) bool {
				return strings.HasPrefix(strings.ToLower(p.Name), "jane") && p.LoginsCount < 25
			}},
		{"one user", store.Term{Field: "email", Value: "USER00042@example.com"},
			func(p planUser) bool { return p.Email == "user00042@example.com" }},
		{"none", store.Term{Field: "nickname", Value: "nobody"}, func(planUser) bool { return false }},
	}
	ms := func(t *time.Time) string {
		if t == nil {
			return "" // NULL sorts first
		}
		return fmt.Sprintf("%015d", t.UnixMilli())
	}
	keys := map[string]func(p planUser) string{
		"":             func(planUser) string { return "" },
		"created_at":   func(p planUser) string { return ms(&p.CreatedAt) },
		"updated_at":   func(p planUser) string { return ms(&p.UpdatedAt) },
		"last_login":   func(p planUser) string { return ms(p.LastLogin) },
		"logins_count": func(p planUser) string { return fmt.Sprintf("%03d", p.LoginsCount) },
		"email":        func(p planUser) string { return p.Email },
		"name":         func(p planUser) string { return strings.ToLower(p.Name) },
		"nickname":     func(p planUser) string { return p.Nickname },
		"username":     func(p planUser) string { return p.Username },
	}
	pages := []struct{ offset, limit int }{{0, 10}, {40, 10}, {950, 50}, {0, 0}}
	before, _ := s.ProbeCounts()
	_, beforeMiss := s.ProbeCounts()
	for _, f := range filters {
		var matches []planUser
		for _, p := range pop {
			if f.match(p) {
				matches = append(matches, p)
			}
		}
		for sortField, key := range keys {
			for _, desc := range []bool{false, true} {
				want := slices.Clone(matches)
				slices.SortFunc(want, func(a, b planUser) int {
					if desc {
						a, b = b, a
					}
					if c := strings.Compare(key(a), key(b)); c != 0 {
						return c
					}
					return strings.Compare(a.ID, b.ID)
				})
				for _, pg := range pages {
					for _, noTotal := range []bool{false, true} {
						q := store.Query{Expr: f.expr, Sort: sortField, Desc: desc, Offset: pg.offset, Limit: pg.limit, NoTotal: noTotal}
						got, total, err := s.ListUsers(ctx, q)
						if err != nil {
							t.Fatalf("%s %+v: %v", f.name, q, err)
						}
						lo := min(pg.offset, len(want))
						hi := len(want)
						if pg.limit > 0 {
							hi = min(lo+pg.limit, len(want))
						}
						var wantIDs []string
						for _, p := range want[lo:hi] {
							wantIDs = append(wantIDs, p.ID)
						}
						var gotIDs []string
						for _, u := range got {
							gotIDs = append(gotIDs, u.ID)
						}
						if !slices.Equal(gotIDs, wantIDs) {
							t.Errorf("%s, sort %q desc=%v, offset %d limit %d, noTotal=%v:\n got  %v\n want %v",
								f.name, sortField, desc, pg.offset, pg.limit, noTotal, gotIDs, wantIDs)
						}
						if !noTotal && total != len(matches) {
							t.Errorf("%s, sort %q: total %d, want %d", f.name, sortField, total, len(matches))
						}
					}
				}
			}
		}
	}
	hit, miss := s.ProbeCounts()
	t.Logf("order-scan probes: %d answered, %d gave up", hit-before, miss-beforeMiss)
	if n >= 3000 && (hit == before || miss == beforeMiss) {
		t.Errorf("probes answered %d and gave up %d times; want both outcomes exercised", hit-before, miss-beforeMiss)
	}
}

// TestUserCountKeptExact checks the count the triggers keep against COUNT(*) through inserts, a
// rolled-back batch, deletes, and the migration that creates it on a database that already has users.
func TestUserCountKeptExact(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "tenant.db")
	old, err := sqlite.OpenAtVersion(ctx, path, 2)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(i int) store.User {
		at := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
		return store.User{ID: fmt.Sprintf("auth0|c%04d", i), Connection: "db", Provider: "auth0",
			Email: fmt.Sprintf("c%04d@example.com", i), CreatedAt: at, UpdatedAt: at}
	}
	var us []store.User
	for i := range 700 {
		us = append(us, mk(i))
	}
	if err := old.CreateUsers(ctx, us); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(ctx, path) // applies version 3 to 700 existing users
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check := func(step string, want int) {
		t.Helper()
		kept, counted, err := s.CountedUsers(ctx)
		if err != nil || kept != want || counted != want {
			t.Errorf("%s: kept count %d, COUNT(*) %d, %v; want %d", step, kept, counted, err, want)
		}
		if _, total, err := s.ListUsers(ctx, store.Query{Limit: 1}); err != nil || total != want {
			t.Errorf("%s: ListUsers total %d, %v; want %d", step, total, err, want)
		}
	}
	check("after the migration", 700)
	if err := s.CreateUser(ctx, mk(700)); err != nil {
		t.Fatal(err)
	}
	check("after CreateUser", 701)
	// A batch of 500 whose last user is a duplicate rolls back whole: the count too.
	var batch []store.User
	for i := 701; i < 1200; i++ {
		batch = append(batch, mk(i))
	}
	batch = append(batch, mk(3))
	if err := s.CreateUsers(ctx, batch); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("CreateUsers with a duplicate: %v", err)
	}
	check("after a rolled-back batch", 701)
	for _, i := range []int{0, 5, 700} {
		if err := s.DeleteUser(ctx, mk(i).ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteUser(ctx, mk(0).ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	check("after deletes", 698)
	if _, err := s.UpdateUser(ctx, mk(1).ID, func(u store.User) (store.User, error) { u.Name = "x"; return u, nil }); err != nil {
		t.Fatal(err)
	}
	check("after an update", 698)
}
