package tenant

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/userdesk/userdesk/internal/pwpolicy"
	"github.com/userdesk/userdesk/internal/tenant/store"
)

var (
	errUserExists = &apiError{Status: http.StatusConflict, Code: "auth0_idp_error", Message: "The user already exists."}
	// errWeakPassword: the errorCode of Auth0's PasswordStrengthError is not established (contract §10),
	// so none is sent; the message is the recorded one.
	errWeakPassword        = &apiError{Status: http.StatusBadRequest, Message: "PasswordStrengthError: Password is too weak"}
	errNoSuchConnection    = &apiError{Status: http.StatusBadRequest, Code: "inexistent_connection", Message: "The connection does not exist."}
	errEmailTaken          = &apiError{Status: http.StatusBadRequest, Message: "The specified new email already exists"}
	errUsernameTaken       = &apiError{Status: http.StatusBadRequest, Message: "The specified new username already exists"}
	phonePattern           = regexp.MustCompile(`^\+[0-9]{1,15}$`)
	usernamePattern        = regexp.MustCompile("^[A-Za-z0-9@`^$!\\-#.+'~_]+$")
	customUserIDPattern    = regexp.MustCompile(`^[A-Za-z0-9_\-.]{1,64}$`)
	reservedAppMetadata    = []string{"__tenant", "_id", "blocked", "clientID", "created_at", "email_verified", "email", "globalClientID", "global_client_id", "identities", "lastIP", "lastLogin", "loginsCount", "metadata", "multifactor_last_modified", "multifactor", "updated_at", "user_id"}
	maxPasswordBytes       = 72 // bcrypt's limit; Auth0 passwords are 1–72 bytes (contract §3.4)
	patchableUserFields    = []string{"app_metadata", "blocked", "email", "email_verified", "family_name", "given_name", "name", "nickname", "password", "phone_number", "phone_verified", "picture", "username", "user_metadata", "verify_email", "connection", "client_id", "verify_phone_number"}
	nullableUserFields     = []string{"app_metadata", "user_metadata", "given_name", "family_name", "name", "nickname", "picture", "phone_number"}
	maxNameLen, maxNickLen = 150, 350
)

// createUserBody is the POST /api/v2/users payload (contract §3.4). Pointers distinguish "absent".
type createUserBody struct {
	Connection    *string         `json:"connection"`
	Email         *string         `json:"email"`
	Username      *string         `json:"username"`
	Password      *string         `json:"password"`
	PhoneNumber   *string         `json:"phone_number"`
	PhoneVerified *bool           `json:"phone_verified"`
	UserMetadata  json.RawMessage `json:"user_metadata"`
	AppMetadata   json.RawMessage `json:"app_metadata"`
	Blocked       *bool           `json:"blocked"`
	EmailVerified *bool           `json:"email_verified"`
	VerifyEmail   *bool           `json:"verify_email"` // accepted; the tenant sends no email
	GivenName     *string         `json:"given_name"`
	FamilyName    *string         `json:"family_name"`
	Name          *string         `json:"name"`
	Nickname      *string         `json:"nickname"`
	Picture       *string         `json:"picture"`
	UserID        *string         `json:"user_id"`
}

// connectionRules are the parts of a database connection's options that govern user writes.
type connectionRules struct {
	policy           pwpolicy.Policy
	requiresUsername bool
	usernameMin      int
	usernameMax      int
}

func rulesOf(c store.Connection) connectionRules {
	var o struct {
		RequiresUsername bool `json:"requires_username"`
		Validation       struct {
			Username struct {
				Min int `json:"min"`
				Max int `json:"max"`
			} `json:"username"`
		} `json:"validation"`
	}
	_ = json.Unmarshal(c.Options, &o)
	r := connectionRules{policy: policyOf(c), requiresUsername: o.RequiresUsername, usernameMin: 1, usernameMax: 15}
	if o.Validation.Username.Min > 0 {
		r.usernameMin = o.Validation.Username.Min
	}
	if o.Validation.Username.Max > 0 {
		r.usernameMax = o.Validation.Username.Max
	}
	return r
}

