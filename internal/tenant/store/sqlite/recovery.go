package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// recoveryCodeMigration (version 6) lets an authentication method hold the hash of an MFA recovery
// code (store.AuthMethod.SecretHash; existing rows get "") and keeps a user at one recovery-code
// method at most: a partial unique index refuses a second one whatever the statement that inserts it.
var recoveryCodeMigration = migration{
	version: 6,
	name:    "MFA recovery codes: secret hash, one per user",
	stmts: []string{
		`ALTER TABLE auth_methods ADD COLUMN secret_hash TEXT NOT NULL DEFAULT ''`,
		`CREATE UNIQUE INDEX auth_methods_one_recovery_code ON auth_methods (user_id) WHERE type = 'recovery-code'`,
	},
}

// PutRecoveryCode implements store.SupportStore: the delete and the insert share one write
// transaction, so a reader sees the old code's method or the new one, never both or neither.
func (s *Store) PutRecoveryCode(ctx context.Context, m store.AuthMethod) (bool, error) {
	if m.Type != store.RecoveryCodeType {
		return false, fmt.Errorf("sqlite: put recovery code: method type %q, want %q", m.Type, store.RecoveryCodeType)
	}
	var replaced bool
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "users", "id", "user", m.UserID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM auth_methods WHERE user_id = ? AND type = ?`, m.UserID, store.RecoveryCodeType)
		if err != nil {
			return mapErr("put recovery code", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, insertAuthMethodSQL, authMethodValues(m)...); err != nil {
			return mapErr(fmt.Sprintf("put recovery code %q", m.ID), err)
		}
		replaced = n > 0
		return nil
	})
	return replaced, err
}
