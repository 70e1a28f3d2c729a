package tenant

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// Authentication methods, legacy enrollments and invalidate-remember-browser (contract §5.5).

var errAuthMethodNotFound = &apiError{Status: http.StatusNotFound, Code: "inexistent_authentication_method",
	Message: "The authentication method does not exist."}

// authSubMethodJSON is a phone method's channel, e.g. {"id":"sms|dev_…","type":"sms"} (recorded).
type authSubMethodJSON struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// authMethodJSON is an authentication method as GET returns it (recorded): email and phone number
// masked, confirmed present. POST and PATCH return it without confirmed; PUT returns it unmasked.
type authMethodJSON struct {
	ID                            string              `json:"id"`
	Type                          string              `json:"type"`
	Confirmed                     *bool               `json:"confirmed,omitempty"`
	Name                          string              `json:"name,omitempty"`
	Email                         string              `json:"email,omitempty"`
	PhoneNumber                   string              `json:"phone_number,omitempty"`
	CreatedAt                     string              `json:"created_at"`
	LastAuthAt                    string              `json:"last_auth_at,omitempty"`
	PreferredAuthenticationMethod string              `json:"preferred_authentication_method,omitempty"`
	AuthenticationMethods         []authSubMethodJSON `json:"authentication_methods,omitempty"`
}

// methodView selects how toAuthMethodJSON renders a method.
type methodView int

const (
	viewRead  methodView = iota // GET: masked, with confirmed
	viewWrite                   // POST/PATCH response: masked, without confirmed
	viewPlain                   // PUT response: unmasked, without confirmed
)

func toAuthMethodJSON(m store.AuthMethod, view methodView) authMethodJSON {
	j := authMethodJSON{ID: m.ID, Type: m.Type, Name: m.Name, Email: m.Email, PhoneNumber: m.PhoneNumber,
		CreatedAt: auth0Time(m.CreatedAt), LastAuthAt: auth0TimePtr(m.LastAuthAt),
		PreferredAuthenticationMethod: m.PreferredAuthenticationMethod}
	if view != viewPlain {
		j.Email, j.PhoneNumber = maskEmail(m.Email), maskPhone(m.PhoneNumber)
	}
	if view == viewRead {
		c := m.Confirmed
		j.Confirmed = &c
	}
	if m.Type == "phone" {
		_, dev, _ := strings.Cut(m.ID, "|")
		ch := firstNonEmpty(m.PreferredAuthenticationMethod, "sms")
		j.AuthenticationMethods = []authSubMethodJSON{{ID: ch + "|" + dev, Type: ch}}
	}
	return j
}

// maskEmail masks as recorded: "chuck334@example.com" → "chuc****@exam*******", "foo@example.com" →
// "****@exam*******" (the first 4 characters of each part stay; a local part of up to 4 is all stars).
func maskEmail(email string) string {
	if email == "" {
		return ""
	}
	local, domain, _ := strings.Cut(email, "@")
	mask := func(s string, keep int) string {
		r := []rune(s)
		if len(r) <= keep {
			return strings.Repeat("*", 4)
		}
		return string(r[:keep]) + strings.Repeat("*", len(r)-keep)
	}
	return mask(local, 4) + "@" + mask(domain, 4)
}

// maskPhone keeps the last 4 digits: "+44207183875044" → "XXXXXXXXXXX5044" (recorded).
func maskPhone(p string) string {
	r := []rune(p)
	if len(r) <= 4 {
		return p
	}
	return strings.Repeat("X", len(r)-4) + string(r[len(r)-4:])
}

