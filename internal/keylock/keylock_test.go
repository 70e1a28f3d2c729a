package keylock_test

import (
	"testing"

	"github.com/userdesk/userdesk/internal/db/dbtest"
	"github.com/userdesk/userdesk/internal/keylock"
	"github.com/userdesk/userdesk/internal/keylock/keylocktest"
)

func TestLocal(t *testing.T) {
	keylocktest.Run(t, func(t *testing.T) (keylock.Locker, keylock.Locker) {
		l := &keylock.Local{}
		return l, l
	})
}

// Two Postgres lockers with their own in-process state stand for two replicas: only the database
// keeps them apart.
func TestPostgres(t *testing.T) {
	d := dbtest.Postgres(t)
	keylocktest.Run(t, func(t *testing.T) (keylock.Locker, keylock.Locker) {
		return &keylock.Postgres{DB: d.W}, &keylock.Postgres{DB: d.W}
	})
}
