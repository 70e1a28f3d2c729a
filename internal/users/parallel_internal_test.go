package users

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A panic inside one of parallel's goroutines comes back as a panic in the caller's goroutine (where
// the HTTP server's recovery turns it into a 500 page) instead of ending the process, even when
// another call fails first; without a panic the first error is returned.
func TestParallelRaisesPanicsInTheCaller(t *testing.T) {
	other := errors.New("upstream failed")
	cases := []struct {
		name string
		fns  []func(context.Context) error
	}{
		{"panic alone", []func(context.Context) error{
			func(context.Context) error { panic("boom") },
			func(context.Context) error { return nil },
		}},
		{"another call fails first", []func(context.Context) error{
			func(context.Context) error { time.Sleep(30 * time.Millisecond); panic("boom") },
			func(context.Context) error { return other },
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got any
			func() {
				defer func() { got = recover() }()
				_ = parallel(t.Context(), tc.fns...)
			}()
			if got != "boom" {
				t.Fatalf("recovered %v, want the goroutine's panic value", got)
			}
		})
	}
	err := parallel(t.Context(),
		func(context.Context) error { return other },
		func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
	)
	if !errors.Is(err, other) {
		t.Fatalf("err = %v, want the first failure", err)
	}
}
