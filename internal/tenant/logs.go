package tenant

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// Tenant logs: GET /api/v2/logs, /logs/{id} and /users/{id}/logs (contract §5.3).

var errLogNotFound = &apiError{Status: http.StatusNotFound, Code: "inexistent_log", Message: "Log event not found."}

// logJSON is a log event with Auth0's keys. Keys Auth0 sends as null are null here too; scope and
// references appear only when set (the recorded events have neither).
type logJSON struct {
	ID               string          `json:"_id"`
	LogID            string          `json:"log_id"`
	Date             string          `json:"date"`
	Type             string          `json:"type"`
	Description      *string         `json:"description"`
	Connection       *string         `json:"connection"`
	ConnectionID     *string         `json:"connection_id"`
	OrganizationID   *string         `json:"organization_id"`
	OrganizationName *string         `json:"organization_name"`
	ClientID         *string         `json:"client_id"`
	ClientName       *string         `json:"client_name"`
	IP               *string         `json:"ip"`
	Hostname         *string         `json:"hostname"`
	Details          json.RawMessage `json:"details"`
	UserID           *string         `json:"user_id"`
	UserName         *string         `json:"user_name"`
	UserAgent        *string         `json:"user_agent"`
	Audience         *string         `json:"audience"`
	Scope            *string         `json:"scope,omitempty"`
	Strategy         *string         `json:"strategy"`
	StrategyType     *string         `json:"strategy_type"`
	IsMobile         bool            `json:"isMobile"`
	LocationInfo     json.RawMessage `json:"location_info"`
	References       *logReferences  `json:"references,omitempty"`
}

type logReferences struct {
	CorrelationID string `json:"correlation_id"`
}

func toLogJSON(e store.LogEvent) logJSON {
	j := logJSON{
		ID: e.ID, LogID: e.ID, Date: auth0Time(e.Date), Type: e.Type, Description: e.Description,
		Connection: e.Connection, ConnectionID: e.ConnectionID, OrganizationID: e.OrganizationID,
		OrganizationName: e.OrganizationName, ClientID: e.ClientID, ClientName: e.ClientName, IP: e.IP,
		Hostname: e.Hostname, Details: e.Details, UserID: e.UserID, UserName: e.UserName,
		UserAgent: e.UserAgent, Audience: e.Audience, Scope: e.Scope, Strategy: e.Strategy,
		StrategyType: e.StrategyType, IsMobile: e.IsMobile, LocationInfo: e.LocationInfo,
	}
	if j.Details == nil {
		j.Details = json.RawMessage("null")
	}
	if j.LocationInfo == nil {
		j.LocationInfo = json.RawMessage("null")
	}
	if e.CorrelationID != "" {
		j.References = &logReferences{e.CorrelationID}
	}
	return j
}

// maxLogResults: "At most 100 per request and 1,000 search results in total" (contract §5.3).
const maxLogResults = 1000

// listLogs is GET /api/v2/logs.
func (t *Tenant) listLogs(w http.ResponseWriter, r *http.Request, _ *principal) error {
	return t.queryLogs(w, r, "")
}

// listUserLogs is GET /api/v2/users/{id}/logs: page, per_page, sort and include_totals; a bare array
// by default ([] for a new user, recorded). Events outlive their user, so no 404 for unknown ids.
func (t *Tenant) listUserLogs(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if err := checkParams(r.URL.Query(), "page", "per_page", "sort", "include_totals"); err != nil {
		return err
	}
	return t.queryLogs(w, r, r.PathValue("id"))
}

