// Package keylock serialises work per key: one metadata save per user at a time. Local does it
// within one process; Postgres does it across every replica that shares a PostgreSQL database,
// with session-level advisory locks. Both pass the suite in keylocktest.
package keylock

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"
)

// Locker takes the lock of a key. Lock waits until the lock is free or ctx ends (then it returns
// ctx's error, or the database's); the returned unlock releases it and may be called more than once.
type Locker interface {
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// Local is an in-process Locker. The zero value is ready to use; it keeps state only for keys that
// are locked or waited for.
type Local struct {
	mu   sync.Mutex
	keys map[string]*localKey
}

type localKey struct {
	held  chan struct{} // capacity 1: full while the key is locked
	users int           // holders and waiters; the entry goes when it drops to 0
}

func (l *Local) Lock(ctx context.Context, key string) (func(), error) {
	l.mu.Lock()
	if l.keys == nil {
		l.keys = map[string]*localKey{}
	}
	k := l.keys[key]
	if k == nil {
		k = &localKey{held: make(chan struct{}, 1)}
		l.keys[key] = k
	}
	k.users++
	l.mu.Unlock()

	select {
	case k.held <- struct{}{}:
	case <-ctx.Done():
		l.leave(key, k)
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-k.held
			l.leave(key, k)
		})
	}, nil
}

func (l *Local) leave(key string, k *localKey) {
	l.mu.Lock()
	if k.users--; k.users == 0 {
		delete(l.keys, key)
	}
	l.mu.Unlock()
}

// Postgres is a Locker shared by every process using the same PostgreSQL database: the lock of a
// key is a session-level advisory lock (pg_advisory_lock on a 64-bit hash of the key), held on a
// connection taken from DB for as long as the key is locked. Within the process a Local lock is
// taken first, so a process never ties up more than one connection per key.
//
// Advisory locks are database-wide: deployments that share a database (in different schemas) share
// the locks, which only makes them wait for one another.
type Postgres struct {
	DB *sql.DB

	local Local
}

// unlockTimeout bounds pg_advisory_unlock; when it fails the connection is discarded, which ends
// its session and so releases the lock.
const unlockTimeout = 5 * time.Second

func (p *Postgres) Lock(ctx context.Context, key string) (func(), error) {
	unlockLocal, err := p.local.Lock(ctx, key)
	if err != nil {
		return nil, err
	}
	id := lockID(key)
	conn, err := p.DB.Conn(ctx)
	if err != nil {
		unlockLocal()
		return nil, fmt.Errorf("keylock: connecting for the lock: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", id); err != nil {
		// The lock may have been granted just as ctx ended: never hand this session back to
		// the pool.
		discard(conn)
		unlockLocal()
		if ctx.Err() != nil {
			return nil, errors.Join(ctx.Err(), err)
		}
		return nil, fmt.Errorf("keylock: taking the lock: %w", err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
			defer cancel()
			var released bool
			if err := conn.QueryRowContext(uctx, "SELECT pg_advisory_unlock($1)", id).Scan(&released); err != nil || !released {
				discard(conn)
			} else {
				conn.Close()
			}
			unlockLocal()
		})
	}, nil
}

// discard closes conn and its driver connection, so that the session (and any advisory lock it
// holds) ends instead of going back to the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}

// lockID maps a key to PostgreSQL's 64-bit advisory lock space (FNV-1a over a Userdesk prefix, so
// that other applications' small integer locks are unlikely to collide).
func lockID(key string) int64 {
	h := fnv.New64a()
	h.Write([]byte("userdesk.keylock:"))
	h.Write([]byte(key))
	return int64(h.Sum64())
}
