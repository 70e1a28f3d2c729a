package mgmt

import (
	"encoding/json"
	"time"
)

// User is an Auth0 user object as the Management API returns it. Fields Auth0 omits when unset are
// pointers or nil maps/slices (an empty but present object or array stays non-nil and is re-encoded);
// keys this struct does not know are kept in Extra so nothing is lost.
// email_verified and phone_verified are also accepted as the strings "true"/"false" (some IdPs send
// them so). Timestamps are encoded as Auth0 writes them: UTC with milliseconds.
type User struct {
	UserID            string         `json:"user_id,omitempty"`
	Email             string         `json:"email,omitempty"`
	EmailVerified     *bool          `json:"email_verified,omitempty"`
	Username          string         `json:"username,omitempty"`
	PhoneNumber       string         `json:"phone_number,omitempty"`
	PhoneVerified     *bool          `json:"phone_verified,omitempty"`
	Name              string         `json:"name,omitempty"`
	GivenName         string         `json:"given_name,omitempty"`
	FamilyName        string         `json:"family_name,omitempty"`
	Nickname          string         `json:"nickname,omitempty"`
	Picture           string         `json:"picture,omitempty"`
	Blocked           *bool          `json:"blocked,omitempty"`
	Identities        []Identity     `json:"identities,omitzero"`
	UserMetadata      map[string]any `json:"user_metadata,omitzero"`
	AppMetadata       map[string]any `json:"app_metadata,omitzero"`
	CreatedAt         *time.Time     `json:"created_at,omitempty"`
	UpdatedAt         *time.Time     `json:"updated_at,omitempty"`
	LastLogin         *time.Time     `json:"last_login,omitempty"`
	LastIP            string         `json:"last_ip,omitempty"`
	LoginsCount       *int64         `json:"logins_count,omitempty"`
	LastPasswordReset *time.Time     `json:"last_password_reset,omitempty"`
	Multifactor       []string       `json:"multifactor,omitzero"`

	// Extra holds every other key of the response (IdP profile attributes and the like).
	Extra map[string]json.RawMessage `json:"-"`
}

// Identity is one entry of a user's identities array. Auth0 sends user_id as a string or, for some
// social providers (GitHub), a number; it is always decoded to a string and re-encoded as it came.
//
// The IdP tokens Auth0 adds with the read:user_idp_tokens scope (access_token, access_token_secret,
// refresh_token) are deliberately dropped on decoding, so they can never reach a page or a log.
// Other unknown keys are kept in Extra.
type Identity struct {
	Connection  string         `json:"connection"`
	UserID      string         `json:"user_id"`
	Provider    string         `json:"provider"`
	IsSocial    bool           `json:"isSocial"`
	ProfileData map[string]any `json:"profileData,omitzero"`

	// Extra holds every other key of the identity, except the dropped IdP tokens.
	Extra map[string]json.RawMessage `json:"-"`

	numericUserID bool // user_id arrived as a JSON number
}

// UserCreate is the body of POST /api/v2/users.
type UserCreate struct {
	Connection    string         `json:"connection"`
	Email         string         `json:"email,omitempty"`
	Password      string         `json:"password,omitempty"`
	Username      string         `json:"username,omitempty"`
	UserID        string         `json:"user_id,omitempty"`
	PhoneNumber   string         `json:"phone_number,omitempty"`
	EmailVerified *bool          `json:"email_verified,omitempty"`
	VerifyEmail   *bool          `json:"verify_email,omitempty"`
	PhoneVerified *bool          `json:"phone_verified,omitempty"`
	GivenName     string         `json:"given_name,omitempty"`
	FamilyName    string         `json:"family_name,omitempty"`
	Name          string         `json:"name,omitempty"`
	Nickname      string         `json:"nickname,omitempty"`
	Picture       string         `json:"picture,omitempty"`
	Blocked       *bool          `json:"blocked,omitempty"`
	UserMetadata  map[string]any `json:"user_metadata,omitempty"`
	AppMetadata   map[string]any `json:"app_metadata,omitempty"`
}

// UserUpdate is the body of PATCH /api/v2/users/{id}. Nil fields are not sent. In the metadata maps a
// nil value is sent as null, which makes Auth0 delete that top-level key.
type UserUpdate struct {
	Email         *string        `json:"email,omitempty"`
	EmailVerified *bool          `json:"email_verified,omitempty"`
	VerifyEmail   *bool          `json:"verify_email,omitempty"`
	Username      *string        `json:"username,omitempty"`
	PhoneNumber   *string        `json:"phone_number,omitempty"`
	PhoneVerified *bool          `json:"phone_verified,omitempty"`
	Name          *string        `json:"name,omitempty"`
	GivenName     *string        `json:"given_name,omitempty"`
	FamilyName    *string        `json:"family_name,omitempty"`
	Nickname      *string        `json:"nickname,omitempty"`
	Picture       *string        `json:"picture,omitempty"`
	Password      *string        `json:"password,omitempty"`
	Blocked       *bool          `json:"blocked,omitempty"`
	Connection    *string        `json:"connection,omitempty"`
	UserMetadata  map[string]any `json:"user_metadata,omitempty"`
	AppMetadata   map[string]any `json:"app_metadata,omitempty"`
}

// ListUsersParams are the query parameters of GET /api/v2/users. The client always sends
// include_totals=true and, with a Q, search_engine=v3.
type ListUsersParams struct {
	Q       string // Lucene query, e.g. `email:"jane@example.com"` or `name:jan*`
	Page    int    // 0-based
	PerPage int    // 1..100; 0 = 50
	Sort    string // e.g. "created_at:-1"
}

// UserList is the include_totals envelope of GET /api/v2/users.
type UserList struct {
	Start  int    `json:"start"`
	Limit  int    `json:"limit"`
	Length int    `json:"length"`
	Total  int    `json:"total"`
	Users  []User `json:"users"`
}

// Connection is an Auth0 connection as GET /api/v2/connections returns it. With Fields set in the
// request only the asked keys (plus is_domain_connection) come back, so most fields may be empty.
type Connection struct {
	ID                 string         `json:"id,omitempty"`
	Name               string         `json:"name,omitempty"`
	DisplayName        string         `json:"display_name,omitempty"`
	Strategy           string         `json:"strategy,omitempty"`
	Options            map[string]any `json:"options,omitzero"`
	EnabledClients     []string       `json:"enabled_clients,omitzero"`
	Realms             []string       `json:"realms,omitzero"`
	IsDomainConnection bool           `json:"is_domain_connection"`
	Metadata           map[string]any `json:"metadata,omitzero"`

	// Extra holds every other key of the response (authentication, connected_accounts, ...).
	Extra map[string]json.RawMessage `json:"-"`
}

// ListConnectionsParams are the query parameters of GET /api/v2/connections.
type ListConnectionsParams struct {
	Strategy []string // e.g. "auth0", "google-oauth2"; any of them matches
	Name     string   // exact connection name
	Fields   []string // keys to return (include_fields=true); nil = all
	Page     int      // 0-based
	PerPage  int      // 0 = 50
}

// ConnectionList is the include_totals envelope of GET /api/v2/connections (no "length" key).
type ConnectionList struct {
	Start       int          `json:"start"`
	Limit       int          `json:"limit"`
	Total       int          `json:"total"`
	Connections []Connection `json:"connections"`
}
