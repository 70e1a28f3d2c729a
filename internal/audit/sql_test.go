package audit_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/audit/audittest"
	"github.com/userdesk/userdesk/internal/db"
	"github.com/userdesk/userdesk/internal/db/dbtest"
	"github.com/userdesk/userdesk/internal/sessionstore"
)

func TestSQLConformance(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, open func(testing.TB) *db.DB) {
		audittest.Run(t, func(t *testing.T, now func() time.Time) audit.Store {
			s, err := audit.New(context.Background(), open(t), audit.WithClock(now))
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
}

func TestMemoryConformance(t *testing.T) {
	audittest.Run(t, func(t *testing.T, now func() time.Time) audit.Store {
		return audit.NewMemory(audit.WithClock(now))
	})
}

// The database itself refuses to change or remove entries, whatever SQL reaches it.
func TestSQLAppendOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, open func(testing.TB) *db.DB) {
		ctx := context.Background()
		d := open(t)
		s, err := audit.New(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		e, err := s.Append(ctx, audit.Entry{Action: "user.block", TargetUserID: "auth0|bob", Outcome: audit.OutcomeSuccess})
		if err != nil {
			t.Fatal(err)
		}
		stmts := []string{
			`UPDATE audit_entries SET action = 'user.unblock'`,
			`UPDATE audit_entries SET outcome = 'failure' WHERE id = 1`,
			`DELETE FROM audit_entries`,
			`DELETE FROM audit_entries WHERE id = 1`,
		}
		if d.Dialect == db.Postgres {
			stmts = append(stmts, `TRUNCATE audit_entries`)
		}
		for _, q := range stmts {
			_, err := d.W.ExecContext(ctx, q)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: got %v, want the append-only trigger's error", q, err)
			}
		}
		got, err := s.Get(ctx, e.ID)
		if err != nil || got.Action != "user.block" || got.Outcome != audit.OutcomeSuccess {
			t.Errorf("entry after tampering attempts: %+v, %v", got, err)
		}
		if _, total, _ := s.Query(ctx, audit.Filter{}); total != 1 {
			t.Errorf("total %d, want 1", total)
		}
	})
}

// Sessions and audit share one database file, each with its own migrations table, and reopening it
// migrates nothing twice and keeps the data.
func TestSQLiteSharedFileReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "userdesk.db")
	for round := range 2 {
		d, err := db.OpenSQLite(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		as, err := audit.New(ctx, d)
		if err != nil {
			t.Fatalf("round %d: audit.New: %v", round, err)
		}
		ss, err := sessionstore.New(ctx, d)
		if err != nil {
			t.Fatalf("round %d: sessionstore.New: %v", round, err)
		}
		if _, err := as.Append(ctx, audit.Entry{Action: "session.login", Outcome: audit.OutcomeSuccess}); err != nil {
			t.Fatal(err)
		}
		if _, total, _ := as.Query(ctx, audit.Filter{}); total != round+1 {
			t.Errorf("round %d: %d entries, want %d", round, total, round+1)
		}
		if _, err := ss.List(ctx); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{audit.MigrationsTable, sessionstore.MigrationsTable} {
			var n int
			if err := d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil || n != 1 {
				t.Errorf("round %d: %s has %d rows (%v), want 1", round, table, n, err)
			}
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// A database migrated by a newer build is refused, not used with a schema this build cannot read.
func TestMigrateRefusesNewerSchema(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, open func(testing.TB) *db.DB) {
		ctx := context.Background()
		d := open(t)
		if _, err := audit.New(ctx, d); err != nil {
			t.Fatal(err)
		}
		if _, err := d.W.ExecContext(ctx, d.Rebind(`INSERT INTO `+audit.MigrationsTable+` (version, name) VALUES (?, ?)`), 999, "future"); err != nil {
			t.Fatal(err)
		}
		_, err := audit.New(ctx, d)
		if err == nil || !strings.Contains(err.Error(), "newer") {
			t.Errorf("audit.New on a newer schema: %v; want a refusal", err)
		}
	})
}

// The audit trail's database is opened with internal/db: a path that is not a plain file is refused
// (an in-memory or read-only trail would lose or refuse entries), and the error for an unreachable
// server must not echo the URL's password.
func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if d, err := db.OpenSQLite(ctx, p); err == nil {
			d.Close()
			t.Errorf("db.OpenSQLite(%q) accepted", p)
		}
	}
	d, err := db.OpenPostgres(ctx, "postgres://u:s3cret-pw@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err == nil {
		d.Close()
	}
	if err == nil || strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("db.OpenPostgres to a closed port: %v", err)
	}
}
