package mgmt

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"time"
)

// maxListPages bounds the pages a method that returns a whole list (AuthenticationMethods, Sessions,
// RefreshTokens) follows, so that a server that never ends the list cannot keep a caller looping.
const maxListPages = 20

// AuthenticationMethod is one MFA factor or login method of a user, as GET
// /api/v2/users/{id}/authentication-methods lists it: Type "email", "phone", "totp", "push",
// "webauthn-roaming", "passkey", ... Auth0 masks Email and PhoneNumber ("chuc****@exam*******",
// "XXXXXXXXXXX5044"). Unknown keys are kept in Extra.
type AuthenticationMethod struct {
	ID                            string                    `json:"id,omitempty"` // e.g. "totp|dev_…"
	Type                          string                    `json:"type,omitempty"`
	Confirmed                     bool                      `json:"confirmed,omitempty"`
	Name                          string                    `json:"name,omitempty"`
	Email                         string                    `json:"email,omitempty"`
	PhoneNumber                   string                    `json:"phone_number,omitempty"`
	PreferredAuthenticationMethod string                    `json:"preferred_authentication_method,omitempty"` // phone: "sms" or "voice"
	AuthenticationMethods         []AuthenticationMethodRef `json:"authentication_methods,omitempty"`
	CreatedAt                     *time.Time                `json:"created_at,omitempty"`
	LastAuthAt                    *time.Time                `json:"last_auth_at,omitempty"`

	// Extra holds every other key of the response.
	Extra map[string]json.RawMessage `json:"-"`
	zero  map[string]json.RawMessage // known keys that came as null, "", false or []: see decodeObject
}

// AuthenticationMethodRef is a channel of a method, e.g. {"id":"sms|dev_…","type":"sms"}.
type AuthenticationMethodRef struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// authMethodPage is the include_totals envelope of the list; Auth0 omits total for an empty list.
type authMethodPage struct {
	Authenticators []AuthenticationMethod `json:"authenticators"`
	Total          *int                   `json:"total,omitempty"`
	Start          int                    `json:"start"`
	Limit          int                    `json:"limit"`
}

// AuthenticationMethods returns every authentication method of the user (the MFA factors a "reset
// MFA" screen lists), following the pages of 50.
//
// Scopes: read:authentication_methods. See
// https://auth0.com/docs/api/management/v2/users/get-authentication-methods
func (m *UserManager) AuthenticationMethods(ctx context.Context, id string) ([]AuthenticationMethod, error) {
	if err := checkID("user", id); err != nil {
		return nil, err
	}
	out := []AuthenticationMethod{}
	for page := 0; page < maxListPages; page++ {
		var pg authMethodPage
		q := ListParams{Page: page}.query()
		if err := m.c.call(ctx, http.MethodGet, routeUserAuthMethods, m.c.endpoint("users", id, "authentication-methods"), q, nil, &pg); err != nil {
			return nil, err
		}
		out = append(out, pg.Authenticators...)
		if len(pg.Authenticators) < DefaultPerPage || pg.Total == nil || len(out) >= *pg.Total {
			return out, nil
		}
	}
	return nil, fmt.Errorf("mgmt: user %q has more than %d authentication methods", id, maxListPages*DefaultPerPage)
}

// DeleteAuthenticationMethod removes one authentication method (by its ID, e.g. "totp|dev_…") from
// the user (204); the user must enrol again to use it. A method already gone is an *Error matching
// ErrNotFound, which callers read as "already removed": the DELETE is retried like a read, so a
// retry after a lost answer can find the method removed by the first attempt.
//
// Scopes: delete:authentication_methods. See
// https://auth0.com/docs/api/management/v2/users/delete-authentication-methods-by-authentication-method-id
func (m *UserManager) DeleteAuthenticationMethod(ctx context.Context, id, methodID string) error {
	if err := checkID("user", id); err != nil {
		return err
	}
	if err := checkID("authentication method", methodID); err != nil {
		return err
	}
	return m.c.call(ctx, http.MethodDelete, routeUserAuthMethod, m.c.endpoint("users", id, "authentication-methods", methodID), nil, nil, nil)
}

// DeleteAuthenticationMethods removes every authentication method of the user (204): the "reset
// MFA" action. Deleting when there are none is not an error.
//
// Scopes: delete:authentication_methods. See
// https://auth0.com/docs/api/management/v2/users/delete-authentication-methods
func (m *UserManager) DeleteAuthenticationMethods(ctx context.Context, id string) error {
	if err := checkID("user", id); err != nil {
		return err
	}
	return m.c.call(ctx, http.MethodDelete, routeUserAuthMethods, m.c.endpoint("users", id, "authentication-methods"), nil, nil, nil)
}

