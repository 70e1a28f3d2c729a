package mgmt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// auth0TimeLayout is how Auth0 writes timestamps ("2023-01-25T19:00:26.187Z"). Encoding with it
// (instead of RFC 3339 nano, which drops trailing zeros) reproduces Auth0's text exactly.
const auth0TimeLayout = "2006-01-02T15:04:05.000Z"

// isUserKey reports whether a JSON key of a user object maps to a field of User (see the struct tags;
// TestKnownKeysMatchTags keeps the two in step).
func isUserKey(k string) bool {
	switch k {
	case "user_id", "email", "email_verified", "username", "phone_number", "phone_verified", "name",
		"given_name", "family_name", "nickname", "picture", "blocked", "identities", "user_metadata",
		"app_metadata", "created_at", "updated_at", "last_login", "last_ip", "logins_count",
		"last_password_reset", "multifactor":
		return true
	}
	return false
}

func isIdentityKey(k string) bool {
	switch k {
	case "connection", "user_id", "provider", "isSocial", "profileData":
		return true
	}
	return false
}

// isIdentitySecret lists the IdP credentials Identity drops (see Identity).
func isIdentitySecret(k string) bool {
	switch k {
	case "access_token", "access_token_secret", "refresh_token":
		return true
	}
	return false
}

func isConnectionKey(k string) bool {
	switch k {
	case "id", "name", "display_name", "strategy", "options", "enabled_clients", "realms",
		"is_domain_connection", "metadata":
		return true
	}
	return false
}

type userAlias User

// UnmarshalJSON decodes a user, accepting "true"/"false" strings for the verified flags and keeping
// unknown keys in Extra.
func (u *User) UnmarshalJSON(data []byte) error {
	*u = User{}
	aux := struct {
		*userAlias
		EmailVerified flexBool `json:"email_verified"`
		PhoneVerified flexBool `json:"phone_verified"`
	}{userAlias: (*userAlias)(u)}
	aux.EmailVerified.dst = &u.EmailVerified
	aux.PhoneVerified.dst = &u.PhoneVerified
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	extra, err := extraKeys(data, isUserKey)
	if err != nil {
		return err
	}
	u.Extra = extra
	return nil
}

// MarshalJSON encodes the known fields, timestamps in Auth0's layout, then the Extra keys.
func (u User) MarshalJSON() ([]byte, error) {
	aux := struct {
		userAlias
		CreatedAt         *auth0Time `json:"created_at,omitempty"`
		UpdatedAt         *auth0Time `json:"updated_at,omitempty"`
		LastLogin         *auth0Time `json:"last_login,omitempty"`
		LastPasswordReset *auth0Time `json:"last_password_reset,omitempty"`
	}{
		userAlias:         userAlias(u),
		CreatedAt:         (*auth0Time)(u.CreatedAt),
		UpdatedAt:         (*auth0Time)(u.UpdatedAt),
		LastLogin:         (*auth0Time)(u.LastLogin),
		LastPasswordReset: (*auth0Time)(u.LastPasswordReset),
	}
	b, err := json.Marshal(aux)
	if err != nil {
		return nil, err
	}
	return appendExtra(b, u.Extra, isUserKey)
}

type identityAlias Identity

// UnmarshalJSON decodes an identity: user_id as string or number, IdP tokens dropped, other unknown
// keys kept in Extra.
func (i *Identity) UnmarshalJSON(data []byte) error {
	*i = Identity{}
	aux := struct {
		*identityAlias
		UserID json.RawMessage `json:"user_id"`
	}{identityAlias: (*identityAlias)(i)}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	switch id := bytes.TrimSpace(aux.UserID); {
	case len(id) == 0 || string(id) == "null":
	case id[0] == '"':
		if err := json.Unmarshal(id, &i.UserID); err != nil {
			return fmt.Errorf("identity user_id: %w", err)
		}
	default:
		var n json.Number
		if err := json.Unmarshal(id, &n); err != nil {
			return fmt.Errorf("identity user_id is neither string nor number: %w", err)
		}
		i.UserID = n.String()
		i.numericUserID = true
	}
	extra, err := extraKeys(data, func(k string) bool { return isIdentityKey(k) || isIdentitySecret(k) })
	if err != nil {
		return err
	}
	i.Extra = extra
	return nil
}

// MarshalJSON encodes user_id as a number when it arrived as one (and still is one).
func (i Identity) MarshalJSON() ([]byte, error) {
	aux := struct {
		identityAlias
		UserID json.RawMessage `json:"user_id"`
	}{identityAlias: identityAlias(i)}
	if i.numericUserID && isJSONNumber(i.UserID) {
		aux.UserID = json.RawMessage(i.UserID)
	} else {
		s, err := json.Marshal(i.UserID)
		if err != nil {
			return nil, err
		}
		aux.UserID = s
	}
	b, err := json.Marshal(aux)
	if err != nil {
		return nil, err
	}
	return appendExtra(b, i.Extra, func(k string) bool { return isIdentityKey(k) || isIdentitySecret(k) })
}

type connectionAlias Connection

