package keylock

import (
	"context"
	"fmt"
	"testing"
)

// Local keeps nothing for a key once nobody holds or waits for it, including waits that gave up:
// a long-running process does not grow with every user ever edited.
func TestLocalForgetsFreeKeys(t *testing.T) {
	var l Local
	for i := range 100 {
		unlock, err := l.Lock(context.Background(), fmt.Sprint("auth0|", i))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := l.Lock(ctx, fmt.Sprint("auth0|", i)); err == nil {
			t.Fatal("a cancelled wait took a held lock")
		}
		unlock()
		unlock()
	}
	if n := len(l.keys); n != 0 {
		t.Errorf("%d keys kept after every lock was released", n)
	}
}
