package tenant

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/userdesk/userdesk/internal/tenant/store"
	"github.com/userdesk/userdesk/internal/tenant/store/sqlite"
)

// benchUsers is the population of the HTTP benchmark (issue 3: "with 100,000 users, a q search and a
// list page stay in single-digit milliseconds").
const benchUsers = 100_000

// BenchmarkUsersAPI100k measures the Management API over real HTTP (loopback, keep-alive, token
// verification, JSON encoding included) against 100,000 users seeded with store.CreateUsers in
// batched transactions: GET /api/v2/users (search and list pages), then get by id, create and patch.
// Each sub-benchmark reports its median latency as p50-ms; the read target is ≤ 5. Create hashes the
// password at the production bcrypt cost (10), so it measures bcrypt more than storage.
//
//	go test -run '^$' -bench BenchmarkUsersAPI100k ./internal/tenant/
func BenchmarkUsersAPI100k(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "tenant.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	// One low-cost hash for every seeded user: seeding measures storage, not bcrypt.
	hash, err := bcrypt.GenerateFromPassword([]byte("Seed-Passw0rd"), bcrypt.MinCost)
	if err != nil {
		b.Fatal(err)
	}
	given := []string{"Jane", "John", "Ana", "Luis", "Mei", "Omar", "Zoë", "Pat", "Kim", "Noor"}
	family := []string{"Doe", "Smith", "García", "Chen", "Okafor", "Müller", "Ito", "Khan", "Rossi", "Novak"}
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	us := make([]store.User, benchUsers)
	for i := range us {
		g, f := given[i%len(given)], family[(i/len(given))%len(family)]
		ts := t0.Add(time.Duration(i) * 17 * time.Minute)
		us[i] = store.User{
			ID: fmt.Sprintf("auth0|%024x", i*7919+1), Connection: DatabaseConnection, Provider: "auth0",
			Email: fmt.Sprintf("user%06d@example.com", i), Name: fmt.Sprintf("%s %s %d", g, f, i),
			GivenName: g, FamilyName: f, Nickname: fmt.Sprintf("user%06d", i), PasswordHash: string(hash),
			AppMetadata: json.RawMessage(fmt.Sprintf(`{"plan":"p%d"}`, i%5)),
			CreatedAt:   ts, UpdatedAt: ts, LoginsCount: i % 50,
		}
	}
	if err := st.CreateUsers(ctx, us); err != nil {
		b.Fatal(err)
	}
	// The database connection the users belong to (the Create case creates users in it).
	if err := st.CreateConnection(ctx, store.Connection{ID: newConnectionID(), Name: DatabaseConnection, Strategy: "auth0",
		Realms: []string{DatabaseConnection}, Options: json.RawMessage(`{"passwordPolicy":"good","password_complexity_options":{"min_length":8}}`)}); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d users in %s", benchUsers, time.Since(start).Round(time.Millisecond))

	srv := httptest.NewUnstartedServer(nil)
	// The production bcrypt cost (0 = 10): the Write/Create case is meant to show what a create costs.
	tn, err := Open(ctx, Config{BaseURL: "http://" + srv.Listener.Addr().String(), Store: st})
	if err != nil {
		b.Fatal(err)
	}
	srv.Config.Handler = tn.Handler()
	srv.Start()
	defer srv.Close()
	id, secret := tn.ServiceAccount()
	res, err := http.PostForm(srv.URL+"/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {id}, "client_secret": {secret}, "audience": {tn.Audience()}})
	if err != nil {
		b.Fatal(err)
	}
	var tokBody struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(res.Body).Decode(&tokBody)
	res.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
	client := srv.Client()

	get := func(b *testing.B, query string) int {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v2/users?"+query, nil)
		req.Header.Set("Authorization", "Bearer "+tokBody.AccessToken)
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 {
			b.Fatalf("%s: %d %s", query, res.StatusCode, body)
		}
		var env struct{ Length int }
		if body[0] == '[' {
			var arr []json.RawMessage
			_ = json.Unmarshal(body, &arr)
			return len(arr)
		}
		if err := json.Unmarshal(body, &env); err != nil {
			b.Fatal(err)
		}
		return env.Length
	}
	q := func(s string) string {
		return "include_totals=true&per_page=50&search_engine=v3&q=" + url.QueryEscape(s)
	}
	cases := []struct {
		name    string
		query   func(i int) string
		wantMin int
	}{
		{"Search/EmailExact", func(i int) string { return q(fmt.Sprintf(`email:"user%06d@example.com"`, (i*7919)%benchUsers)) }, 1},
		{"Search/EmailPrefix", func(i int) string { return q(fmt.Sprintf("email:user%04d*", (i*37)%1000)) }, 50},
		{"Search/NamePrefix", func(i int) string { return q([]string{"name:jane*", "name:omar*", "name:zoë*"}[i%3]) }, 50},
		{"Search/BareWord", func(i int) string { return q(fmt.Sprintf("user%05d", (i*37)%10000)) }, 10},
		{"Search/LoginsRange", func(i int) string { return q("logins_count:[10 TO 12]") }, 50},
		{"List/Default", func(i int) string { return fmt.Sprintf("include_totals=true&per_page=50&page=%d", i%20) }, 50},
		{"List/NoTotals", func(i int) string { return fmt.Sprintf("per_page=50&page=%d", i%20) }, 0},
		{"Search/NamePrefixNoTotals", func(i int) string { return "per_page=50&search_engine=v3&q=name:jane*" }, 0},
		{"List/CreatedAtDesc", func(i int) string {
			return fmt.Sprintf("include_totals=true&per_page=50&page=%d&sort=created_at:-1", i%20)
		}, 50},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var durs []time.Duration
			for i := 0; b.Loop(); i++ {
				t0 := time.Now()
				n := get(b, c.query(i))
				durs = append(durs, time.Since(t0))
				if n < c.wantMin {
					b.Fatalf("%s returned %d users, want at least %d", c.query(i), n, c.wantMin)
				}
			}
			slices.Sort(durs)
			b.ReportMetric(float64(durs[len(durs)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(durs[len(durs)*99/100].Microseconds())/1000, "p99-ms")
		})
	}

	// Single-user reads and writes among the 100,000.
	do := func(b *testing.B, method, path string, body any, want int) []byte {
		var rd io.Reader
		if body != nil {
			raw, _ := json.Marshal(body)
			rd = bytes.NewReader(raw)
		}
		req, _ := http.NewRequest(method, srv.URL+path, rd)
		req.Header.Set("Authorization", "Bearer "+tokBody.AccessToken)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != want {
			b.Fatalf("%s %s: %d %s", method, path, res.StatusCode, out)
		}
		return out
	}
	userPath := func(i int) string { return "/api/v2/users/" + url.PathEscape(us[(i*7919)%benchUsers].ID) }
	writes := []struct {
		name string
		call func(b *testing.B, i int)
	}{
		{"GetByID", func(b *testing.B, i int) { do(b, "GET", userPath(i), nil, 200) }},
		{"Patch", func(b *testing.B, i int) {
			do(b, "PATCH", userPath(i), map[string]any{"user_metadata": map[string]any{"bench": i}}, 200)
		}},
		{"Create", func(b *testing.B, i int) {
			do(b, "POST", "/api/v2/users", map[string]any{"connection": DatabaseConnection,
				"email": fmt.Sprintf("bench-%d-%d@example.org", time.Now().UnixNano(), i), "password": "Bench-Passw0rd!x"}, 201)
		}},
	}
	for _, c := range writes {
		b.Run(c.name, func(b *testing.B) {
			var durs []time.Duration
			for i := 0; b.Loop(); i++ {
				t0 := time.Now()
				c.call(b, i)
				durs = append(durs, time.Since(t0))
			}
			slices.Sort(durs)
			b.ReportMetric(float64(durs[len(durs)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(durs[len(durs)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