func (t *Tenant) queryLogs(w http.ResponseWriter, r *http.Request, userID string) error {
	v := r.URL.Query()
	if err := checkParams(v, "page", "per_page", "sort", "fields", "include_fields", "include_totals", "q", "from", "take"); err != nil {
		return err
	}
	if userID == "" && (v.Has("from") || v.Has("take")) {
		// Checkpoint mode: "any parameter other than from and take will be ignored".
		take, err := intParam(v, "take", "Number of entries to retrieve when using the from parameter. Default 50, max 100", 50, 1, 100)
		if err != nil {
			return err
		}
		events, _, err := t.store.ListLogs(r.Context(), store.LogQuery{Checkpoint: true, From: v.Get("from"), Limit: take})
		if err != nil {
			return err
		}
		out := []logJSON{}
		for _, e := range events {
			out = append(out, toLogJSON(e))
		}
		if n := len(events); n > 0 {
			next := *r.URL
			q := next.Query()
			q.Set("from", events[n-1].ID)
			q.Set("take", fmt.Sprint(take))
			next.RawQuery = q.Encode()
			w.Header().Set("Link", fmt.Sprintf("<%s%s>; rel=\"next\"", t.baseURL, next.RequestURI()))
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	pg, err := readPage(r, 50, 100)
	if err != nil {
		return err
	}
	if (pg.page+1)*pg.perPage > maxLogResults {
		return badRequest("invalid_paging", "You can only page through the first 1000 records.")
	}
	fields, err := fieldsParam(v)
	if err != nil {
		return err
	}
	q := store.LogQuery{UserID: userID, Offset: pg.page * pg.perPage, Limit: pg.perPage, NoTotal: !pg.totals}
	if s := v.Get("sort"); s != "" {
		f, dir, ok := strings.Cut(s, ":")
		if !ok || (f != "date" && f != "log_id") || (dir != "1" && dir != "-1") {
			return queryError("'String does not match pattern ^(([a-zA-Z0-9_\\.]+))\\:(1|-1)$' on property sort (Field to use for sorting appended with `:1` for ascending and `:-1` for descending. e.g. date:-1).")
		}
		q.Sort, q.Asc = f, dir == "1"
	}
	if q.Expr, err = parseLogQuery(v.Get("q")); err != nil {
		return badRequest("invalid_query_string", "Invalid query string: %s", err.Error())
	}
	var events []store.LogEvent
	total := 0
	if pg.perPage > 0 || pg.totals {
		if pg.perPage == 0 {
			q.Limit = 1
		}
		events, total, err = t.store.ListLogs(r.Context(), q)
		if errors.Is(err, store.ErrUnsupportedQuery) {
			return badRequest("invalid_query_string", "Invalid query string: %s", err.Error())
		}
		if err != nil {
			return err
		}
		if pg.perPage == 0 {
			events = nil
		}
	}
	total = min(total, maxLogResults)
	out := []json.RawMessage{}
	for _, e := range events {
		b, err := fields.apply(toLogJSON(e))
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
		Length int               `json:"length"`
		Limit  int               `json:"limit"`
		Logs   []json.RawMessage `json:"logs"`
		Start  int               `json:"start"`
		Total  int               `json:"total"`
	}{len(out), pg.perPage, out, q.Offset, total})
	return nil
}

// getLog is GET /api/v2/logs/{id}.
func (t *Tenant) getLog(w http.ResponseWriter, r *http.Request, _ *principal) error {
	e, err := t.store.GetLog(r.Context(), r.PathValue("id"))
	if err != nil {
		return notFoundAs(err, errLogNotFound)
	}
	writeJSON(w, http.StatusOK, toLogJSON(e))
	return nil
}

// --- the log search syntax (contract §5.3) ---
//
// Supported: field:value, field:"quoted value", trailing and leading * wildcards (at least 3 literal
// characters around a leading one), _exists_:field, date:[a TO b] / {a TO b} / mixed brackets with *
// for an open end, AND / OR / NOT (upper case), parentheses, juxtaposition (read as AND), and bare
// terms, which match client_name, connection, description, ip, log_id, type or user_name. Everything
// is case-sensitive and not tokenized.

var (
	logSearchFields = map[string]bool{
		"client_id": true, "client_name": true, "connection": true, "connection_id": true, "description": true,
		"hostname": true, "ip": true, "log_id": true, "organization_id": true, "user_id": true,
		"user_name": true, "user_agent": true, "strategy": true, "strategy_type": true, "type": true,
	}
	logBareFields = []string{"client_name", "connection", "description", "ip", "log_id", "type", "user_name"}
)

type logParser struct {
	s []rune
	i int
}

// parseLogQuery parses q; "" yields nil (everything).
func parseLogQuery(q string) (store.Expr, error) {
	if len(q) > maxQueryLen {
		return nil, fmt.Errorf("query longer than %d characters", maxQueryLen)
	}
	p := &logParser{s: []rune(q)}
	p.space()
	if p.eof() {
		return nil, nil
	}
	e, err := p.or(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if !p.eof() {
		return nil, p.errorf("unexpected %q", string(p.s[p.i]))
	}
	return e, nil
}

func (p *logParser) eof() bool { return p.i >= len(p.s) }

func (p *logParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at position %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *logParser) space() {
	for !p.eof() && unicode.IsSpace(p.s[p.i]) {
		p.i++
	}
}

func (p *logParser) keyword(kw string) bool {
	p.space()
	end := p.i + len(kw)
	if end > len(p.s) || string(p.s[p.i:end]) != kw {
		return false
	}
	if end == len(p.s) || unicode.IsSpace(p.s[end]) || p.s[end] == '(' {
		p.i = end
		return true
	}
	return false
}

func (p *logParser) or(depth int) (store.Expr, error) {
	if depth > maxQueryDepth {
		return nil, p.errorf("query nested too deeply")
	}
	x, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	or := store.Or{x}
	for p.keyword("OR") {
		y, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		or = append(or, y)
	}
	if len(or) == 1 {
		return x, nil
	}
	return or, nil
}

func (p *logParser) and(depth int) (store.Expr, error) {
	x, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	and := store.And{x}
	for {
		p.space()
		if p.eof() || p.s[p.i] == ')' {
			break
		}
		save := p.i
		if p.keyword("OR") {
			p.i = save
			break
		}
		p.keyword("AND")
		y, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		and = append(and, y)
	}
	if len(and) == 1 {
		return x, nil
	}
	return and, nil
}

func (p *logParser) unary(depth int) (store.Expr, error) {
	if depth > maxQueryDepth {
		return nil, p.errorf("query nested too deeply")
	}
	p.space()
	switch {
	case p.eof():
		return nil, p.errorf("unexpected end of query")
	case p.keyword("NOT"):
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return store.Not{X: x}, nil
	case p.s[p.i] == '(':
		p.i++
		x, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		p.space()
		if p.eof() || p.s[p.i] != ')' {
			return nil, p.errorf("missing )")
		}
		p.i++
		return x, nil
	case p.s[p.i] == ')':
		return nil, p.errorf("unexpected )")
	case p.keyword("AND") || p.keyword("OR"):
		return nil, p.errorf("operator without a left-hand term")
	}
	// field:value or a bare term.
	j := p.i
	for j < len(p.s) && (p.s[j] == '_' || unicode.IsLetter(p.s[j]) || unicode.IsDigit(p.s[j])) {
		j++
	}
	if j > p.i && j < len(p.s) && p.s[j] == ':' {
		field := string(p.s[p.i:j])
		p.i = j + 1
		return p.fieldValue(field)
	}
	val, quoted, err := p.value()
	if err != nil {
		return nil, err
	}
	var or store.Or
	for _, f := range logBareFields {
		t, err := logTerm(f, val, quoted)
		if err != nil {
			return nil, err
		}
		or = append(or, t)
	}
	return or, nil
}

func (p *logParser) fieldValue(field string) (store.Expr, error) {
	if field == "_exists_" {
		val, _, err := p.value()
		if err != nil {
			return nil, err
		}
		if !logSearchFields[val] && val != "date" {
			return nil, fmt.Errorf("unknown field %q", val)
		}
		return store.Exists{Field: val}, nil
	}
	if field == "date" {
		p.space()
		if p.eof() || (p.s[p.i] != '[' && p.s[p.i] != '{') {
			val, _, err := p.value()
			if err != nil {
				return nil, err
			}
			return store.Range{Field: "date", Lo: val, Hi: val, LoIncl: true, HiIncl: true}, nil
		}
		return p.dateRange()
	}
	if !logSearchFields[field] {
		return nil, fmt.Errorf("unknown field %q", field)
	}
	val, quoted, err := p.value()
	if err != nil {
		return nil, err
	}
	return logTerm(field, val, quoted)
}

// value reads a quoted string (no wildcards) or a word up to a space or parenthesis.
func (p *logParser) value() (string, bool, error) {
	p.space()
	if p.eof() {
		return "", false, p.errorf("missing value")
	}
	if p.s[p.i] == '"' {
		var b strings.Builder
		for p.i++; !p.eof(); p.i++ {
			switch c := p.s[p.i]; c {
			case '\\':
				p.i++
				if p.eof() {
					return "", false, p.errorf("unterminated quote")
				}
				b.WriteRune(p.s[p.i])
			case '"':
				p.i++
				return b.String(), true, nil
			default:
				b.WriteRune(c)
			}
		}
		return "", false, p.errorf("unterminated quote")
	}
	start := p.i
	for !p.eof() && !unicode.IsSpace(p.s[p.i]) && p.s[p.i] != '(' && p.s[p.i] != ')' {
		if p.s[p.i] == '\\' {
			p.i++
		}
		p.i++
	}
	if p.i == start {
		return "", false, p.errorf("missing value")
	}
	return strings.ReplaceAll(string(p.s[start:min(p.i, len(p.s))]), `\`, ""), false, nil
}

// logTerm builds the Term for field:val with the wildcard rules of user search.
func logTerm(field, val string, quoted bool) (store.Expr, error) {
	if quoted {
		return store.Term{Field: field, Value: val}, nil
	}
	if val == "*" {
		return store.Exists{Field: field}, nil
	}
	lead, trail := strings.HasPrefix(val, "*"), strings.HasSuffix(val, "*")
	core := strings.TrimSuffix(strings.TrimPrefix(val, "*"), "*")
	switch {
	case strings.ContainsAny(core, "*?"):
		return nil, fmt.Errorf("wildcards inside a term (%q) are not supported", val)
	case lead && len([]rune(core)) < 3:
		return nil, fmt.Errorf("a leading wildcard needs at least 3 characters (%q)", val)
	}
	return store.Term{Field: field, Value: core, Prefix: trail && !lead, Suffix: lead && !trail, Contains: lead && trail}, nil
}

// dateRange reads [lo TO hi] with [ ] inclusive and { } exclusive bounds; * is an open end.
func (p *logParser) dateRange() (store.Expr, error) {
	r := store.Range{Field: "date", LoIncl: p.s[p.i] == '['}
	p.i++
	words := []string{}
	for len(words) < 3 {
		p.space()
		start := p.i
		for !p.eof() && !unicode.IsSpace(p.s[p.i]) && p.s[p.i] != ']' && p.s[p.i] != '}' {
			p.i++
		}
		if p.i == start {
			return nil, p.errorf("malformed range")
		}
		words = append(words, string(p.s[start:p.i]))
	}
	p.space()
	if p.eof() || (p.s[p.i] != ']' && p.s[p.i] != '}') || words[1] != "TO" {
		return nil, p.errorf("malformed range: want [from TO to]")
	}
	r.HiIncl = p.s[p.i] == ']'
	p.i++
	if words[0] != "*" {
		r.Lo = words[0]
	}
	if words[2] != "*" {
		r.Hi = words[2]
	}
	return r, nil
}
