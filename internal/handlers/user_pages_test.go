package handlers_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
)

func ptr[T any](v T) *T { return &v }

func jane() mgmt.User {
	last := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	return mgmt.User{
		UserID: "auth0|abc", Email: "jane@example.com", Name: "Jane Doe", EmailVerified: ptr(true),
		Picture:     "https://s.gravatar.com/avatar/x.png",
		LastLogin:   &last,
		LoginsCount: ptr(int64(7)),
		Identities:  []mgmt.Identity{{Connection: "Username-Password-Authentication", UserID: "abc", Provider: "auth0"}},
		UserMetadata: map[string]any{
			"color": "red", "addr": map[string]any{"city": "Paris"}, "gone": 1.0,
		},
		AppMetadata: map[string]any{"plan": "gold"},
	}
}

func blockedBob() mgmt.User {
	return mgmt.User{
		UserID: "google-oauth2|123", Email: "bob@example.com", Name: "Bob", Blocked: ptr(true),
		Identities: []mgmt.Identity{{Connection: "google-oauth2", UserID: "123", Provider: "google-oauth2", IsSocial: true}},
	}
}

func TestUserPage(t *testing.T) {
	env := newEnv(t, false, jane())
	rec := env.get(t, "/users/auth0%7Cabc")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got := env.api.CallsTo("GetUser")[0].ID; got != "auth0|abc" {
		t.Errorf("GetUser id = %q, want the unescaped id", got)
	}
	p := parse(t, rec)
	for _, want := range []string{"User id auth0|abc", "Email jane@example.com", "Email verified yes", "Last login 2025-03-04 05:06 UTC", "Logins 7", "Blocked no"} {
		if !strings.Contains(p.textOf("data-testid", "profile"), want) {
			t.Errorf("profile lacks %q: %q", want, p.textOf("data-testid", "profile"))
		}
	}
	if got := p.textOf("data-testid", "identities"); !strings.Contains(got, "Username-Password-Authentication auth0 abc no") {
		t.Errorf("identities = %q", got)
	}
	if got := p.textOf("data-testid", "user-metadata-json"); got != `{ "addr": { "city": "Paris" }, "color": "red", "gone": 1 }` {
		t.Errorf("user metadata = %q", got)
	}
	if got := text(p.one("data-testid", "app-metadata-json")); got != `{ "plan": "gold" }` {
		t.Errorf("app metadata = %q", got)
	}
	if got := p.href("id", "edit-metadata"); got != "/users/auth0%7Cabc/metadata" {
		t.Errorf("edit link = %q", got)
	}
	if p.has("data-testid", "flash") {
		t.Error("flash without ?msg=")
	}

	// An id sent unescaped works too.
	if rec := env.get(t, "/users/auth0|abc"); rec.Code != http.StatusOK {
		t.Errorf("unescaped id: status %d", rec.Code)
	}
}

func TestUserPageFlash(t *testing.T) {
	env := newEnv(t, false, jane())
	for code, want := range map[string]string{
		"created": "User created.", "metadata-saved": "Metadata saved.", "nochange": "No changes to save.",
		"<script>alert(1)</script>": "", "deleted": "",
	} {
		p := parse(t, env.get(t, "/users/auth0%7Cabc?msg="+url.QueryEscape(code)))
		got := ""
		if p.has("data-testid", "flash") {
			got = p.textOf("data-testid", "flash")
		}
		if got != want {
			t.Errorf("msg=%q: flash %q, want %q", code, got, want)
		}
	}
}

func TestUserPageUnknownUser(t *testing.T) {
	env := newEnv(t, false)
	for _, path := range []string{"/users/auth0%7Cnope", "/users/auth0%7Cnope/metadata"} {
		rec := env.get(t, path)
		if rec.Code != http.StatusNotFound {
			t.Fatalf("%s: status %d", path, rec.Code)
		}
		if got := parse(t, rec).textOf("data-testid", "error-message"); got != "No user with id auth0|nope." {
			t.Errorf("%s: message %q", path, got)
		}
	}
}

