// Package reqctx holds the typed accessors for what middleware puts into a request's context: the
// signed-in staff member, the CSP nonce, the client IP (resolved through trusted proxies only) and the
// request id. Views and the audit trail read them through here only.
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
	clientIPKey
	requestIDKey
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

// WithClientIP returns ctx carrying the client's IP address as resolved by the trusted-proxy-aware
// extractor (never a raw X-Forwarded-For value from an untrusted peer).
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey, ip)
}

// ClientIP returns the request's client IP, or "".
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey).(string)
	return ip
}

// WithRequestID returns ctx carrying the id of the request, which the audit trail stores and the
// X-Request-ID response header repeats.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID returns the request's id, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}
