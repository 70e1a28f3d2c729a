package users

import (
	"encoding/json"

	"github.com/userdesk/userdesk/internal/pwpolicy"
)

// PasswordPolicy is a database connection's password policy (package pwpolicy, shared with the
// embedded tenant). Userdesk checks a password against it before sending it, so staff see which rule
// failed instead of Auth0's PasswordStrengthError.
type PasswordPolicy = pwpolicy.Policy

// PolicyFromOptions reads a connection's options as the Management API returns them.
func PolicyFromOptions(options map[string]any) PasswordPolicy {
	b, _ := json.Marshal(options) // a decoded JSON object always re-encodes
	return pwpolicy.FromOptions(b)
}
