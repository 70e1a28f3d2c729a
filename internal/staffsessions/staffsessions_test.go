package staffsessions_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/auditlog"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/reqctx"
	"github.com/userdesk/userdesk/internal/sessionstore"
	"github.com/userdesk/userdesk/internal/staffsessions"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func put(t *testing.T, st sessionstore.Store, id, sub string, seen time.Time, roles ...string) {
	t.Helper()
	err := st.Create(context.Background(), sessionstore.Session{ID: id, Staff: sessionstore.Staff{Issuer: "https://idp/", Subject: sub,
		Email: sub + "@corp.example", Roles: roles}, CreatedAt: t0, SeenAt: seen, ExpiresAt: t0.Add(12 * time.Hour),
		IP: "203.0.113.9", UserAgent: "Firefox"})
	if err != nil {
		t.Fatal(err)
	}
}

func adminCtx() context.Context {
	return reqctx.WithClientIP(reqctx.WithStaff(context.Background(), reqctx.Staff{Issuer: "https://idp/", Subject: "boss",
		Email: "boss@corp.example", Role: authz.Admin}), "198.51.100.2")
}

func TestActiveHidesIdleAndAnonymousSessions(t *testing.T) {
	clk := &clock{t: t0.Add(40 * time.Minute)}
	st := sessionstore.NewMemory(sessionstore.WithClock(clk.Now))
	put(t, st, "a", "alice", t0.Add(35*time.Minute), "support")
	put(t, st, "b", "bob", t0.Add(5*time.Minute), "admin") // idle for 35 min
	put(t, st, "c", "", t0.Add(39*time.Minute))            // not signed in
	m, _ := authz.ParseMapping("groups", "support=agent")
	svc := &staffsessions.Service{Store: st, Roles: m, Now: clk.Now}
	got, err := svc.Active(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Subject != "alice" || got[0].Role != authz.Agent || got[0].IP != "203.0.113.9" {
		t.Fatalf("active = %+v", got)
	}
}

func TestEndRemovesAllSessionsAndAudits(t *testing.T) {
	clk := &clock{t: t0.Add(time.Minute)}
	st := sessionstore.NewMemory(sessionstore.WithClock(clk.Now))
	put(t, st, "a1", "alice", t0)
	put(t, st, "a2", "alice", t0)
	put(t, st, "b", "bob", t0)
	store := audit.NewMemory()
	svc := &staffsessions.Service{Store: st, Audit: auditlog.New(store, nil), Now: clk.Now}
	n, err := svc.End(adminCtx(), "https://idp/", "alice")
	if err != nil || n != 2 {
		t.Fatalf("End = %d, %v", n, err)
	}
	if _, err := st.Get(context.Background(), "a1"); !errors.Is(err, sessionstore.ErrNotFound) {
		t.Error("alice's session a1 survived")
	}
	if _, err := st.Get(context.Background(), "b"); err != nil {
		t.Error("bob's session was ended too")
	}
	es, _, _ := store.Query(context.Background(), audit.Filter{})
	if len(es) != 1 {
		t.Fatalf("%d entries", len(es))
	}
	e := es[0]
	if e.Action != auditlog.ActionSessionsEnd || e.ActorSubject != "boss" || e.ActorRole != "admin" || e.ClientIP != "198.51.100.2" ||
		e.TargetUserID != "alice" || e.TargetEmail != "alice@corp.example" || e.Outcome != audit.OutcomeSuccess ||
		e.Detail != "issuer https://idp/: 2 session(s) ended" {
		t.Errorf("entry = %+v", e)
	}
}

// sweepCounter counts DeleteExpired calls and what they removed.
type sweepCounter struct {
	sessionstore.Store
	mu             sync.Mutex
	calls, removed int
}

func (c *sweepCounter) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	n, err := c.Store.DeleteExpired(ctx, now)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	c.removed += n
	return n, err
}

func (c *sweepCounter) get() (int, int) { c.mu.Lock(); defer c.mu.Unlock(); return c.calls, c.removed }

// TestSweepRemovesExpiredUntilStopped: the sweep runs at once and on every tick, removes what has
// expired, and returns when its context ends.
func TestSweepRemovesExpiredUntilStopped(t *testing.T) {
	clk := &clock{t: t0}
	mem := sessionstore.NewMemory(sessionstore.WithClock(clk.Now))
	put(t, mem, "a", "alice", t0)
	put(t, mem, "b", "bob", t0)
	clk.Add(13 * time.Hour) // both past their 12 h ExpiresAt
	st := &sweepCounter{Store: mem}
	svc := &staffsessions.Service{Store: st, Now: clk.Now}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Sweep(ctx, time.Millisecond); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		calls, removed := st.get()
		if calls >= 3 && removed == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s: %d sweeps removed %d sessions, want ≥3 sweeps and 2 removed", calls, removed)
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Sweep did not stop when its context ended")
	}
	if n, _ := mem.DeleteExpired(context.Background(), clk.Now()); n != 0 {
		t.Errorf("%d expired sessions left", n)
	}
}
