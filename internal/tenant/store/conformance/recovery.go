package conformance

import (
	"reflect"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// testRecoveryCode covers PutRecoveryCode: a user has at most one recovery-code method; putting a new
// one replaces the old (whatever its id) and keeps only the hash it is given, the user's other
// methods and other users' codes stay, a single delete and the MFA reset (DeleteAuthMethods) remove
// it, and a failed put changes nothing.
func testRecoveryCode(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, dbUser("rc", "rc@example.com"), dbUser("rcother", "rcother@example.com"))
	const uid, other = "auth0|rc", "auth0|rcother"
	rc := func(user, id, hash string, at time.Time) store.AuthMethod {
		return store.AuthMethod{ID: id, UserID: user, Type: store.RecoveryCodeType, SecretHash: hash, Confirmed: true, CreatedAt: at}
	}
	totp := store.AuthMethod{ID: "totp|dev_1", UserID: uid, Type: "totp", TOTPSecret: "SECRET", Confirmed: true, CreatedAt: base}
	mustDo(t, "CreateAuthMethod totp", s.CreateAuthMethod(ctx, totp))
	otherCode := rc(other, "recovery-code|dev_o", "hash-other", base)
	if replaced, err := s.PutRecoveryCode(ctx, otherCode); err != nil || replaced {
		t.Fatalf("PutRecoveryCode(other user's first) = %v, %v; want false, nil", replaced, err)
	}

	first := rc(uid, "recovery-code|dev_1", "hash-1", base.Add(time.Minute))
	if replaced, err := s.PutRecoveryCode(ctx, first); err != nil || replaced {
		t.Fatalf("PutRecoveryCode(first) = %v, %v; want false, nil", replaced, err)
	}
	second := rc(uid, "recovery-code|dev_2", "hash-2", base.Add(2*time.Minute))
	if replaced, err := s.PutRecoveryCode(ctx, second); err != nil || !replaced {
		t.Fatalf("PutRecoveryCode(second) = %v, %v; want true, nil", replaced, err)
	}
	list, err := s.AuthMethods(ctx, uid)
	if err != nil || !reflect.DeepEqual(list, []store.AuthMethod{totp, second}) {
		t.Errorf("after regenerating: AuthMethods = %+v, %v; want the TOTP method and only the second code, hash kept as given", list, err)
	}
	for _, m := range list {
		if m.SecretHash == first.SecretHash {
			t.Errorf("the replaced code's hash is still stored in %+v", m)
		}
	}
	_, err = s.GetAuthMethod(ctx, uid, first.ID)
	wantErr(t, "GetAuthMethod(replaced code)", err, store.ErrNotFound)
	if got, err := s.GetAuthMethod(ctx, uid, second.ID); err != nil || !reflect.DeepEqual(got, second) {
		t.Errorf("GetAuthMethod(current code) = %+v, %v", got, err)
	}
	// Same id again: still one method, the new hash.
	again := rc(uid, second.ID, "hash-3", base.Add(3*time.Minute))
	if replaced, err := s.PutRecoveryCode(ctx, again); err != nil || !replaced {
		t.Errorf("PutRecoveryCode(same id) = %v, %v; want true, nil", replaced, err)
	}
	if list, _ := s.AuthMethods(ctx, uid); !reflect.DeepEqual(list, []store.AuthMethod{totp, again}) {
		t.Errorf("after regenerating under the same id: AuthMethods = %+v", list)
	}

	// Failures change nothing.
	_, err = s.PutRecoveryCode(ctx, rc("auth0|ghost", "recovery-code|dev_g", "h", base))
	wantErr(t, "PutRecoveryCode(unknown user)", err, store.ErrNotFound)
	_, err = s.PutRecoveryCode(ctx, rc(uid, totp.ID, "hash-clash", base))
	wantErr(t, "PutRecoveryCode(id of the TOTP method)", err, store.ErrAlreadyExists)
	notCode := rc(uid, "totp|dev_9", "h", base)
	notCode.Type = "totp"
	if _, err := s.PutRecoveryCode(ctx, notCode); err == nil {
		t.Errorf("PutRecoveryCode(type totp) succeeded; want an error")
	}
	wantErr(t, "CreateAuthMethod(a second recovery code)", s.CreateAuthMethod(ctx, rc(uid, "recovery-code|dev_x", "h", base)), store.ErrAlreadyExists)
	if list, _ := s.AuthMethods(ctx, uid); !reflect.DeepEqual(list, []store.AuthMethod{totp, again}) {
		t.Errorf("after failed puts: AuthMethods = %+v, want them unchanged", list)
	}

	// Deleting the single method, then the MFA reset.
	mustDo(t, "DeleteAuthMethod(code)", s.DeleteAuthMethod(ctx, uid, again.ID))
	if replaced, err := s.PutRecoveryCode(ctx, first); err != nil || replaced {
		t.Errorf("PutRecoveryCode after deleting the code = %v, %v; want false, nil", replaced, err)
	}
	if n, err := s.DeleteAuthMethods(ctx, uid); err != nil || n != 2 {
		t.Errorf("DeleteAuthMethods = %d, %v; want 2 (TOTP and recovery code)", n, err)
	}
	if list, err := s.AuthMethods(ctx, uid); err != nil || len(list) != 0 {
		t.Errorf("after the MFA reset: AuthMethods = %+v, %v; want none", list, err)
	}
	if list, err := s.AuthMethods(ctx, other); err != nil || !reflect.DeepEqual(list, []store.AuthMethod{otherCode}) {
		t.Errorf("other user's methods = %+v, %v; want its own code untouched", list, err)
	}
}
