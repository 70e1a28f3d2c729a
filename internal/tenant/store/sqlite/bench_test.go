package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
	"github.com/userdesk/userdesk/internal/tenant/store/sqlite"
)

// benchUsers is the population the benchmarks search: the size Auth0 tenants reach long before the
// console's searches may feel slow.
const benchUsers = 100_000

// seeded is the one benchmark store per test binary, filled on first use (seeding takes seconds) and
// removed by TestMain.
type seeded struct {
	once sync.Once
	dir  string
	s    *sqlite.Store
	err  error
	took time.Duration
}

var bench seeded

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.s != nil {
		bench.s.Close()
	}
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

func benchStore(b *testing.B) *sqlite.Store {
	b.Helper()
	bench.once.Do(func() {
		ctx := context.Background()
		start := time.Now()
		if bench.dir, bench.err = os.MkdirTemp("", "userdesk-bench-"); bench.err != nil {
			return
		}
		if bench.s, bench.err = sqlite.Open(ctx, filepath.Join(bench.dir, "tenant.db")); bench.err != nil {
			return
		}
		given := []string{"Jane", "John", "Ana", "Luis", "Mei", "Omar", "Zoë", "Pat", "Kim", "Noor"}
		family := []string{"Doe", "Smith", "García", "Chen", "Okafor", "Müller", "Ito", "Khan", "Rossi", "Novak"}
		created := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		us := make([]store.User, benchUsers)
		for i := range us {
			g, f := given[i%len(given)], family[(i/len(given))%len(family)]
			ts := created.Add(time.Duration(i) * 17 * time.Minute)
			us[i] = store.User{
				ID:         fmt.Sprintf("auth0|%024x", i*7919+1),
				Connection: "Username-Password-Authentication", Provider: "auth0",
				Email:     fmt.Sprintf("user%06d@example.com", i),
				Name:      fmt.Sprintf("%s %s %d", g, f, i),
				GivenName: g, FamilyName: f, Nickname: fmt.Sprintf("user%06d", i),
				PasswordHash: "$2a$10$abcdefghijklmnopqrstuuK2ybA6C8Bq1Gx0yXQp6ZrM8m1sW3Rn.",
				AppMetadata:  json.RawMessage(fmt.Sprintf(`{"plan":"p%d"}`, i%5)),
				CreatedAt:    ts, UpdatedAt: ts, LoginsCount: i % 50,
			}
		}
		bench.err = bench.s.CreateUsers(ctx, us)
		bench.took = time.Since(start)
	})
	if bench.err != nil {
		b.Fatalf("seeding %d users: %v", benchUsers, bench.err)
	}
	b.Logf("seeded %d users in %s", benchUsers, bench.took.Round(time.Millisecond))
	return bench.s
}

// runTimed runs op b.N times and reports the median and 99th-percentile latencies as p50-ms and
// p99-ms.
func runTimed(b *testing.B, op func(i int) (int, error), wantMin int) {
	b.Helper()
	var durs []time.Duration
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		n, err := op(i)
		durs = append(durs, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		if n < wantMin {
			b.Fatalf("op %d returned %d users, want at least %d", i, n, wantMin)
		}
	}
	b.StopTimer()
	slices.Sort(durs)
	b.ReportMetric(float64(durs[len(durs)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(durs[len(durs)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkSearch is a console search: a page of 50 with the total, by email prefix (100 matches),
// by exact email, by a case-insensitive name prefix (~10,000 matches, with and without the total), by
// a logins_count range (6,000 matches) and by app_metadata (no index: the total needs a full scan).
func BenchmarkSearch(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	cases := []struct {
		name    string
		expr    func(i int) store.Expr
		wantMin int
	}{
		{"EmailPrefix", func(i int) store.Expr {
			return store.Term{Field: "email", Value: fmt.Sprintf("USER%04d", (i*37)%1000), Prefix: true}
		}, 50},
		{"EmailExact", func(i int) store.Expr {
			return store.Term{Field: "email", Value: fmt.Sprintf("user%06d@example.com", (i*7919)%benchUsers)}
		}, 1},
		{"NamePrefix", func(i int) store.Expr {
			return store.Term{Field: "name", Value: []string{"jane", "omar", "zoë"}[i%3], Prefix: true}
		}, 50},
		{"LoginsRange", func(i int) store.Expr {
			return store.Range{Field: "logins_count", Lo: "10", Hi: "12", LoIncl: true, HiIncl: true}
		}, 50},
		{"AppMetadata", func(i int) store.Expr {
			return store.Term{Field: "app_metadata.plan", Value: fmt.Sprintf("p%d", i%5)}
		}, 50},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			runTimed(b, func(i int) (int, error) {
				us, _, err := s.ListUsers(ctx, store.Query{Expr: tc.expr(i), Limit: 50})
				return len(us), err
			}, tc.wantMin)
		})
	}
	b.Run("NamePrefixNoTotal", func(b *testing.B) {
		runTimed(b, func(i int) (int, error) {
			us, _, err := s.ListUsers(ctx, store.Query{Expr: store.Term{Field: "name", Value: "jane", Prefix: true}, Limit: 50, NoTotal: true})
			return len(us), err
		}, 50)
	})
}

// BenchmarkList is the user list: pages of 50 with the total, by default order (user id) and newest
// first, at the first page and deep in (offset up to 950, Auth0's 1,000-result paging limit).
func BenchmarkList(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	cases := []struct {
		name string
		q    func(i int) store.Query
	}{
		{"Default", func(i int) store.Query { return store.Query{Limit: 50, Offset: (i % 20) * 50} }},
		{"CreatedAtDesc", func(i int) store.Query {
			return store.Query{Sort: "created_at", Desc: true, Limit: 50, Offset: (i % 20) * 50}
		}},
		{"EmailPrefixSortedByCreatedAt", func(i int) store.Query {
			return store.Query{Expr: store.Term{Field: "email", Value: "user01", Prefix: true},
				Sort: "created_at", Desc: true, Limit: 50}
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			runTimed(b, func(i int) (int, error) {
				us, total, err := s.ListUsers(ctx, tc.q(i))
				if err == nil && total < 50 {
					err = fmt.Errorf("total %d", total)
				}
				return len(us), err
			}, 50)
		})
	}
}
