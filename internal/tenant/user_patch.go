package tenant

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// userPatch is a validated PATCH body. Presence matters, so every field is a pointer or a flag.
type userPatch struct {
	keys []string // the properties present, sorted

	email, username, password, phoneNumber      *string
	connection                                  *string
	givenName, familyName, name, nickname, pict *string // "" with the null flag set = unset
	nulls                                       map[string]bool
	emailVerified, blocked, phoneVerified       *bool
	userMD, appMD                               map[string]json.RawMessage
}

func (p *userPatch) has(k string) bool { return slices.Contains(p.keys, k) }

// parsePatch decodes and type-checks a PATCH body (contract §3.5).
func parsePatch(r *http.Request) (*userPatch, error) {
	var raw map[string]json.RawMessage
	if err := decodeBody(r, &raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, invalidBody("'Expected type object but found type null'.")
	}
	if len(raw) == 0 {
		return nil, invalidBody("'Too few properties defined (0), minimum 1'.")
	}
	p := &userPatch{nulls: map[string]bool{}}
	var extra []string
	for k, v := range raw {
		p.keys = append(p.keys, k)
		if !slices.Contains(patchableUserFields, k) {
			extra = append(extra, k)
			continue
		}
		if string(bytes.TrimSpace(v)) == "null" {
			if !slices.Contains(nullableUserFields, k) {
				return nil, invalidBody("'Expected type %s but found type null' on property %s.", patchType(k), k)
			}
			p.nulls[k] = true
		}
	}
	sort.Strings(p.keys)
	if len(extra) > 0 {
		sort.Strings(extra)
		return nil, invalidBody("'Additional properties not allowed: %s'.", strings.Join(extra, ","))
	}
	strs := map[string]**string{
		"email": &p.email, "username": &p.username, "password": &p.password, "phone_number": &p.phoneNumber,
		"given_name": &p.givenName, "family_name": &p.familyName, "name": &p.name, "nickname": &p.nickname,
		"picture": &p.pict, "connection": &p.connection, "client_id": new(*string),
	}
	bools := map[string]**bool{
		"email_verified": &p.emailVerified, "blocked": &p.blocked, "phone_verified": &p.phoneVerified,
		"verify_email": new(*bool), "verify_phone_number": new(*bool),
	}
	for k, v := range raw {
		if p.nulls[k] {
			continue
		}
		var err error
		switch {
		case strs[k] != nil:
			err = json.Unmarshal(v, strs[k])
		case bools[k] != nil:
			err = json.Unmarshal(v, bools[k])
		case k == "user_metadata":
			p.userMD, err = parseMetadata(k, v)
		case k == "app_metadata":
			p.appMD, err = parseMetadata(k, v)
		}
		var ae *apiError
		if errors.As(err, &ae) {
			return nil, err
		}
		if err != nil {
			return nil, invalidBody("'Expected type %s but found type %s' on property %s.", patchType(k), jsonKind(v), k)
		}
	}
	return p, nil
}

func patchType(k string) string {
	switch k {
	case "user_metadata", "app_metadata":
		return "object"
	case "email_verified", "blocked", "phone_verified", "verify_email", "verify_phone_number":
		return "boolean"
	}
	return "string"
}

