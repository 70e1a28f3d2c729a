package tenant

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// maxPagedRecords: "You can only page through the first 1000 records" (contract §3.1).
const maxPagedRecords = 1000

// sortable are the fields GET /users accepts in sort=field:1|-1 (metadata sorting is unsupported).
var sortable = map[string]bool{
	"created_at": true, "updated_at": true, "last_login": true, "logins_count": true, "email": true,
	"name": true, "nickname": true, "given_name": true, "family_name": true, "username": true, "user_id": true,
}

// listUsers is GET /api/v2/users (contract §3.1).
func (t *Tenant) listUsers(w http.ResponseWriter, r *http.Request, _ *principal) error {
	v := r.URL.Query()
	if err := checkParams(v, "page", "per_page", "include_totals", "sort", "connection", "fields",
		"include_fields", "q", "search_engine", "primary_order"); err != nil {
		return err
	}
	page, err := intParam(v, "page", "Page index of the results to return. First page is 0.", 0, 0, maxPagedRecords*100)
	if err != nil {
		return err
	}
	perPage, err := intParam(v, "per_page", "Number of results per page. Defaults to 50", 50, 0, 100)
	if err != nil {
		return err
	}
	totals, err := boolParam(v, "include_totals", "Return results inside an object that contains the total result count (true) or as a direct array of results (false, default).", false)
	if err != nil {
		return err
	}
	if _, err := boolParam(v, "primary_order", "If true (default), results are returned in a deterministic order.", true); err != nil {
		return err
	}
	fields, err := fieldsParam(v)
	if err != nil {
		return err
	}
	// Predicate [I]: the last requested record lies past the first 1000.
	if (page+1)*perPage > maxPagedRecords {
		return badRequest("invalid_paging", "You can only page through the first 1000 records. See https://auth0.com/docs/users/search/v3/view-search-results-by-page#limitation")
	}
	switch se := v.Get("search_engine"); se {
	case "", "v3":
	case "v1", "v2":
		return badRequest("invalid_query_string", "The %s search engine is no longer supported; use search_engine=v3.", se)
	default:
		return queryError("'No enum match for: \"%s\"' on property search_engine (The version of the search engine).", se)
	}
	q := store.Query{Offset: page * perPage, Limit: perPage, NoTotal: !totals}
	if q.Expr, err = ParseQuery(v.Get("q")); err != nil {
		return badRequest("invalid_query_string", "Invalid query string: %s", err.Error())
	}
	if c := v.Get("connection"); c != "" {
		cterm := store.Term{Field: "identities.connection", Value: c}
		if q.Expr == nil {
			q.Expr = cterm
		} else {
			q.Expr = store.And{q.Expr, cterm}
		}
	}
	if s := v.Get("sort"); s != "" {
		f, dir, ok := strings.Cut(s, ":")
		if !ok || !sortable[f] || (dir != "1" && dir != "-1") {
			return badRequest("invalid_query_string", "Invalid sort %q: use field:1 or field:-1 on a root attribute such as created_at, email or name.", s)
		}
		q.Sort, q.Desc = f, dir == "-1"
	}
	users := []json.RawMessage{}
	total := 0
	if perPage > 0 {
		found, n, err := t.store.ListUsers(r.Context(), q)
		if errors.Is(err, store.ErrUnsupportedQuery) {
			return badRequest("invalid_query_string", "Invalid query string: %s", err.Error())
		}
		if err != nil {
			return err
		}
		total = n
		for _, u := range found {
			b, err := fields.apply(toUserJSON(u))
			if err != nil {
				return err
			}
			users = append(users, b)
		}
	} else if totals {
		_, n, err := t.store.ListUsers(r.Context(), store.Query{Expr: q.Expr, Limit: 1})
		if err != nil {
			return err
		}
		total = n
	}
	writeUserPage(w, users, totals, q.Offset, perPage, total)
	return nil
}

// writeUserPage writes the users of a GET /users page as a bare array or, with totals, as
// {"start","limit","length","users","total"} (the recorded key order). Each user is already compact
// JSON from marshal, so the page is joined rather than encoded again (re-encoding a json.RawMessage
// validates and compacts it a second time, a third of the encoding cost of a page of 50).
func writeUserPage(w http.ResponseWriter, users []json.RawMessage, totals bool, start, limit, total int) {
	var b bytes.Buffer
	if totals {
		fmt.Fprintf(&b, `{"start":%d,"limit":%d,"length":%d,"users":`, start, limit, len(users))
	}
	b.WriteByte('[')
	for i, u := range users {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(u)
	}
	b.WriteByte(']')
	if totals {
		fmt.Fprintf(&b, `,"total":%d}`, total)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

// selfOnly enforces the *:current_user scopes: a caller holding none of broad may act only on its own
// user (the token subject).
func selfOnly(p *principal, id string, broad ...string) error {
	for _, s := range broad {
		if p.has(s) {
			return nil
		}
	}
	if p.Subject == id {
		return nil
	}
	return &apiError{Status: http.StatusForbidden, Code: "insufficient_scope",
		Message: "Insufficient scope, expected any of: " + strings.Join(broad, ",")}
}

// getUser is GET /api/v2/users/{id} (contract §3.2).
func (t *Tenant) getUser(w http.ResponseWriter, r *http.Request, p *principal) error {
	id := r.PathValue("id")
	if err := selfOnly(p, id, "read:users", "read:user_idp_tokens"); err != nil {
		return err
	}
	v := r.URL.Query()
	if err := checkParams(v, "fields", "include_fields"); err != nil {
		return err
	}
	fields, err := fieldsParam(v)
	if err != nil {
		return err
	}
	u, err := t.store.GetUser(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return errUserNotFound
	}
	if err != nil {
		return err
	}
	b, err := fields.apply(toUserJSON(u))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

// usersByEmail is GET /api/v2/users-by-email (contract §3.3): a bare array, immediately consistent.
func (t *Tenant) usersByEmail(w http.ResponseWriter, r *http.Request, _ *principal) error {
	v := r.URL.Query()
	if err := checkParams(v, "email", "fields", "include_fields"); err != nil {
		return err
	}
	email := v.Get("email")
	if email == "" {
		return queryError("'Missing required property: email' on property email (Email address to search for (case-sensitive)).")
	}
	fields, err := fieldsParam(v)
	if err != nil {
		return err
	}
	found, err := t.store.UsersByEmail(r.Context(), email)
	if err != nil {
		return err
	}
	out := []json.RawMessage{}
	for _, u := range found {
		b, err := fields.apply(toUserJSON(u))
		if err != nil {
			return err
		}
		out = append(out, b)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// deleteUser is DELETE /api/v2/users/{id}: 204 whether or not the user existed (recorded, §3.6).
func (t *Tenant) deleteUser(w http.ResponseWriter, r *http.Request, p *principal) error {
	id := r.PathValue("id")
	if err := selfOnly(p, id, "delete:users"); err != nil {
		return err
	}
	if err := t.store.DeleteUser(r.Context(), id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	t.log.InfoContext(r.Context(), "tenant: user deleted", "user_id", id, "by", p.Subject)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusNoContent)
	return nil
}
