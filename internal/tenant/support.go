package tenant

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// This file wires the support-console endpoints (issue 3, part 2) and the tenant log the tenant
// writes itself: sign-ins (authorize.go), token exchanges (token.go), brute-force blocks and every
// successful Management API write (api.go calls auditWrite).

// supportState is the tenant's mutable state for the support endpoints.
type supportState struct {
	logSeq atomic.Uint64   // tie-breaker of log ids written in the same microsecond
	jobs   sync.WaitGroup  // running background jobs
	ctx    context.Context // background jobs run under it (never cancelled: jobs are short)
}

// registerSupportRoutes adds the support-console routes to mux. Scopes per contract §5: "any of"
// (t.api), except where t.apiAllOf says every listed scope is needed.
func (t *Tenant) registerSupportRoutes(mux *http.ServeMux) {
	t.initSupport()

	// Roles and permissions (roles.go).
	mux.Handle("GET /api/v2/roles", t.api(t.listRoles, "read:roles"))
	mux.Handle("POST /api/v2/roles", t.api(t.createRole, "create:roles"))
	mux.Handle("GET /api/v2/roles/{id}", t.api(t.getRole, "read:roles"))
	mux.Handle("PATCH /api/v2/roles/{id}", t.api(t.patchRole, "update:roles"))
	mux.Handle("DELETE /api/v2/roles/{id}", t.api(t.deleteRole, "delete:roles"))
	mux.Handle("GET /api/v2/roles/{id}/users", t.api(t.listRoleUsers, "read:users", "read:roles", "read:role_members"))
	mux.Handle("POST /api/v2/roles/{id}/users", t.api(t.addRoleUsers, "update:roles", "create:role_members"))
	mux.Handle("GET /api/v2/roles/{id}/permissions", t.api(t.listRolePermissions, "read:roles"))
	mux.Handle("POST /api/v2/roles/{id}/permissions", t.api(t.addRolePermissions, "update:roles"))
	mux.Handle("DELETE /api/v2/roles/{id}/permissions", t.api(t.removeRolePermissions, "update:roles"))
	mux.Handle("GET /api/v2/users/{id}/roles", t.api(t.listUserRoles, "read:users", "read:roles", "read:role_members"))
	mux.Handle("POST /api/v2/users/{id}/roles", t.api(t.assignUserRoles, "update:users", "create:role_members"))
	mux.Handle("DELETE /api/v2/users/{id}/roles", t.api(t.removeUserRoles, "update:users", "delete:role_members"))
	mux.Handle("GET /api/v2/users/{id}/permissions", t.api(t.listUserPermissions, "read:users"))
	mux.Handle("POST /api/v2/users/{id}/permissions", t.api(t.addUserPermissions, "update:users"))
	mux.Handle("DELETE /api/v2/users/{id}/permissions", t.api(t.removeUserPermissions, "update:users"))

	// Logs (logs.go).
	mux.Handle("GET /api/v2/logs", t.api(t.listLogs, "read:logs", "read:logs_users"))
	mux.Handle("GET /api/v2/logs/{id}", t.api(t.getLog, "read:logs", "read:logs_users"))
	mux.Handle("GET /api/v2/users/{id}/logs", t.api(t.listUserLogs, "read:logs", "read:logs_users"))

	// Brute-force blocks (blocks.go).
	mux.Handle("GET /api/v2/user-blocks", t.api(t.getBlocksByIdentifier, "read:users"))
	mux.Handle("DELETE /api/v2/user-blocks", t.api(t.deleteBlocksByIdentifier, "update:users"))
	mux.Handle("GET /api/v2/user-blocks/{id}", t.api(t.getUserBlocks, "read:users"))
	mux.Handle("DELETE /api/v2/user-blocks/{id}", t.api(t.deleteUserBlocks, "update:users"))

	// MFA (authmethods.go).
	mux.Handle("GET /api/v2/users/{id}/authentication-methods", t.api(t.listAuthMethods, "read:authentication_methods"))
	mux.Handle("POST /api/v2/users/{id}/authentication-methods", t.api(t.createAuthMethod, "create:authentication_methods"))
	mux.Handle("PUT /api/v2/users/{id}/authentication-methods", t.api(t.replaceAuthMethods, "update:authentication_methods"))
	mux.Handle("DELETE /api/v2/users/{id}/authentication-methods", t.api(t.deleteAuthMethods, "delete:authentication_methods"))
	mux.Handle("GET /api/v2/users/{id}/authentication-methods/{method}", t.api(t.getAuthMethod, "read:authentication_methods"))
	mux.Handle("PATCH /api/v2/users/{id}/authentication-methods/{method}", t.api(t.patchAuthMethod, "update:authentication_methods"))
	mux.Handle("DELETE /api/v2/users/{id}/authentication-methods/{method}", t.api(t.deleteAuthMethod, "delete:authentication_methods"))
	mux.Handle("GET /api/v2/users/{id}/enrollments", t.api(t.listEnrollments, "read:users", "read:current_user"))
	mux.Handle("POST /api/v2/users/{id}/multifactor/actions/invalidate-remember-browser", t.api(t.invalidateRememberBrowser, "update:users"))
	mux.Handle("POST /api/v2/users/{id}/recovery-code-regeneration", t.api(t.regenerateRecoveryCode, "update:users")) // recoverycode.go

	// Sessions and refresh tokens (sessions.go).
	mux.Handle("GET /api/v2/users/{id}/sessions", t.api(t.listSessions, "read:sessions"))
	mux.Handle("DELETE /api/v2/users/{id}/sessions", t.api(t.deleteSessions, "delete:sessions"))
	mux.Handle("GET /api/v2/users/{id}/refresh-tokens", t.api(t.listRefreshTokens, "read:refresh_tokens"))
	mux.Handle("DELETE /api/v2/users/{id}/refresh-tokens", t.api(t.deleteRefreshTokens, "delete:refresh_tokens"))
	mux.Handle("GET /api/v2/sessions/{id}", t.api(t.getSession, "read:sessions"))
	mux.Handle("DELETE /api/v2/sessions/{id}", t.api(t.deleteSession, "delete:sessions"))
	// Revoke both ends the session and deletes refresh tokens, so it needs both scopes.
	mux.Handle("POST /api/v2/sessions/{id}/revoke", t.apiAllOf(t.revokeSession, "delete:sessions", "delete:refresh_tokens"))

	// Tickets and the pages that honour them (tickets.go).
	mux.Handle("POST /api/v2/tickets/password-change", t.api(t.createPasswordTicket, "create:user_tickets"))
	mux.Handle("POST /api/v2/tickets/email-verification", t.api(t.createEmailTicket, "create:user_tickets"))
	cop := http.NewCrossOriginProtection()
	mux.HandleFunc("GET /u/reset-password", t.handleResetForm)
	mux.Handle("POST /u/reset-password", cop.Handler(http.HandlerFunc(t.handleResetSubmit)))
	mux.HandleFunc("GET /u/email-verification", t.handleEmailVerification)

	// Jobs (jobs.go).
	mux.Handle("POST /api/v2/jobs/verification-email", t.api(t.createVerificationJob, "update:users"))
	mux.Handle("POST /api/v2/jobs/users-exports", t.api(t.createExportJob, "read:users"))
	mux.Handle("GET /api/v2/jobs/{id}", t.api(t.getJob, "create:users", "read:users"))
	mux.HandleFunc("GET /exports/{job}/{file}", t.handleExportDownload)

	// Clients and client grants (clients.go).
	mux.Handle("GET /api/v2/clients", t.api(t.listClients, "read:clients", "read:client_keys"))
	mux.Handle("POST /api/v2/clients", t.api(t.createClient, "create:clients"))
	mux.Handle("GET /api/v2/clients/{id}", t.api(t.getClient, "read:clients", "read:client_keys"))
	mux.Handle("PATCH /api/v2/clients/{id}", t.api(t.patchClient, "update:clients", "update:client_keys"))
	mux.Handle("DELETE /api/v2/clients/{id}", t.api(t.deleteClient, "delete:clients"))
	mux.Handle("GET /api/v2/client-grants", t.api(t.listClientGrants, "read:client_grants"))
	mux.Handle("POST /api/v2/client-grants", t.api(t.createClientGrant, "create:client_grants"))
	mux.Handle("PATCH /api/v2/client-grants/{id}", t.api(t.patchClientGrant, "update:client_grants"))
	mux.Handle("DELETE /api/v2/client-grants/{id}", t.api(t.deleteClientGrant, "delete:client_grants"))
}

