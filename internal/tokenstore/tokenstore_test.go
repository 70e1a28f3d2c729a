package tokenstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/db"
	"github.com/userdesk/userdesk/internal/db/dbtest"
	"github.com/userdesk/userdesk/internal/mgmt"
)

var (
	keyA = bytes.Repeat([]byte{0xA1}, 64)
	keyB = bytes.Repeat([]byte{0xB2}, 64)
)

const sentinel = "access-token-SENTINEL-4f1d"

// dialects runs fn against SQLite, and PostgreSQL when USERDESK_TEST_POSTGRES is set.
func dialects(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, dbtest.SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, dbtest.Postgres(t)) })
}

func newStore(t *testing.T, d *db.DB, cfg Config) *Store {
	t.Helper()
	if cfg.Keys == nil {
		cfg.Keys = [][]byte{keyA}
	}
	if cfg.Tenant == "" {
		cfg.Tenant = "https://acme.eu.auth0.com"
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "m2m"
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 5 * time.Millisecond
	}
	s, err := New(context.Background(), d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func token(now time.Time, life time.Duration) *mgmt.Token {
	return &mgmt.Token{AccessToken: sentinel, TokenType: "Bearer", Scopes: []string{"read:users", "update:users"},
		IssuedAt: now, Expiry: now.Add(life)}
}

// TestSealedRoundTrip: a saved token comes back whole; in the database it is ciphertext (the
// access token does not appear in the row); a store with a rotated key list still opens it; a store
// with an unrelated key, for another client ID or after the client secret changed does not see it.
func TestSealedRoundTrip(t *testing.T) {
	dialects(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Now()
		s := newStore(t, d, Config{})
		if tok, err := s.Load(ctx); err != nil || tok != nil {
			t.Fatalf("empty store: Load = %v, %v", tok, err)
		}
		want := token(now, 24*time.Hour)
		if err := s.Save(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := s.Load(ctx)
		if err != nil || got == nil {
			t.Fatalf("Load after Save = %v, %v", got, err)
		}
		if got.AccessToken != sentinel || got.TokenType != "Bearer" || strings.Join(got.Scopes, " ") != "read:users update:users" ||
			!got.IssuedAt.Equal(want.IssuedAt) || !got.Expiry.Equal(want.Expiry) {
			t.Errorf("round trip changed the token: %v", got)
		}
		var sealed []byte
		if err := d.R.QueryRowContext(ctx, `SELECT sealed FROM mgmt_tokens`).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if len(sealed) == 0 || bytes.Contains(sealed, []byte(sentinel)) || bytes.Contains(sealed, []byte("read:users")) {
			t.Error("the stored row is not encrypted")
		}

		rotated := newStore(t, d, Config{Keys: [][]byte{keyB, keyA}})
		if got, _ := rotated.Load(ctx); got == nil || got.AccessToken != sentinel {
			t.Error("a store whose key list still holds the old key cannot open the token")
		}
		if got, _ := newStore(t, d, Config{Keys: [][]byte{keyB}}).Load(ctx); got != nil {
			t.Error("a store with another key opened the token")
		}
		if got, _ := newStore(t, d, Config{ClientID: "other-m2m"}).Load(ctx); got != nil {
			t.Error("another service account sees this one's token")
		}
		if got, _ := newStore(t, d, Config{ClientSecret: "rotated"}).Load(ctx); got != nil {
			t.Error("after the client secret changed, the token the old secret obtained is still handed out")
		}
	})
}

// TestStaleAndOlderTokens: a token past its refresh point (the client's rule: min(window, 10% of
// its lifetime) before expiry) is not handed out; an older token never replaces a newer one.
func TestStaleAndOlderTokens(t *testing.T) {
	dialects(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
		clock := &now
		s := newStore(t, d, Config{Now: func() time.Time { return *clock }})
		if err := s.Save(ctx, token(now.Add(-time.Hour), 2*time.Hour)); err != nil { // refresh point: expiry (now+1h) - min(5m, 12m) = now+55m
			t.Fatal(err)
		}
		if got, _ := s.Load(ctx); got == nil {
			t.Fatal("fresh token not handed out")
		}
		later := now.Add(56 * time.Minute)
		clock = &later
		if got, _ := s.Load(ctx); got != nil {
			t.Error("a token past its refresh point was handed out")
		}
		newer := token(later, 24*time.Hour)
		newer.AccessToken = "newer-token"
		if err := s.Save(ctx, newer); err != nil {
			t.Fatal(err)
		}
		if err := s.Save(ctx, token(now, 2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Load(ctx); got == nil || got.AccessToken != "newer-token" {
			t.Errorf("an older token replaced the newer one: %v", got)
		}
	})
}

// TestLease: the first replica that finds no token takes the lease; a second one waits for it and
// gets the token the first one saved; if the first never saves, the second takes over when the lease
// runs out.
func TestLease(t *testing.T) {
	dialects(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a := newStore(t, d, Config{Lease: time.Minute})
		b := newStore(t, d, Config{Lease: time.Minute})
		if tok, err := a.Load(ctx); tok != nil || err != nil {
			t.Fatalf("A: %v %v", tok, err)
		}
		got := make(chan *mgmt.Token, 1)
		go func() { tok, _ := b.Load(ctx); got <- tok }()
		select {
		case tok := <-got:
			t.Fatalf("B did not wait for A's fetch: %v", tok)
		case <-time.After(100 * time.Millisecond):
		}
		if err := a.Save(ctx, token(time.Now(), time.Hour)); err != nil {
			t.Fatal(err)
		}
		select {
		case tok := <-got:
			if tok == nil || tok.AccessToken != sentinel {
				t.Fatalf("B got %v, want A's token", tok)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("B still waiting after A saved")
		}

		// A crashed replica: its lease runs out and the next one fetches.
		c := newStore(t, d, Config{Lease: 150 * time.Millisecond, ClientID: "crash"})
		e := newStore(t, d, Config{Lease: 150 * time.Millisecond, ClientID: "crash"})
		if tok, _ := c.Load(ctx); tok != nil {
			t.Fatal("unexpected token")
		}
		start := time.Now()
		if tok, err := e.Load(ctx); tok != nil || err != nil {
			t.Fatalf("E after the lease ran out: %v %v", tok, err)
		}
		if waited := time.Since(start); waited < 100*time.Millisecond {
			t.Errorf("E took over after %s, before the lease ran out", waited)
		}
		// A waiting replica gives up when its context ends, so the client can fetch on its own.
		f := newStore(t, d, Config{Lease: time.Minute, ClientID: "crash"})
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if tok, err := f.Load(short); tok != nil || err == nil {
			t.Errorf("Load past its deadline = %v, %v; want nil and the context's error", tok, err)
		}
	})
}

// TestOneFetchForTheFleet: three mgmt clients (three replicas) with their own stores on one database
// call the API concurrently from cold; the token endpoint is asked once, and every call carries that
// token.
func TestOneFetchForTheFleet(t *testing.T) {
	dialects(t, func(t *testing.T, d *db.DB) {
		var fetches atomic.Int32
		var mu sync.Mutex
		bearers := map[string]int{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if r.URL.Path == "/oauth/token" {
				n := fetches.Add(1)
				time.Sleep(150 * time.Millisecond) // every replica asks while the fetch is in flight
				fmt.Fprintf(w, `{"access_token":"fleet-token-%d","expires_in":86400,"token_type":"Bearer","scope":"read:users"}`, n)
				return
			}
			mu.Lock()
			bearers[r.Header.Get("Authorization")]++
			mu.Unlock()
			io.WriteString(w, `{"user_id":"auth0|1","email":"a@example.com"}`)
		}))
		defer srv.Close()
		var wg sync.WaitGroup
		errs := make(chan error, 30)
		for range 3 {
			st := newStore(t, d, Config{Tenant: srv.URL, ClientID: "fleet"})
			c, err := mgmt.New(srv.URL, "fleet", "secret", mgmt.WithTokenStore(st))
			if err != nil {
				t.Fatal(err)
			}
			for range 10 {
				wg.Go(func() {
					if _, err := c.Users.Get(context.Background(), "auth0|1"); err != nil {
						errs <- err
					}
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if n := fetches.Load(); n != 1 {
			t.Errorf("the fleet fetched the token %d times, want 1", n)
		}
		if len(bearers) != 1 || bearers["Bearer fleet-token-1"] != 30 {
			t.Errorf("bearer tokens used: %v", bearers)
		}
	})
}

func TestNewRejectsBadConfig(t *testing.T) {
	d := dbtest.SQLite(t)
	for name, cfg := range map[string]Config{
		"no key":    {Tenant: "t", ClientID: "c"},
		"short key": {Keys: [][]byte{[]byte("short")}, Tenant: "t", ClientID: "c"},
		"no tenant": {Keys: [][]byte{keyA}, ClientID: "c"},
		"no client": {Keys: [][]byte{keyA}, Tenant: "t"},
	} {
		if _, err := New(context.Background(), d, cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}
