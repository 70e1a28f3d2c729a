// Package audittest is the conformance suite every audit.Store must pass.
package audittest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/audit"
)

// NewStore returns an empty store whose clock is now; the suite calls it once per subtest.
type NewStore func(t *testing.T, now func() time.Time) audit.Store

// base has sub-microsecond digits and a non-UTC zone, to check that stores normalise both.
var base = time.Date(2026, 11, 27, 11, 0, 0, 987654321, time.FixedZone("CET", 3600))

// Run runs every conformance test against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s audit.Store, now time.Time)
	}{
		{"AppendGet", testAppendGet},
		{"AppendInvalid", testAppendInvalid},
		{"TextIsCleaned", testTextCleaned},
		{"ReturnedValuesAreCopies", testCopies},
		{"QueryNewestFirst", testOrder},
		{"QueryFilters", testFilters},
		{"QueryPaging", testPaging},
		{"Each", testEach},
		{"EachCallbackMayAppend", testEachAppend},
		{"ConcurrentAppends", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t, func() time.Time { return base }), base)
		})
	}
}

// full returns an entry with every field set.
func full(at time.Time) audit.Entry {
	return audit.Entry{
		Time:        at,
		ActorIssuer: "https://idp.example/", ActorSubject: "okta|alice", ActorEmail: "Alice@Example.com",
		ActorRole: "agent", ClientIP: "203.0.113.7",
		Action: "user.metadata.update", TargetUserID: "auth0|bob", TargetEmail: "bob@example.org",
		Changes: []audit.Change{
			{Field: "app_metadata.plan", Before: `"free"`, After: `"pro"`},
			{Field: "user_metadata.nick", After: `{"a":[1,2]}`},
			{Field: "user_metadata.old", Before: `null`},
		},
		Reason: "ticket #4711", Outcome: audit.OutcomeSuccess, UpstreamStatus: 200,
		CorrelationID: "c0ffee-1", RequestID: "req-9", Detail: "two keys changed",
	}
}

// want is e as a store returns it, with id.
func want(e audit.Entry, id int64) audit.Entry {
	e.ID = id
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	if e.Changes == nil {
		e.Changes = []audit.Change{}
	}
	return e
}

func mustAppend(t *testing.T, s audit.Store, e audit.Entry) audit.Entry {
	t.Helper()
	got, err := s.Append(context.Background(), e)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return got
}

func assertEntry(t *testing.T, got, want audit.Entry) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entry mismatch\n got: %+v\nwant: %+v", got, want)
	}
	if got.Time.Location() != time.UTC {
		t.Errorf("time %v is not UTC", got.Time)
	}
}

