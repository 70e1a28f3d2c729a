package users

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/userdesk/userdesk/internal/mgmt"
)

// Snapshot is both metadata objects of one user at one moment: what a form was rendered from (its
// base), what a staff member submitted (mine) or what Auth0 holds now (current).
type Snapshot struct {
	User map[string]any `json:"user_metadata"`
	App  map[string]any `json:"app_metadata"`
}

// SnapshotOf is the user's metadata as a Snapshot.
func SnapshotOf(u *mgmt.User) Snapshot { return Snapshot{User: u.UserMetadata, App: u.AppMetadata} }

func (s Snapshot) object(name string) map[string]any {
	if name == "app_metadata" {
		return s.App
	}
	return s.User
}

// Auth0 has no ETag or If-Match for users (security.md §4), so the form carries what it was
// rendered from: the fingerprint (hidden field "base") is the canonical JSON of both objects (keys
// sorted, numbers as Auth0 sent them), deflated and base64url-encoded, followed by its SHA-256.
//
// Per-key hashes would be enough to tell which keys changed meanwhile, but the conflict page must
// show each key's value as it was when the form was opened, so the values themselves travel. The
// hash only catches a damaged field; it is no security boundary: a staff member who forges a base
// can do no more than one who edits the form, and the policy check, the audit entry's "before"
// values and the PATCH all come from the user as re-read on the server.
const (
	basePrefix = "m1."
	// maxBaseBytes bounds a decoded fingerprint (Auth0's request body limit is 1 MB).
	maxBaseBytes = 1 << 20
)

// errBadBase means the fingerprint is missing or damaged.
var errBadBase = errors.New("users: metadata fingerprint missing or damaged")

// Fingerprint encodes s as the form's hidden "base" field.
func Fingerprint(s Snapshot) string {
	raw := canonical(s)
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression) // only fails for an invalid level
	_, _ = w.Write(raw)                                  // writes to a bytes.Buffer cannot fail
	_ = w.Close()
	sum := sha256.Sum256(raw)
	return basePrefix + base64.RawURLEncoding.EncodeToString(buf.Bytes()) + "." +
		base64.RawURLEncoding.EncodeToString(sum[:])
}

// FingerprintOf is Fingerprint of the user's metadata.
func FingerprintOf(u *mgmt.User) string { return Fingerprint(SnapshotOf(u)) }

// ParseFingerprint decodes a Fingerprint; errBadBase when it is missing, truncated or altered.
func ParseFingerprint(token string) (Snapshot, error) {
	body, ok := strings.CutPrefix(token, basePrefix)
	if !ok {
		return Snapshot{}, errBadBase
	}
	data, sum, ok := strings.Cut(body, ".")
	if !ok {
		return Snapshot{}, errBadBase
	}
	packed, err1 := base64.RawURLEncoding.DecodeString(data)
	want, err2 := base64.RawURLEncoding.DecodeString(sum)
	if err1 != nil || err2 != nil {
		return Snapshot{}, errBadBase
	}
	raw, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(packed)), maxBaseBytes+1))
	if err != nil || len(raw) > maxBaseBytes {
		return Snapshot{}, errBadBase
	}
	got := sha256.Sum256(raw)
	if subtle.ConstantTimeCompare(got[:], want) != 1 {
		return Snapshot{}, errBadBase
	}
	var s Snapshot
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&s); err != nil {
		return Snapshot{}, errBadBase
	}
	return s, nil
}

// canonical is s as JSON with sorted keys (encoding/json sorts map keys) and no HTML escaping.
func canonical(s Snapshot) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		// Decoded JSON always encodes; anything else is a programming error worth seeing.
		panic("users: metadata is not representable as JSON: " + err.Error())
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}
