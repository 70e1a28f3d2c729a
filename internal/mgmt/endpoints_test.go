package mgmt

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestSupportRequestShapes: the query, escaped path and body each support method sends for
// non-default parameters and IDs that need escaping (the recordings cover the defaults).
func TestSupportRequestShapes(t *testing.T) {
	type req struct{ method, path, query, body string }
	var (
		mu   sync.Mutex
		last req
	)
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		last = req{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, string(b)}
		mu.Unlock()
		p := r.URL.Path
		switch {
		case strings.Contains(p, "/identities"):
			writeJSON(w, 200, `[{"connection":"Username-Password-Authentication","user_id":"1","provider":"auth0","isSocial":false}]`)
		case strings.HasSuffix(p, "/organizations"):
			writeJSON(w, 200, `{"organizations":[{"id":"org_1","name":"acme","display_name":"Acme","branding":{"logo_url":"https://x.example/l.png"}}],"start":10,"limit":10,"total":11}`)
		case r.Method == http.MethodDelete || strings.HasSuffix(p, "/invalidate-remember-browser"):
			w.WriteHeader(http.StatusNoContent)
		case strings.HasPrefix(p, "/api/v2/sessions/") && strings.HasSuffix(p, "/revoke"):
			writeJSON(w, http.StatusAccepted, `{}`)
		case strings.HasPrefix(p, "/api/v2/sessions/"):
			writeJSON(w, 200, `{"id":"s/1","user_id":"oauth2|a/b@c","created_at":"2026-11-27T10:00:00.000Z","device":{"initial_user_agent":"UA","initial_ip":"203.0.113.9","last_user_agent":"UA2","last_ip":"203.0.113.10"},"clients":[{"client_id":"cl_1"}],"authentication":{"methods":[{"name":"pwd"}]}}`)
		case strings.HasSuffix(p, "/roles") && r.Method == http.MethodPost:
			w.WriteHeader(http.StatusNoContent)
		case strings.HasSuffix(p, "/roles") || p == "/api/v2/roles":
			writeJSON(w, 200, `{"roles":[{"id":"rol_1","name":"Admin","description":""}],"start":20,"limit":10,"total":21}`)
		case strings.HasSuffix(p, "/logs") || p == "/api/v2/logs":
			writeJSON(w, 200, `[{"log_id":"900","type":"fp","description":"Wrong email or password.","connection":null,"isMobile":false,"details":null,"_id":"900"}]`)
		case strings.HasPrefix(p, "/api/v2/user-blocks"):
			writeJSON(w, 200, `{"blocked_for":[{"identifier":"a+b@example.com","ip":"203.0.113.9"}]}`)
		case strings.HasPrefix(p, "/api/v2/tickets/"):
			writeJSON(w, 201, `{"ticket":"https://tenant.example/u/reset-password?ticket=abc#"}`)
		case strings.HasPrefix(p, "/api/v2/jobs"):
			writeJSON(w, 201, `{"type":"users_export","status":"pending","id":"job_1","created_at":"2026-11-27T10:00:00.000Z"}`)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL)
			w.WriteHeader(500)
		}
	}))
	c := f.client(t)
	ctx := context.Background()
	check := func(what string, err error, want req) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		mu.Lock()
		got := last
		mu.Unlock()
		if want.body != "" {
			var g, w any
			if json.Unmarshal([]byte(got.body), &g) != nil || json.Unmarshal([]byte(want.body), &w) != nil || !reflect.DeepEqual(g, w) {
				t.Errorf("%s: body %s, want %s", what, got.body, want.body)
			}
			got.body, want.body = "", ""
		}
		if got != want {
			t.Errorf("%s: sent %+v, want %+v", what, got, want)
		}
	}
	const uid, wire = "oauth2|a/b@c", "/api/v2/users/oauth2%7Ca%2Fb@c"

	roles, err := c.Users.Roles(ctx, uid, ListParams{Page: 2, PerPage: 10})
	check("Users.Roles", err, req{"GET", wire + "/roles", "include_totals=true&page=2&per_page=10", ""})
	if err == nil && (roles.Total != 21 || roles.Start != 20 || len(roles.Roles) != 1 || roles.Roles[0].Name != "Admin") {
		t.Errorf("Users.Roles = %+v", roles)
	}
	check("Users.AssignRoles", c.Users.AssignRoles(ctx, uid, []string{"rol_1", "rol_2"}),
		req{"POST", wire + "/roles", "", `{"roles":["rol_1","rol_2"]}`})
	check("Users.RemoveRoles", c.Users.RemoveRoles(ctx, uid, []string{"rol_2"}), req{"DELETE", wire + "/roles", "", `{"roles":["rol_2"]}`})

	logs, err := c.Users.Logs(ctx, uid, UserLogsParams{Page: 1, PerPage: 5, Sort: "date:-1"})
	check("Users.Logs", err, req{"GET", wire + "/logs", "page=1&per_page=5&sort=date%3A-1", ""})
	if err == nil && (len(logs) != 1 || logs[0].Type != "fp" || logs[0].Connection != "" || logs[0].Details == nil) {
		t.Errorf("Users.Logs = %+v", logs)
	}
	_, err = c.Logs.List(ctx, LogListParams{Q: `type:"fp" AND user_id:"auth0|1"`, PerPage: 100, Sort: "date:1", Fields: []string{"date", "type"}})
	check("Logs.List", err, req{"GET", "/api/v2/logs",
		"fields=date%2Ctype&include_fields=true&per_page=100&q=type%3A%22fp%22+AND+user_id%3A%22auth0%7C1%22&sort=date%3A1", ""})
	_, err = c.Logs.List(ctx, LogListParams{Q: "ignored", Page: 3, From: "900123", Take: 100})
	check("Logs.List checkpoint", err, req{"GET", "/api/v2/logs", "from=900123&take=100", ""})
	_, err = c.Roles.List(ctx, RoleListParams{NameFilter: "bill ing", Page: 1})
	check("Roles.List", err, req{"GET", "/api/v2/roles", "include_totals=true&name_filter=bill+ing&page=1&per_page=50", ""})

	check("Users.DeleteAuthenticationMethod", c.Users.DeleteAuthenticationMethod(ctx, uid, "totp|dev/x"),
		req{"DELETE", wire + "/authentication-methods/totp%7Cdev%2Fx", "", ""})
	check("Users.InvalidateRememberBrowser", c.Users.InvalidateRememberBrowser(ctx, uid),
		req{"POST", wire + "/multifactor/actions/invalidate-remember-browser", "", ""})
	blocks, err := c.UserBlocks.GetByIdentifier(ctx, "a+b@example.com")
	check("UserBlocks.GetByIdentifier", err, req{"GET", "/api/v2/user-blocks", "identifier=a%2Bb%40example.com", ""})
	if err == nil && (len(blocks) != 1 || blocks[0].IP != "203.0.113.9") {
		t.Errorf("GetByIdentifier = %+v", blocks)
	}
	check("UserBlocks.Delete", c.UserBlocks.Delete(ctx, uid), req{"DELETE", "/api/v2/user-blocks/oauth2%7Ca%2Fb@c", "", ""})

	sess, err := c.Sessions.Get(ctx, "s/1")
	check("Sessions.Get", err, req{"GET", "/api/v2/sessions/s%2F1", "", ""})
	if err == nil && (sess.UserID != uid || sess.Device == nil || sess.Device.LastIP != "203.0.113.10" || len(sess.Clients) != 1) {
		t.Errorf("Sessions.Get = %+v", sess)
	}
	check("Sessions.Delete", c.Sessions.Delete(ctx, "s/1"), req{"DELETE", "/api/v2/sessions/s%2F1", "", ""})
	check("Sessions.Revoke", c.Sessions.Revoke(ctx, "s/1"), req{"POST", "/api/v2/sessions/s%2F1/revoke", "", ""})

	orgs, err := c.Users.Organizations(ctx, uid, ListParams{Page: 1, PerPage: 10})
	check("Users.Organizations", err, req{"GET", wire + "/organizations", "include_totals=true&page=1&per_page=10", ""})
	if err == nil && (orgs.Total != 11 || len(orgs.Organizations) != 1 || orgs.Organizations[0].DisplayName != "Acme" ||
		orgs.Organizations[0].Branding == nil || orgs.Organizations[0].Branding.LogoURL != "https://x.example/l.png") {
		t.Errorf("Users.Organizations = %+v", orgs)
	}
	ids, err := c.Users.Link(ctx, uid, LinkRequest{Provider: "google-oauth2", UserID: "google-oauth2|123"})
	check("Users.Link", err, req{"POST", wire + "/identities", "", `{"provider":"google-oauth2","user_id":"google-oauth2|123"}`})
	if err == nil && (len(ids) != 1 || ids[0].UserID != "1") {
		t.Errorf("Users.Link = %+v", ids)
	}
	_, err = c.Users.Unlink(ctx, uid, "google-oauth2", "12/3")
	check("Users.Unlink", err, req{"DELETE", wire + "/identities/google-oauth2/12%2F3", "", ""})

	link, err := c.Tickets.PasswordChange(ctx, PasswordChangeTicket{ConnectionID: "con_1", Email: "a@example.com", ClientID: "cl_1", TTLSec: 600})
	check("Tickets.PasswordChange", err, req{"POST", "/api/v2/tickets/password-change", "",
		`{"connection_id":"con_1","email":"a@example.com","client_id":"cl_1","ttl_sec":600}`})
	if link != "https://tenant.example/u/reset-password?ticket=abc#" {
		t.Errorf("ticket = %q", link)
	}
	_, err = c.Jobs.UsersExport(ctx, UsersExportJob{Format: "csv", Fields: []ExportField{{Name: "email"}, {Name: "app_metadata.plan", ExportAs: "plan"}}})
	check("Jobs.UsersExport", err, req{"POST", "/api/v2/jobs/users-exports", "",
		`{"format":"csv","fields":[{"name":"email"},{"name":"app_metadata.plan","export_as":"plan"}]}`})
}