func ids(es []audit.Entry) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func testAppendGet(t *testing.T, s audit.Store, now time.Time) {
	ctx := context.Background()
	e := full(base.Add(-time.Hour))
	got := mustAppend(t, s, e)
	if got.ID <= 0 {
		t.Fatalf("Append assigned id %d", got.ID)
	}
	assertEntry(t, got, want(e, got.ID))
	stored, err := s.Get(ctx, got.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	assertEntry(t, stored, want(e, got.ID))

	// A minimal entry: the time comes from the store's clock, and the changes list is empty, not nil.
	min := audit.Entry{Action: "authz.denied", Outcome: audit.OutcomeDenied}
	got2 := mustAppend(t, s, min)
	exp := want(min, got2.ID)
	exp.Time = now.UTC().Truncate(time.Microsecond)
	assertEntry(t, got2, exp)
	if stored, _ := s.Get(ctx, got2.ID); !reflect.DeepEqual(stored, exp) {
		t.Errorf("Get minimal: %+v, want %+v", stored, exp)
	}
	if got2.ID <= got.ID {
		t.Errorf("ids must increase in append order: %d then %d", got.ID, got2.ID)
	}
	if _, err := s.Get(ctx, got2.ID+1000); !errors.Is(err, audit.ErrNotFound) {
		t.Errorf("Get unknown id: %v, want ErrNotFound", err)
	}
}

func testAppendInvalid(t *testing.T, s audit.Store, _ time.Time) {
	ctx := context.Background()
	for name, mutate := range map[string]func(*audit.Entry){
		"no action":       func(e *audit.Entry) { e.Action = "" },
		"no outcome":      func(e *audit.Entry) { e.Outcome = "" },
		"unknown outcome": func(e *audit.Entry) { e.Outcome = "ok" },
		"change no field": func(e *audit.Entry) { e.Changes[0].Field = "" },
		"before not JSON": func(e *audit.Entry) { e.Changes[0].Before = "free" },
		"after not JSON":  func(e *audit.Entry) { e.Changes[1].After = "{" },
	} {
		e := full(base)
		mutate(&e)
		if _, err := s.Append(ctx, e); !errors.Is(err, audit.ErrInvalid) {
			t.Errorf("%s: Append got %v, want ErrInvalid", name, err)
		}
	}
	if es, total, err := s.Query(ctx, audit.Filter{}); err != nil || total != 0 || len(es) != 0 {
		t.Errorf("invalid entries were stored: total %d, %v", total, err)
	}
	for _, o := range []audit.Outcome{audit.OutcomeSuccess, audit.OutcomeFailure, audit.OutcomeDenied, audit.OutcomeUnknown} {
		e := full(base)
		e.Outcome = o
		mustAppend(t, s, e)
	}
}

func testTextCleaned(t *testing.T, s audit.Store, _ time.Time) {
	e := full(base)
	e.TargetEmail = "b\x00b@example.org"
	e.Detail = "line1\r\nline2 \xff"
	e.Changes = []audit.Change{{Field: "user_metadata.k\x00", After: `"v"`}}
	got := mustAppend(t, s, e)
	stored, err := s.Get(context.Background(), got.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []audit.Entry{got, stored} {
		if x.TargetEmail != "b\uFFFDb@example.org" || x.Detail != "line1\r\nline2 \uFFFD" || x.Changes[0].Field != "user_metadata.k\uFFFD" {
			t.Errorf("NUL and invalid UTF-8 must become U+FFFD, CR/LF kept: %q %q %q", x.TargetEmail, x.Detail, x.Changes[0].Field)
		}
	}
}

func testCopies(t *testing.T, s audit.Store, _ time.Time) {
	ctx := context.Background()
	e := full(base)
	got := mustAppend(t, s, e)
	e.Changes[0].After = `"hacked"` // the caller's slice
	got.Changes[1].After = `"hacked"`
	stored, _ := s.Get(ctx, got.ID)
	stored.Changes[2].Before = `"hacked"`
	again, _ := s.Get(ctx, got.ID)
	assertEntry(t, again, want(full(base), got.ID))
}

func testOrder(t *testing.T, s audit.Store, _ time.Time) {
	ctx := context.Background()
	// Appended out of time order (a backdated entry), with two entries at the same instant.
	var a [5]audit.Entry
	for i, off := range []time.Duration{2 * time.Minute, 0, time.Minute, time.Minute, -time.Minute} {
		e := full(base.Add(off))
		e.RequestID = fmt.Sprint(i)
		a[i] = mustAppend(t, s, e)
	}
	got, total, err := s.Query(ctx, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	exp := []int64{a[0].ID, a[3].ID, a[2].ID, a[1].ID, a[4].ID} // newest first; same time: later id first
	if total != 5 || !reflect.DeepEqual(ids(got), exp) {
		t.Errorf("Query order: %v (total %d), want %v", ids(got), total, exp)
	}
	if len(got) == 5 {
		assertEntry(t, got[1], a[3]) // full entries
	}
}

func testFilters(t *testing.T, s audit.Store, _ time.Time) {
	ctx := context.Background()
	type spec struct {
		subject, email, target, action string
		outcome                        audit.Outcome
		at                             time.Duration
	}
	specs := []spec{
		{"okta|alice", "Alice@Example.com", "auth0|bob", "user.block", audit.OutcomeSuccess, 0},
		{"okta|alice", "Alice@Example.com", "auth0|carol", "user.metadata.update", audit.OutcomeFailure, time.Minute},
		{"okta|dave", "dave@example.com", "auth0|bob", "user.metadata.update", audit.OutcomeSuccess, 2 * time.Minute},
		{"okta|dave", "dave@example.com", "auth0|bob", "authz.denied", audit.OutcomeDenied, 3 * time.Minute},
		{"", "", "", "authz.denied", audit.OutcomeDenied, 4 * time.Minute},
		{"okta|erin", "erin@example.com", "auth0|carol", "user.create", audit.OutcomeUnknown, 5 * time.Minute},
	}
	id := make([]int64, len(specs))
	for i, sp := range specs {
		e := full(base.Add(sp.at))
		e.ActorSubject, e.ActorEmail, e.TargetUserID, e.Action, e.Outcome = sp.subject, sp.email, sp.target, sp.action, sp.outcome
		id[i] = mustAppend(t, s, e).ID
	}
	// Boundaries at the stored (microsecond) times of the entries.
	at := func(d time.Duration) time.Time { return base.Add(d).Truncate(time.Microsecond) }
	cases := []struct {
		name string
		f    audit.Filter
		want []int
	}{
		{"none", audit.Filter{}, []int{5, 4, 3, 2, 1, 0}},
		{"actor by subject", audit.Filter{Actor: "okta|alice"}, []int{1, 0}},
		{"actor by email, any case", audit.Filter{Actor: "alice@EXAMPLE.com"}, []int{1, 0}},
		{"actor unknown", audit.Filter{Actor: "mallory@example.com"}, nil},
		{"target", audit.Filter{TargetUserID: "auth0|bob"}, []int{3, 2, 0}},
		{"action", audit.Filter{Action: "user.metadata.update"}, []int{2, 1}},
		{"action is exact, not a prefix", audit.Filter{Action: "user"}, nil},
		{"outcome", audit.Filter{Outcome: audit.OutcomeDenied}, []int{4, 3}},
		{"from inclusive", audit.Filter{From: at(2 * time.Minute)}, []int{5, 4, 3, 2}},
		{"to exclusive", audit.Filter{To: at(2 * time.Minute)}, []int{1, 0}},
		{"from sub-microsecond later excludes", audit.Filter{From: at(2 * time.Minute).Add(200 * time.Nanosecond)}, []int{5, 4, 3}},
		{"window", audit.Filter{From: at(time.Minute), To: at(4 * time.Minute)}, []int{3, 2, 1}},
		{"combined", audit.Filter{Actor: "dave@example.com", TargetUserID: "auth0|bob", Outcome: audit.OutcomeSuccess}, []int{2}},
		{"combined, no match", audit.Filter{Actor: "okta|alice", Action: "authz.denied"}, nil},
	}
	for _, tc := range cases {
		exp := []int64{}
		for _, i := range tc.want {
			exp = append(exp, id[i])
		}
		got, total, err := s.Query(ctx, tc.f)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(ids(got), exp) || total != len(exp) {
			t.Errorf("%s: Query = %v (total %d), want %v", tc.name, ids(got), total, exp)
		}
		var each []int64
		if err := s.Each(ctx, tc.f, func(e audit.Entry) error { each = append(each, e.ID); return nil }); err != nil {
			t.Errorf("%s: Each: %v", tc.name, err)
		}
		if each == nil {
			each = []int64{}
		}
		if !reflect.DeepEqual(each, exp) {
			t.Errorf("%s: Each = %v, want %v", tc.name, each, exp)
		}
	}
}

// appendN appends n entries one second apart (oldest first) and returns their ids newest first.
func appendN(t *testing.T, s audit.Store, n int) []int64 {
	t.Helper()
	out := make([]int64, n)
	for i := range n {
		e := full(base.Add(time.Duration(i) * time.Second))
		out[n-1-i] = mustAppend(t, s, e).ID
	}
	return out
}

func testPaging(t *testing.T, s audit.Store, _ time.Time) {
	ctx := context.Background()
	all := appendN(t, s, audit.DefaultLimit+5)
	got, total, err := s.Query(ctx, audit.Filter{})
	if err != nil || total != len(all) || !reflect.DeepEqual(ids(got), all[:audit.DefaultLimit]) {
		t.Errorf("default page: %d entries (total %d, %v); want the newest %d of %d", len(got), total, err, audit.DefaultLimit, len(all))
	}
	got, total, _ = s.Query(ctx, audit.Filter{Limit: 10, Offset: 20})
	if total != len(all) || !reflect.DeepEqual(ids(got), all[20:30]) {
		t.Errorf("Limit 10 Offset 20: %v (total %d), want %v", ids(got), total, all[20:30])
	}
	got, total, _ = s.Query(ctx, audit.Filter{Limit: 10, Offset: len(all) - 3})
	if total != len(all) || !reflect.DeepEqual(ids(got), all[len(all)-3:]) {
		t.Errorf("last page: %v, want %v", ids(got), all[len(all)-3:])
	}
	got, total, _ = s.Query(ctx, audit.Filter{Limit: 10, Offset: len(all) + 10})
	if total != len(all) || len(got) != 0 || got == nil {
		t.Errorf("past the end: %v (total %d); want an empty, non-nil page", got, total)
	}
}

func testEach(t *testing.T, s audit.Store, _ time.Time) {
	ctx := context.Background()
	all := appendN(t, s, audit.DefaultLimit+5) // more than one Query page: Each is not paged
	var got []int64
	if err := s.Each(ctx, audit.Filter{}, func(e audit.Entry) error { got = append(got, e.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, all) {
		t.Errorf("Each: %d entries, want all %d newest first", len(got), len(all))
	}
	got = nil
	_ = s.Each(ctx, audit.Filter{Limit: 5, Offset: 2}, func(e audit.Entry) error { got = append(got, e.ID); return nil })
	if !reflect.DeepEqual(got, all[2:7]) {
		t.Errorf("Each Limit 5 Offset 2: %v, want %v", got, all[2:7])
	}
	got = nil
	_ = s.Each(ctx, audit.Filter{Offset: len(all) - 2}, func(e audit.Entry) error { got = append(got, e.ID); return nil })
	if !reflect.DeepEqual(got, all[len(all)-2:]) {
		t.Errorf("Each Offset only: %v, want %v", got, all[len(all)-2:])
	}
	stop := errors.New("stop")
	calls := 0
	err := s.Each(ctx, audit.Filter{}, func(audit.Entry) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Errorf("Each with a failing callback: err %v after %d calls; want fn's error after 3", err, calls)
	}
	// Full entries, equal to Get's.
	_ = s.Each(ctx, audit.Filter{Limit: 1}, func(e audit.Entry) error {
		g, err := s.Get(ctx, e.ID)
		if err != nil || !reflect.DeepEqual(g, e) {
			t.Errorf("Each entry %+v differs from Get %+v (%v)", e, g, err)
		}
		return nil
	})
}

// An export that records its own audit entry while streaming must not deadlock, and the walk sees
// only what existed when it began or a consistent superset (never a repeated or missing old entry).
func testEachAppend(t *testing.T, s audit.Store, _ time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	all := appendN(t, s, 5)
	var seen []int64
	err := s.Each(ctx, audit.Filter{}, func(e audit.Entry) error {
		seen = append(seen, e.ID)
		_, err := s.Append(ctx, audit.Entry{Time: base.Add(-time.Hour), Action: "audit.export", Outcome: audit.OutcomeSuccess})
		return err
	})
	if err != nil {
		t.Fatalf("Each with appends inside: %v", err)
	}
	var old []int64
	for _, id := range seen {
		if slices.Contains(all, id) {
			old = append(old, id)
		}
	}
	if !reflect.DeepEqual(old, all) {
		t.Errorf("Each saw %v of the original entries, want %v", old, all)
	}
	if _, total, _ := s.Query(ctx, audit.Filter{Action: "audit.export"}); total != 5 {
		t.Errorf("appends during Each: %d stored, want 5", total)
	}
}

func testConcurrent(t *testing.T, s audit.Store, _ time.Time) {
	ctx := context.Background()
	const workers, per = 20, 5
	var (
		mu  sync.Mutex
		got = map[int64]string{}
		wg  sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				e := full(base)
				e.RequestID = fmt.Sprintf("w%d-%d", w, i)
				stored, err := s.Append(ctx, e)
				if err != nil {
					t.Errorf("concurrent Append: %v", err)
					return
				}
				mu.Lock()
				if prev, dup := got[stored.ID]; dup {
					t.Errorf("id %d assigned twice (%s and %s)", stored.ID, prev, e.RequestID)
				}
				got[stored.ID] = e.RequestID
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(got) != workers*per {
		t.Fatalf("%d distinct ids, want %d", len(got), workers*per)
	}
	_, total, err := s.Query(ctx, audit.Filter{})
	if err != nil || total != workers*per {
		t.Errorf("total after concurrent appends: %d (%v), want %d", total, err, workers*per)
	}
	for id, req := range got {
		e, err := s.Get(ctx, id)
		if err != nil || e.RequestID != req {
			t.Errorf("entry %d: %q (%v), want request %q", id, e.RequestID, err, req)
		}
	}
}
