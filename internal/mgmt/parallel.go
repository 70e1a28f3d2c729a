package mgmt

import (
	"context"

	"golang.org/x/sync/errgroup"
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
func Parallel(ctx context.Context, fns ...func(ctx context.Context) error) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, fn := range fns {
		g.Go(func() error { return fn(gctx) })
	}
	return g.Wait()
}