// createUser is POST /api/v2/users: 201 with the full user (contract §3.4).
func (t *Tenant) createUser(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := checkParams(r.URL.Query()); err != nil {
		return err
	}
	var b createUserBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	if b.Connection == nil || *b.Connection == "" {
		return invalidBody("'Missing required property: connection' on property connection (Name of the connection this user should be created in).")
	}
	conn, err := t.store.GetConnectionByName(r.Context(), *b.Connection)
	if errors.Is(err, store.ErrNotFound) {
		return errNoSuchConnection
	}
	if err != nil {
		return err
	}
	if conn.Strategy != "auth0" {
		// [I] Auth0 creates users only in database and passwordless connections; the exact body for
		// a social connection is not established.
		return badRequest("operation_not_supported", "Users can be created only in database connections; %s uses strategy %s.", conn.Name, conn.Strategy)
	}
	rules := rulesOf(conn)
	if b.Email == nil {
		return invalidBody("'Missing required property: email' on property email (The user's email).")
	}
	if b.Password == nil {
		return invalidBody("'Missing required property: password' on property password (Initial password for this user).")
	}
	email, err := validEmail(*b.Email)
	if err != nil {
		return err
	}
	u := store.User{
		Connection: conn.Name, Provider: "auth0", Email: email, PhoneVerified: b.PhoneVerified,
		Blocked: b.Blocked,
	}
	if b.EmailVerified != nil {
		u.EmailVerified = *b.EmailVerified
	}
	if b.Username != nil {
		if u.Username, err = validUsername(*b.Username, rules); err != nil {
			return err
		}
	}
	if b.PhoneNumber != nil {
		if !phonePattern.MatchString(*b.PhoneNumber) {
			return invalidBody("'String does not match pattern ^\\+[0-9]{1,15}$: %s' on property phone_number (The user's phone number (following the E.164 recommendation)).", *b.PhoneNumber)
		}
		u.PhoneNumber = *b.PhoneNumber
	}
	for _, f := range []struct {
		name string
		in   *string
		out  *string
		max  int
	}{
		{"given_name", b.GivenName, &u.GivenName, maxNameLen},
		{"family_name", b.FamilyName, &u.FamilyName, maxNameLen},
		{"name", b.Name, &u.Name, maxNameLen},
		{"nickname", b.Nickname, &u.Nickname, maxNickLen},
	} {
		if f.in != nil {
			if err := validText(f.name, *f.in, f.max); err != nil {
				return err
			}
			*f.out = *f.in
		}
	}
	if b.Picture != nil {
		if err := validPicture(*b.Picture); err != nil {
			return err
		}
		u.Picture = *b.Picture
	}
	for _, md := range []struct {
		prop string
		raw  json.RawMessage
		dst  *json.RawMessage
	}{{"user_metadata", b.UserMetadata, &u.UserMetadata}, {"app_metadata", b.AppMetadata, &u.AppMetadata}} {
		if len(md.raw) == 0 || string(md.raw) == "null" {
			continue
		}
		m, err := parseMetadata(md.prop, md.raw)
		if err != nil {
			return err
		}
		if *md.dst, err = encodeMetadata(m); err != nil {
			return err
		}
	}
	if err := checkPassword(*b.Password, rules.policy); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(*b.Password), t.cost)
	if err != nil {
		return err
	}
	u.PasswordHash = string(hash)
	if b.UserID != nil {
		if !customUserIDPattern.MatchString(*b.UserID) {
			return invalidBody("'String does not match pattern ^[A-Za-z0-9_\\-.]{1,64}$: %s' on property user_id (The user's id).", *b.UserID)
		}
		u.ID = "auth0|" + *b.UserID
	} else {
		u.ID = "auth0|" + newObjectID()
	}
	applyProfileDefaults(&u)
	now := t.now().UTC().Truncate(time.Millisecond)
	u.CreatedAt, u.UpdatedAt = now, now
	if err := t.store.CreateUser(r.Context(), u); errors.Is(err, store.ErrAlreadyExists) {
		return errUserExists
	} else if err != nil {
		return err
	}
	t.log.InfoContext(r.Context(), "tenant: user created", "user_id", u.ID, "connection", u.Connection, "by", p.Subject)
	writeJSON(w, http.StatusCreated, toUserJSON(u))
	return nil
}

// applyProfileDefaults fills name, nickname and picture as Auth0 does when they are omitted (recorded
// in TestUserManager_Create: name = email, nickname = local part, gravatar picture).
func applyProfileDefaults(u *store.User) {
	local, _, _ := strings.Cut(u.Email, "@")
	if u.Name == "" {
		u.Name = firstNonEmpty(u.Email, u.Username, u.PhoneNumber)
	}
	if u.Nickname == "" {
		u.Nickname = firstNonEmpty(local, u.Username, u.PhoneNumber)
	}
	if u.Picture == "" {
		u.Picture = gravatarURL(u.Email, u.Nickname)
	}
}

func firstNonEmpty(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}

// newObjectID is 24 hex characters, the shape of Auth0 database user ids.
func newObjectID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func checkPassword(pw string, policy pwpolicy.Policy) error {
	if len(pw) > maxPasswordBytes {
		return invalidBody("'String is too long (%d chars), maximum %d' on property password (The user's password).", len(pw), maxPasswordBytes)
	}
	if !policy.Acceptable(pw) {
		return errWeakPassword
	}
	return nil
}