// initSupport creates the support state once; Open's first-start seeding may need it before the
// routes are registered (both run inside Open, before the tenant serves requests).
func (t *Tenant) initSupport() {
	if t.support == nil {
		t.support = &supportState{ctx: context.WithoutCancel(context.Background())}
		t.initLogSeq()
	}
}

// waitJobs blocks until every background job has finished (tests, shutdown).
func (t *Tenant) waitJobs() { t.support.jobs.Wait() }

// --- log events ---

// initLogSeq starts the log-id tie-breaker above the newest stored event's, so ids stay unique and
// ordered across restarts even when the clock repeats (tests use a fixed clock).
func (t *Tenant) initLogSeq() {
	newest, _, err := t.store.ListLogs(context.Background(), store.LogQuery{Limit: 1, NoTotal: true})
	if err != nil || len(newest) == 0 || len(newest[0].ID) != 56 {
		return
	}
	// The sequence is the last 33 digits; ids written by other systems may not fit, then 0 is kept.
	if seq, err := strconv.ParseUint(strings.TrimLeft(newest[0].ID[23:], "0"), 10, 64); err == nil {
		t.support.logSeq.Store(seq)
	}
}

// newLogID returns a 56-digit log id: "900", the date to the microsecond (20 digits), and a 33-digit
// sequence. Ids sort like (date, write order), as Auth0's do.
func (t *Tenant) newLogID(at time.Time) string {
	at = at.UTC()
	return fmt.Sprintf("900%s%06d%033d", at.Format("20060102150405"), at.Nanosecond()/1000, t.support.logSeq.Add(1))
}