func TestUserPageUpstreamFailureShowsOurSentenceOnly(t *testing.T) {
	env := newEnv(t, false, jane())
	env.api.Fail = func(string) error {
		return &mgmt.Error{StatusCode: 500, Err: "Internal Server Error", Message: "SENTINEL-upstream-detail"}
	}
	rec := env.get(t, "/users/auth0%7Cabc")
	if rec.Code != http.StatusBadGateway {
		t.Fatalf("status %d", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "SENTINEL") {
		t.Error("upstream 5xx message shown to staff")
	}
	if got := parse(t, rec).textOf("data-testid", "error-message"); got != users.MsgReadFailed {
		t.Errorf("message %q", got)
	}
}

func TestNewUserForm(t *testing.T) {
	env := newEnv(t, false)
	p := parse(t, env.get(t, "/users/new"))
	var opts []string
	for n := range p.one("id", "connection").Descendants() {
		if n.Data == "option" {
			v, _ := attr(n, "value")
			opts = append(opts, v)
		}
	}
	if want := []string{"", "Staff-DB", "Username-Password-Authentication"}; !reflect.DeepEqual(opts, want) {
		t.Errorf("options = %q, want only database connections %q", opts, want)
	}
	for _, id := range []string{"email", "password", "email_verified", "create"} {
		p.one("id", id)
	}
	for _, f := range []string{"connection", "email", "password"} {
		if p.has("data-testid", "error-"+f) {
			t.Errorf("error-%s on an empty form", f)
		}
	}
}

func TestCreateUserSuccess(t *testing.T) {
	env := newEnv(t, false)
	rec := env.post(t, "/users", url.Values{
		"connection": {"Staff-DB"}, "email": {"new@example.com"}, "password": {"Secret-123"}, "email_verified": {"true"},
	})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	created := env.api.CallsTo("CreateUser")
	if len(created) != 1 {
		t.Fatalf("CreateUser calls = %d", len(created))
	}
	body := created[0].Params.(*mgmt.UserCreate)
	if body.Connection != "Staff-DB" || body.Email != "new@example.com" || body.Password != "Secret-123" || !*body.EmailVerified {
		t.Errorf("create body = %+v", body)
	}
	loc := rec.Header().Get("Location")
	if !strings.HasPrefix(loc, "/users/auth0%7C") || !strings.HasSuffix(loc, "?msg=created") {
		t.Fatalf("Location = %q", loc)
	}
	p := parse(t, env.get(t, loc))
	if got := p.textOf("data-testid", "flash"); got != "User created." {
		t.Errorf("flash after redirect = %q", got)
	}
}

func TestCreateUserDuplicate(t *testing.T) {
	existing := mgmt.User{UserID: "auth0|dup", Email: "dup@example.com", Identities: []mgmt.Identity{{Connection: "Staff-DB", Provider: "auth0"}}}
	env := newEnv(t, false, existing)
	rec := env.post(t, "/users", url.Values{
		"connection": {"Staff-DB"}, "email": {"dup@example.com"}, "password": {"Secret-123"},
	})
	if rec.Code != http.StatusConflict {
		t.Fatalf("status %d", rec.Code)
	}
	p := parse(t, rec)
	if got := p.textOf("data-testid", "error-email"); got != "A user with this email already exists." {
		t.Errorf("email error = %q", got)
	}
	if got := p.value("email"); got != "dup@example.com" {
		t.Errorf("email value = %q, want it kept", got)
	}
	if _, has := attr(p.one("id", "password"), "value"); has {
		t.Error("password re-rendered")
	}
	if strings.Contains(rec.Body.String(), "Secret-123") {
		t.Error("password appears in the page")
	}
	selected := ""
	for n := range p.one("id", "connection").Descendants() {
		if _, ok := attr(n, "selected"); ok && n.Data == "option" {
			selected, _ = attr(n, "value")
		}
	}
	if selected != "Staff-DB" {
		t.Errorf("selected connection = %q", selected)
	}
}

func TestCreateUserValidation(t *testing.T) {
	env := newEnv(t, false)
	rec := env.post(t, "/users", url.Values{"connection": {"google-oauth2"}, "email": {"not-an-email"}, "password": {""}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", rec.Code)
	}
	p := parse(t, rec)
	if got := p.textOf("data-testid", "error-email"); got != users.MsgEmailInvalid {
		t.Errorf("email error %q", got)
	}
	if got := p.textOf("data-testid", "error-password"); got != users.MsgPasswordRequired {
		t.Errorf("password error %q", got)
	}
	if p.value("email") != "not-an-email" {
		t.Error("email not kept")
	}
	if n := len(env.api.Writes()); n != 0 {
		t.Errorf("writes = %d", n)
	}
}

// A create form with several mistakes has, at its top, the error summary the other forms have: one
// alert listing every message, each a link to its field, in the order of the form.
func TestCreateUserErrorSummary(t *testing.T) {
	env := newEnvWith(t, envOptions{reasonRequired: "user.create"})
	rec := env.post(t, "/users", url.Values{"connection": {""}, "email": {""}, "password": {""}, "reason": {" "}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", rec.Code)
	}
	p := parse(t, rec)
	summary := p.one("id", "error-summary")
	if role, _ := attr(summary, "role"); role != "alert" {
		t.Errorf("summary role %q, want alert", role)
	}
	type link struct{ href, text string }
	var got []link
	for n := range summary.Descendants() {
		if n.Type == html.ElementNode && n.Data == "a" {
			href, _ := attr(n, "href")
			got = append(got, link{href, text(n)})
		}
	}
	want := []link{
		{"#connection", "Connection: " + users.MsgConnectionRequired},
		{"#email", "Email: " + users.MsgEmailRequired},
		{"#password", "Initial password: " + users.MsgPasswordRequired},
		{"#reason", "Reason or ticket: " + users.MsgReasonRequired},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("summary links = %q, want %q", got, want)
	}
	for _, l := range want {
		field := strings.TrimPrefix(l.href, "#")
		if !p.has("id", field) {
			t.Errorf("summary links to %s, which is not on the page", l.href)
		}
		if !p.has("data-testid", "error-"+field) {
			t.Errorf("no message next to %s", field)
		}
	}
	if n := len(env.api.Writes()); n != 0 {
		t.Errorf("writes = %d", n)
	}

	// A message about the whole form (here Auth0's outcome unknown) opens the same summary.
	env = newEnv(t, false)
	env.api.Fail = func(m string) error {
		if m == "CreateUser" {
			return &mgmt.Error{StatusCode: 503}
		}
		return nil
	}
	p = parse(t, env.post(t, "/users", url.Values{"connection": {"Staff-DB"}, "email": {"a@example.com"}, "password": {"pw"}}))
	if got := p.textOf("id", "error-summary"); got != users.MsgCreateUnknown {
		t.Errorf("summary %q, want %q", got, users.MsgCreateUnknown)
	}
}

func TestCreateUserUpstreamErrors(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantField  string // data-testid of the message element
		wantMsg    string
	}{
		{"weak password next to password", &mgmt.Error{StatusCode: 400, Message: "PasswordStrengthError: Password is too weak"}, 422, "error-password", "PasswordStrengthError: Password is too weak"},
		{"missing scope", &mgmt.Error{StatusCode: 403, Message: "Insufficient scope, expected any of: create:users", ErrorCode: "insufficient_scope"}, 502, "alert", "The service account is missing the create:users permission."},
		{"rate limited", &mgmt.Error{StatusCode: 429}, 503, "alert", users.MsgRateLimited},
		{"5xx outcome unknown", &mgmt.Error{StatusCode: 503, Message: "SENTINEL"}, 502, "alert", users.MsgCreateUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, false)
			env.api.Fail = func(m string) error {
				if m == "CreateUser" {
					return tt.err
				}
				return nil
			}
			rec := env.post(t, "/users", url.Values{"connection": {"Staff-DB"}, "email": {"a@example.com"}, "password": {"pw"}})
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			p := parse(t, rec)
			if got := p.textOf("data-testid", tt.wantField); got != tt.wantMsg {
				t.Errorf("%s = %q, want %q", tt.wantField, got, tt.wantMsg)
			}
			if strings.Contains(rec.Body.String(), "SENTINEL") {
				t.Error("upstream 5xx text shown")
			}
			if p.value("email") != "a@example.com" {
				t.Error("form not kept")
			}
		})
	}
}

