// Package storetest is the conformance suite every sessionstore.Store must pass.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/sessionstore"
)

// NewStore returns an empty store that judges expiry by now; the suite calls it once per subtest.
type NewStore func(t *testing.T, now func() time.Time) sessionstore.Store

// Clock is a settable fake clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the current fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// start has sub-microsecond digits and a non-UTC zone, to check that stores normalise both.
var start = time.Date(2026, 11, 27, 11, 0, 0, 123456789, time.FixedZone("CET", 3600))

// Run runs every conformance test against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s sessionstore.Store, c *Clock)
	}{
		{"CreateGet", testCreateGet},
		{"CreateInvalid", testCreateInvalid},
		{"ReturnedValuesAreCopies", testCopies},
		{"TextIsCleaned", testTextCleaned},
		{"Update", testUpdate},
		{"Touch", testTouch},
		{"Delete", testDelete},
		{"Expiry", testExpiry},
		{"DeleteExpired", testDeleteExpired},
		{"DeleteBySubject", testDeleteBySubject},
		{"ListOrderAndFilter", testList},
		{"ConcurrentCreateTouch", testConcurrentCreateTouch},
		{"ConcurrentUpdateIsAtomic", testConcurrentUpdate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClock(start)
			tc.fn(t, newStore(t, c.Now), c)
		})
	}
}

// session returns a fully populated session for subject, created at c's now and living for life.
func session(c *Clock, issuer, subject string, life time.Duration) sessionstore.Session {
	now := c.Now()
	return sessionstore.Session{
		ID: sessionstore.NewID(),
		Staff: sessionstore.Staff{
			Issuer: issuer, Subject: subject,
			Email: subject + "@example.com", Name: "Staff " + subject,
			Roles: []string{"helpdesk", "viewer"},
		},
		CreatedAt: now,
		SeenAt:    now,
		ExpiresAt: now.Add(life),
		Values:    map[string]string{"return_to": "/users?q=a&b=1", "flash": "Saved ✓"},
		IP:        "203.0.113.7",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64)",
	}
}

// want is s as every store must return it: UTC times truncated to microseconds.
func want(s sessionstore.Session) sessionstore.Session {
	for _, p := range []*time.Time{&s.CreatedAt, &s.SeenAt, &s.ExpiresAt} {
		*p = p.UTC().Truncate(time.Microsecond)
	}
	return s
}

func mustCreate(t *testing.T, s sessionstore.Store, sess sessionstore.Session) {
	t.Helper()
	if err := s.Create(context.Background(), sess); err != nil {
		t.Fatalf("Create: %v", err)
	}
}

func mustGet(t *testing.T, s sessionstore.Store, id string) sessionstore.Session {
	t.Helper()
	got, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return got
}

func assertEqual(t *testing.T, got, want sessionstore.Session) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("session mismatch\n got: %+v\nwant: %+v", got, want)
	}
	for _, tm := range []time.Time{got.CreatedAt, got.SeenAt, got.ExpiresAt} {
		if tm.Location() != time.UTC {
			t.Errorf("time %v is not in UTC", tm)
		}
	}
}

func ids(list []sessionstore.Session) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.ID
	}
	return out
}

func testCreateGet(t *testing.T, s sessionstore.Store, c *Clock) {
	ctx := context.Background()
	sess := session(c, "https://idp.example/", "alice", time.Hour)
	mustCreate(t, s, sess)
	assertEqual(t, mustGet(t, s, sess.ID), want(sess))

	if err := s.Create(ctx, sess); !errors.Is(err, sessionstore.ErrAlreadyExists) {
		t.Errorf("second Create with the same id: got %v, want ErrAlreadyExists", err)
	}
	if _, err := s.Get(ctx, sessionstore.NewID()); !errors.Is(err, sessionstore.ErrNotFound) {
		t.Errorf("Get unknown id: got %v, want ErrNotFound", err)
	}

	// A session started before sign-in has no identity, roles or values.
	anon := sessionstore.Session{ID: sessionstore.NewID(), CreatedAt: c.Now(), SeenAt: c.Now(), ExpiresAt: c.Now().Add(time.Minute)}
	mustCreate(t, s, anon)
	wantAnon := want(anon)
	wantAnon.Roles, wantAnon.Values = []string{}, map[string]string{}
	assertEqual(t, mustGet(t, s, anon.ID), wantAnon)
}

