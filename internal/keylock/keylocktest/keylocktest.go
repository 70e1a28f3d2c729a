// Package keylocktest is the conformance suite every keylock.Locker runs: mutual exclusion between
// two handles that stand for two replicas, independence of keys, waits that end with their
// context, and unlocks that are safe to repeat.
package keylocktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/keylock"
)

// wait is how long a test waits for something that must happen; brief is how long it watches for
// something that must not.
const (
	wait  = 10 * time.Second
	brief = 150 * time.Millisecond
)

// Run runs the suite. newPair returns two Lockers that share one lock domain, as two replicas on
// one database do (for an in-process Locker, the same one twice).
func Run(t *testing.T, newPair func(t *testing.T) (a, b keylock.Locker)) {
	// Advisory locks are database-wide: every key carries a random prefix, so runs that share a
	// database never meet.
	var r [6]byte
	_, _ = rand.Read(r[:])
	prefix := "test-" + hex.EncodeToString(r[:]) + "/"

	t.Run("ExcludesTheOtherReplica", func(t *testing.T) {
		a, b := newPair(t)
		key := prefix + "auth0|exclusive"
		unlockA := mustLock(t, a, key)
		got := make(chan func(), 1)
		go func() {
			unlock, err := b.Lock(context.Background(), key)
			if err != nil {
				t.Error(err)
				close(got)
				return
			}
			got <- unlock
		}()
		select {
		case <-got:
			t.Fatal("b took the lock while a held it")
		case <-time.After(brief):
		}
		unlockA()
		select {
		case unlockB, ok := <-got:
			if ok {
				unlockB()
			}
		case <-time.After(wait):
			t.Fatal("b never got the lock after a released it")
		}
	})

	t.Run("KeysAreIndependent", func(t *testing.T) {
		a, b := newPair(t)
		unlockA := mustLock(t, a, prefix+"auth0|one")
		defer unlockA()
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		unlockB, err := b.Lock(ctx, prefix+"auth0|two")
		if err != nil {
			t.Fatalf("another key waited: %v", err)
		}
		unlockB()
	})

	t.Run("WaitEndsWithItsContext", func(t *testing.T) {
		a, b := newPair(t)
		key := prefix + "auth0|deadline"
		unlockA := mustLock(t, a, key)
		ctx, cancel := context.WithTimeout(context.Background(), brief)
		defer cancel()
		began := time.Now()
		if unlock, err := b.Lock(ctx, key); err == nil {
			unlock()
			t.Fatal("b took a held lock")
		} else if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want one that wraps context.DeadlineExceeded", err)
		}
		if d := time.Since(began); d > wait/2 {
			t.Errorf("the wait outlived its deadline by %s", d-brief)
		}
		done, cancelDone := context.WithCancel(context.Background())
		cancelDone()
		if unlock, err := b.Lock(done, key); err == nil {
			unlock()
			t.Fatal("a cancelled context took a held lock")
		}
		unlockA()
		// The abandoned waits left nothing behind: the key is free for both.
		mustLock(t, b, key)()
		mustLock(t, a, key)()
	})

	t.Run("UnlockTwiceIsHarmless", func(t *testing.T) {
		a, b := newPair(t)
		key := prefix + "auth0|twice"
		unlockA := mustLock(t, a, key)
		unlockA()
		unlockB := mustLock(t, b, key)
		defer unlockB()
		unlockA() // must not release b's lock
		ctx, cancel := context.WithTimeout(context.Background(), brief)
		defer cancel()
		if unlock, err := a.Lock(ctx, key); err == nil {
			unlock()
			t.Fatal("a second unlock of an old lock released the current holder's")
		}
	})

	t.Run("CountsWithoutLostUpdates", func(t *testing.T) {
		a, b := newPair(t)
		key := prefix + "auth0|counter"
		const workers, rounds = 4, 15
		var (
			counter int
			wg      sync.WaitGroup
			mu      sync.Mutex // only to read counter safely in the race detector's eyes
		)
		for _, l := range []keylock.Locker{a, b} {
			for range workers {
				wg.Go(func() {
					for range rounds {
						unlock, err := l.Lock(context.Background(), key)
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						v := counter
						mu.Unlock()
						runtime.Gosched() // a read-modify-write left open to the others
						mu.Lock()
						counter = v + 1
						mu.Unlock()
						unlock()
					}
				})
			}
		}
		wg.Wait()
		if want := 2 * workers * rounds; counter != want {
			t.Errorf("counter = %d after %d locked increments: the lock let two in at once", counter, want)
		}
	})

	t.Run("AnyKeyText", func(t *testing.T) {
		a, _ := newPair(t)
		for _, k := range []string{"", "auth0|5f7c8ec7c33c6c004bbafe82", "google-oauth2|1/2?x=%", "ユーザー", "a\x00b"} {
			mustLock(t, a, prefix+k)()
		}
	})
}

func mustLock(t *testing.T, l keylock.Locker, key string) func() {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	unlock, err := l.Lock(ctx, key)
	if err != nil {
		t.Fatalf("lock %q: %v", key, err)
	}
	return unlock
}
