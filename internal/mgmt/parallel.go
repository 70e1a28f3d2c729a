package mgmt

import (
	"context"
	"sync"
	"sync/atomic"
)

// Parallel runs the independent calls of one page concurrently and waits for all of them. Each fn
// gets a context that is cancelled as soon as another fn fails (or ctx ends); Parallel returns the
// first error, or nil. The calls still share the client's limiter, token and breaker, so running
// them together never exceeds the configured request rate: it only stops a page from paying the
// sum of their latencies.
//
//	var user *mgmt.User
//	var conns *mgmt.ConnectionList
//	err := mgmt.Parallel(ctx,
//		func(ctx context.Context) (err error) { user, err = c.Users.Get(ctx, id); return err },
//		func(ctx context.Context) (err error) { conns, err = c.Connections.List(ctx, p); return err },
//	)
//
// The first fn runs on the caller's goroutine and the others on kept worker goroutines (see
// goWorker): a call descends deep (HTTP client, JSON decoding), and a fresh goroutine would grow
// its stack by copying, several times, on every page.
func Parallel(ctx context.Context, fns ...func(ctx context.Context) error) error {
	if len(fns) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		once  sync.Once
		first error
		wg    sync.WaitGroup
	)
	run := func(fn func(context.Context) error) {
		if err := fn(ctx); err != nil {
			once.Do(func() {
				first = err
				cancel(err)
			})
		}
	}
	wg.Add(len(fns) - 1)
	for _, fn := range fns[1:] {
		goWorker(func() {
			defer wg.Done()
			run(fn)
		})
	}
	run(fns[0])
	wg.Wait()
	return first
}

// maxIdleWorkers bounds how many worker goroutines wait for work between pages.
const maxIdleWorkers = 64

var (
	workQueue   = make(chan func()) // unbuffered: a send succeeds only when a worker is waiting
	idleWorkers atomic.Int32
)

// goWorker runs f on a waiting worker goroutine, or on a new one when none waits. Workers keep
// their grown stacks between pages; at most maxIdleWorkers stay waiting, the rest end.
func goWorker(f func()) {
	select {
	case workQueue <- f:
	default:
		go worker(f)
	}
}

func worker(f func()) {
	for {
		f()
		if idleWorkers.Add(1) > maxIdleWorkers {
			idleWorkers.Add(-1)
			return
		}
		f = <-workQueue
		idleWorkers.Add(-1)
	}
}