func testCreateInvalid(t *testing.T, s sessionstore.Store, c *Clock) {
	ctx := context.Background()
	for name, mutate := range map[string]func(*sessionstore.Session){
		"empty id":               func(x *sessionstore.Session) { x.ID = "" },
		"zero expiry":            func(x *sessionstore.Session) { x.ExpiresAt = time.Time{} },
		"expiry before creation": func(x *sessionstore.Session) { x.ExpiresAt = x.CreatedAt.Add(-time.Second) },
	} {
		sess := session(c, "iss", "alice", time.Hour)
		mutate(&sess)
		if err := s.Create(ctx, sess); !errors.Is(err, sessionstore.ErrInvalid) {
			t.Errorf("%s: Create got %v, want ErrInvalid", name, err)
		}
	}
	if list, err := s.List(ctx); err != nil || len(list) != 0 {
		t.Errorf("invalid sessions were stored: %v, %v", ids(list), err)
	}
}

func testCopies(t *testing.T, s sessionstore.Store, c *Clock) {
	sess := session(c, "iss", "alice", time.Hour)
	mustCreate(t, s, sess)
	sess.Roles[0] = "admin" // the caller's slices and maps stay the caller's
	sess.Values["flash"] = "changed"
	got := mustGet(t, s, sess.ID)
	got.Roles[1] = "admin"
	got.Values["return_to"] = "/evil"
	again := mustGet(t, s, sess.ID)
	if !reflect.DeepEqual(again.Roles, []string{"helpdesk", "viewer"}) || again.Values["flash"] != "Saved ✓" || again.Values["return_to"] != "/users?q=a&b=1" {
		t.Errorf("stored session changed through an alias: %+v", again)
	}
}

func testTextCleaned(t *testing.T, s sessionstore.Store, c *Clock) {
	sess := session(c, "iss", "alice", time.Hour)
	sess.Name = "Al\x00ice \xff"
	sess.UserAgent = "UA\r\n\x00"
	sess.Values = map[string]string{"k\x00": "v\xfe"}
	mustCreate(t, s, sess)
	got := mustGet(t, s, sess.ID)
	if got.Name != "Al\uFFFDice \uFFFD" || got.UserAgent != "UA\r\n\uFFFD" || got.Values["k\uFFFD"] != "v\uFFFD" {
		t.Errorf("NUL and invalid UTF-8 must become U+FFFD: %q %q %q", got.Name, got.UserAgent, got.Values)
	}
}

