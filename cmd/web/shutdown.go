package main

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// silentGrace is how long, once shutdown has begun, a connection that has not sent a request may
// stay open. http.Server.Shutdown closes idle keep-alive connections at once, but a connection that
// has never sent a request only after five seconds; browsers (speculative preconnects) and load
// balancers (pre-opened connections) leave such sockets around, and every SIGTERM would then wait.
const silentGrace = 500 * time.Millisecond

// connTracker remembers the connections of one server that have not yet sent a request.
type connTracker struct {
	mu     sync.Mutex
	silent map[net.Conn]time.Time // accepted at
}

func (t *connTracker) state(c net.Conn, s http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s == http.StateNew {
		t.silent[c] = time.Now()
		return
	}
	delete(t.silent, c) // a request arrived, or the connection is gone
}

// closeSilent closes the connections that were accepted more than silentGrace ago and have still not
// sent a request: nothing is in flight on them.
func (t *connTracker) closeSilent() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c, at := range t.silent {
		if time.Since(at) > silentGrace {
			c.Close()
			delete(t.silent, c)
		}
	}
}

// track installs a tracker on s (before it serves).
func track(s *http.Server) *connTracker {
	t := &connTracker{silent: map[net.Conn]time.Time{}}
	s.ConnState = t.state
	return t
}

// shutdownServer is http.Server.Shutdown that also closes connections which never sent a request:
// it stops accepting, closes idle connections, waits for requests in flight until ctx ends, and then
// closes what is left.
func shutdownServer(ctx context.Context, s *http.Server, t *connTracker) error {
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(ctx) }()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			if t != nil {
				t.closeSilent()
			}
		}
	}
}
