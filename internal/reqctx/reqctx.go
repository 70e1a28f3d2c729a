// Package reqctx holds the typed accessors for what middleware puts into a request's context: the
// signed-in staff member, the CSP nonce and the CSRF form token. Views read them through here only.
package reqctx

import (
	"context"

	"github.com/userdesk/userdesk/internal/authz"
)

// Staff is the signed-in staff member, as the identity provider's ID token described them.
type Staff struct {
	Issuer  string
	Subject string
	Email   string
	Name    string
	Roles   []string   // the identity provider's group/role claim values
	Role    authz.Role // the Userdesk role they map to
}

type key int

const (
	staffKey key = iota
	nonceKey
)

// WithStaff returns ctx carrying s.
func WithStaff(ctx context.Context, s Staff) context.Context {
	return context.WithValue(ctx, staffKey, s)
}

// StaffFrom returns the signed-in staff member and whether there is one.
func StaffFrom(ctx context.Context) (Staff, bool) {
	s, ok := ctx.Value(staffKey).(Staff)
	return s, ok
}

// WithNonce returns ctx carrying the response's CSP nonce.
func WithNonce(ctx context.Context, nonce string) context.Context {
	return context.WithValue(ctx, nonceKey, nonce)
}

// Nonce returns the response's CSP nonce, or "".
func Nonce(ctx context.Context) string {
	n, _ := ctx.Value(nonceKey).(string)
	return n
}
