package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// organizationMigration (version 5) adds organizations and their members (store.OrganizationStore).
// A membership row references both its organization and its user with ON DELETE CASCADE, so deleting
// either (and linking the user away, which deletes its users row) removes it in the same statement.
// The unique index on name also serves the name-ordered lists; the (user_id, org_id) index serves a
// user's organizations.
var organizationMigration = migration{
	version: 5,
	name:    "organizations and members",
	stmts: []string{
		`CREATE TABLE organizations (
			id           TEXT NOT NULL PRIMARY KEY,
			name         TEXT NOT NULL UNIQUE,
			display_name TEXT NOT NULL,
			branding     TEXT,
			metadata     TEXT
		)`,
		`CREATE TABLE organization_members (
			org_id  TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
			user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			PRIMARY KEY (org_id, user_id)
		)`,
		`CREATE INDEX organization_members_user ON organization_members (user_id, org_id)`,
	},
}

const orgCols = `id, name, display_name, branding, metadata`

func scanOrganization(r rowScanner) (store.Organization, error) {
	var (
		o                  store.Organization
		branding, metadata sql.NullString
	)
	if err := r.Scan(&o.ID, &o.Name, &o.DisplayName, &branding, &metadata); err != nil {
		return store.Organization{}, err
	}
	o.Branding, o.Metadata = rawJSON(branding), rawJSON(metadata)
	return o, nil
}

// limitArg turns a store page limit (0 = none) into SQLite's LIMIT value (-1 = none).
func limitArg(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

// CreateOrganization implements store.OrganizationStore.
func (s *Store) CreateOrganization(ctx context.Context, o store.Organization) error {
	branding, err := jsonText("branding", o.Branding)
	if err != nil {
		return err
	}
	metadata, err := jsonText("metadata", o.Metadata)
	if err != nil {
		return err
	}
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO organizations (`+orgCols+`) VALUES (?, ?, ?, ?, ?)`,
			o.ID, o.Name, o.DisplayName, branding, metadata)
		return mapErr(fmt.Sprintf("create organization %q", o.ID), err)
	})
}

// GetOrganization implements store.OrganizationStore.
func (s *Store) GetOrganization(ctx context.Context, id string) (store.Organization, error) {
	o, err := scanOrganization(s.db.R.QueryRowContext(ctx, `SELECT `+orgCols+` FROM organizations WHERE id = ?`, id))
	return o, notFound(err, "organization", id)
}

// queryOrganizations reads the organizations a query selects (orgCols, in that order).
func queryOrganizations(ctx context.Context, q querier, query string, args ...any) ([]store.Organization, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list organizations: %w", err)
	}
	defer rows.Close()
	out := []store.Organization{}
	for rows.Next() {
		o, err := scanOrganization(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read organization: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// ListOrganizations implements store.OrganizationStore; the page and the total come from one snapshot.
func (s *Store) ListOrganizations(ctx context.Context, p store.OffsetPage) ([]store.Organization, int, error) {
	var (
		out   []store.Organization
		total int
	)
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM organizations`).Scan(&total); err != nil {
			return fmt.Errorf("sqlite: count organizations: %w", err)
		}
		var err error
		out, err = queryOrganizations(ctx, tx, `SELECT `+orgCols+` FROM organizations ORDER BY name, id LIMIT ? OFFSET ?`,
			limitArg(p.Limit), max(p.Offset, 0))
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// DeleteOrganization implements store.OrganizationStore; memberships go with it (foreign key).
func (s *Store) DeleteOrganization(ctx context.Context, id string) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, "organization", id, `DELETE FROM organizations WHERE id = ?`, id)
	})
}

// AddOrganizationMembers implements store.OrganizationStore.
func (s *Store) AddOrganizationMembers(ctx context.Context, orgID string, userIDs []string) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "organizations", "id", "organization", orgID); err != nil {
			return err
		}
		for _, id := range userIDs {
			if err := mustExist(ctx, tx, "users", "id", "user", id); errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("user %q: %w", id, store.ErrMemberNotFound)
			} else if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO organization_members (org_id, user_id) VALUES (?, ?)`,
				orgID, id); err != nil {
				return mapErr("add organization member", err)
			}
		}
		return nil
	})
}

// RemoveOrganizationMembers implements store.OrganizationStore.
func (s *Store) RemoveOrganizationMembers(ctx context.Context, orgID string, userIDs []string) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "organizations", "id", "organization", orgID); err != nil {
			return err
		}
		for _, id := range userIDs {
			if _, err := tx.ExecContext(ctx, `DELETE FROM organization_members WHERE org_id = ? AND user_id = ?`,
				orgID, id); err != nil {
				return mapErr("remove organization member", err)
			}
		}
		return nil
	})
}

// OrganizationMembers implements store.OrganizationStore.
func (s *Store) OrganizationMembers(ctx context.Context, orgID string, p store.OffsetPage) ([]store.User, int, error) {
	var (
		users []store.User
		total int
	)
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "organizations", "id", "organization", orgID); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM organization_members WHERE org_id = ?`,
			orgID).Scan(&total); err != nil {
			return fmt.Errorf("sqlite: count organization members: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+prefixCols("u", userCols)+` FROM users u
			JOIN organization_members m ON m.user_id = u.id WHERE m.org_id = ? ORDER BY u.id LIMIT ? OFFSET ?`,
			orgID, limitArg(p.Limit), max(p.Offset, 0))
		if err != nil {
			return fmt.Errorf("sqlite: organization members: %w", err)
		}
		if users, err = collectUsers(rows); err != nil {
			return err
		}
		return attachLinked(ctx, tx, users)
	})
	if err != nil {
		return nil, 0, err
	}
	if users == nil {
		users = []store.User{}
	}
	return users, total, nil
}

// UserOrganizations implements store.OrganizationStore.
func (s *Store) UserOrganizations(ctx context.Context, userID string, p store.OffsetPage) ([]store.Organization, int, error) {
	var (
		out   []store.Organization
		total int
	)
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "users", "id", "user", userID); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM organization_members WHERE user_id = ?`,
			userID).Scan(&total); err != nil {
			return fmt.Errorf("sqlite: count user organizations: %w", err)
		}
		var err error
		out, err = queryOrganizations(ctx, tx, `SELECT `+prefixCols("o", orgCols)+` FROM organizations o
			JOIN organization_members m ON m.org_id = o.id WHERE m.user_id = ? ORDER BY o.name, o.id LIMIT ? OFFSET ?`,
			userID, limitArg(p.Limit), max(p.Offset, 0))
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}
