package tenant

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// MFA recovery codes (contract §5.5). A user has at most one. It is an authentication method of type
// "recovery-code" (store.RecoveryCodeType), so the authentication-method endpoints list it, delete it
// by id, and the MFA reset (DELETE …/authentication-methods) removes it with the other factors.

const (
	// recoveryCodeAlphabet and recoveryCodeLength give the recorded form: 24 characters of A–Z and
	// 0–9 ("32YCGV1JUE9G7MDJ71UTN12W"), about 124 bits of entropy.
	recoveryCodeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	recoveryCodeLength   = 24
)

// hashRecoveryCode is what is stored of a recovery code (store.AuthMethod.SecretHash): its SHA-256,
// hex encoded, as for ticket secrets. A slow hash (bcrypt) protects guessable secrets such as
// passwords; a uniformly random 124-bit code cannot be guessed from a fast hash, and SHA-256 keeps
// regeneration and seeding cheap.
func hashRecoveryCode(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// newRecoveryCode returns a fresh code and the method that stands for it (only its hash inside).
// The id follows the other methods' form, "<type>|dev_<16>".
func newRecoveryCode(userID string, now time.Time) (store.AuthMethod, string) {
	code := randomString(recoveryCodeLength, recoveryCodeAlphabet)
	return store.AuthMethod{ID: store.RecoveryCodeType + "|dev_" + randomString(16, alnum), UserID: userID,
		Type: store.RecoveryCodeType, SecretHash: hashRecoveryCode(code), Confirmed: true, CreatedAt: now}, code
}

// regenerateRecoveryCode is POST /api/v2/users/{id}/recovery-code-regeneration: 200
// {"recovery_code":"<24 characters>"} (recorded), replacing the user's previous code; 404
// inexistent_user for an unknown user. Like Auth0 (the recorded user had no MFA factor) it answers
// whether or not the user has enrolled a factor. The body is optional: go-auth0 sends {} (recorded).
// The code is in this answer only: the store keeps its hash, and the sapi event redacts it.
func (t *Tenant) regenerateRecoveryCode(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var body struct{}
	if err := decodeOptionalBody(r, &body); err != nil {
		return err
	}
	m, code := newRecoveryCode(r.PathValue("id"), t.now().UTC().Truncate(time.Millisecond))
	if _, err := t.store.PutRecoveryCode(r.Context(), m); err != nil {
		return notFoundAs(err, errUserNotFound)
	}
	writeJSON(w, http.StatusOK, struct {
		RecoveryCode string `json:"recovery_code"`
	}{code})
	return nil
}
