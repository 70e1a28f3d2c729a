package tenant

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// connectionJSON is the Management API connection object (recorded in TestConnectionManager_*).
type connectionJSON struct {
	ID                 string          `json:"id"`
	Options            json.RawMessage `json:"options,omitempty"`
	Strategy           string          `json:"strategy"`
	Name               string          `json:"name"`
	IsDomainConnection bool            `json:"is_domain_connection"`
	Realms             []string        `json:"realms"`
	EnabledClients     []string        `json:"enabled_clients"`
}

func toConnectionJSON(c store.Connection) connectionJSON {
	j := connectionJSON{ID: c.ID, Options: c.Options, Strategy: c.Strategy, Name: c.Name,
		IsDomainConnection: c.IsDomainConnection, Realms: c.Realms, EnabledClients: c.EnabledClients}
	if j.Realms == nil {
		j.Realms = []string{c.Name}
	}
	if j.EnabledClients == nil {
		j.EnabledClients = []string{}
	}
	return j
}

// listConnections is GET /api/v2/connections (contract §5.1): offset paging (a bare array, or with
// include_totals the envelope {total,start,limit,connections} without length) or checkpoint paging
// (from/take → {connections,next?}); filters strategy (repeatable), name and domain_alias; fields with
// is_domain_connection always kept (recorded).
func (t *Tenant) listConnections(w http.ResponseWriter, r *http.Request, _ *principal) error {
	v := r.URL.Query()
	if err := checkParams(v, "per_page", "page", "include_totals", "strategy", "name", "fields",
		"include_fields", "from", "take", "domain_alias"); err != nil {
		return err
	}
	page, err := intParam(v, "page", "Page index of the results to return. First page is 0.", 0, 0, 1<<20)
	if err != nil {
		return err
	}
	perPage, err := intParam(v, "per_page", "The amount of entries per page. Defaults to 100 if not provided", 50, 0, 100)
	if err != nil {
		return err
	}
	take, err := intParam(v, "take", "Number of results per page. Defaults to 50.", 50, 1, 100)
	if err != nil {
		return err
	}
	totals, err := boolParam(v, "include_totals", "Return results inside an object that contains the total result count (true) or as a direct array of results (false, default).", false)
	if err != nil {
		return err
	}
	fields, err := fieldsParam(v, "is_domain_connection")
	if err != nil {
		return err
	}
	all, err := t.store.ListConnections(r.Context()) // ordered by name
	if err != nil {
		return err
	}
	var matched []store.Connection
	for _, c := range all {
		if s := v["strategy"]; len(s) > 0 && !slices.Contains(s, c.Strategy) {
			continue
		}
		if n := v.Get("name"); n != "" && c.Name != n {
			continue
		}
		if a := v.Get("domain_alias"); a != "" && !slices.Contains(domainAliases(c), a) {
			continue
		}
		matched = append(matched, c)
	}
	render := func(cs []store.Connection) ([]json.RawMessage, error) {
		out := []json.RawMessage{}
		for _, c := range cs {
			b, err := fields.apply(toConnectionJSON(c))
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
		return out, nil
	}

	if v.Has("from") || v.Has("take") {
		// Checkpoint paging: the cursor is the name of the last connection returned.
		start := 0
		if from := v.Get("from"); from != "" {
			name, err := base64.RawURLEncoding.DecodeString(from)
			if err != nil {
				return queryError("'Invalid checkpoint' on property from (Optional Id from which to start selection).")
			}
			start = len(matched)
			for i, c := range matched {
				if c.Name > string(name) {
					start = i
					break
				}
			}
		}
		end := min(start+take, len(matched))
		items, err := render(matched[start:end])
		if err != nil {
			return err
		}
		body := struct {
			Connections []json.RawMessage `json:"connections"`
			Next        string            `json:"next,omitempty"`
		}{Connections: items}
		if end < len(matched) {
			body.Next = base64.RawURLEncoding.EncodeToString([]byte(matched[end-1].Name))
		}
		writeJSON(w, http.StatusOK, body)
		return nil
	}

	// Offset paging. Without page, per_page and include_totals, paging is off (everything).
	paged := v.Has("page") || v.Has("per_page") || totals
	window := matched
	if paged {
		lo := min(page*perPage, len(matched))
		window = matched[lo:min(lo+perPage, len(matched))]
	}
	items, err := render(window)
	if err != nil {
		return err
	}
	if !totals {
		writeJSON(w, http.StatusOK, items)
		return nil
	}
	writeJSON(w, http.StatusOK, struct {
		Total       int               `json:"total"`
		Start       int               `json:"start"`
		Limit       int               `json:"limit"`
		Connections []json.RawMessage `json:"connections"`
	}{len(matched), page * perPage, perPage, items})
	return nil
}

func domainAliases(c store.Connection) []string {
	var o struct {
		DomainAliases []string `json:"domain_aliases"`
	}
	_ = json.Unmarshal(c.Options, &o)
	return o.DomainAliases
}

// getConnection is GET /api/v2/connections/{id}.
func (t *Tenant) getConnection(w http.ResponseWriter, r *http.Request, _ *principal) error {
	v := r.URL.Query()
	if err := checkParams(v, "fields", "include_fields"); err != nil {
		return err
	}
	fields, err := fieldsParam(v, "is_domain_connection")
	if err != nil {
		return err
	}
	c, err := t.store.GetConnection(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return &apiError{Status: http.StatusNotFound, Code: "inexistent_connection", Message: "The connection does not exist"}
	}
	if err != nil {
		return err
	}
	b, err := fields.apply(toConnectionJSON(c))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}