func strp(s string) *string { return &s }

// writeLog stores e with a fresh id and the current date. A failure is logged, never returned: the
// tenant log must not break sign-ins or API calls.
func (t *Tenant) writeLog(ctx context.Context, e store.LogEvent) {
	now := t.now().UTC().Truncate(time.Millisecond)
	e.ID, e.Date = t.newLogID(now), now
	if e.Description == nil {
		e.Description = strp("")
	}
	if err := t.store.AppendLog(context.WithoutCancel(ctx), e); err != nil {
		t.log.ErrorContext(ctx, "tenant: write log event", "type", e.Type, "err", err)
	}
}

// clientIP is the caller's address without the port.
func clientIP(r *http.Request) string {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return ip
}

// requestEvent returns an event of type typ with the request's ip, hostname and user agent.
func requestEvent(r *http.Request, typ string) store.LogEvent {
	return store.LogEvent{Type: typ, IP: strp(clientIP(r)), Hostname: strp(r.Host), UserAgent: strp(r.UserAgent())}
}

// clientName is the name of a client for log events, "" when unknown.
func (t *Tenant) clientName(ctx context.Context, clientID string) string {
	c, err := t.store.GetClient(ctx, clientID)
	if err != nil {
		return ""
	}
	return c.Name
}

// --- sapi: every successful Management API write ---

// maxAuditBody bounds the request and response bodies copied into a sapi event.
const maxAuditBody = 16 << 10

// secretKeys are redacted from bodies copied into the log: passwords, client secrets, ticket links
// and one-time secrets (MFA recovery codes included) must never reach the log.
var secretKeys = map[string]bool{
	"password": true, "client_secret": true, "ticket": true, "totp_secret": true, "location": true,
	"recovery_code": true,
}

// auditRecorder remembers the status and the start of the body of a response.
type auditRecorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (a *auditRecorder) WriteHeader(code int) {
	if a.status == 0 {
		a.status = code
	}
	a.ResponseWriter.WriteHeader(code)
}

func (a *auditRecorder) Write(b []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	if room := maxAuditBody - a.body.Len(); room > 0 {
		a.body.Write(b[:min(len(b), room)])
	}
	return a.ResponseWriter.Write(b)
}

// teeBody copies what the handler reads from the request body, up to maxAuditBody.
type teeBody struct {
	io.ReadCloser
	buf bytes.Buffer
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if room := maxAuditBody - b.buf.Len(); room > 0 && n > 0 {
		b.buf.Write(p[:min(n, room)])
	}
	return n, err
}