func TestMetadataEditForm(t *testing.T) {
	env := newEnv(t, false, jane())
	p := parse(t, env.get(t, "/users/auth0%7Cabc/metadata"))
	if got := text(p.one("id", "user_metadata")); got != `{ "addr": { "city": "Paris" }, "color": "red", "gone": 1 }` {
		t.Errorf("user_metadata textarea = %q", got)
	}
	if got := text(p.one("id", "app_metadata")); got != `{ "plan": "gold" }` {
		t.Errorf("app_metadata textarea = %q", got)
	}
	form := p.all(func(n *html.Node) bool {
		return n.Data == "form" && hasAttr(n, "action", "/users/auth0%7Cabc/metadata")
	})
	if len(form) != 1 {
		t.Fatal("metadata form posting to the escaped id missing")
	}
	if m, _ := attr(form[0], "method"); m != "post" {
		t.Errorf("method %q", m)
	}
	p.one("id", "save-metadata")
}

func TestMetadataSave(t *testing.T) {
	env := newEnv(t, false, jane())
	rec := env.post(t, "/users/auth0%7Cabc/metadata", url.Values{
		"user_metadata": {`{"color": "blue", "addr": {"city": "Paris"}}`},
		"app_metadata":  {`{"plan": "gold"}`},
		"base":          {users.FingerprintOf(ptr(jane()))}, "confirm": {"1"},
	})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/users/auth0%7Cabc?msg=metadata-saved" {
		t.Fatalf("status %d Location %q: %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	w := env.api.Writes()
	if len(w) != 1 || w[0].ID != "auth0|abc" {
		t.Fatalf("writes = %+v", w)
	}
	upd := w[0].Params.(*mgmt.UserUpdate)
	if want := map[string]any{"color": "blue", "gone": nil}; !reflect.DeepEqual(upd.UserMetadata, want) {
		t.Errorf("user_metadata PATCH = %#v, want %#v", upd.UserMetadata, want)
	}
	if upd.AppMetadata != nil {
		t.Errorf("unchanged app_metadata sent: %#v", upd.AppMetadata)
	}
	stored, _ := env.api.User("auth0|abc")
	if want := map[string]any{"color": "blue", "addr": map[string]any{"city": "Paris"}}; !reflect.DeepEqual(stored.UserMetadata, want) {
		t.Errorf("stored = %#v", stored.UserMetadata)
	}
}

func TestMetadataSaveNoChange(t *testing.T) {
	env := newEnv(t, false, jane())
	rec := env.post(t, "/users/auth0%7Cabc/metadata", url.Values{
		"user_metadata": {users.PrettyJSON(jane().UserMetadata)},
		"app_metadata":  {users.PrettyJSON(jane().AppMetadata)},
		"base":          {users.FingerprintOf(ptr(jane()))},
	})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/users/auth0%7Cabc?msg=nochange" {
		t.Fatalf("status %d Location %q", rec.Code, rec.Header().Get("Location"))
	}
	if n := len(env.api.Writes()); n != 0 {
		t.Errorf("writes = %d, want none", n)
	}
}