// Enrollment is a legacy Guardian MFA enrollment (GET /api/v2/users/{id}/enrollments): Status
// "pending" or "confirmed", Type such as "authenticator", "sms" or "pn". Unknown keys are kept in
// Extra.
type Enrollment struct {
	ID          string     `json:"id,omitempty"`
	Status      string     `json:"status,omitempty"`
	Type        string     `json:"type,omitempty"`
	Name        string     `json:"name,omitempty"`
	Identifier  string     `json:"identifier,omitempty"`
	PhoneNumber string     `json:"phone_number,omitempty"`
	AuthMethod  string     `json:"auth_method,omitempty"`
	EnrolledAt  *time.Time `json:"enrolled_at,omitempty"`
	LastAuth    *time.Time `json:"last_auth,omitempty"`

	// Extra holds every other key of the response.
	Extra map[string]json.RawMessage `json:"-"`
	zero  map[string]json.RawMessage // known keys that came as null or "": see decodeObject
}

// Enrollments returns the user's Guardian enrollments ([] when none).
//
// Scopes: read:users or read:current_user. See
// https://auth0.com/docs/api/management/v2/users/get-enrollments
func (m *UserManager) Enrollments(ctx context.Context, id string) ([]Enrollment, error) {
	if err := checkID("user", id); err != nil {
		return nil, err
	}
	var out []Enrollment
	if err := m.c.call(ctx, http.MethodGet, routeUserEnrollments, m.c.endpoint("users", id, "enrollments"), nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// InvalidateRememberBrowser makes every browser the user chose to "remember" for MFA ask for the
// second factor again (204). A POST: resent only after a 429.
//
// Scopes: update:users. See
// https://auth0.com/docs/api/management/v2/users/post-invalidate-remember-browser
func (m *UserManager) InvalidateRememberBrowser(ctx context.Context, id string) error {
	if err := checkID("user", id); err != nil {
		return err
	}
	return m.c.call(ctx, http.MethodPost, routeUserRememberBrowser,
		m.c.endpoint("users", id, "multifactor", "actions", "invalidate-remember-browser"), nil, nil, nil)
}

type authMethodAlias AuthenticationMethod

// UnmarshalJSON decodes a method, keeping unknown keys in Extra.
func (a *AuthenticationMethod) UnmarshalJSON(data []byte) error {
	*a = AuthenticationMethod{}
	var err error
	a.Extra, a.zero, err = decodeObject(data, (*authMethodAlias)(a))
	return err
}

// MarshalJSON encodes the method as it came, timestamps in Auth0's layout.
func (a AuthenticationMethod) MarshalJSON() ([]byte, error) {
	aux := struct {
		authMethodAlias
		CreatedAt  *auth0Time `json:"created_at,omitempty"`
		LastAuthAt *auth0Time `json:"last_auth_at,omitempty"`
	}{authMethodAlias(a), (*auth0Time)(a.CreatedAt), (*auth0Time)(a.LastAuthAt)}
	return encodeObject(aux, reflect.TypeFor[authMethodAlias](), a.Extra, a.zero)
}

type enrollmentAlias Enrollment

// UnmarshalJSON decodes an enrollment, keeping unknown keys in Extra.
func (e *Enrollment) UnmarshalJSON(data []byte) error {
	*e = Enrollment{}
	var err error
	e.Extra, e.zero, err = decodeObject(data, (*enrollmentAlias)(e))
	return err
}

// MarshalJSON encodes the enrollment as it came, timestamps in Auth0's layout.
func (e Enrollment) MarshalJSON() ([]byte, error) {
	aux := struct {
		enrollmentAlias
		EnrolledAt *auth0Time `json:"enrolled_at,omitempty"`
		LastAuth   *auth0Time `json:"last_auth,omitempty"`
	}{enrollmentAlias(e), (*auth0Time)(e.EnrolledAt), (*auth0Time)(e.LastAuth)}
	return encodeObject(aux, reflect.TypeFor[enrollmentAlias](), e.Extra, e.zero)
}

// recoveryCode is the answer of POST /users/{id}/recovery-code-regeneration.
type recoveryCode struct {
	RecoveryCode string `json:"recovery_code"`
}

// RegenerateRecoveryCode replaces the user's MFA recovery code and returns the new one (24
// characters; Auth0 answers 200). The code is a credential: show it once, never log or store it.
// Sent again only after a 429 (a repeat would replace the code again).
//
// Scopes: update:users. See https://auth0.com/docs/api/management/v2/users/post-recovery-code-regeneration
func (m *UserManager) RegenerateRecoveryCode(ctx context.Context, id string) (string, error) {
	if err := checkID("user", id); err != nil {
		return "", err
	}
	var out recoveryCode
	u := m.c.endpoint("users", id, "recovery-code-regeneration")
	if err := m.c.call(ctx, http.MethodPost, routeUserRecoveryCode, u, nil, struct{}{}, &out); err != nil {
		return "", err
	}
	if out.RecoveryCode == "" {
		return "", fmt.Errorf("mgmt: POST %s: answer without a recovery_code", routeUserRecoveryCode)
	}
	return out.RecoveryCode, nil
}
