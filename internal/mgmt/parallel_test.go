package mgmt

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestParallelNothingToRun(t *testing.T) {
	if err := Parallel(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Every fn must be running at the same time for any of them to finish: run one after another,
// this would never end.
func TestParallelRunsEveryCallAtOnce(t *testing.T) {
	const n = 6
	var arrived sync.WaitGroup
	arrived.Add(n)
	fn := func(ctx context.Context) error {
		arrived.Done()
		done := make(chan struct{})
		go func() { arrived.Wait(); close(done) }()
		select {
		case <-done:
			return nil
		case <-time.After(5 * time.Second):
			return errors.New("the other calls never ran alongside this one")
		}
	}
	fns := make([]func(context.Context) error, n)
	for i := range fns {
		fns[i] = fn
	}
	if err := Parallel(context.Background(), fns...); err != nil {
		t.Fatal(err)
	}
}

// The first failure is returned and cancels the others, whichever goroutine it ran on (the first
// fn runs on the caller's).
func TestParallelFirstErrorCancelsTheRest(t *testing.T) {
	boom := errors.New("boom")
	for failing := range 3 {
		fns := make([]func(context.Context) error, 3)
		for i := range fns {
			if i == failing {
				fns[i] = func(context.Context) error { return boom }
				continue
			}
			fns[i] = func(ctx context.Context) error {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(5 * time.Second):
					return errors.New("not cancelled")
				}
			}
		}
		began := time.Now()
		if err := Parallel(context.Background(), fns...); !errors.Is(err, boom) {
			t.Errorf("fn %d failing: err = %v, want boom", failing, err)
		}
		if d := time.Since(began); d > 2*time.Second {
			t.Errorf("fn %d failing: the others ran on for %s", failing, d)
		}
	}
}

func TestParallelCallerCancels(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Parallel(ctx,
		func(ctx context.Context) error { return ctx.Err() },
		func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

// A burst of pages starts as many workers as it needs; afterwards at most maxIdleWorkers stay, and
// the next pages reuse them instead of starting goroutines.
func TestParallelKeepsBoundedWorkers(t *testing.T) {
	settle := func() int {
		var n int
		for range 50 {
			runtime.GC()
			n = runtime.NumGoroutine()
			time.Sleep(10 * time.Millisecond)
			if n == runtime.NumGoroutine() {
				break
			}
		}
		return n
	}
	before := settle()

	const burst = 3 * maxIdleWorkers
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(burst)
	block := func(context.Context) error { started.Done(); <-release; return nil }
	fns := make([]func(context.Context) error, burst+1)
	fns[0] = func(context.Context) error { started.Wait(); close(release); return nil }
	for i := 1; i <= burst; i++ {
		fns[i] = block
	}
	if err := Parallel(context.Background(), fns...); err != nil {
		t.Fatal(err)
	}
	after := settle()
	if after > before+maxIdleWorkers {
		t.Fatalf("%d goroutines after the burst, %d before: more than %d workers kept", after, before, maxIdleWorkers)
	}

	for range 20 {
		if err := Parallel(context.Background(),
			func(context.Context) error { return nil },
			func(context.Context) error { return nil },
			func(context.Context) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if again := settle(); again > after {
		t.Errorf("%d goroutines after 20 more pages, %d before them: workers piled up instead of being reused", again, after)
	}
}

// deep uses about n KiB of stack, as a call through the HTTP client and the JSON decoder does.
//
//go:noinline
func deep(n int) int {
	var pad [1024]byte
	pad[n%len(pad)] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return deep(n-1) + int(pad[n%len(pad)])
}

// BenchmarkParallelDeepCalls compares Parallel with starting a fresh goroutine per call, for calls
// that need a 32 KiB stack: a fresh goroutine starts small and copies its stack as it grows, on
// every page; a kept worker has grown already.
//
//	go test -run '^$' -bench BenchmarkParallelDeepCalls -benchmem ./internal/mgmt/
func BenchmarkParallelDeepCalls(b *testing.B) {
	call := func(context.Context) error { deep(32); return nil }
	fns := []func(context.Context) error{call, call, call, call}
	b.Run("Parallel", func(b *testing.B) {
		for b.Loop() {
			if err := Parallel(context.Background(), fns...); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fresh-goroutines", func(b *testing.B) {
		for b.Loop() {
			var wg sync.WaitGroup
			for _, fn := range fns {
				wg.Go(func() { fn(context.Background()) })
			}
			wg.Wait()
		}
	})
}
