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

type identityJSON struct {
	Connection string `json:"connection"`
	UserID     string `json:"user_id"`
	Provider   string `json:"provider"`
	IsSocial   bool   `json:"isSocial"`
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
	_, idpID, _ := strings.Cut(u.ID, "|")
	j := userJSON{
		AppMetadata: u.AppMetadata, Blocked: u.Blocked, CreatedAt: auth0Time(u.CreatedAt),
		Email: u.Email, FamilyName: u.FamilyName, GivenName: u.GivenName,
		Identities:        []identityJSON{{Connection: u.Connection, UserID: idpID, Provider: u.Provider, IsSocial: u.IsSocial}},
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