// auditWrite wraps a Management API request so that, when it is a POST, PUT, PATCH or DELETE that
// succeeds (2xx), done writes a "sapi" event with the request and response (secrets redacted) and the
// caller's X-Correlation-ID (first 64 characters), as Auth0 does (contract §2).
func (t *Tenant) auditWrite(w http.ResponseWriter, r *http.Request, p *principal) (http.ResponseWriter, func()) {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return w, func() {}
	}
	rec := &auditRecorder{ResponseWriter: w}
	tee := &teeBody{ReadCloser: r.Body}
	r.Body = tee
	return rec, func() {
		if rec.status < 200 || rec.status > 299 {
			return
		}
		clientID := strings.TrimSuffix(p.Subject, "@clients")
		request := map[string]any{
			"method": strings.ToLower(r.Method), "path": r.URL.Path, "query": queryObject(r),
			"body": redactedJSON(tee.buf.Bytes()), "channel": "api", "ip": clientIP(r), "userAgent": r.UserAgent(),
			"auth": map[string]any{"strategy": "jwt", "user": map[string]any{},
				"credentials": map[string]any{"scopes": p.Scopes}},
		}
		details, err := marshal(map[string]any{
			"request":  request,
			"response": map[string]any{"statusCode": rec.status, "body": redactedJSON(rec.body.Bytes())},
		})
		if err != nil {
			return
		}
		e := requestEvent(r, "sapi")
		e.Description = strp(apiDescription(r))
		e.ClientID, e.ClientName = strp(clientID), strp(t.clientName(r.Context(), clientID))
		e.Details = details
		if id := r.Header.Get("X-Correlation-ID"); id != "" {
			e.CorrelationID = truncateRunes(id, 64)
		}
		t.writeLog(r.Context(), e)
	}
}

func truncateRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// queryObject is the request's query as a JSON object of strings (repeated keys: the first value).
func queryObject(r *http.Request) map[string]string {
	q := map[string]string{}
	for k, v := range r.URL.Query() {
		q[k] = v[0]
	}
	return q
}

// redactedJSON decodes b (a JSON document, or nothing) and replaces the values of secretKeys at any
// depth with "*****". Bodies that are not JSON (or were cut at maxAuditBody) become {}.
func redactedJSON(b []byte) any {
	var v any
	if len(bytes.TrimSpace(b)) == 0 || json.Unmarshal(b, &v) != nil {
		return map[string]any{}
	}
	return redact(v)
}

func redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if secretKeys[k] {
				x[k] = "*****"
			} else {
				x[k] = redact(val)
			}
		}
	case []any:
		for i := range x {
			x[i] = redact(x[i])
		}
	}
	return v
}

