package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
	"github.com/userdesk/userdesk/internal/tenant/store/sqlite"
)

// TestRecoveryCodeMigration upgrades a version-5 database that already holds an authentication
// method: the method reads back unchanged with no secret hash, and the user can then get a recovery
// code beside it.
func TestRecoveryCodeMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "tenant.db")
	old, err := sqlite.OpenAtVersion(ctx, path, 5)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	u := store.User{ID: "auth0|m", Connection: "db", Provider: "auth0", Email: "m@example.com", CreatedAt: at, UpdatedAt: at}
	if err := old.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	// A version-5 build wrote auth_methods without secret_hash.
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `INSERT INTO auth_methods (user_id, id, type, name, email, phone_number,
		preferred_method, totp_secret, confirmed, created_at, last_auth_at) VALUES (?, ?, 'totp', 'App', '', '', '', 'SECRET', 1, ?, NULL)`,
		u.ID, "totp|dev_old", at.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	totp := store.AuthMethod{ID: "totp|dev_old", UserID: u.ID, Type: "totp", Name: "App", TOTPSecret: "SECRET", Confirmed: true, CreatedAt: at}
	if list, err := s.AuthMethods(ctx, u.ID); err != nil || !reflect.DeepEqual(list, []store.AuthMethod{totp}) {
		t.Fatalf("after the migration: AuthMethods = %+v, %v; want the old TOTP method, no secret hash", list, err)
	}
	code := store.AuthMethod{ID: "recovery-code|dev_new", UserID: u.ID, Type: store.RecoveryCodeType, SecretHash: "h",
		Confirmed: true, CreatedAt: at.Add(time.Hour)}
	if replaced, err := s.PutRecoveryCode(ctx, code); err != nil || replaced {
		t.Fatalf("PutRecoveryCode = %v, %v; want false, nil", replaced, err)
	}
	if list, err := s.AuthMethods(ctx, u.ID); err != nil || !reflect.DeepEqual(list, []store.AuthMethod{totp, code}) {
		t.Errorf("AuthMethods = %+v, %v; want the TOTP method and the code", list, err)
	}
}
