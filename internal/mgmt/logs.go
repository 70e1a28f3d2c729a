package mgmt

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// LogManager wraps the /api/v2/logs endpoints (the tenant log).
type LogManager struct{ c *core }

// LogEvent is one tenant log event. Type is Auth0's event code ("s" success login, "f" failed
// login, "fp" wrong password, "fu" unknown user, "limit_wc" brute-force block, "sapi" Management
// API write, ...). Auth0 sends most keys even when unset, as null: those fields are then empty, and
// the event still re-encodes with its nulls. Unknown keys ("_id", which repeats log_id, "scope", ...)
// are kept in Extra.
type LogEvent struct {
	LogID            string         `json:"log_id,omitempty"`
	Date             *time.Time     `json:"date,omitempty"`
	Type             string         `json:"type,omitempty"`
	Description      string         `json:"description,omitempty"`
	Connection       string         `json:"connection,omitempty"`
	ConnectionID     string         `json:"connection_id,omitempty"`
	OrganizationID   string         `json:"organization_id,omitempty"`
	OrganizationName string         `json:"organization_name,omitempty"`
	ClientID         string         `json:"client_id,omitempty"`
	ClientName       string         `json:"client_name,omitempty"`
	IP               string         `json:"ip,omitempty"`
	Hostname         string         `json:"hostname,omitempty"`
	UserID           string         `json:"user_id,omitempty"`
	UserName         string         `json:"user_name,omitempty"`
	UserAgent        string         `json:"user_agent,omitempty"`
	Audience         string         `json:"audience,omitempty"`
	Strategy         string         `json:"strategy,omitempty"`
	StrategyType     string         `json:"strategy_type,omitempty"`
	IsMobile         bool           `json:"isMobile,omitempty"`
	LocationInfo     map[string]any `json:"location_info,omitempty"`
	References       map[string]any `json:"references,omitempty"`
	// Details is the event's details object as Auth0 sent it (its shape depends on Type), or null.
	Details json.RawMessage `json:"details,omitempty"`

	// Extra holds every other key of the response.
	Extra map[string]json.RawMessage `json:"-"`
	zero  map[string]json.RawMessage // known keys that came as null, "" or false: see decodeObject
}

// CorrelationID returns references.correlation_id: the X-Correlation-ID of the Management API write
// a "sapi" event records ("" when it carried none).
func (e *LogEvent) CorrelationID() string {
	s, _ := e.References["correlation_id"].(string)
	return s
}

// LogListParams are the query parameters of GET /api/v2/logs. Offset paging (Q, Page, PerPage,
// Sort, Fields) reaches the first 1,000 events a search matches; checkpoint paging (From, Take)
// walks the whole log forward and, when either is set, is the only thing sent.
type LogListParams struct {
	Q       string   // log search syntax, e.g. `type:"fp" AND user_id:"auth0|123"`
	Page    int      // 0-based
	PerPage int      // 1..100; 0 = Auth0's default (50)
	Sort    string   // "date:-1" (newest first) or "date:1"
	Fields  []string // keys to return (include_fields=true); nil = all
	From    string   // checkpoint: the log_id to continue after
	Take    int      // checkpoint: events to return, 1..100; 0 = Auth0's default (50)
}

// List returns one page of tenant log events (a plain list: Auth0 does not total checkpoint pages,
// and totals of a search stop at 1,000).
//
// Scopes: read:logs or read:logs_users. See https://auth0.com/docs/api/management/v2/logs/get-logs
func (m *LogManager) List(ctx context.Context, p LogListParams) ([]LogEvent, error) {
	q := url.Values{}
	if p.From != "" || p.Take > 0 {
		if p.From != "" {
			q.Set("from", p.From)
		}
		if p.Take > 0 {
			q.Set("take", strconv.Itoa(p.Take))
		}
	} else {
		setPage(q, p.Page, p.PerPage, p.Sort)
		if p.Q != "" {
			q.Set("q", p.Q)
		}
		if len(p.Fields) > 0 {
			q.Set("fields", strings.Join(p.Fields, ","))
			q.Set("include_fields", "true")
		}
	}
	var out []LogEvent
	if err := m.c.call(ctx, http.MethodGet, routeLogs, m.c.endpoint("logs"), q, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Get returns one log event by its log_id. A missing event is an *Error matching ErrNotFound.
//
// Scopes: read:logs or read:logs_users. See https://auth0.com/docs/api/management/v2/logs/get-logs-by-id
func (m *LogManager) Get(ctx context.Context, id string) (*LogEvent, error) {
	if err := checkID("log", id); err != nil {
		return nil, err
	}
	var out LogEvent
	if err := m.c.call(ctx, http.MethodGet, routeLog, m.c.endpoint("logs", id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UserLogsParams are the query parameters of GET /api/v2/users/{id}/logs.
type UserLogsParams struct {
	Page    int    // 0-based
	PerPage int    // 1..100; 0 = Auth0's default (50)
	Sort    string // "date:-1" (newest first) or "date:1"
}

// Logs returns one page of the log events about the user (a plain list; a further page may exist
// while a page comes back full). Events outlive their user: an ID without events, known or not,
// gives an empty list rather than a 404. Auth0 keeps events 1 to 30 days, by plan.
//
// Scopes: read:logs or read:logs_users. See
// https://auth0.com/docs/api/management/v2/users/get-logs-by-user
func (m *UserManager) Logs(ctx context.Context, id string, p UserLogsParams) ([]LogEvent, error) {
	if err := checkID("user", id); err != nil {
		return nil, err
	}
	q := url.Values{}
	setPage(q, p.Page, p.PerPage, p.Sort)
	var out []LogEvent
	if err := m.c.call(ctx, http.MethodGet, routeUserLogs, m.c.endpoint("users", id, "logs"), q, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// setPage adds page, per_page and sort when set (the log endpoints default them).
func setPage(q url.Values, page, per int, sort string) {
	if page > 0 {
		q.Set("page", strconv.Itoa(page))
	}
	if per > 0 {
		q.Set("per_page", strconv.Itoa(per))
	}
	if sort != "" {
		q.Set("sort", sort)
	}
}

type logEventAlias LogEvent

// UnmarshalJSON decodes a log event, keeping unknown keys in Extra.
func (e *LogEvent) UnmarshalJSON(data []byte) error {
	*e = LogEvent{}
	var err error
	e.Extra, e.zero, err = decodeObject(data, (*logEventAlias)(e))
	return err
}

// MarshalJSON encodes the event as it came (nulls included), the date in Auth0's layout.
func (e LogEvent) MarshalJSON() ([]byte, error) {
	aux := struct {
		logEventAlias
		Date *auth0Time `json:"date,omitempty"`
	}{logEventAlias(e), (*auth0Time)(e.Date)}
	return encodeObject(aux, reflect.TypeFor[logEventAlias](), e.Extra, e.zero)
}
