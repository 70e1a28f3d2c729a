package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/auditlog"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/views"
)

// auditPageSize is how many entries one audit page shows; userAuditSize how many the user page shows.
const (
	auditPageSize = 50
	userAuditSize = 10
	dateLayout    = "2006-01-02"
)

// Sentences of the audit pages.
const (
	msgNoTrail        = "The audit trail is not configured."
	msgTrailFailed    = "The audit trail could not be read. The error has been logged; please try again."
	msgExportRefused  = "The export could not be recorded in the audit trail, so it was refused. The failure has been logged."
	msgDateInvalid    = "Enter a date as YYYY-MM-DD."
	msgOutcomeInvalid = "Choose one of the listed outcomes."
	msgRangeInvalid   = "The end date is before the start date."
)

var outcomes = []string{string(audit.OutcomeSuccess), string(audit.OutcomeFailure), string(audit.OutcomeDenied), string(audit.OutcomeUnknown)}

// auditFilter reads the audit page's query parameters (actor, target, action, outcome, from, to,
// page) into the form as typed and the store's filter; errs names the fields that cannot be used.
func auditFilter(q url.Values) (views.AuditFilter, audit.Filter, int) {
	vf := views.AuditFilter{
		Actor: strings.TrimSpace(q.Get("actor")), Target: strings.TrimSpace(q.Get("target")),
		Action: strings.TrimSpace(q.Get("action")), Outcome: strings.TrimSpace(q.Get("outcome")),
		From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")),
	}
	f := audit.Filter{Actor: vf.Actor, TargetUserID: vf.Target, Action: vf.Action, Outcome: audit.Outcome(vf.Outcome)}
	errs := map[string]string{}
	if vf.Outcome != "" && !f.Outcome.Valid() {
		errs["outcome"] = msgOutcomeInvalid
	}
	if vf.From != "" {
		t, err := time.Parse(dateLayout, vf.From)
		if err != nil {
			errs["from"] = msgDateInvalid
		}
		f.From = t
	}
	if vf.To != "" {
		t, err := time.Parse(dateLayout, vf.To)
		if err != nil {
			errs["to"] = msgDateInvalid
		}
		f.To = t.AddDate(0, 0, 1) // the whole "to" day: Filter.To is exclusive
	}
	if len(errs) == 0 && !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		errs["to"] = msgRangeInvalid
	}
	if len(errs) > 0 {
		vf.Errors = errs
	}
	page, _ := strconv.Atoi(q.Get("page"))
	return vf, f, max(page, 1)
}

// auditQuery is the query string of a filter (without page), for links that keep it.
func auditQuery(vf views.AuditFilter) url.Values {
	v := url.Values{}
	for k, val := range map[string]string{"actor": vf.Actor, "target": vf.Target, "action": vf.Action,
		"outcome": vf.Outcome, "from": vf.From, "to": vf.To} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v
}

func withQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// auditList: GET /audit — the filtered trail, newest first, one page at a time.
func (h *handler) auditList(c echo.Context) error {
	vf, f, page := auditFilter(c.QueryParams())
	l := views.AuditList{Filter: vf, Actions: auditlog.ActionNames(), Outcomes: outcomes}
	if allowed(c, authz.ExportAudit) {
		l.CSVURL = withQuery("/audit.csv", auditQuery(vf))
	}
	if h.trail == nil {
		l.Message = msgNoTrail
		return h.render(c, http.StatusServiceUnavailable, "Audit", views.AuditPage(l))
	}
	if vf.Errors != nil {
		return h.render(c, http.StatusBadRequest, "Audit", views.AuditPage(l))
	}
	f.Limit, f.Offset = auditPageSize, (page-1)*auditPageSize
	entries, total, err := h.trail.Query(c.Request().Context(), f)
	if err != nil {
		h.log.ErrorContext(c.Request().Context(), "audit query failed", "err", err)
		l.Message = msgTrailFailed
		return h.render(c, http.StatusInternalServerError, "Audit", views.AuditPage(l))
	}
	for _, e := range entries {
		l.Rows = append(l.Rows, auditRow(e))
	}
	l.Total = total
	if len(l.Rows) > 0 {
		l.From = f.Offset + 1
		l.To = f.Offset + len(l.Rows)
	}
	q := auditQuery(vf)
	if page > 1 {
		p := url.Values{}
		for k, v := range q {
			p[k] = v
		}
		if page > 2 {
			p.Set("page", strconv.Itoa(page-1))
		}
		l.PrevURL = withQuery("/audit", p)
	}
	if f.Offset+len(l.Rows) < total {
		q.Set("page", strconv.Itoa(page+1))
		l.NextURL = withQuery("/audit", q)
	}
	return h.render(c, http.StatusOK, "Audit", views.AuditPage(l))
}

