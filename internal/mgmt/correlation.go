package mgmt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// maxCorrelationID is how much of X-Correlation-ID Auth0 keeps (contract §2).
const maxCorrelationID = 64

type correlationKey struct{}

// WithCorrelationID returns a context whose writes (POST, PATCH, PUT, DELETE) send id as
// X-Correlation-ID, which Auth0 records in the tenant log's sapi event. The id is cleaned first:
// characters outside printable ASCII (space excluded) are dropped and it is cut to 64 characters,
// which is all Auth0 keeps; CorrelationID returns the cleaned value, so the audit trail stores
// exactly what was sent. An id that cleans to "" is ignored and the client generates one.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, cleanCorrelationID(id))
}

// CorrelationID returns the id set by WithCorrelationID, or "".
func CorrelationID(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey{}).(string)
	return id
}

// NewCorrelationID returns a random 128-bit id in hex (32 characters). Callers that audit a write
// create one, put it in the context with WithCorrelationID and store it with the audit event.
func NewCorrelationID() string {
	var b [16]byte
	rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

func cleanCorrelationID(id string) string {
	var b strings.Builder
	for i := 0; i < len(id) && b.Len() < maxCorrelationID; i++ {
		if c := id[i]; c > ' ' && c < 0x7f {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// correlationFor returns the context's id, or a new one.
func correlationFor(ctx context.Context) string {
	if id := CorrelationID(ctx); id != "" {
		return id
	}
	return NewCorrelationID()
}