func TestMetadataSaveInvalidJSON(t *testing.T) {
	env := newEnv(t, false, jane())
	typed := "\n{\n  \"color\": blue\n}"
	rec := env.post(t, "/users/auth0%7Cabc/metadata", url.Values{
		"user_metadata": {typed},
		"app_metadata":  {`{"plan": "gold", "a.b": 1}`},
	})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", rec.Code)
	}
	p := parse(t, rec)
	if got := p.textOf("data-testid", "error-user_metadata"); got != "Invalid JSON at line 3, column 12: invalid character 'b' looking for beginning of value." {
		t.Errorf("user_metadata error = %q", got)
	}
	if got := p.textOf("data-testid", "error-app_metadata"); !strings.HasPrefix(got, `The key "a.b" contains`) {
		t.Errorf("app_metadata error = %q", got)
	}
	if got := p.one("id", "user_metadata").FirstChild; got == nil || got.Data != typed {
		t.Errorf("textarea does not hold the typed text")
	}
	if c := env.api.Calls(); len(c) != 0 {
		t.Errorf("upstream calls = %+v, want none", c)
	}
}

func TestMetadataSaveUpstreamError(t *testing.T) {
	env := newEnv(t, false, jane())
	env.api.Fail = func(m string) error {
		if m == "UpdateUser" {
			return &mgmt.Error{StatusCode: 403, Message: "Insufficient scope, expected any of: update:users", ErrorCode: "insufficient_scope"}
		}
		return nil
	}
	rec := env.post(t, "/users/auth0%7Cabc/metadata", url.Values{"user_metadata": {`{"x": 1}`}, "app_metadata": {`{}`},
		"base": {janeBase()}, "confirm": {"1"}})
	if rec.Code != http.StatusBadGateway {
		t.Fatalf("status %d", rec.Code)
	}
	p := parse(t, rec)
	if got := p.textOf("data-testid", "alert"); got != "The service account is missing the update:users permission." {
		t.Errorf("alert = %q", got)
	}
	if got := p.one("id", "user_metadata").FirstChild.Data; got != `{"x": 1}` {
		t.Errorf("form not kept: %q", got)
	}
}