// TestSupportInvalidInputNotSent: calls that could not address one resource fail before any request.
func TestSupportInvalidInputNotSent(t *testing.T) {
	var calls atomic.Int32
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1); w.WriteHeader(500) }))
	c := f.client(t)
	ctx := context.Background()
	for name, err := range map[string]error{
		"AssignRoles no roles":    c.Users.AssignRoles(ctx, "auth0|1", nil),
		"RemoveRoles empty role":  c.Users.RemoveRoles(ctx, "auth0|1", []string{""}),
		"Roles(..)":               func() error { _, err := c.Users.Roles(ctx, "..", ListParams{}); return err }(),
		"DeleteAuthMethod empty":  c.Users.DeleteAuthenticationMethod(ctx, "auth0|1", ""),
		"DeleteSessions empty":    c.Users.DeleteSessions(ctx, ""),
		"Sessions.Get empty":      func() error { _, err := c.Sessions.Get(ctx, ""); return err }(),
		"Sessions.Delete ..":      c.Sessions.Delete(ctx, ".."),
		"Sessions.Revoke .":       c.Sessions.Revoke(ctx, "."),
		"Link without secondary":  func() error { _, err := c.Users.Link(ctx, "auth0|1", LinkRequest{Provider: "auth0"}); return err }(),
		"Unlink prefixed id":      func() error { _, err := c.Users.Unlink(ctx, "auth0|1", "auth0", "auth0|2"); return err }(),
		"RecoveryCode empty":      func() error { _, err := c.Users.RegenerateRecoveryCode(ctx, ""); return err }(),
		"Organizations ..":        func() error { _, err := c.Users.Organizations(ctx, "..", ListParams{}); return err }(),
		"Unlink no provider":      func() error { _, err := c.Users.Unlink(ctx, "auth0|1", "", "2"); return err }(),
		"GetByIdentifier blank":   func() error { _, err := c.UserBlocks.GetByIdentifier(ctx, " "); return err }(),
		"DeleteByIdentifier none": c.UserBlocks.DeleteByIdentifier(ctx, ""),
		"ticket without user": func() error {
			_, err := c.Tickets.PasswordChange(ctx, PasswordChangeTicket{Email: "a@b.c"})
			return err
		}(),
		"verification no user": func() error { _, err := c.Jobs.VerificationEmail(ctx, VerificationEmailJob{}); return err }(),
		"job id .":             func() error { _, err := c.Jobs.Get(ctx, "."); return err }(),
		"download no location": func() error { _, err := c.Jobs.Download(ctx, &Job{Status: JobProcessing}); return err }(),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

// TestSupportWritePolicy: the new POSTs are resent only after a 429, the new DELETEs also after a
// 503, like Users.Create/Update and Users.Delete; every write carries the context's correlation id.
func TestSupportWritePolicy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		call    func(c *Client, ctx context.Context) error
		retries bool // after a 503
	}{
		{"AssignRoles", func(c *Client, ctx context.Context) error {
			return c.Users.AssignRoles(ctx, "auth0|1", []string{"rol_1"})
		}, false},
		{"InvalidateRememberBrowser", func(c *Client, ctx context.Context) error { return c.Users.InvalidateRememberBrowser(ctx, "auth0|1") }, false},
		{"PasswordChange", func(c *Client, ctx context.Context) error {
			_, err := c.Tickets.PasswordChange(ctx, PasswordChangeTicket{UserID: "auth0|1"})
			return err
		}, false},
		{"UsersExport", func(c *Client, ctx context.Context) error {
			_, err := c.Jobs.UsersExport(ctx, UsersExportJob{})
			return err
		}, false},
		{"RemoveRoles", func(c *Client, ctx context.Context) error {
			return c.Users.RemoveRoles(ctx, "auth0|1", []string{"rol_1"})
		}, true},
		{"DeleteSessions", func(c *Client, ctx context.Context) error { return c.Users.DeleteSessions(ctx, "auth0|1") }, true},
		{"Sessions.Delete", func(c *Client, ctx context.Context) error { return c.Sessions.Delete(ctx, "sess_1") }, true},
		{"Sessions.Revoke", func(c *Client, ctx context.Context) error { return c.Sessions.Revoke(ctx, "sess_1") }, false},
		{"Users.RegenerateRecoveryCode", func(c *Client, ctx context.Context) error {
			_, err := c.Users.RegenerateRecoveryCode(ctx, "auth0|1")
			return err
		}, false},
		{"Users.Link", func(c *Client, ctx context.Context) error {
			_, err := c.Users.Link(ctx, "auth0|1", LinkRequest{Provider: "auth0", UserID: "auth0|2"})
			return err
		}, false},
		{"Users.Unlink", func(c *Client, ctx context.Context) error {
			_, err := c.Users.Unlink(ctx, "auth0|1", "auth0", "2")
			return err
		}, false},
		{"DeleteAuthenticationMethods", func(c *Client, ctx context.Context) error { return c.Users.DeleteAuthenticationMethods(ctx, "auth0|1") }, true},
		{"UserBlocks.Delete", func(c *Client, ctx context.Context) error { return c.UserBlocks.Delete(ctx, "auth0|1") }, true},
	} {
		for _, status := range []int{429, 503} {
			t.Run(tc.name+" "+strconv.Itoa(status), func(t *testing.T) {
				var mu sync.Mutex
				var cids []string
				f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					cids = append(cids, r.Header.Get("X-Correlation-ID"))
					n := len(cids)
					mu.Unlock()
					switch {
					case n == 1:
						writeJSON(w, status, `{"statusCode":`+strconv.Itoa(status)+`,"error":"x","message":"y"}`)
					case strings.Contains(r.URL.Path, "/tickets/"):
						writeJSON(w, 201, `{"ticket":"https://t.example/u/reset-password?ticket=x#"}`)
					case strings.Contains(r.URL.Path, "/jobs/"):
						writeJSON(w, 200, `{"id":"job_1","type":"users_export","status":"pending"}`)
					case strings.HasSuffix(r.URL.Path, "/recovery-code-regeneration"):
						writeJSON(w, 200, `{"recovery_code":"32YCGV1JUE9G7MDJ71UTN12W"}`)
					case strings.Contains(r.URL.Path, "/identities"):
						writeJSON(w, 200, `[{"connection":"Username-Password-Authentication","user_id":"1","provider":"auth0","isSocial":false}]`)
					default:
						w.WriteHeader(http.StatusNoContent)
					}
				}))
				c := f.client(t, WithSleep(newFakeClock().Sleep))
				err := tc.call(c, WithCorrelationID(context.Background(), "audit-7"))
				mu.Lock()
				defer mu.Unlock()
				wantRetry := status == 429 || tc.retries
				if wantRetry && (err != nil || len(cids) != 2) {
					t.Errorf("want one retry and success: err %v, requests %d", err, len(cids))
				}
				if !wantRetry && (err == nil || len(cids) != 1) {
					t.Errorf("want no retry: err %v, requests %d", err, len(cids))
				}
				for _, id := range cids {
					if id != "audit-7" {
						t.Errorf("X-Correlation-ID = %q, want audit-7 on every attempt", id)
					}
				}
			})
		}
	}
}

