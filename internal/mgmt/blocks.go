package mgmt

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
)

// UserBlockManager wraps /api/v2/user-blocks: the blocks brute-force protection puts on an
// identifier (email, username or phone) signing in from an IP address after too many failed
// attempts. They are separate from the user's own "blocked" flag (User.Blocked).
type UserBlockManager struct{ c *core }

// BlockedFor is one brute-force block: Identifier blocked from IP (in Connection, when Auth0 says).
// Unknown keys are kept in Extra.
type BlockedFor struct {
	Identifier string `json:"identifier,omitempty"`
	IP         string `json:"ip,omitempty"`
	Connection string `json:"connection,omitempty"`

	// Extra holds every other key of the response.
	Extra map[string]json.RawMessage `json:"-"`
	zero  map[string]json.RawMessage // known keys that came as null or "": see decodeObject
}

// userBlocks is the body of GET /user-blocks: {"blocked_for":[…]}, [] when nothing is blocked.
type userBlocks struct {
	BlockedFor []BlockedFor `json:"blocked_for"`
}

// Get returns the brute-force blocks of every identifier of the user ([] when none). An unknown
// user is an *Error matching ErrNotFound.
//
// Scopes: read:users. See https://auth0.com/docs/api/management/v2/user-blocks/get-user-blocks-by-id
func (m *UserBlockManager) Get(ctx context.Context, id string) ([]BlockedFor, error) {
	if err := checkID("user", id); err != nil {
		return nil, err
	}
	var out userBlocks
	if err := m.c.call(ctx, http.MethodGet, routeUserBlock, m.c.endpoint("user-blocks", id), nil, nil, &out); err != nil {
		return nil, err
	}
	return nonNil(out.BlockedFor), nil
}

// Delete lifts every brute-force block of the user's identifiers (204), so the user can sign in
// again from those addresses. It does not change User.Blocked. Retried like a read.
//
// Scopes: update:users. See https://auth0.com/docs/api/management/v2/user-blocks/delete-user-blocks-by-id
func (m *UserBlockManager) Delete(ctx context.Context, id string) error {
	if err := checkID("user", id); err != nil {
		return err
	}
	return m.c.call(ctx, http.MethodDelete, routeUserBlock, m.c.endpoint("user-blocks", id), nil, nil, nil)
}

// GetByIdentifier returns the brute-force blocks of an identifier (a username, phone number or
// email), whether or not it belongs to a user.
//
// Scopes: read:users. See https://auth0.com/docs/api/management/v2/user-blocks/get-user-blocks
func (m *UserBlockManager) GetByIdentifier(ctx context.Context, identifier string) ([]BlockedFor, error) {
	q, err := identifierQuery(identifier)
	if err != nil {
		return nil, err
	}
	var out userBlocks
	if err := m.c.call(ctx, http.MethodGet, routeUserBlocks, m.c.endpoint("user-blocks"), q, nil, &out); err != nil {
		return nil, err
	}
	return nonNil(out.BlockedFor), nil
}

// DeleteByIdentifier lifts the brute-force blocks of an identifier (204). Retried like a read.
//
// Scopes: update:users. See https://auth0.com/docs/api/management/v2/user-blocks/delete-user-blocks
func (m *UserBlockManager) DeleteByIdentifier(ctx context.Context, identifier string) error {
	q, err := identifierQuery(identifier)
	if err != nil {
		return err
	}
	return m.c.call(ctx, http.MethodDelete, routeUserBlocks, m.c.endpoint("user-blocks"), q, nil, nil)
}

// identifierQuery refuses an empty identifier: without one, the call would address no block.
func identifierQuery(identifier string) (url.Values, error) {
	if strings.TrimSpace(identifier) == "" {
		return nil, errors.New("mgmt: user-blocks identifier is empty")
	}
	return url.Values{"identifier": {identifier}}, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type blockedForAlias BlockedFor

// UnmarshalJSON decodes a block, keeping unknown keys in Extra.
func (b *BlockedFor) UnmarshalJSON(data []byte) error {
	*b = BlockedFor{}
	var err error
	b.Extra, b.zero, err = decodeObject(data, (*blockedForAlias)(b))
	return err
}

// MarshalJSON encodes the block as it came, Extra keys included.
func (b BlockedFor) MarshalJSON() ([]byte, error) {
	return encodeObject(blockedForAlias(b), reflect.TypeFor[blockedForAlias](), b.Extra, b.zero)
}