// auditCSV: GET /audit.csv — every entry the filter selects, as CSV (admins only). The export is
// itself recorded first; if that fails nothing is exported.
func (h *handler) auditCSV(c echo.Context) error {
	vf, f, _ := auditFilter(c.QueryParams())
	if vf.Errors != nil {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	if h.trail == nil {
		return &users.Problem{Status: http.StatusServiceUnavailable, Message: msgNoTrail}
	}
	w := &csvResponse{c: c, name: "userdesk-audit-" + time.Now().UTC().Format("20060102-150405") + ".csv"}
	err := h.trail.Export(c.Request().Context(), w, f)
	switch {
	case err == nil:
		if !w.started { // cannot happen (the header row is always written), but never answer nothing
			w.start()
		}
		return nil
	case w.started:
		// Headers and part of the file are out; the truncated download is all the client can get.
		h.log.ErrorContext(c.Request().Context(), "audit export failed mid-stream", "err", err)
		return nil
	case errors.Is(err, auditlog.ErrExportNotRecorded):
		return &users.Problem{Status: http.StatusServiceUnavailable, Message: msgExportRefused, Err: err}
	}
	return err
}

// csvResponse sends the CSV headers with the first byte, so a failure before any output can still
// become an error page.
type csvResponse struct {
	c       echo.Context
	name    string
	started bool
}

func (w *csvResponse) start() {
	h := w.c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+w.name+`"`)
	w.c.Response().WriteHeader(http.StatusOK)
	w.started = true
}

func (w *csvResponse) Write(p []byte) (int, error) {
	if !w.started {
		w.start()
	}
	return w.c.Response().Write(p)
}

// userAudit is the user page's audit section: the latest entries about the user, or nil without
// an audit trail.
func (h *handler) userAudit(c echo.Context, id string) *views.UserAudit {
	if h.trail == nil || !allowed(c, authz.ReadAudit) {
		return nil
	}
	ua := &views.UserAudit{MoreURL: withQuery("/audit", url.Values{"target": {id}})}
	entries, _, err := h.trail.Query(c.Request().Context(), audit.Filter{TargetUserID: id, Limit: userAuditSize})
	if err != nil {
		h.log.ErrorContext(c.Request().Context(), "audit query failed", "err", err)
		ua.Message = msgTrailFailed
		return ua
	}
	for _, e := range entries {
		ua.Rows = append(ua.Rows, auditRow(e))
	}
	return ua
}

func auditRow(e audit.Entry) views.AuditRow {
	r := views.AuditRow{
		ID:            strconv.FormatInt(e.ID, 10),
		Time:          e.Time.UTC().Format("2006-01-02 15:04:05"),
		Actor:         e.ActorEmail,
		Role:          e.ActorRole,
		IP:            e.ClientIP,
		Action:        e.Action,
		Target:        e.TargetEmail,
		TargetID:      e.TargetUserID,
		Outcome:       string(e.Outcome),
		CorrelationID: e.CorrelationID,
		RequestID:     e.RequestID,
		Reason:        e.Reason,
		Detail:        e.Detail,
	}
	if r.Actor == "" {
		r.Actor = e.ActorSubject
	}
	if e.ActorSubject != "" {
		r.ActorID = e.ActorIssuer + " " + e.ActorSubject
		r.ActorURL = withQuery("/audit", url.Values{"actor": {e.ActorSubject}})
	}
	if r.Target == "" {
		r.Target = e.TargetUserID
	}
	if e.TargetUserID != "" && auditlog.IsUserAction(e.Action) {
		r.TargetURL = userURL(e.TargetUserID)
	}
	if e.UpstreamStatus != 0 {
		r.Upstream = strconv.Itoa(e.UpstreamStatus)
	}
	for _, ch := range e.Changes {
		r.Changes = append(r.Changes, views.AuditChange{Field: ch.Field, Before: ch.Before, After: ch.After})
	}
	return r
}
