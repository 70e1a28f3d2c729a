// Package store defines the embedded tenant's storage contract: users, connections, clients and their
// grants, signing keys, authorization codes, settings, the support-console records and organizations.
// Every backend implements Store and passes the conformance suite in store/conformance.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Sentinel errors every backend returns (wrapped or bare) so callers can use errors.Is.
var (
	// ErrNotFound: the addressed record does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyExists: a unique key (user id, email or username within a connection, connection name,
	// client id, ...) is already taken.
	ErrAlreadyExists = errors.New("store: already exists")
	// ErrUnsupportedQuery: a Query uses a field or form the backend cannot evaluate.
	ErrUnsupportedQuery = errors.New("store: unsupported query")
)

// User is one account in one connection. Empty strings and nil pointers/RawMessages mean "never set";
// the HTTP layer omits them from responses, as Auth0 does.
type User struct {
	ID            string // full user_id, "<provider>|<id>", e.g. "auth0|63d17c4a8869daf88ed7db97"
	Connection    string // connection name, e.g. "Username-Password-Authentication"
	Provider      string // "auth0", "google-oauth2", ...
	IsSocial      bool
	Email         string // stored lower case for database connections
	EmailVerified bool
	Username      string
	PhoneNumber   string
	PhoneVerified *bool
	Name          string
	GivenName     string
	FamilyName    string
	Nickname      string
	Picture       string
	PasswordHash  string // bcrypt; empty for social users
	Blocked       *bool
	UserMetadata  json.RawMessage // a JSON object, or nil when never set
	AppMetadata   json.RawMessage // a JSON object, or nil when never set

	CreatedAt         time.Time
	UpdatedAt         time.Time
	LastLogin         *time.Time
	LastIP            string
	LoginsCount       int
	LastPasswordReset *time.Time

	// Linked are the identities of other accounts linked into this one (Auth0 account linking, see
	// LinkStore), in the order they were linked; nil when there are none. Every read fills it
	// (GetUser, UpdateUser, ListUsers, UsersByEmail, RoleMembers); CreateUser, CreateUsers and
	// UpdateUser ignore it: only LinkUser and UnlinkIdentity change it.
	Linked []LinkedIdentity
}

// Query selects users. Expr nil matches everyone.
type Query struct {
	Expr Expr
	// Sort is a user field: user_id, created_at, updated_at, last_login, logins_count, email, name,
	// given_name, family_name, nickname or username; empty = by user id. Text fields sort by their
	// lower-cased value; the user id breaks ties, in the same direction.
	Sort string
	Desc bool
	// After, when not empty, is a keyset cursor: only users whose id sorts after it (greater, or
	// smaller when Desc) are returned, so a caller walking every user reads each page in time that does
	// not grow with its position. It requires the user-id order (Sort "" or "user_id"); with another
	// Sort it is ErrUnsupportedQuery. Offset still applies, after the cursor, and the total counts
	// the matches after the cursor.
	After   string
	Offset  int
	Limit   int // 0 = no limit
	NoTotal bool
}

// Expr is a boolean filter over users: Term, Range, Exists, And, Or, Not.
type Expr interface{ isExpr() }

// Term matches Field against Value. Field is an Auth0 search field:
//
//   - text: email, name, given_name, family_name, nickname (these five case-insensitively), username,
//     user_id, phone_number, last_ip, identities.connection, identities.provider (case-sensitively);
//     Prefix means "Value*", Suffix "*Value", Contains "*Value*";
//   - booleans: blocked, email_verified, phone_verified ("true" or "false"; a never-set blocked or
//     phone_verified matches neither);
//   - logins_count (an integer, exact);
//   - user_metadata.<path> and app_metadata.<path> (dot-separated keys; exact and case-sensitive, no
//     wildcards): the value matches an equal JSON string, an equal number, or true/false; at an array
//     any element may match, and one array of objects along the path is looked through
//     (user_metadata.addresses.city matches {"addresses":[{"city":"Paris"}]}).
//
// Any other field, a wildcard on a non-text field or a malformed value is ErrUnsupportedQuery.
type Term struct {
	Field    string
	Value    string
	Prefix   bool
	Suffix   bool
	Contains bool
}

// Range matches Field between Lo and Hi ("" = open); fields: created_at, updated_at, last_login
// (RFC 3339 or a date prefix), logins_count. A date bound names a period ("2017-12" is the month,
// "2017-12-31" the day, zone-less forms are UTC): an inclusive bound includes the whole period, an
// exclusive one excludes it, as Lucene's date rounding does. Users whose last_login is unset never match.
type Range struct {
	Field          string
	Lo, Hi         string
	LoIncl, HiIncl bool
}

// Exists matches users for which Field has a value: a non-empty string, a set *bool or *time.Time, a
// logins_count above zero, a non-nil metadata object, or a non-null value at a metadata path.
type Exists struct{ Field string }