// validEmail checks the address and lower-cases it (Auth0 database connections store lower case).
func validEmail(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	local, domain, ok := strings.Cut(s, "@")
	if err != nil || a.Address != s || !ok || len(local) > 64 || len(s) > 254 || !strings.Contains(domain, ".") {
		return "", invalidBody("'Object didn't pass validation for format email: %s' on property email (The user's email).", s)
	}
	return strings.ToLower(s), nil
}

func validUsername(s string, rules connectionRules) (string, error) {
	if !rules.requiresUsername {
		return "", badRequest("invalid_body", "Cannot set username for connection without requires_username")
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n < rules.usernameMin:
		return "", invalidBody("'String is too short (%d chars), minimum %d' on property username (The user's username).", n, rules.usernameMin)
	case n > rules.usernameMax:
		return "", invalidBody("'String is too long (%d chars), maximum %d' on property username (The user's username).", n, rules.usernameMax)
	case !usernamePattern.MatchString(s) || looksLikeEmail(s):
		return "", invalidBody("'Object didn't pass validation for format username: %s' on property username (The user's username).", s)
	}
	return strings.ToLower(s), nil
}

// looksLikeEmail: Auth0 usernames may contain '@' but may not be an email address.
func looksLikeEmail(s string) bool {
	_, err := validEmail(s)
	return err == nil
}

func validText(prop, s string, maxLen int) error {
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return invalidBody("'String is too short (0 chars), minimum 1' on property %s.", prop)
	case n > maxLen:
		return invalidBody("'String is too long (%d chars), maximum %d' on property %s.", n, maxLen, prop)
	}
	return nil
}

// validPicture accepts absolute http(s) URLs only, so no javascript: or data: URL reaches a page that
// renders the picture.
func validPicture(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalidBody("'Object didn't pass validation for format absolute-uri: %s' on property picture (A URI pointing to the user's picture).", s)
	}
	return nil
}

// parseMetadata checks a metadata object: a JSON object whose key names (at every level) contain no
// '.' or '$' (contract §3.8), and, for app_metadata, no reserved top-level key with a non-null value.
func parseMetadata(prop string, raw json.RawMessage) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, invalidBody("'Expected type object but found type %s' on property %s.", jsonKind(raw), prop)
	}
	for k, v := range m {
		if prop == "app_metadata" && slices.Contains(reservedAppMetadata, k) && string(v) != "null" {
			return nil, invalidBody("'%s' is a reserved property and cannot be set in app_metadata.", k)
		}
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			return nil, invalidBody("invalid JSON in %s.%s", prop, k)
		}
		if bad := badKey(k, x); bad != "" {
			return nil, invalidBody("'Metadata field names cannot contain \".\" or \"$\": %s' on property %s.", bad, prop)
		}
	}
	return m, nil
}

// badKey returns the first key name (k itself or nested in x) that contains '.' or '$'.
func badKey(k string, x any) string {
	if strings.ContainsAny(k, ".$") {
		return k
	}
	switch v := x.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for kk := range v {
			keys = append(keys, kk)
		}
		sort.Strings(keys)
		for _, kk := range keys {
			if b := badKey(kk, v[kk]); b != "" {
				return b
			}
		}
	case []any:
		for _, e := range v {
			if b := badKey("", e); b != "" {
				return b
			}
		}
	}
	return ""
}

func jsonKind(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "null"
	}
	switch t[0] {
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '{':
		return "object"
	}
	return "number"
}

// encodeMetadata stores an object; an empty one is stored as "never set" so it is omitted.
func encodeMetadata(m map[string]json.RawMessage) (json.RawMessage, error) {
	if len(m) == 0 {
		return nil, nil
	}
	return marshal(m)
}

// mergeMetadata applies Auth0's PATCH rule (contract §3.5): null removes the object, {} clears it,
// otherwise top-level keys merge, a null value deletes its key and nested objects are replaced whole.
func mergeMetadata(old json.RawMessage, patch map[string]json.RawMessage, isNull bool) (json.RawMessage, error) {
	if isNull || len(patch) == 0 {
		return nil, nil
	}
	cur := map[string]json.RawMessage{}
	if len(old) > 0 {
		_ = json.Unmarshal(old, &cur) // stored metadata is always an object
	}
	for k, v := range patch {
		if string(bytes.TrimSpace(v)) == "null" {
			delete(cur, k)
		} else {
			cur[k] = v
		}
	}
	return encodeMetadata(cur)
}
