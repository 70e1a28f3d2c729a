package mgmt

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ConnectionManager wraps the /api/v2/connections endpoints.
type ConnectionManager struct{ c *core }

// List returns one page of connections, always with totals (include_totals=true). Each Strategy value
// is sent as its own strategy parameter; Name matches one connection name exactly; Fields limits the
// returned keys (include_fields=true), though Auth0 still returns is_domain_connection.
//
// Scopes: read:connections. See https://auth0.com/docs/api/management/v2/connections/get-connections
func (m *ConnectionManager) List(ctx context.Context, p ListConnectionsParams) (*ConnectionList, error) {
	q := url.Values{}
	q.Set("include_totals", "true")
	q.Set("per_page", strconv.Itoa(perPage(p.PerPage)))
	if p.Page > 0 {
		q.Set("page", strconv.Itoa(p.Page))
	}
	for _, s := range p.Strategy {
		q.Add("strategy", s)
	}
	if p.Name != "" {
		q.Set("name", p.Name)
	}
	if len(p.Fields) > 0 {
		q.Set("fields", strings.Join(p.Fields, ","))
		q.Set("include_fields", "true")
	}
	var out ConnectionList
	r := &request{method: http.MethodGet, route: routeConnections, u: m.c.endpoint("connections"), query: q, out: &out}
	if err := m.c.do(ctx, r); err != nil {
		return nil, err
	}
	return &out, nil
}
