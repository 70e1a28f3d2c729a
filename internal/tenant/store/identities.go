package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Account linking (Auth0 Management API POST /users/{id}/identities and
// DELETE /users/{id}/identities/{provider}/{user_id}): a secondary user account becomes an identity of a
// primary user. The secondary user record is gone while it is linked (GetUser answers ErrNotFound, lists
// and searches leave it out, it no longer counts as a user) and its identity, with the profile it had,
// is part of the primary's User.Linked. Unlinking makes it a user of its own again.

// Errors of LinkUser and UnlinkIdentity besides ErrNotFound (the primary user is missing). Both
// not-found errors wrap ErrNotFound, so errors.Is(err, ErrNotFound) holds for them too; test for them
// first to tell which record is missing.
var (
	// ErrSecondaryNotFound: LinkUser's secondary user does not exist.
	ErrSecondaryNotFound = fmt.Errorf("secondary user: %w", ErrNotFound)
	// ErrIdentityNotFound: the primary user has no linked identity with that provider and user id.
	ErrIdentityNotFound = fmt.Errorf("linked identity: %w", ErrNotFound)
	// ErrInvalidLink: the link is refused: a user linked to itself, or a secondary user that has linked
	// identities of its own (Auth0 keeps one level of linking).
	ErrInvalidLink = errors.New("store: invalid link")
)

// LinkedIdentity is the identity of an account linked into a primary user, with the profile the
// account had when it was linked.
type LinkedIdentity struct {
	Connection string // connection name
	Provider   string // "auth0", "google-oauth2", ...
	// UserID is the identity provider's id: the former user id without its "<provider>|" prefix (the
	// whole former id when it had no "|"). The account gets the id "<Provider>|<UserID>" back when it is
	// unlinked.
	UserID   string
	IsSocial bool
	Profile  Profile
	// PasswordHash is the account's bcrypt hash (empty for social accounts), kept so that unlinking
	// gives the account its credentials back. Never shown.
	PasswordHash string
	LinkedAt     time.Time
}

// Profile is the part of a user record an identity keeps while linked (Auth0's profileData). Empty
// strings and nil pointers mean "never set", as in User.
type Profile struct {
	Email         string
	EmailVerified bool
	Username      string
	PhoneNumber   string
	PhoneVerified *bool
	Name          string
	GivenName     string
	FamilyName    string
	Nickname      string
	Picture       string
}

// ProfileOf returns the profile part of u.
func ProfileOf(u User) Profile {
	return Profile{Email: u.Email, EmailVerified: u.EmailVerified, Username: u.Username,
		PhoneNumber: u.PhoneNumber, PhoneVerified: u.PhoneVerified, Name: u.Name, GivenName: u.GivenName,
		FamilyName: u.FamilyName, Nickname: u.Nickname, Picture: u.Picture}
}

// LinkStore is the part of Store behind account linking.
type LinkStore interface {
	// LinkUser makes the user secondaryID an identity of the user primaryID, in one transaction: the
	// secondary user record is removed together with everything that belongs to a user (role
	// assignments, direct permissions, authentication methods, sessions, refresh tokens, tickets,
	// organization memberships, as DeleteUser removes them), its identity and profile are appended to the primary's Linked, and the
	// primary's UpdatedAt becomes at. It returns the primary as GetUser then returns it.
	//
	// While linked, the identity keeps its keys: its former user id, and its email and username within
	// its connection, stay taken (CreateUser, CreateUsers and UpdateUser answer ErrAlreadyExists for
	// them), so unlinking can always give the account back. Deleting the primary deletes its linked
	// identities.
	//
	// Errors: ErrNotFound when the primary is missing, ErrSecondaryNotFound when the secondary is,
	// ErrInvalidLink when primaryID == secondaryID or the secondary has linked identities itself.
	// Nothing changes on error.
	LinkUser(ctx context.Context, primaryID, secondaryID string, at time.Time) (User, error)

	// UnlinkIdentity removes the identity (provider, userID) from the primary's Linked and, in the same
	// transaction, recreates its account as the user "<provider>|<userID>" with the identity's
	// connection, IsSocial, profile and password hash, CreatedAt = UpdatedAt = at and nothing else
	// (no metadata, no logins, not blocked). The primary's UpdatedAt becomes at. It returns the primary
	// and the recreated user as GetUser then returns them.
	//
	// Errors: ErrNotFound when the primary is missing, ErrIdentityNotFound when it has no such linked
	// identity (its own primary identity included: that one is not in Linked). Nothing changes on error.
	UnlinkIdentity(ctx context.Context, primaryID, provider, userID string, at time.Time) (primary, restored User, err error)
}