func testUpdate(t *testing.T, s sessionstore.Store, c *Clock) {
	ctx := context.Background()
	sess := session(c, "iss", "alice", time.Hour)
	mustCreate(t, s, sess)

	c.Advance(time.Minute)
	var seen sessionstore.Session
	err := s.Update(ctx, sess.ID, func(old sessionstore.Session) (sessionstore.Session, error) {
		seen = old
		old.ID = "attempt-to-change-the-id"
		old.Roles = []string{"admin"}
		old.Values = map[string]string{"only": "this"}
		old.SeenAt = c.Now()
		return old, nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	assertEqual(t, seen, want(sess))
	exp := want(sess)
	exp.Roles = []string{"admin"}
	exp.Values = map[string]string{"only": "this"}
	exp.SeenAt = c.Now().UTC().Truncate(time.Microsecond)
	assertEqual(t, mustGet(t, s, sess.ID), exp)
	if _, err := s.Get(ctx, "attempt-to-change-the-id"); !errors.Is(err, sessionstore.ErrNotFound) {
		t.Errorf("Update changed the id: Get(new id) = %v", err)
	}

	boom := errors.New("boom")
	err = s.Update(ctx, sess.ID, func(old sessionstore.Session) (sessionstore.Session, error) {
		old.Roles = []string{"viewer"}
		return old, boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("Update with failing fn: got %v, want fn's error", err)
	}
	assertEqual(t, mustGet(t, s, sess.ID), exp)

	err = s.Update(ctx, sess.ID, func(old sessionstore.Session) (sessionstore.Session, error) {
		old.ExpiresAt = time.Time{}
		return old, nil
	})
	if !errors.Is(err, sessionstore.ErrInvalid) {
		t.Errorf("Update to an invalid session: got %v, want ErrInvalid", err)
	}
	assertEqual(t, mustGet(t, s, sess.ID), exp)

	called := false
	err = s.Update(ctx, sessionstore.NewID(), func(old sessionstore.Session) (sessionstore.Session, error) {
		called = true
		return old, nil
	})
	if !errors.Is(err, sessionstore.ErrNotFound) || called {
		t.Errorf("Update unknown id: got %v (fn called: %v), want ErrNotFound without calling fn", err, called)
	}
}

func testTouch(t *testing.T, s sessionstore.Store, c *Clock) {
	ctx := context.Background()
	sess := session(c, "iss", "alice", time.Hour)
	mustCreate(t, s, sess)
	later := c.Now().Add(10 * time.Minute)
	if err := s.Touch(ctx, sess.ID, later); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	exp := want(sess)
	exp.SeenAt = later.UTC().Truncate(time.Microsecond)
	assertEqual(t, mustGet(t, s, sess.ID), exp)

	// A late, out-of-order touch never moves SeenAt backwards.
	if err := s.Touch(ctx, sess.ID, c.Now().Add(5*time.Minute)); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	assertEqual(t, mustGet(t, s, sess.ID), exp)

	if err := s.Touch(ctx, sessionstore.NewID(), later); !errors.Is(err, sessionstore.ErrNotFound) {
		t.Errorf("Touch unknown id: got %v, want ErrNotFound", err)
	}
}

func testDelete(t *testing.T, s sessionstore.Store, c *Clock) {
	ctx := context.Background()
	a, b := session(c, "iss", "alice", time.Hour), session(c, "iss", "alice", time.Hour)
	mustCreate(t, s, a)
	mustCreate(t, s, b)
	if err := s.Delete(ctx, a.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx, a.ID); !errors.Is(err, sessionstore.ErrNotFound) {
		t.Errorf("Get after Delete: got %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, a.ID); !errors.Is(err, sessionstore.ErrNotFound) {
		t.Errorf("second Delete: got %v, want ErrNotFound", err)
	}
	assertEqual(t, mustGet(t, s, b.ID), want(b)) // the staff member's other session is untouched
}

func testExpiry(t *testing.T, s sessionstore.Store, c *Clock) {
	ctx := context.Background()
	short := session(c, "iss", "alice", time.Hour)
	long := session(c, "iss", "alice", 2*time.Hour)
	mustCreate(t, s, short)
	mustCreate(t, s, long)

	c.Advance(time.Hour - time.Microsecond)
	mustGet(t, s, short.ID) // one microsecond before ExpiresAt it is still live

	c.Advance(time.Microsecond) // now == ExpiresAt: gone
	if _, err := s.Get(ctx, short.ID); !errors.Is(err, sessionstore.ErrNotFound) {
		t.Errorf("Get at ExpiresAt: got %v, want ErrNotFound", err)
	}
	if err := s.Touch(ctx, short.ID, c.Now()); !errors.Is(err, sessionstore.ErrNotFound) {
		t.Errorf("Touch of expired: got %v, want ErrNotFound", err)
	}
	if err := s.Update(ctx, short.ID, func(o sessionstore.Session) (sessionstore.Session, error) {
		o.ExpiresAt = o.ExpiresAt.Add(time.Hour) // an expired session must not be revived
		return o, nil
	}); !errors.Is(err, sessionstore.ErrNotFound) {
		t.Errorf("Update of expired: got %v, want ErrNotFound", err)
	}
	list, err := s.List(ctx)
	if err != nil || !reflect.DeepEqual(ids(list), []string{long.ID}) {
		t.Errorf("List after expiry: %v, %v; want only the live session", ids(list), err)
	}
	bySub, err := s.ListBySubject(ctx, "iss", "alice")
	if err != nil || !reflect.DeepEqual(ids(bySub), []string{long.ID}) {
		t.Errorf("ListBySubject after expiry: %v, %v; want only the live session", ids(bySub), err)
	}
	// Delete still removes an expired but unswept session (sign-out of a stale cookie is harmless).
	if err := s.Delete(ctx, short.ID); err != nil {
		t.Errorf("Delete of an expired, unswept session: %v", err)
	}
}

func testDeleteExpired(t *testing.T, s sessionstore.Store, c *Clock) {
	ctx := context.Background()
	a := session(c, "iss", "alice", 10*time.Minute)
	b := session(c, "iss", "bob", 20*time.Minute)
	live := session(c, "iss", "carol", time.Hour)
	for _, x := range []sessionstore.Session{a, b, live} {
		mustCreate(t, s, x)
	}
	n, err := s.DeleteExpired(ctx, c.Now().Add(5*time.Minute))
	if err != nil || n != 0 {
		t.Fatalf("DeleteExpired before any expiry: %d, %v; want 0", n, err)
	}
	n, err = s.DeleteExpired(ctx, c.Now().Add(20*time.Minute)) // b expires exactly now: included
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpired: %d, %v; want 2", n, err)
	}
	// Swept for good: even a clock turned back cannot find them.
	for _, id := range []string{a.ID, b.ID} {
		if _, err := s.Get(ctx, id); !errors.Is(err, sessionstore.ErrNotFound) {
			t.Errorf("Get swept session: %v", err)
		}
		if err := s.Delete(ctx, id); !errors.Is(err, sessionstore.ErrNotFound) {
			t.Errorf("Delete swept session: got %v, want ErrNotFound", err)
		}
	}
	assertEqual(t, mustGet(t, s, live.ID), want(live))
}

func testDeleteBySubject(t *testing.T, s sessionstore.Store, c *Clock) {
	ctx := context.Background()
	a1 := session(c, "https://idp-one/", "alice", time.Hour)
	a2 := session(c, "https://idp-one/", "alice", time.Hour)
	aExpired := session(c, "https://idp-one/", "alice", time.Minute)
	otherIssuer := session(c, "https://idp-two/", "alice", time.Hour) // same subject, different IdP: a different person
	bob := session(c, "https://idp-one/", "bob", time.Hour)
	for _, x := range []sessionstore.Session{a1, a2, aExpired, otherIssuer, bob} {
		mustCreate(t, s, x)
	}
	c.Advance(2 * time.Minute)
	n, err := s.DeleteBySubject(ctx, "https://idp-one/", "alice")
	if err != nil || n != 3 {
		t.Fatalf("DeleteBySubject: %d, %v; want 3 (two live, one expired)", n, err)
	}
	for _, id := range []string{a1.ID, a2.ID} {
		if _, err := s.Get(ctx, id); !errors.Is(err, sessionstore.ErrNotFound) {
			t.Errorf("Get after DeleteBySubject: %v, want ErrNotFound", err)
		}
	}
	if n, err := s.DeleteExpired(ctx, c.Now()); err != nil || n != 0 {
		t.Errorf("the expired session was not deleted by DeleteBySubject: DeleteExpired removed %d (%v)", n, err)
	}
	assertEqual(t, mustGet(t, s, otherIssuer.ID), want(otherIssuer))
	assertEqual(t, mustGet(t, s, bob.ID), want(bob))
	if n, err := s.DeleteBySubject(ctx, "https://idp-one/", "alice"); err != nil || n != 0 {
		t.Errorf("second DeleteBySubject: %d, %v; want 0", n, err)
	}
}

func testList(t *testing.T, s sessionstore.Store, c *Clock) {
	ctx := context.Background()
	if list, err := s.List(ctx); err != nil || len(list) != 0 {
		t.Fatalf("List of empty store: %v, %v", ids(list), err)
	}
	var all []sessionstore.Session
	for i, sub := range []string{"alice", "bob", "alice", "carol", "alice"} {
		sess := session(c, "iss", sub, time.Hour)
		sess.Values = map[string]string{"n": fmt.Sprint(i)}
		mustCreate(t, s, sess)
		all = append(all, sess)
		c.Advance(time.Second)
	}
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := []string{all[4].ID, all[3].ID, all[2].ID, all[1].ID, all[0].ID}
	if !reflect.DeepEqual(ids(list), wantIDs) {
		t.Errorf("List order: got %v, want newest first %v", ids(list), wantIDs)
	}
	if len(list) == 5 {
		assertEqual(t, list[1], want(all[3])) // full records, not just ids
	}
	bySub, err := s.ListBySubject(ctx, "iss", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if w := []string{all[4].ID, all[2].ID, all[0].ID}; !reflect.DeepEqual(ids(bySub), w) {
		t.Errorf("ListBySubject: got %v, want %v", ids(bySub), w)
	}
	if none, err := s.ListBySubject(ctx, "other-iss", "alice"); err != nil || len(none) != 0 {
		t.Errorf("ListBySubject other issuer: %v, %v; want none", ids(none), err)
	}
}

func testConcurrentCreateTouch(t *testing.T, s sessionstore.Store, c *Clock) {
	ctx := context.Background()
	shared := session(c, "iss", "shared", time.Hour)
	mustCreate(t, s, shared)
	const n = 40
	created := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			sess := session(c, "iss", fmt.Sprintf("staff-%d", i), time.Hour)
			created[i] = sess.ID
			errs <- s.Create(ctx, sess)
		}()
		go func() {
			defer wg.Done()
			errs <- s.Touch(ctx, shared.ID, start.Add(time.Duration(i+1)*time.Second))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Create/Touch: %v", err)
		}
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != n+1 {
		t.Fatalf("List after concurrent creates: %d sessions, %v; want %d", len(list), err, n+1)
	}
	seen := map[string]bool{}
	for _, x := range list {
		seen[x.ID] = true
	}
	for _, id := range created {
		if !seen[id] {
			t.Errorf("session %s created concurrently is missing", id)
		}
	}
	if got := mustGet(t, s, shared.ID).SeenAt; !got.Equal(start.Add(n * time.Second).Truncate(time.Microsecond)) {
		t.Errorf("SeenAt after concurrent touches = %v, want the latest, %v", got, start.Add(n*time.Second))
	}
}

func testConcurrentUpdate(t *testing.T, s sessionstore.Store, c *Clock) {
	ctx := context.Background()
	sess := session(c, "iss", "alice", time.Hour)
	sess.Values = nil
	mustCreate(t, s, sess)
	const n = 25
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Update(ctx, sess.ID, func(old sessionstore.Session) (sessionstore.Session, error) {
				old.Values[fmt.Sprintf("k%d", i)] = "v"
				return old, nil
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Update: %v", err)
		}
	}
	if got := mustGet(t, s, sess.ID).Values; len(got) != n {
		t.Errorf("after %d concurrent read-modify-write Updates, %d keys survive (lost updates): %v", n, len(got), got)
	}
}
