package db_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/userdesk/userdesk/internal/db"
	"github.com/userdesk/userdesk/internal/db/dbtest"
)

func TestRebind(t *testing.T) {
	pg := &db.DB{Dialect: db.Postgres}
	if got := pg.Rebind(`SELECT a FROM t WHERE b = ? AND c IN (?, ?) LIMIT ?`); got != `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3) LIMIT $4` {
		t.Errorf("postgres: %s", got)
	}
	lite := &db.DB{Dialect: db.SQLite}
	if q := `SELECT ? , ?`; lite.Rebind(q) != q {
		t.Errorf("sqlite must keep ?: %s", lite.Rebind(q))
	}
}

func TestOpenPicksTheEngine(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "x.db"))
	if err != nil || d.Dialect != db.SQLite {
		t.Fatalf("Open(path): %v, %v", d, err)
	}
	var mode string
	if err := d.R.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q (%v), want wal", mode, err)
	}
	var sync int
	if err := d.W.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
		t.Errorf("writer synchronous = %d (%v), want 2 (FULL)", sync, err)
	}
	if _, err := d.R.ExecContext(ctx, `CREATE TABLE nope (x)`); err == nil {
		t.Error("the read pool accepted a write; want query_only")
	}
	d.Close()
	if url := os.Getenv(dbtest.EnvPostgres); url != "" {
		d, err := db.Open(ctx, url)
		if err != nil || d.Dialect != db.Postgres {
			t.Fatalf("Open(postgres URL): %v, %v", d, err)
		}
		d.Close()
	}
}

func TestMigrateValidates(t *testing.T) {
	d := dbtest.SQLite(t)
	ctx := context.Background()
	one := []db.Migration{{Version: 1, Name: "a", SQLite: []string{`CREATE TABLE a (x)`}, Postgres: []string{`CREATE TABLE a (x int)`}}}
	if err := d.Migrate(ctx, "bad-name; DROP", one); err == nil {
		t.Error("bad table name accepted")
	}
	if err := d.Migrate(ctx, "m", append(one, db.Migration{Version: 1, Name: "dup"})); err == nil {
		t.Error("non-increasing versions accepted")
	}
	if err := d.Migrate(ctx, "m", []db.Migration{{Version: 1, Name: "pg only", Postgres: []string{`SELECT 1`}}}); err == nil || !strings.Contains(err.Error(), "no statements for sqlite") {
		t.Errorf("a step without statements for this engine: %v", err)
	}
}

// Each migration step runs once, in order, and a failing step leaves nothing half-applied.
func TestMigrateOnceAndAtomic(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, open func(testing.TB) *db.DB) {
		d := open(t)
		ctx := context.Background()
		steps := []db.Migration{
			{Version: 1, Name: "a", SQLite: []string{`CREATE TABLE a (x INTEGER)`}, Postgres: []string{`CREATE TABLE a (x INTEGER)`}},
			{Version: 2, Name: "seed", SQLite: []string{`INSERT INTO a VALUES (1)`}, Postgres: []string{`INSERT INTO a VALUES (1)`}},
		}
		for range 2 {
			if err := d.Migrate(ctx, "t_migrations", steps); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM a`).Scan(&n); err != nil || n != 1 {
			t.Errorf("rows in a = %d (%v); want 1: a step ran twice", n, err)
		}
		bad := append(steps, db.Migration{Version: 3, Name: "broken",
			SQLite:   []string{`INSERT INTO a VALUES (2)`, `THIS IS NOT SQL`},
			Postgres: []string{`INSERT INTO a VALUES (2)`, `THIS IS NOT SQL`}})
		if err := d.Migrate(ctx, "t_migrations", bad); err == nil {
			t.Fatal("broken step succeeded")
		}
		if err := d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM a`).Scan(&n); err != nil || n != 1 {
			t.Errorf("rows in a = %d (%v) after a failed step; want 1 (rolled back)", n, err)
		}
	})
}

// The PostgreSQL helper gives each test its own schema and drops it afterwards.
func TestPostgresSchemaIsolation(t *testing.T) {
	if os.Getenv(dbtest.EnvPostgres) == "" {
		t.Skip(dbtest.EnvPostgres + " is not set")
	}
	ctx := context.Background()
	var schema string
	t.Run("inner", func(t *testing.T) {
		d := dbtest.Postgres(t)
		if err := d.R.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil || !strings.HasPrefix(schema, "test_") {
			t.Fatalf("current_schema %q (%v)", schema, err)
		}
		if _, err := d.W.ExecContext(ctx, `CREATE TABLE iso (x int)`); err != nil {
			t.Fatal(err)
		}
	})
	admin, err := db.OpenPostgres(ctx, os.Getenv(dbtest.EnvPostgres))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var n int
	if err := admin.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_namespace WHERE nspname = $1`, schema).Scan(&n); err != nil || n != 0 {
		t.Errorf("schema %s still exists after the test (%d, %v)", schema, n, err)
	}
}
