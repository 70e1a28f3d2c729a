package tenant

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// Clients and client grants (issue 3, part 4): enough of /api/v2/clients and /api/v2/client-grants
// for a script or test to create a least-privilege machine client and get a token for it.

var (
	errClientNotFound = &apiError{Status: http.StatusNotFound, Code: "inexistent_client", Message: "Client not found"}
	errGrantNotFound  = &apiError{Status: http.StatusNotFound, Code: "inexistent_client_grant", Message: "The client grant does not exist."}
	errGrantExists    = &apiError{Status: http.StatusConflict, Code: "conflict", Message: "A client grant for this client and audience already exists."}
)

var (
	appTypes   = []string{"native", "spa", "regular_web", "non_interactive"}
	grantTypes = []string{"authorization_code", "client_credentials", "implicit", "refresh_token", "password"}
)

// clientJSON is a client; client_secret only for callers holding read:client_keys (or, once, in the
// response that created the client).
type clientJSON struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	Name                    string   `json:"name"`
	AppType                 string   `json:"app_type,omitempty"`
	GrantTypes              []string `json:"grant_types"`
	Callbacks               []string `json:"callbacks"`
	Global                  bool     `json:"global"`
	IsFirstParty            bool     `json:"is_first_party"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
}

func toClientJSON(c store.Client, withSecret bool) clientJSON {
	j := clientJSON{ClientID: c.ClientID, Name: c.Name, AppType: c.AppType, GrantTypes: c.GrantTypes,
		Callbacks: c.Callbacks, IsFirstParty: true, TokenEndpointAuthMethod: "client_secret_post"}
	if j.GrantTypes == nil {
		j.GrantTypes = []string{}
	}
	if j.Callbacks == nil {
		j.Callbacks = []string{}
	}
	if withSecret {
		j.ClientSecret = c.ClientSecret
	}
	return j
}

// listClients is GET /api/v2/clients: page/per_page/include_totals ({clients,start,limit,total}),
// fields/include_fields and the app_type filter (comma-separated).
func (t *Tenant) listClients(w http.ResponseWriter, r *http.Request, p *principal) error {
	v := r.URL.Query()
	if err := checkParams(v, "page", "per_page", "include_totals", "fields", "include_fields", "app_type"); err != nil {
		return err
	}
	pg, err := readPage(r, 50, 100)
	if err != nil {
		return err
	}
	fields, err := fieldsParam(v)
	if err != nil {
		return err
	}
	all, err := t.store.ListClients(r.Context())
	if err != nil {
		return err
	}
	if at := v.Get("app_type"); at != "" {
		types := strings.Split(at, ",")
		all = slices.DeleteFunc(all, func(c store.Client) bool { return !slices.Contains(types, c.AppType) })
	}
	lo, hi := pg.window(len(all))
	out := []json.RawMessage{}
	for _, c := range all[lo:hi] {
		b, err := fields.apply(toClientJSON(c, p.has("read:client_keys")))
		if err != nil {
			return err
		}
		out = append(out, b)
	}
	if !pg.totals {
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	writeJSON(w, http.StatusOK, struct {
		Clients []json.RawMessage `json:"clients"`
		Start   int               `json:"start"`
		Limit   int               `json:"limit"`
		Total   int               `json:"total"`
	}{out, pg.page * pg.perPage, pg.perPage, len(all)})
	return nil
}

// getClient is GET /api/v2/clients/{id}.
func (t *Tenant) getClient(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := checkParams(r.URL.Query(), "fields", "include_fields"); err != nil {
		return err
	}
	fields, err := fieldsParam(r.URL.Query())
	if err != nil {
		return err
	}
	c, err := t.store.GetClient(r.Context(), r.PathValue("id"))
	if err != nil {
		return notFoundAs(err, errClientNotFound)
	}
	b, err := fields.apply(toClientJSON(c, p.has("read:client_keys")))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

type clientBody struct {
	Name         *string   `json:"name"`
	AppType      *string   `json:"app_type"`
	GrantTypes   *[]string `json:"grant_types"`
	Callbacks    *[]string `json:"callbacks"`
	ClientSecret *string   `json:"client_secret"`
}

// apply validates b and writes it into c.
func (b clientBody) apply(c *store.Client) error {
	if b.Name != nil {
		if strings.TrimSpace(*b.Name) == "" {
			return invalidBody("'String is too short (0 chars), minimum 1' on property name (Name of this client (min length: 1 character, does not allow `<` or `>`).).")
		}
		if strings.ContainsAny(*b.Name, "<>") {
			return invalidBody("'String does not match pattern ^[^<>]+$' on property name (Name of this client (min length: 1 character, does not allow `<` or `>`).).")
		}
		c.Name = *b.Name
	}
	if b.AppType != nil {
		if !slices.Contains(appTypes, *b.AppType) {
			return invalidBody("'No enum match for: \"%s\"' on property app_type (The type of application this client represents).", *b.AppType)
		}
		c.AppType = *b.AppType
	}
	if b.GrantTypes != nil {
		for _, g := range *b.GrantTypes {
			if !slices.Contains(grantTypes, g) {
				return invalidBody("'No enum match for: \"%s\"' on property grant_types (List of grant types supported for this application.).", g)
			}
		}
		c.GrantTypes = slices.Clone(*b.GrantTypes)
	}
	if b.Callbacks != nil {
		for _, cb := range *b.Callbacks {
			if _, err := absoluteURL(cb); err != nil {
				return invalidBody("'Object didn't pass validation for format absolute-uri: %s' on property callbacks.", cb)
			}
		}
		c.Callbacks = slices.Clone(*b.Callbacks)
	}
	if b.ClientSecret != nil {
		if len(*b.ClientSecret) < 32 {
			return invalidBody("'String is too short (%d chars), minimum 32' on property client_secret.", len(*b.ClientSecret))
		}
		c.ClientSecret = *b.ClientSecret
	}
	return nil
}

// createClient is POST /api/v2/clients: 201 with the client and its secret. Without grant_types a
// non_interactive client gets client_credentials and any other authorization_code.
func (t *Tenant) createClient(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var b clientBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	if b.Name == nil {
		return invalidBody("'Missing required property: name' on property name (Name of this client (min length: 1 character, does not allow `<` or `>`).).")
	}
	c := store.Client{ClientID: newClientID(), ClientSecret: newClientSecret(), AppType: "regular_web", Callbacks: []string{}}
	if err := b.apply(&c); err != nil {
		return err
	}
	if b.GrantTypes == nil {
		c.GrantTypes = []string{"authorization_code"}
		if c.AppType == "non_interactive" {
			c.GrantTypes = []string{"client_credentials"}
		}
	}
	if err := t.store.CreateClient(r.Context(), c); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toClientJSON(c, true))
	return nil
}

// patchClient is PATCH /api/v2/clients/{id}; changing client_secret needs update:client_keys.
func (t *Tenant) patchClient(w http.ResponseWriter, r *http.Request, p *principal) error {
	var b clientBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	if b.ClientSecret != nil && !p.has("update:client_keys") {
		return &apiError{Status: http.StatusForbidden, Code: "insufficient_scope", Message: "Insufficient scope, expected any of: update:client_keys"}
	}
	if (b.Name != nil || b.AppType != nil || b.GrantTypes != nil || b.Callbacks != nil) && !p.has("update:clients") {
		return &apiError{Status: http.StatusForbidden, Code: "insufficient_scope", Message: "Insufficient scope, expected any of: update:clients"}
	}
	c, err := t.store.UpdateClient(r.Context(), r.PathValue("id"), func(old store.Client) (store.Client, error) {
		return old, b.apply(&old)
	})
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	if err != nil {
		return notFoundAs(err, errClientNotFound)
	}
	writeJSON(w, http.StatusOK, toClientJSON(c, p.has("read:client_keys") || b.ClientSecret != nil))
	return nil
}

// deleteClient is DELETE /api/v2/clients/{id}: 204; its grants go with it.
func (t *Tenant) deleteClient(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if err := t.store.DeleteClient(r.Context(), r.PathValue("id")); err != nil {
		return notFoundAs(err, errClientNotFound)
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}

// --- client grants ---

type clientGrantJSON struct {
	ID       string   `json:"id"`
	ClientID string   `json:"client_id"`
	Audience string   `json:"audience"`
	Scope    []string `json:"scope"`
}

func toGrantJSON(g store.ClientGrant) clientGrantJSON {
	j := clientGrantJSON(g)
	if j.Scope == nil {
		j.Scope = []string{}
	}
	return j
}

// listClientGrants is GET /api/v2/client-grants: filters audience and client_id, page/per_page/
// include_totals ({client_grants,start,limit,total}).
func (t *Tenant) listClientGrants(w http.ResponseWriter, r *http.Request, _ *principal) error {
	v := r.URL.Query()
	if err := checkParams(v, "page", "per_page", "include_totals", "audience", "client_id"); err != nil {
		return err
	}
	pg, err := readPage(r, 50, 100)
	if err != nil {
		return err
	}
	all, err := t.store.ListClientGrants(r.Context())
	if err != nil {
		return err
	}
	all = slices.DeleteFunc(all, func(g store.ClientGrant) bool {
		return (v.Get("audience") != "" && g.Audience != v.Get("audience")) ||
			(v.Get("client_id") != "" && g.ClientID != v.Get("client_id"))
	})
	lo, hi := pg.window(len(all))
	out := []clientGrantJSON{}
	for _, g := range all[lo:hi] {
		out = append(out, toGrantJSON(g))
	}
	if !pg.totals {
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	writeJSON(w, http.StatusOK, struct {
		ClientGrants []clientGrantJSON `json:"client_grants"`
		Start        int               `json:"start"`
		Limit        int               `json:"limit"`
		Total        int               `json:"total"`
	}{out, pg.page * pg.perPage, pg.perPage, len(all)})
	return nil
}

// checkGrantScopes requires every scope to be defined by the audience's resource server.
func (t *Tenant) checkGrantScopes(r *http.Request, audience string, scopes []string) error {
	rs, err := t.store.GetResourceServer(r.Context(), audience)
	if errors.Is(err, store.ErrNotFound) {
		return &apiError{Status: http.StatusNotFound, Code: "inexistent_resource_server", Message: "No resource server found by the specified identifier"}
	}
	if err != nil {
		return err
	}
	for _, s := range scopes {
		if !slices.ContainsFunc(rs.Scopes, func(x store.ResourceServerScope) bool { return x.Value == s }) {
			return invalidBody("scope must be a subset of resource server scopes")
		}
	}
	return nil
}

// createClientGrant is POST /api/v2/client-grants {client_id, audience, scope}: 201.
func (t *Tenant) createClientGrant(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var b struct {
		ClientID string    `json:"client_id"`
		Audience string    `json:"audience"`
		Scope    *[]string `json:"scope"`
	}
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	switch {
	case b.ClientID == "":
		return invalidBody("'Missing required property: client_id' on property client_id (ID of the client.).")
	case b.Audience == "":
		return invalidBody("'Missing required property: audience' on property audience (The audience (API identifier) of this client grant).")
	case b.Scope == nil:
		return invalidBody("'Missing required property: scope' on property scope (Scopes allowed for this client grant.).")
	}
	if err := t.checkGrantScopes(r, b.Audience, *b.Scope); err != nil {
		return err
	}
	g := store.ClientGrant{ID: newGrantID(), ClientID: b.ClientID, Audience: b.Audience, Scope: slices.Clone(*b.Scope)}
	err := t.store.CreateClientGrant(r.Context(), g)
	switch {
	case errors.Is(err, store.ErrAlreadyExists):
		return errGrantExists
	case err != nil:
		return notFoundAs(err, errClientNotFound)
	}
	writeJSON(w, http.StatusCreated, toGrantJSON(g))
	return nil
}

// patchClientGrant is PATCH /api/v2/client-grants/{id} {scope}: 200.
func (t *Tenant) patchClientGrant(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var b struct {
		Scope *[]string `json:"scope"`
	}
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	g, err := t.store.UpdateClientGrant(r.Context(), r.PathValue("id"), func(old store.ClientGrant) (store.ClientGrant, error) {
		if b.Scope != nil {
			if err := t.checkGrantScopes(r, old.Audience, *b.Scope); err != nil {
				return old, err
			}
			old.Scope = slices.Clone(*b.Scope)
		}
		return old, nil
	})
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	if err != nil {
		return notFoundAs(err, errGrantNotFound)
	}
	writeJSON(w, http.StatusOK, toGrantJSON(g))
	return nil
}

// deleteClientGrant is DELETE /api/v2/client-grants/{id}: 204.
func (t *Tenant) deleteClientGrant(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if err := t.store.DeleteClientGrant(r.Context(), r.PathValue("id")); err != nil {
		return notFoundAs(err, errGrantNotFound)
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}