// The create form asks for a username only when a connection requires one, says which, keeps it on
// a re-render with the message next to it, and sends it.
func TestCreateWithUsername(t *testing.T) {
	env := newEnv(t, false)
	if parse(t, env.get(t, "/users/new")).has("id", "username") {
		t.Error("username field shown although no connection requires one")
	}
	env.api.Connections = append(dbConns(), mgmt.Connection{ID: "con_4", Name: "Members-DB", Strategy: "auth0",
		Options: map[string]any{"requires_username": true}})
	p := parse(t, env.get(t, "/users/new"))
	if !p.has("id", "username") || !strings.Contains(text(p.one("for", "username")), "Members-DB") {
		t.Fatal("no username field naming the connection that requires it")
	}

	rec := env.post(t, "/users", url.Values{"connection": {"Members-DB"}, "email": {"new@example.com"}, "password": {"Str0ng-Passw0rd"}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", rec.Code)
	}
	p = parse(t, rec)
	if got := p.textOf("data-testid", "error-username"); got != users.MsgUsernameRequired {
		t.Errorf("username error = %q", got)
	}
	linked := false
	for n := range p.one("id", "error-summary").Descendants() {
		if href, _ := attr(n, "href"); n.Data == "a" && href == "#username" && text(n) == "Username: "+users.MsgUsernameRequired {
			linked = true
		}
	}
	if !linked {
		t.Error("the error summary does not link the username message to its field")
	}
	if p.value("email") != "new@example.com" {
		t.Error("email not kept")
	}
	if n := len(env.api.Writes()); n != 0 {
		t.Fatalf("%d writes for a create without its username", n)
	}

	rec = env.post(t, "/users", url.Values{"connection": {"Members-DB"}, "email": {"new@example.com"}, "username": {"jdoe"},
		"password": {"Str0ng-Passw0rd"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	w := env.api.Writes()
	if len(w) != 1 || w[0].Params.(*mgmt.UserCreate).Username != "jdoe" {
		t.Errorf("writes = %+v, want one create with username jdoe", w)
	}
}