// patchUser is PATCH /api/v2/users/{id}: root fields replace, metadata merges on the top level
// (contract §3.5). verify_email, verify_phone_number and client_id are accepted and ignored: the
// tenant sends no messages.
func (t *Tenant) patchUser(w http.ResponseWriter, r *http.Request, pr *principal) error {
	id := r.PathValue("id")
	if err := checkParams(r.URL.Query()); err != nil {
		return err
	}
	p, err := parsePatch(r)
	if err != nil {
		return err
	}
	// Narrow scopes may touch only their metadata object: update:users_app_metadata any user's
	// app_metadata, update:current_user_metadata the caller's own user_metadata.
	if !pr.has("update:users") {
		onlyApp := len(p.keys) == 1 && p.keys[0] == "app_metadata"
		onlyUser := len(p.keys) == 1 && p.keys[0] == "user_metadata"
		if !(onlyApp && pr.has("update:users_app_metadata")) &&
			!(onlyUser && pr.has("update:current_user_metadata") && pr.Subject == id) {
			return &apiError{Status: http.StatusForbidden, Code: "insufficient_scope",
				Message: "Insufficient scope, expected any of: update:users"}
		}
	}
	cur, err := t.store.GetUser(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return errUserNotFound
	}
	if err != nil {
		return err
	}
	conn, err := t.store.GetConnectionByName(r.Context(), cur.Connection)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	ch, err := t.preparePatch(r, p, cur, conn, rulesOf(conn))
	if err != nil {
		return err
	}
	now := t.now().UTC().Truncate(time.Millisecond)
	u, err := t.store.UpdateUser(r.Context(), id, func(old store.User) (store.User, error) {
		return ch.apply(old, now)
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errUserNotFound
	case errors.Is(err, store.ErrAlreadyExists) && ch.email != nil:
		return errEmailTaken
	case errors.Is(err, store.ErrAlreadyExists):
		return errUsernameTaken
	case err != nil:
		return err
	}
	t.log.InfoContext(r.Context(), "tenant: user updated", "user_id", id, "fields", p.keys, "by", pr.Subject)
	writeJSON(w, http.StatusOK, toUserJSON(u))
	return nil
}

// userChange is a validated, ready-to-apply patch.
type userChange struct {
	*userPatch
	hash string // new bcrypt hash when a password is set
}

// preparePatch validates values against the user's connection and hashes a new password outside the
// store transaction.
func (t *Tenant) preparePatch(r *http.Request, p *userPatch, cur store.User, conn store.Connection, rules connectionRules) (*userChange, error) {
	ch := &userChange{userPatch: p}
	// Users have only their primary identity here, so connection may name only that one.
	if p.connection != nil && *p.connection != cur.Connection {
		return nil, invalidBody("'connection' must be the user's connection (%s); secondary identities are not supported.", cur.Connection)
	}
	if p.email != nil {
		e, err := validEmail(*p.email)
		if err != nil {
			return nil, err
		}
		p.email = &e
		if e != cur.Email {
			others, err := t.store.UsersByEmail(r.Context(), e)
			if err != nil {
				return nil, err
			}
			for _, o := range others {
				if o.Connection == cur.Connection && o.ID != cur.ID {
					return nil, errEmailTaken
				}
			}
		}
	}
	if p.username != nil {
		u, err := validUsername(*p.username, rules)
		if err != nil {
			return nil, err
		}
		p.username = &u
	}
	if p.phoneNumber != nil && !phonePattern.MatchString(*p.phoneNumber) {
		return nil, invalidBody("'String does not match pattern ^\\+[0-9]{1,15}$: %s' on property phone_number.", *p.phoneNumber)
	}
	for k, v := range map[string]*string{"given_name": p.givenName, "family_name": p.familyName, "name": p.name} {
		if v != nil {
			if err := validText(k, *v, maxNameLen); err != nil {
				return nil, err
			}
		}
	}
	if p.nickname != nil {
		if err := validText("nickname", *p.nickname, maxNickLen); err != nil {
			return nil, err
		}
	}
	if p.pict != nil {
		if err := validPicture(*p.pict); err != nil {
			return nil, err
		}
	}
	if p.password != nil {
		if conn.Strategy != "auth0" {
			return nil, badRequest("invalid_body", "Cannot update password of a user from a %s connection.", conn.Strategy)
		}
		if err := checkPassword(*p.password, rules.policy); err != nil {
			return nil, err
		}
		h, err := bcrypt.GenerateFromPassword([]byte(*p.password), t.cost)
		if err != nil {
			return nil, err
		}
		ch.hash = string(h)
	}
	return ch, nil
}

// apply runs inside the store transaction.
func (ch *userChange) apply(u store.User, now time.Time) (store.User, error) {
	set := func(dst *string, v *string, key string) {
		switch {
		case ch.nulls[key]:
			*dst = ""
		case v != nil:
			*dst = *v
		}
	}
	set(&u.Email, ch.email, "email")
	set(&u.Username, ch.username, "username")
	set(&u.PhoneNumber, ch.phoneNumber, "phone_number")
	set(&u.GivenName, ch.givenName, "given_name")
	set(&u.FamilyName, ch.familyName, "family_name")
	set(&u.Name, ch.name, "name")
	set(&u.Nickname, ch.nickname, "nickname")
	set(&u.Picture, ch.pict, "picture")
	if ch.emailVerified != nil {
		u.EmailVerified = *ch.emailVerified
	}
	if ch.blocked != nil {
		u.Blocked = ch.blocked
	}
	if ch.phoneVerified != nil {
		u.PhoneVerified = ch.phoneVerified
	}
	var err error
	if ch.has("user_metadata") {
		if u.UserMetadata, err = mergeMetadata(u.UserMetadata, ch.userMD, ch.nulls["user_metadata"]); err != nil {
			return u, err
		}
	}
	if ch.has("app_metadata") {
		if u.AppMetadata, err = mergeMetadata(u.AppMetadata, ch.appMD, ch.nulls["app_metadata"]); err != nil {
			return u, err
		}
	}
	if ch.hash != "" {
		u.PasswordHash = ch.hash
		reset := now
		u.LastPasswordReset = &reset
	}
	u.UpdatedAt = now
	return u, nil
}