// TestSupportListsFollowPages: the methods that return whole lists follow Auth0's pages and stop
// when the list ends, and give up on a server that never ends it.
func TestSupportListsFollowPages(t *testing.T) {
	method := func(i int) string { return fmt.Sprintf(`{"id":"totp|dev_%03d","type":"totp","confirmed":true}`, i) }
	var (
		mu      sync.Mutex
		queries []string
		endless bool
	)
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		mu.Lock()
		defer mu.Unlock()
		queries = append(queries, strings.TrimPrefix(r.URL.Path, "/api/v2/users/auth0|1")+"?"+r.URL.RawQuery)
		switch {
		case strings.HasSuffix(r.URL.Path, "/authentication-methods"):
			page, _ := strconv.Atoi(q.Get("page"))
			var items []string
			for i := page * 50; i < min(page*50+50, 53); i++ {
				items = append(items, method(i))
			}
			writeJSON(w, 200, `{"authenticators":[`+strings.Join(items, ",")+`],"total":53,"start":`+strconv.Itoa(page*50)+`,"limit":50}`)
		case strings.HasSuffix(r.URL.Path, "/sessions"):
			from := q.Get("from")
			next := map[string]string{"": "c1", "c1": "c2", "c2": ""}[from]
			if endless {
				next = from + "x"
			}
			body := `{"sessions":[{"id":"s` + from + `"}]`
			if next != "" {
				body += `,"next":"` + next + `"`
			}
			writeJSON(w, 200, body+"}")
		case strings.HasSuffix(r.URL.Path, "/refresh-tokens"):
			if q.Get("from") == "" {
				var items []string
				for i := range 50 {
					items = append(items, fmt.Sprintf(`{"id":"rt%02d"}`, i))
				}
				writeJSON(w, 200, `{"tokens":[`+strings.Join(items, ",")+`],"next":"rt49","total":51}`)
				return
			}
			writeJSON(w, 200, `{"tokens":[{"id":"rt50"}],"next":"rt50","total":51}`)
		}
	}))
	c := f.client(t)
	ctx := context.Background()

	ms, err := c.Users.AuthenticationMethods(ctx, "auth0|1")
	if err != nil || len(ms) != 53 || ms[52].ID != "totp|dev_052" || !ms[0].Confirmed {
		t.Fatalf("AuthenticationMethods: %d methods, %v", len(ms), err)
	}
	sess, err := c.Users.Sessions(ctx, "auth0|1")
	if err != nil || len(sess) != 3 || sess[2].ID != "sc2" {
		t.Fatalf("Sessions = %+v, %v", sess, err)
	}
	toks, err := c.Users.RefreshTokens(ctx, "auth0|1")
	if err != nil || len(toks) != 51 || toks[50].ID != "rt50" {
		t.Fatalf("RefreshTokens: %d tokens, %v", len(toks), err)
	}
	want := []string{
		"/authentication-methods?include_totals=true&per_page=50",
		"/authentication-methods?include_totals=true&page=1&per_page=50",
		"/sessions?take=50", "/sessions?from=c1&take=50", "/sessions?from=c2&take=50",
		"/refresh-tokens?include_totals=true&per_page=50", "/refresh-tokens?from=rt49&include_totals=true&per_page=50",
	}
	mu.Lock()
	if !reflect.DeepEqual(queries, want) {
		t.Errorf("requests\n%q\nwant\n%q", queries, want)
	}
	endless, queries = true, nil
	mu.Unlock()
	_, err = c.Users.Sessions(ctx, "auth0|1")
	mu.Lock()
	defer mu.Unlock()
	if err == nil || len(queries) != maxListPages {
		t.Errorf("endless sessions: err %v after %d requests, want an error after %d", err, len(queries), maxListPages)
	}
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, s)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDownloadNeverSendsTokenElsewhere: an export location on another host (Auth0's pre-signed S3
// URL) never gets the Management API token, neither directly nor through a redirect from the
// tenant's own origin to another port of the same host name (which net/http alone would forward it
// to); the tenant's own origin does get it. The file comes back decompressed, and errors never quote
// the signed location.
func TestDownloadNeverSendsTokenElsewhere(t *testing.T) {
	const csv = "email,name\na@example.com,A\nb@example.com,B\n"
	var (
		mu        sync.Mutex
		otherAuth []string
		otherHits int
	)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		otherHits++
		otherAuth = append(otherAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.URL.Path == "/expired" {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
			return
		}
		w.Header().Set("Content-Type", "application/gzip")
		w.Write(gzipped(t, csv))
	}))
	defer other.Close()
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1) // another host name too

	var tenantAuth []string
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tenantAuth = append(tenantAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		switch r.URL.Path {
		case "/exports/job_1/file.csv.gz":
			w.Write(gzipped(t, csv))
		case "/exports/job_1/moved":
			// Same host name, other port: net/http would forward Authorization on its own.
			http.Redirect(w, r, other.URL+"/bucket/job_1.csv.gz?X-Amz-Signature=sig-SECRET", http.StatusFound)
		case "/exports/job_1/plain":
			io.WriteString(w, csv)
		}
	}))
	c := f.client(t)
	ctx := context.Background()
	read := func(loc string) (string, error) {
		t.Helper()
		rc, err := c.Jobs.Download(ctx, &Job{ID: "job_1", Status: JobCompleted, Location: loc})
		if err != nil {
			return "", err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		return string(b), err
	}

	for _, loc := range []string{
		other.URL + "/bucket/job_1.csv.gz?X-Amz-Signature=sig-SECRET",
		otherURL + "/bucket/job_1.csv.gz?X-Amz-Signature=sig-SECRET",
		f.srv.URL + "/exports/job_1/moved",
	} {
		if got, err := read(loc); err != nil || got != csv {
			t.Errorf("Download(%s) = %q, %v", loc, got, err)
		}
	}
	mu.Lock()
	if otherHits != 3 {
		t.Errorf("other host saw %d requests, want 3", otherHits)
	}
	for _, a := range otherAuth {
		if a != "" {
			t.Errorf("another host received Authorization %q", a)
		}
	}
	tenantAuth = nil
	mu.Unlock()

	if got, err := read(f.srv.URL + "/exports/job_1/file.csv.gz"); err != nil || got != csv {
		t.Errorf("same-origin download = %q, %v", got, err)
	}
	if got, err := read(f.srv.URL + "/exports/job_1/plain"); err != nil || got != csv {
		t.Errorf("uncompressed download = %q, %v", got, err)
	}
	mu.Lock()
	if len(tenantAuth) != 2 || !strings.HasPrefix(tenantAuth[0], "Bearer access-token-") {
		t.Errorf("tenant origin saw Authorization %q, want the bearer token", tenantAuth)
	}
	mu.Unlock()

	_, err := read(other.URL + "/expired?X-Amz-Signature=sig-SECRET")
	var ae *Error
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusForbidden || strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("expired link: err = %v, want a 403 *Error without the foreign body", err)
	}
	other.Close()
	_, err = read(other.URL + "/bucket/job_1.csv.gz?X-Amz-Signature=sig-SECRET")
	if !errors.Is(err, ErrUnavailable) || strings.Contains(err.Error(), "sig-SECRET") {
		t.Errorf("unreachable host: err = %v, want ErrUnavailable without the signed URL", err)
	}

	// An https tenant never fetches a plain-http location.
	secure, err := New("https://tenant.example", testClientID, testClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := secure.Jobs.Download(ctx, &Job{Status: JobCompleted, Location: other.URL + "/x"}); err == nil {
		t.Error("https tenant downloaded an http location")
	}
}