// And, Or and Not combine expressions.
type (
	And []Expr
	Or  []Expr
	Not struct{ X Expr }
)

func (Term) isExpr()   {}
func (Range) isExpr()  {}
func (Exists) isExpr() {}
func (And) isExpr()    {}
func (Or) isExpr()     {}
func (Not) isExpr()    {}

// Connection is an identity store. Options is the Auth0 options object (passwordPolicy,
// password_complexity_options, requires_username, ...).
type Connection struct {
	ID                 string // "con_" + 16 characters
	Name               string
	Strategy           string // "auth0", "google-oauth2", ...
	Options            json.RawMessage
	EnabledClients     []string
	Realms             []string
	IsDomainConnection bool
}

// Client is an application registered in the tenant.
type Client struct {
	ClientID     string
	ClientSecret string
	Name         string
	AppType      string   // "non_interactive" (M2M) or "regular_web"
	GrantTypes   []string // "client_credentials", "authorization_code"
	Callbacks    []string // allowed redirect_uri values
}

// ClientGrant authorizes a client for an API audience with scopes.
type ClientGrant struct {
	ID       string // "cgr_" + 16 characters
	ClientID string
	Audience string
	Scope    []string
}

// SigningKey is the tenant's RS256 key; the newest is used to sign.
type SigningKey struct {
	KID           string
	PrivateKeyPEM []byte // PKCS#8 PEM
	CreatedAt     time.Time
}

// AuthCode is a one-time authorization code of the OIDC code flow.
type AuthCode struct {
	Code                string
	ClientID            string
	UserID              string
	RedirectURI         string
	Scope               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	ExpiresAt           time.Time
}

// Store is the embedded tenant's storage. All methods are safe for concurrent use.
type Store interface {
	// CreateUser inserts u. ErrAlreadyExists when the id, or the email or username within the same
	// connection, is taken.
	CreateUser(ctx context.Context, u User) error
	// GetUser returns the user with that full user_id, or ErrNotFound.
	GetUser(ctx context.Context, id string) (User, error)
	// UpdateUser applies fn to the stored user inside one transaction and stores its result.
	// ErrNotFound when missing; ErrAlreadyExists when the new email/username is taken in the connection;
	// an error from fn aborts the update and is returned as is.
	UpdateUser(ctx context.Context, id string, fn func(old User) (User, error)) (User, error)
	// DeleteUser removes the user; ErrNotFound when missing.
	DeleteUser(ctx context.Context, id string) error
	// ListUsers returns the page of users matching q and, unless q.NoTotal, the number of all matches.
	ListUsers(ctx context.Context, q Query) (users []User, total int, err error)
	// UsersByEmail returns every user (in any connection) with exactly that email.
	UsersByEmail(ctx context.Context, email string) ([]User, error)
	// CreateUsers inserts many users in batched transactions (seeding).
	CreateUsers(ctx context.Context, us []User) error

	CreateConnection(ctx context.Context, c Connection) error
	UpdateConnection(ctx context.Context, id string, fn func(old Connection) (Connection, error)) (Connection, error)
	GetConnection(ctx context.Context, id string) (Connection, error)
	GetConnectionByName(ctx context.Context, name string) (Connection, error)
	ListConnections(ctx context.Context) ([]Connection, error) // ordered by name

	CreateClient(ctx context.Context, c Client) error
	UpdateClient(ctx context.Context, id string, fn func(old Client) (Client, error)) (Client, error)
	GetClient(ctx context.Context, id string) (Client, error)
	ListClients(ctx context.Context) ([]Client, error)

	// CreateClientGrant stores g. ErrAlreadyExists when the id or the (client, audience) pair is taken;
	// ErrNotFound when the client does not exist.
	CreateClientGrant(ctx context.Context, g ClientGrant) error
	// GetClientGrant returns the grant of clientID for audience, or ErrNotFound.
	GetClientGrant(ctx context.Context, clientID, audience string) (ClientGrant, error)
	UpdateClientGrant(ctx context.Context, id string, fn func(old ClientGrant) (ClientGrant, error)) (ClientGrant, error)

	// AddSigningKey stores a key; SigningKeys lists all, newest first.
	AddSigningKey(ctx context.Context, k SigningKey) error
	SigningKeys(ctx context.Context) ([]SigningKey, error)

	CreateAuthCode(ctx context.Context, c AuthCode) error
	// TakeAuthCode returns and deletes the code (single use); ErrNotFound when missing or already taken.
	TakeAuthCode(ctx context.Context, code string) (AuthCode, error)

	// GetSetting returns a tenant-level setting, ErrNotFound when unset; PutSetting upserts it.
	GetSetting(ctx context.Context, key string) (string, error)
	PutSetting(ctx context.Context, key, value string) error

	Close() error

	SupportStore
	LinkStore         // account linking (identities.go)
	OrganizationStore // organizations and their members (organizations.go)
}
