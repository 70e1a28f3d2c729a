package sqlite

import (
	"context"
	"database/sql"
)

// AppliedMigrations lists the versions recorded in schema_migrations of the file at path, in order.
func AppliedMigrations(ctx context.Context, path string) ([]int, error) {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// WriterPragma and ReaderPragma read a PRAGMA on the writer connection and on a read-pool connection.
func (s *Store) WriterPragma(ctx context.Context, name string) (string, error) {
	var v string
	err := s.db.W.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v)
	return v, err
}

func (s *Store) ReaderPragma(ctx context.Context, name string) (string, error) {
	var v string
	err := s.db.R.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v)
	return v, err
}
