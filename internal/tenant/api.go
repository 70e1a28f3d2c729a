package tenant

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// maxAPIBody is the Management API request body limit: "All endpoints accept a maximum payload size of
// 1 megabyte" (contract §2).
const maxAPIBody = 1 << 20

// apiError is a Management API error, written as Auth0's hapi/boom-style body
// {"statusCode","error","message","errorCode"?,"attributes"?}.
type apiError struct {
	Status     int
	Code       string // errorCode; "" = omitted
	Message    string
	Attributes map[string]string // only the expired-token 401 carries it
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Message) }

func badRequest(code, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

// invalidBody is a 400 invalid_body with Auth0's "Payload validation error" wording.
func invalidBody(format string, args ...any) *apiError {
	return badRequest("invalid_body", "Payload validation error: "+format, args...)
}

var errUserNotFound = &apiError{Status: http.StatusNotFound, Code: "inexistent_user", Message: "The user does not exist."}

// principal is the verified caller of a Management API request.
type principal struct {
	Subject string
	Scopes  []string
}

func (p *principal) has(scope string) bool { return slices.Contains(p.Scopes, scope) }

// apiHandler is a thin Management API handler: it writes the success response itself and returns
// errors, which api turns into Auth0 error bodies.
type apiHandler func(w http.ResponseWriter, r *http.Request, p *principal) error

// api wraps h with bearer-token authentication (signature with the tenant key, iss, aud = the
// Management audience, exp), the "any of" scope check, the body limit and error writing. The token
// needs at least one of anyOf, the reading of Auth0's scope lists its 403 text gives (contract §3).
func (t *Tenant) api(h apiHandler, anyOf ...string) http.Handler {
	return t.guard(h, func(p *principal) *apiError {
		if slices.ContainsFunc(anyOf, p.has) {
			return nil
		}
		return &apiError{Status: http.StatusForbidden, Code: "insufficient_scope",
			Message: "Insufficient scope, expected any of: " + strings.Join(anyOf, ",")}
	})
}

// apiAllOf is api for an endpoint whose token needs every one of allOf: one that does the work of
// several scopes at once (POST /api/v2/sessions/{id}/revoke ends a session and deletes refresh
// tokens). The 403 lists all of them; Auth0's wording for this case is not recorded [I].
func (t *Tenant) apiAllOf(h apiHandler, allOf ...string) http.Handler {
	return t.guard(h, func(p *principal) *apiError {
		if !slices.ContainsFunc(allOf, func(s string) bool { return !p.has(s) }) {
			return nil
		}
		return &apiError{Status: http.StatusForbidden, Code: "insufficient_scope",
			Message: "Insufficient scope, expected all of: " + strings.Join(allOf, ",")}
	})
}

// guard authenticates the request, applies the scope check (nil = allowed), the body limit, the
// "sapi" audit of writes and error writing around h.
func (t *Tenant) guard(h apiHandler, scopeCheck func(p *principal) *apiError) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, aerr := t.authenticate(r)
		if aerr == nil {
			aerr = scopeCheck(p)
		}
		if aerr != nil {
			writeAPIError(w, aerr)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxAPIBody)
		w, logWrite := t.auditWrite(w, r, p) // "sapi" log event for successful writes (support.go)
		defer logWrite()
		if err := h(w, r, p); err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				t.log.ErrorContext(r.Context(), "tenant: management API", "method", r.Method,
					"path", r.URL.Path, "err", err)
				ae = &apiError{Status: http.StatusInternalServerError, Message: "Internal Server Error"}
			}
			writeAPIError(w, ae)
		}
	})
}

// authenticate verifies the bearer token. Messages follow contract §2: "Missing authentication"
// without a token [I], "Invalid token" for a bad one, the JWT-validation text for an expired one.
func (t *Tenant) authenticate(r *http.Request) (*principal, *apiError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, &apiError{Status: http.StatusUnauthorized, Message: "Missing authentication"}
	}
	scheme, raw, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return nil, &apiError{Status: http.StatusUnauthorized, Message: "Bad HTTP authentication header format"}
	}
	c, err := t.keys.verify(strings.TrimSpace(raw), t.issuer, t.audience, t.now())
	switch {
	case errors.Is(err, errTokenExpired):
		const msg = "Expired token received for JSON Web Token validation"
		return nil, &apiError{Status: http.StatusUnauthorized, Message: msg, Attributes: map[string]string{"error": msg}}
	case err != nil:
		return nil, &apiError{Status: http.StatusUnauthorized, Message: "Invalid token"}
	}
	return &principal{Subject: c.Subject, Scopes: strings.Fields(c.Scope)}, nil
}

// writeAPIError writes e as Auth0's error body.
func writeAPIError(w http.ResponseWriter, e *apiError) {
	body := struct {
		StatusCode int               `json:"statusCode"`
		Error      string            `json:"error"`
		Message    string            `json:"message"`
		ErrorCode  string            `json:"errorCode,omitempty"`
		Attributes map[string]string `json:"attributes,omitempty"`
	}{e.Status, http.StatusText(e.Status), e.Message, e.Code, e.Attributes}
	writeJSON(w, e.Status, body)
}

// marshal encodes v without HTML escaping (Auth0 sends "&" in picture URLs as is).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// writeJSON writes v with Auth0's Management API content type.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		// Only unencodable Go values get here: a programming error, not client input.
		http.Error(w, `{"statusCode":500,"error":"Internal Server Error","message":"Internal Server Error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decodeBody decodes a JSON request body into dst, rejecting unknown properties, trailing data and
// oversized bodies with Auth0-style 400/413 errors.
func decodeBody(r *http.Request, dst any) error {
	data, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeJSON(data, dst)
}

// readBody reads the request body within the 1 MB limit, answering Auth0's 413 past it.
func readBody(r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &apiError{Status: http.StatusRequestEntityTooLarge,
				Message: fmt.Sprintf("Payload content length greater than maximum allowed: %d", maxAPIBody)}
		}
		return nil, badRequest("invalid_body", "Invalid request body")
	}
	return data, nil
}

// decodeJSON decodes one JSON value into dst, rejecting unknown properties and trailing data.
func decodeJSON(data []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return badRequest("invalid_body", "Invalid request payload JSON format")
	}
	return nil
}

// jsonError maps encoding/json errors to Auth0's payload validation messages.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		return invalidBody("'Expected type %s but found type %s' on property %s.", jsonTypeOf(te.Type.Kind().String()), te.Value, te.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return invalidBody("'Additional properties not allowed: %s'.", name)
	default:
		return badRequest("invalid_body", "Invalid request payload JSON format")
	}
}

// jsonTypeOf names a Go kind as a JSON Schema type, for validation messages.
func jsonTypeOf(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "array"
	case "int", "int64", "int32", "float64":
		return "number"
	default:
		return kind
	}
}