// listAuthMethods is GET /api/v2/users/{id}/authentication-methods: a bare array, or with
// include_totals {"authenticators","total","start","limit"} where total is omitted for an empty list
// (recorded).
func (t *Tenant) listAuthMethods(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if err := checkParams(r.URL.Query(), "page", "per_page", "include_totals"); err != nil {
		return err
	}
	pg, err := readPage(r, 50, 100)
	if err != nil {
		return err
	}
	ms, err := t.store.AuthMethods(r.Context(), r.PathValue("id"))
	if err != nil {
		return notFoundAs(err, errUserNotFound)
	}
	lo, hi := pg.window(len(ms))
	out := []authMethodJSON{}
	for _, m := range ms[lo:hi] {
		out = append(out, toAuthMethodJSON(m, viewRead))
	}
	if !pg.totals {
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	body := struct {
		Authenticators []authMethodJSON `json:"authenticators"`
		Total          int              `json:"total,omitempty"`
		Start          int              `json:"start"`
		Limit          int              `json:"limit"`
	}{out, len(ms), pg.page * pg.perPage, pg.perPage}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// getAuthMethod is GET /api/v2/users/{id}/authentication-methods/{method}.
func (t *Tenant) getAuthMethod(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if _, err := t.userOr404(r); err != nil {
		return err
	}
	m, err := t.store.GetAuthMethod(r.Context(), r.PathValue("id"), r.PathValue("method"))
	if err != nil {
		return notFoundAs(err, errAuthMethodNotFound)
	}
	writeJSON(w, http.StatusOK, toAuthMethodJSON(m, viewRead))
	return nil
}

// authMethodBody is the POST / PUT element body.
type authMethodBody struct {
	Type                          string `json:"type"`
	Name                          string `json:"name"`
	Email                         string `json:"email"`
	PhoneNumber                   string `json:"phone_number"`
	PreferredAuthenticationMethod string `json:"preferred_authentication_method"`
	TOTPSecret                    string `json:"totp_secret"`
}

// toMethod validates b and returns the new method for userID.
func (t *Tenant) toMethod(userID string, b authMethodBody, now time.Time) (store.AuthMethod, error) {
	m := store.AuthMethod{UserID: userID, Type: b.Type, Name: b.Name, Confirmed: true, CreatedAt: now}
	switch b.Type {
	case "email":
		if !strings.Contains(b.Email, "@") {
			return m, invalidBody("'Missing required property: email' on property email (Applies to email authentication methods only. The email address used to send verification messages.).")
		}
		m.Email = b.Email
	case "phone":
		if b.PhoneNumber == "" {
			return m, invalidBody("'Missing required property: phone_number' on property phone_number (Applies to phone authentication methods only. The destination phone number used to send verification codes via text and voice.).")
		}
		switch b.PreferredAuthenticationMethod {
		case "", "sms", "voice":
		default:
			return m, invalidBody("'No enum match for: \"%s\"' on property preferred_authentication_method.", b.PreferredAuthenticationMethod)
		}
		m.PhoneNumber, m.PreferredAuthenticationMethod = b.PhoneNumber, firstNonEmpty(b.PreferredAuthenticationMethod, "sms")
	case "totp":
		if len(b.TOTPSecret) < 16 {
			return m, invalidBody("'Missing required property: totp_secret' on property totp_secret (Applies to totp authentication methods only. The base32 encoded secret for TOTP generation.).")
		}
		m.TOTPSecret = b.TOTPSecret
	default:
		return m, invalidBody("'No enum match for: \"%s\"' on property type.", b.Type)
	}
	m.ID = b.Type + "|dev_" + randomString(16, alnum)
	return m, nil
}

// createAuthMethod is POST /api/v2/users/{id}/authentication-methods: 201 (recorded).
func (t *Tenant) createAuthMethod(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var b authMethodBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	m, err := t.toMethod(r.PathValue("id"), b, t.now().UTC().Truncate(time.Millisecond))
	if err != nil {
		return err
	}
	if err := t.store.CreateAuthMethod(r.Context(), m); err != nil {
		return notFoundAs(err, errUserNotFound)
	}
	writeJSON(w, http.StatusCreated, toAuthMethodJSON(m, viewWrite))
	return nil
}

// replaceAuthMethods is PUT /api/v2/users/{id}/authentication-methods: the body (an array) replaces
// every method; 200 with the new methods, unmasked (recorded).
func (t *Tenant) replaceAuthMethods(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var bs []authMethodBody
	if err := decodeBody(r, &bs); err != nil {
		return err
	}
	now := t.now().UTC().Truncate(time.Millisecond)
	ms := make([]store.AuthMethod, len(bs))
	out := make([]authMethodJSON, len(bs))
	for i, b := range bs {
		m, err := t.toMethod(r.PathValue("id"), b, now)
		if err != nil {
			return err
		}
		ms[i], out[i] = m, toAuthMethodJSON(m, viewPlain)
	}
	if err := t.store.ReplaceAuthMethods(r.Context(), r.PathValue("id"), ms); err != nil {
		return notFoundAs(err, errUserNotFound)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// patchAuthMethod is PATCH …/authentication-methods/{method}: name and preferred_authentication_method.
func (t *Tenant) patchAuthMethod(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var b struct {
		Name                          *string `json:"name"`
		PreferredAuthenticationMethod *string `json:"preferred_authentication_method"`
	}
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	if _, err := t.userOr404(r); err != nil {
		return err
	}
	m, err := t.store.UpdateAuthMethod(r.Context(), r.PathValue("id"), r.PathValue("method"), func(old store.AuthMethod) (store.AuthMethod, error) {
		if b.Name != nil && old.Type == store.RecoveryCodeType {
			// Auth0's recovery-code method has no name (its shape omits it) [I].
			return old, invalidBody("'name' does not apply to recovery-code authentication methods.")
		}
		if b.Name != nil {
			old.Name = *b.Name
		}
		if b.PreferredAuthenticationMethod != nil {
			if old.Type != "phone" || (*b.PreferredAuthenticationMethod != "sms" && *b.PreferredAuthenticationMethod != "voice") {
				return old, invalidBody("'preferred_authentication_method' applies to phone methods only and must be sms or voice.")
			}
			old.PreferredAuthenticationMethod = *b.PreferredAuthenticationMethod
		}
		return old, nil
	})
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	if err != nil {
		return notFoundAs(err, errAuthMethodNotFound)
	}
	writeJSON(w, http.StatusOK, toAuthMethodJSON(m, viewWrite))
	return nil
}

// deleteAuthMethod is DELETE …/authentication-methods/{method}: 204.
func (t *Tenant) deleteAuthMethod(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if _, err := t.userOr404(r); err != nil {
		return err
	}
	if err := t.store.DeleteAuthMethod(r.Context(), r.PathValue("id"), r.PathValue("method")); err != nil {
		return notFoundAs(err, errAuthMethodNotFound)
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}

// deleteAuthMethods is DELETE /api/v2/users/{id}/authentication-methods: 204.
func (t *Tenant) deleteAuthMethods(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if _, err := t.store.DeleteAuthMethods(r.Context(), r.PathValue("id")); err != nil {
		return notFoundAs(err, errUserNotFound)
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}

// enrollmentJSON is a legacy Guardian enrollment (contract §5.5, NODE4 UserEnrollment).
type enrollmentJSON struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	Type        string `json:"type"`
	Name        string `json:"name,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty"`
	AuthMethod  string `json:"auth_method"`
	EnrolledAt  string `json:"enrolled_at"`
	LastAuth    string `json:"last_auth,omitempty"`
}

// listEnrollments is GET /api/v2/users/{id}/enrollments: the user's OTP and phone factors as Guardian
// enrollments; [] when there are none (recorded).
func (t *Tenant) listEnrollments(w http.ResponseWriter, r *http.Request, _ *principal) error {
	ms, err := t.store.AuthMethods(r.Context(), r.PathValue("id"))
	if err != nil {
		return notFoundAs(err, errUserNotFound)
	}
	out := []enrollmentJSON{}
	for _, m := range ms {
		e := enrollmentJSON{ID: m.ID, Status: "confirmed", Name: m.Name, EnrolledAt: auth0Time(m.CreatedAt),
			LastAuth: auth0TimePtr(m.LastAuthAt)}
		if !m.Confirmed {
			e.Status = "pending"
		}
		switch m.Type {
		case "totp":
			e.Type, e.AuthMethod = "authenticator", "authenticator"
		case "phone":
			e.Type, e.AuthMethod, e.PhoneNumber = "sms", firstNonEmpty(m.PreferredAuthenticationMethod, "sms"), maskPhone(m.PhoneNumber)
		case "push":
			e.Type, e.AuthMethod = "pn", "guardian"
		default:
			continue
		}
		out = append(out, e)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// invalidateRememberBrowser is POST …/multifactor/actions/invalidate-remember-browser: 204 (recorded).
// The tenant's sign-in page never offers "remember this browser", so there is no cookie to revoke;
// the call checks the user and is logged (sapi) like any write.
func (t *Tenant) invalidateRememberBrowser(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if _, err := t.userOr404(r); err != nil {
		return err
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}