// UnmarshalJSON decodes a connection, keeping unknown keys in Extra.
func (c *Connection) UnmarshalJSON(data []byte) error {
	*c = Connection{}
	if err := json.Unmarshal(data, (*connectionAlias)(c)); err != nil {
		return err
	}
	extra, err := extraKeys(data, isConnectionKey)
	if err != nil {
		return err
	}
	c.Extra = extra
	return nil
}

// MarshalJSON encodes the known fields, then the Extra keys.
func (c Connection) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(connectionAlias(c))
	if err != nil {
		return nil, err
	}
	return appendExtra(b, c.Extra, isConnectionKey)
}

// flexBool decodes true/false, "true"/"false" (any strconv.ParseBool spelling) or null into *dst.
type flexBool struct{ dst **bool }

func (f *flexBool) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*f.dst = nil
		return nil
	}
	if len(s) >= 2 && s[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("expected a boolean, got %s", b)
	}
	*f.dst = &v
	return nil
}

type auth0Time time.Time

func (t auth0Time) MarshalJSON() ([]byte, error) {
	tt := time.Time(t).UTC()
	if y := tt.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("timestamp year %d outside [0,9999]", y)
	}
	b := make([]byte, 0, len(auth0TimeLayout)+2)
	b = append(b, '"')
	b = tt.AppendFormat(b, auth0TimeLayout)
	return append(b, '"'), nil
}

// extraKeys returns the members of the JSON object data whose keys known rejects, or nil if none.
func extraKeys(data []byte, known func(string) bool) (map[string]json.RawMessage, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, err
	}
	var extra map[string]json.RawMessage
	for k, v := range all {
		if known(k) {
			continue
		}
		if extra == nil {
			extra = make(map[string]json.RawMessage)
		}
		extra[k] = v
	}
	return extra, nil
}

// appendExtra adds extra's members (sorted by key, known keys skipped so no key appears twice) to
// the encoded object obj.
func appendExtra(obj []byte, extra map[string]json.RawMessage, known func(string) bool) ([]byte, error) {
	if len(extra) == 0 {
		return obj, nil
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		if !known(k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return obj, nil
	}
	slices.Sort(keys)
	var buf bytes.Buffer
	buf.Grow(len(obj) + 64*len(keys))
	buf.Write(obj[:len(obj)-1]) // drop '}'
	empty := bytes.Equal(bytes.TrimSpace(obj), []byte("{}"))
	for i, k := range keys {
		if i > 0 || !empty {
			buf.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		buf.Write(kb)
		buf.WriteByte(':')
		v := extra[k]
		if len(bytes.TrimSpace(v)) == 0 {
			buf.WriteString("null")
			continue
		}
		if err := json.Compact(&buf, v); err != nil {
			return nil, fmt.Errorf("extra key %q: %w", k, err)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func isJSONNumber(s string) bool {
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return false
	}
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil
}

// The support types (Role, LogEvent, Session, Job, ...) use plain string, bool and number fields with
// omitempty, and decodeObject/encodeObject to stay lossless: Auth0 sends many keys as null or ""
// (a log event's "connection": null, "description": ""), which such fields could not tell from an
// absent key.

// decodeObject decodes the JSON object data into v, a pointer to a type's alias (so that the type's
// own UnmarshalJSON is not called again), and returns what re-encoding v would lose: the members
// whose keys are not among v's JSON tags (extra), and the members with a known key that decoded to
// a value the encoding omits, such as null, "", false, 0 or [] (zero).
func decodeObject(data []byte, v any) (extra, zero map[string]json.RawMessage, err error) {
	if err := json.Unmarshal(data, v); err != nil {
		return nil, nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, nil, err
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return nil, nil, err
	}
	var kept map[string]json.RawMessage
	if err := json.Unmarshal(enc, &kept); err != nil {
		return nil, nil, err
	}
	known := tagKeys(reflect.TypeOf(v).Elem())
	for k, raw := range all {
		if !known[k] {
			if extra == nil {
				extra = make(map[string]json.RawMessage)
			}
			extra[k] = raw
			continue
		}
		if _, ok := kept[k]; !ok {
			if zero == nil {
				zero = make(map[string]json.RawMessage)
			}
			zero[k] = raw
		}
	}
	return extra, zero, nil
}

// encodeObject encodes v (the alias value, or a struct embedding it that overrides fields), then
// adds back the zero members whose key the encoding omitted (the field is still at its zero value:
// a field set since is encoded and wins) and the extra members. typ is the alias type, whose tags
// name the known keys.
func encodeObject(v any, typ reflect.Type, extra, zero map[string]json.RawMessage) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || (len(extra) == 0 && len(zero) == 0) {
		return b, err
	}
	var present map[string]json.RawMessage
	if len(zero) > 0 {
		if err := json.Unmarshal(b, &present); err != nil {
			return nil, err
		}
	}
	known := tagKeys(typ)
	add := make(map[string]json.RawMessage, len(extra)+len(zero))
	for k, raw := range zero {
		if _, ok := present[k]; !ok && known[k] {
			add[k] = raw
		}
	}
	for k, raw := range extra {
		if !known[k] {
			add[k] = raw
		}
	}
	return appendExtra(b, add, func(string) bool { return false })
}

// tagKeys returns the JSON keys of the exported fields of the struct type t.
func tagKeys(t reflect.Type) map[string]bool {
	keys := make(map[string]bool, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		keys[name] = true
	}
	return keys
}
