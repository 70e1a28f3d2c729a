package tenant

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// auth0Time formats timestamps as Auth0 does: RFC 3339 UTC with milliseconds.
func auth0Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func auth0TimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return auth0Time(*t)
}

// identityJSON is one element of a user's identities. ProfileData is what the identity's account
// says about the user: a user object leaves it out of its primary identity and shows it on each linked
// one, and the link and unlink answers show it on every identity (recorded in
// TestUserManager_Unlink; identities.go).
type identityJSON struct {
	ProfileData *profileJSON `json:"profileData,omitempty"`
	Connection  string       `json:"connection"`
	UserID      string       `json:"user_id"`
	Provider    string       `json:"provider"`
	IsSocial    bool         `json:"isSocial"`
}

// profileJSON is an identity's profileData, in the recorded key order; unset attributes are omitted.
type profileJSON struct {
	Email         string `json:"email,omitempty"`
	Name          string `json:"name,omitempty"`
	GivenName     string `json:"given_name,omitempty"`
	FamilyName    string `json:"family_name,omitempty"`
	Username      string `json:"username,omitempty"`
	Nickname      string `json:"nickname,omitempty"`
	Picture       string `json:"picture,omitempty"`
	PhoneNumber   string `json:"phone_number,omitempty"`
	PhoneVerified *bool  `json:"phone_verified,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
}

// toProfileJSON is the profileData of an account with profile p. name, nickname and picture are left
// out when they are the values the tenant fills in for an account that did not set them
// (applyProfileDefaults). The recording shows no "name" for a user created without one, whose name
// is its email [R REC:TestUserManager_Unlink.yaml]; reading that as "profileData keeps only what the
// account set", and leaving default nicknames and pictures out the same way, is [I].
func toProfileJSON(p store.Profile) *profileJSON {
	defaults := store.User{Email: p.Email, Username: p.Username, PhoneNumber: p.PhoneNumber, Nickname: p.Nickname}
	applyProfileDefaults(&defaults)
	j := &profileJSON{Email: p.Email, GivenName: p.GivenName, FamilyName: p.FamilyName, Username: p.Username,
		PhoneNumber: p.PhoneNumber, PhoneVerified: p.PhoneVerified}
	if p.Name != defaults.Name {
		j.Name = p.Name
	}
	// The default nickname is derived from the email, the default picture from the email and the
	// nickname the account has.
	if local, _, _ := strings.Cut(p.Email, "@"); p.Nickname != firstNonEmpty(local, p.Username, p.PhoneNumber) {
		j.Nickname = p.Nickname
	}
	if p.Picture != defaults.Picture {
		j.Picture = p.Picture
	}
	if p.Email != "" { // as on the user object: email_verified accompanies an email
		v := p.EmailVerified
		j.EmailVerified = &v
	}
	return j
}

// userIdentities is u's identities array: its own identity, then its linked ones (with profileData).
// withProfiles adds profileData to its own identity too, as the link and unlink answers do.
func userIdentities(u store.User, withProfiles bool) []identityJSON {
	_, idpID, _ := strings.Cut(u.ID, "|")
	ids := make([]identityJSON, 0, 1+len(u.Linked))
	own := identityJSON{Connection: u.Connection, UserID: idpID, Provider: u.Provider, IsSocial: u.IsSocial}
	if withProfiles {
		own.ProfileData = toProfileJSON(store.ProfileOf(u))
	}
	ids = append(ids, own)
	for _, li := range u.Linked {
		ids = append(ids, identityJSON{ProfileData: toProfileJSON(li.Profile), Connection: li.Connection,
			UserID: li.UserID, Provider: li.Provider, IsSocial: li.IsSocial})
	}
	return ids
}

// userJSON is the Management API user object (contract §3.7). Unset attributes are omitted, as in
// every recorded response.
type userJSON struct {
	AppMetadata       json.RawMessage `json:"app_metadata,omitempty"`
	Blocked           *bool           `json:"blocked,omitempty"`
	CreatedAt         string          `json:"created_at"`
	Email             string          `json:"email,omitempty"`
	EmailVerified     *bool           `json:"email_verified,omitempty"`
	FamilyName        string          `json:"family_name,omitempty"`
	GivenName         string          `json:"given_name,omitempty"`
	Identities        []identityJSON  `json:"identities"`
	LastIP            string          `json:"last_ip,omitempty"`
	LastLogin         string          `json:"last_login,omitempty"`
	LastPasswordReset string          `json:"last_password_reset,omitempty"`
	LoginsCount       int             `json:"logins_count,omitempty"`
	Name              string          `json:"name,omitempty"`
	Nickname          string          `json:"nickname,omitempty"`
	PhoneNumber       string          `json:"phone_number,omitempty"`
	PhoneVerified     *bool           `json:"phone_verified,omitempty"`
	Picture           string          `json:"picture,omitempty"`
	UpdatedAt         string          `json:"updated_at"`
	UserID            string          `json:"user_id"`
	UserMetadata      json.RawMessage `json:"user_metadata,omitempty"`
	Username          string          `json:"username,omitempty"`
}

func toUserJSON(u store.User) userJSON {
	j := userJSON{
		AppMetadata: u.AppMetadata, Blocked: u.Blocked, CreatedAt: auth0Time(u.CreatedAt),
		Email: u.Email, FamilyName: u.FamilyName, GivenName: u.GivenName,
		Identities:        userIdentities(u, false),
		LastIP:            u.LastIP,
		LastLogin:         auth0TimePtr(u.LastLogin),
		LastPasswordReset: auth0TimePtr(u.LastPasswordReset),
		LoginsCount:       u.LoginsCount, Name: u.Name, Nickname: u.Nickname, PhoneNumber: u.PhoneNumber,
		PhoneVerified: u.PhoneVerified, Picture: u.Picture, UpdatedAt: auth0Time(u.UpdatedAt),
		UserID: u.ID, UserMetadata: u.UserMetadata, Username: u.Username,
	}
	if u.Email != "" { // email_verified accompanies an email (recorded false for a fresh user)
		v := u.EmailVerified
		j.EmailVerified = &v
	}
	return j
}

// fieldSelection is the fields/include_fields query pair: an empty list selects everything.
type fieldSelection struct {
	fields  map[string]bool
	include bool
	keep    []string // always kept (e.g. is_domain_connection for connections)
}

func (s fieldSelection) active() bool { return len(s.fields) > 0 }

// apply marshals v and filters its top-level keys.
func (s fieldSelection) apply(v any) (json.RawMessage, error) {
	b, err := marshal(v)
	if err != nil || !s.active() {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k := range m {
		if s.fields[k] != s.include && !slices.Contains(s.keep, k) {
			delete(m, k)
		}
	}
	return marshal(m)
}

// gravatarURL is Auth0's default picture (contract §3.4): md5 of the email, with a fallback avatar of
// the first two letters of the nickname [I].
func gravatarURL(email, nickname string) string {
	sum := md5.Sum([]byte(strings.ToLower(strings.TrimSpace(email))))
	var initials []rune
	for _, r := range strings.ToLower(nickname) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			initials = append(initials, r)
			if len(initials) == 2 {
				break
			}
		}
	}
	if len(initials) == 0 {
		initials = []rune("un")
	}
	return "https://s.gravatar.com/avatar/" + hex.EncodeToString(sum[:]) + "?s=480&r=pg&d=" +
		url.QueryEscape("https://cdn.auth0.com/avatars/"+string(initials)+".png")
}