// apiDescriptions name write operations as Auth0's sapi events do ("Create a User", ...), keyed by
// the matched route pattern. Auth0's wording where known [R REC:TestLogManager_*], else Auth0-like [I].
var apiDescriptions = map[string]string{
	"POST /api/v2/users":                                                      "Create a User",
	"PATCH /api/v2/users/{id}":                                                "Update a User",
	"DELETE /api/v2/users/{id}":                                               "Delete a User",
	"POST /api/v2/users/{id}/identities":                                      "Link a User Account",
	"DELETE /api/v2/users/{id}/identities/{provider}/{user_id}":               "Unlink a User Identity",
	"POST /api/v2/roles":                                                      "Create a role",
	"PATCH /api/v2/roles/{id}":                                                "Update a role",
	"DELETE /api/v2/roles/{id}":                                               "Delete a role",
	"POST /api/v2/roles/{id}/users":                                           "Assign users to a role",
	"POST /api/v2/roles/{id}/permissions":                                     "Associate permissions with a role",
	"DELETE /api/v2/roles/{id}/permissions":                                   "Remove permissions from a role",
	"POST /api/v2/users/{id}/roles":                                           "Assign roles to a user",
	"DELETE /api/v2/users/{id}/roles":                                         "Removes roles from a user",
	"POST /api/v2/users/{id}/permissions":                                     "Assign Permissions to a User",
	"DELETE /api/v2/users/{id}/permissions":                                   "Remove Permissions from a User",
	"DELETE /api/v2/user-blocks":                                              "Unblock by identifier",
	"DELETE /api/v2/user-blocks/{id}":                                         "Unblock a user",
	"POST /api/v2/tickets/password-change":                                    "Create a password change ticket",
	"POST /api/v2/tickets/email-verification":                                 "Create an email verification ticket",
	"POST /api/v2/jobs/verification-email":                                    "Send a verification email",
	"POST /api/v2/jobs/users-exports":                                         "Create export users job",
	"DELETE /api/v2/users/{id}/sessions":                                      "Delete sessions for user",
	"DELETE /api/v2/users/{id}/refresh-tokens":                                "Delete refresh tokens for user",
	"DELETE /api/v2/sessions/{id}":                                            "Delete session",
	"POST /api/v2/sessions/{id}/revoke":                                       "Revoke session",
	"POST /api/v2/clients":                                                    "Create client",
	"PATCH /api/v2/clients/{id}":                                              "Update a client",
	"DELETE /api/v2/clients/{id}":                                             "Delete a client",
	"POST /api/v2/client-grants":                                              "Create client grant",
	"PATCH /api/v2/client-grants/{id}":                                        "Update client grant",
	"DELETE /api/v2/client-grants/{id}":                                       "Delete client grant",
	"POST /api/v2/users/{id}/authentication-methods":                          "Create an authentication method",
	"PUT /api/v2/users/{id}/authentication-methods":                           "Update all authentication methods",
	"DELETE /api/v2/users/{id}/authentication-methods":                        "Delete all authentication methods",
	"PATCH /api/v2/users/{id}/authentication-methods/{method}":                "Update an authentication method",
	"DELETE /api/v2/users/{id}/authentication-methods/{method}":               "Delete an authentication method",
	"POST /api/v2/users/{id}/multifactor/actions/invalidate-remember-browser": "Invalidate all remembered browsers for MFA",
	"POST /api/v2/users/{id}/recovery-code-regeneration":                      "Generate New Multi-factor Authentication Recovery Code",
	"POST /api/v2/organizations":                                              "Create an Organization",
	"DELETE /api/v2/organizations/{id}":                                       "Delete an Organization",
	"POST /api/v2/organizations/{id}/members":                                 "Add members to an Organization",
	"DELETE /api/v2/organizations/{id}/members":                               "Delete members from an Organization",
}

func apiDescription(r *http.Request) string {
	if d, ok := apiDescriptions[r.Pattern]; ok {
		return d
	}
	return strings.ToUpper(r.Method[:1]) + strings.ToLower(r.Method[1:]) + " " + r.URL.Path
}

// --- shared request helpers ---

// pageParams are the offset-paging parameters shared by the support endpoints.
type pageParams struct {
	page, perPage int
	totals        bool
}

// readPage reads page, per_page (0..maxPer, default def) and include_totals.
func readPage(r *http.Request, def, maxPer int) (pageParams, error) {
	v := r.URL.Query()
	page, err := intParam(v, "page", "Page index of the results to return. First page is 0.", 0, 0, 1<<20)
	if err != nil {
		return pageParams{}, err
	}
	per, err := intParam(v, "per_page", "Number of results per page.", def, 0, maxPer)
	if err != nil {
		return pageParams{}, err
	}
	totals, err := boolParam(v, "include_totals", "Return results inside an object that contains the total result count (true) or as a direct array of results (false, default).", false)
	if err != nil {
		return pageParams{}, err
	}
	return pageParams{page, per, totals}, nil
}

// window returns the [lo, hi) slice bounds of the page over n items.
func (p pageParams) window(n int) (int, int) {
	lo := min(p.page*p.perPage, n)
	return lo, min(lo+p.perPage, n)
}

// userOr404 loads the path's {id} user; errUserNotFound when missing.
func (t *Tenant) userOr404(r *http.Request) (store.User, error) {
	u, err := t.store.GetUser(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, errUserNotFound
	}
	return u, err
}

// notFoundAs maps store.ErrNotFound to e.
func notFoundAs(err error, e *apiError) error {
	if errors.Is(err, store.ErrNotFound) {
		return e
	}
	return err
}

// writeEmpty writes a status with Auth0's JSON content type and no body (the recorded 204s).
func writeEmpty(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
}

// decodeOptionalBody decodes a JSON body into dst, accepting an empty body (some SDKs send none).
func decodeOptionalBody(r *http.Request, dst any) error {
	b, err := readBody(r)
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return err
	}
	return decodeJSON(b, dst)
}

// absoluteURL parses an absolute http(s) URL without a fragment.
func absoluteURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL without fragment", s)
	}
	return u, nil
}
