package tenant

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// Password-change and email-verification tickets (contract §5.4) and the tenant pages that honour
// them: /u/reset-password (a form that sets a new password) and /u/email-verification.

// defaultTicketTTL: "ttl_sec 0 or unset = 432000 s, i.e. 5 days" (contract §5.4).
const defaultTicketTTL = 432000 * time.Second

// maxTicketTTL bounds ttl_sec (30 days) [I].
const maxTicketTTL = 30 * 24 * time.Hour

const (
	ticketPasswordChange    = "password-change"
	ticketEmailVerification = "email-verification"
)

// ticketHash is the stored id of a ticket secret: the secret itself never reaches the database.
func ticketHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

type ticketBody struct {
	UserID                 string         `json:"user_id"`
	ConnectionID           string         `json:"connection_id"`
	Email                  string         `json:"email"`
	ResultURL              string         `json:"result_url"`
	ClientID               string         `json:"client_id"`
	OrganizationID         string         `json:"organization_id"`
	TTLSec                 *int           `json:"ttl_sec"`
	MarkEmailAsVerified    bool           `json:"mark_email_as_verified"`
	IncludeEmailInRedirect bool           `json:"includeEmailInRedirect"`
	Identity               map[string]any `json:"identity"`
	NewPassword            string         `json:"new_password"` // deprecated by Auth0; rejected below
}

// createTicket stores a ticket of kind for the body's user and writes {"ticket": url} with 201.
func (t *Tenant) createTicket(w http.ResponseWriter, r *http.Request, kind, page string) error {
	var b ticketBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	if b.NewPassword != "" {
		return invalidBody("'new_password' is no longer supported: the user chooses the password on the ticket page.")
	}
	ttl := defaultTicketTTL
	if b.TTLSec != nil {
		switch {
		case *b.TTLSec < 0:
			return invalidBody("'Value %d is less than minimum 0' on property ttl_sec (Number of seconds for which the ticket is valid before expiration.).", *b.TTLSec)
		case *b.TTLSec > 0:
			ttl = time.Duration(*b.TTLSec) * time.Second
		}
	}
	if ttl > maxTicketTTL {
		return invalidBody("'Value %d is greater than maximum %d' on property ttl_sec (Number of seconds for which the ticket is valid before expiration.).", *b.TTLSec, int(maxTicketTTL/time.Second))
	}
	if b.ResultURL != "" {
		u, err := url.Parse(b.ResultURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalidBody("'Object didn't pass validation for format absolute-https-uri-or-empty: %s' on property result_url (URL the user will be redirected to once ticket is used.).", b.ResultURL)
		}
	}
	if b.ClientID != "" {
		if _, err := t.store.GetClient(r.Context(), b.ClientID); err != nil {
			return notFoundAs(err, &apiError{Status: http.StatusNotFound, Code: "inexistent_client", Message: "Client not found"})
		}
	}
	u, err := t.ticketUser(r.Context(), b)
	if err != nil {
		return err
	}
	secret := randomString(32, alnum)
	now := t.now().UTC().Truncate(time.Millisecond)
	if err := t.store.CreateTicket(r.Context(), store.Ticket{
		ID: ticketHash(secret), Type: kind, UserID: u.ID, ClientID: b.ClientID, ResultURL: b.ResultURL,
		MarkEmailAsVerified: b.MarkEmailAsVerified, IncludeEmailInRedirect: b.IncludeEmailInRedirect,
		CreatedAt: now, ExpiresAt: now.Add(ttl),
	}); err != nil {
		return notFoundAs(err, errUserNotFound)
	}
	writeJSON(w, http.StatusCreated, map[string]string{"ticket": t.baseURL + page + "?ticket=" + secret + "#"})
	return nil
}

// ticketUser resolves user_id, or connection_id + email.
func (t *Tenant) ticketUser(ctx context.Context, b ticketBody) (store.User, error) {
	if b.UserID != "" {
		u, err := t.store.GetUser(ctx, b.UserID)
		return u, notFoundAs(err, errUserNotFound)
	}
	if b.ConnectionID == "" || b.Email == "" {
		return store.User{}, invalidBody("'Missing required property: user_id' on property user_id (user_id of for whom the ticket should be created.); or provide connection_id and email.")
	}
	c, err := t.store.GetConnection(ctx, b.ConnectionID)
	if err != nil {
		return store.User{}, notFoundAs(err, &apiError{Status: http.StatusNotFound, Code: "inexistent_connection", Message: "The connection does not exist"})
	}
	us, err := t.store.UsersByEmail(ctx, strings.ToLower(b.Email))
	if err != nil {
		return store.User{}, err
	}
	for _, u := range us {
		if u.Connection == c.Name {
			return u, nil
		}
	}
	return store.User{}, errUserNotFound
}

// createPasswordTicket is POST /api/v2/tickets/password-change: 201 {"ticket":"<base>/u/reset-password?ticket=…#"}.
func (t *Tenant) createPasswordTicket(w http.ResponseWriter, r *http.Request, _ *principal) error {
	return t.createTicket(w, r, ticketPasswordChange, "/u/reset-password")
}

// createEmailTicket is POST /api/v2/tickets/email-verification: 201 {"ticket":"<base>/u/email-verification?ticket=…#"}.
func (t *Tenant) createEmailTicket(w http.ResponseWriter, r *http.Request, _ *principal) error {
	return t.createTicket(w, r, ticketEmailVerification, "/u/email-verification")
}

// --- the ticket pages ---

var ticketPage = template.Must(template.New("ticket").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style nonce="{{.Nonce}}">
body{font-family:system-ui,sans-serif;background:#f3f4f6;display:flex;justify-content:center;padding-top:8vh;margin:0}
main{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15);width:22rem}
h1{font-size:1.3rem;margin:0 0 1rem}
label{display:block;margin:.75rem 0 .25rem;font-size:.9rem}
input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}
button{margin-top:1.25rem;width:100%;padding:.6rem;font-size:1rem;background:#4f46e5;color:#fff;border:0;border-radius:4px}
.error{color:#b91c1c;margin:.5rem 0}.ok{color:#047857}
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
{{if .Error}}<p class="error" role="alert" data-testid="ticket-error">{{.Error}}</p>{{end}}
{{if .Done}}<p class="ok" role="status" data-testid="ticket-done">{{.Done}}</p>{{end}}
{{if .Form}}
<p>Choose a new password for {{.Email}}.</p>
<form method="post" action="/u/reset-password">
<input type="hidden" name="ticket" value="{{.Ticket}}">
<label for="password">New password</label>
<input type="password" id="password" name="password" autocomplete="new-password" required autofocus>
<label for="password_confirm">Confirm new password</label>
<input type="password" id="password_confirm" name="password_confirm" autocomplete="new-password" required>
<button type="submit" id="reset">Reset password</button>
</form>
{{end}}
</main>
</body>
</html>
`))

type ticketView struct {
	Title, Error, Done, Email, Ticket, Nonce string
	Form                                     bool
}

func (t *Tenant) renderTicketPage(w http.ResponseWriter, status int, v ticketView) {
	v.Nonce = randomToken(18)
	t.writeHTML(w, status, ticketPage, v, v.Nonce, "'self'")
}

var (
	errTicketInvalid = errors.New("This link is invalid or has already been used.")
	errTicketExpired = errors.New("This link has expired. Ask for a new one.")
)

// liveTicket loads the ticket of secret and checks its kind and expiry.
func (t *Tenant) liveTicket(ctx context.Context, secret, kind string) (store.Ticket, error) {
	if secret == "" {
		return store.Ticket{}, errTicketInvalid
	}
	tk, err := t.store.GetTicket(ctx, ticketHash(secret))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return tk, errTicketInvalid
	case err != nil:
		return tk, err
	case tk.Type != kind:
		return tk, errTicketInvalid
	case !t.now().Before(tk.ExpiresAt):
		return tk, errTicketExpired
	}
	return tk, nil
}

// ticketPageError renders the failure of liveTicket.
func (t *Tenant) ticketPageError(w http.ResponseWriter, r *http.Request, title string, err error) {
	if errors.Is(err, errTicketInvalid) || errors.Is(err, errTicketExpired) {
		t.renderTicketPage(w, http.StatusBadRequest, ticketView{Title: title, Error: err.Error()})
		return
	}
	t.log.ErrorContext(r.Context(), "tenant: ticket page", "err", err)
	t.renderTicketPage(w, http.StatusInternalServerError, ticketView{Title: title, Error: "Something went wrong. Please try again."})
}

// handleResetForm is GET /u/reset-password?ticket=…: the new-password form.
func (t *Tenant) handleResetForm(w http.ResponseWriter, r *http.Request) {
	const title = "Change your password"
	secret := r.URL.Query().Get("ticket")
	tk, err := t.liveTicket(r.Context(), secret, ticketPasswordChange)
	if err != nil {
		t.ticketPageError(w, r, title, err)
		return
	}
	u, err := t.store.GetUser(r.Context(), tk.UserID)
	if err != nil {
		t.ticketPageError(w, r, title, errTicketInvalid)
		return
	}
	t.renderTicketPage(w, http.StatusOK, ticketView{Title: title, Form: true, Email: firstNonEmpty(u.Email, u.Username), Ticket: secret})
}

// handleResetSubmit is POST /u/reset-password: it checks the new password against the connection's
// policy, uses the ticket up, sets the password (and last_password_reset, and email_verified when the
// ticket says so), lifts brute-force blocks as Auth0 does after a reset, logs "scp", and redirects to
// the ticket's result_url or shows a success message.
func (t *Tenant) handleResetSubmit(w http.ResponseWriter, r *http.Request) {
	const title = "Change your password"
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		t.renderTicketPage(w, http.StatusBadRequest, ticketView{Title: title, Error: "The form could not be read."})
		return
	}
	ctx := r.Context()
	secret, pw := r.PostForm.Get("ticket"), r.PostForm.Get("password")
	tk, err := t.liveTicket(ctx, secret, ticketPasswordChange)
	if err != nil {
		t.ticketPageError(w, r, title, err)
		return
	}
	u, err := t.store.GetUser(ctx, tk.UserID)
	if err != nil {
		t.ticketPageError(w, r, title, errTicketInvalid)
		return
	}
	again := func(msg string) {
		t.renderTicketPage(w, http.StatusBadRequest, ticketView{Title: title, Form: true, Error: msg,
			Email: firstNonEmpty(u.Email, u.Username), Ticket: secret})
	}
	if pw != r.PostForm.Get("password_confirm") {
		again("The passwords do not match.")
		return
	}
	conn, err := t.store.GetConnectionByName(ctx, u.Connection)
	if err != nil {
		t.ticketPageError(w, r, title, err)
		return
	}
	policy := policyOf(conn)
	if err := checkPassword(pw, policy); err != nil {
		again(fmt.Sprintf("Password is too weak: use at least %d characters and follow the %q password policy of this connection.", policy.MinLength, policy.Level))
		return
	}
	if _, err := t.store.TakeTicket(ctx, tk.ID); err != nil {
		t.ticketPageError(w, r, title, errTicketInvalid) // a concurrent submission used it first
		return
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), t.cost)
	if err != nil {
		t.ticketPageError(w, r, title, err)
		return
	}
	now := t.now().UTC().Truncate(time.Millisecond)
	u, err = t.store.UpdateUser(ctx, u.ID, func(old store.User) (store.User, error) {
		old.PasswordHash, old.LastPasswordReset, old.UpdatedAt = string(hash), &now, now
		if tk.MarkEmailAsVerified {
			old.EmailVerified = true
		}
		return old, nil
	})
	if err != nil {
		t.ticketPageError(w, r, title, err)
		return
	}
	if _, err := t.store.DeleteUserBlocks(ctx, identifiersOf(u), u.Connection); err != nil {
		t.log.ErrorContext(ctx, "tenant: lift blocks after password reset", "err", err)
	}
	e := requestEvent(r, "scp")
	e.Description = strp("Password changed")
	e.UserID, e.UserName = strp(u.ID), strp(firstNonEmpty(u.Email, u.Username))
	e.Connection, e.ConnectionID = strp(conn.Name), strp(conn.ID)
	e.ClientID, e.ClientName = strp(tk.ClientID), strp(t.clientName(ctx, tk.ClientID))
	t.writeLog(ctx, e)
	t.ticketDone(w, r, tk, u, title, "Your password has been changed. You can now sign in with it.")
}

// ticketDone redirects to the ticket's result_url (with success=true, and email when asked) or shows
// the success message.
func (t *Tenant) ticketDone(w http.ResponseWriter, r *http.Request, tk store.Ticket, u store.User, title, msg string) {
	if tk.ResultURL == "" {
		t.renderTicketPage(w, http.StatusOK, ticketView{Title: title, Done: msg})
		return
	}
	p := url.Values{"success": {"true"}, "message": {msg}}
	if tk.IncludeEmailInRedirect && u.Email != "" {
		p.Set("email", u.Email)
	}
	http.Redirect(w, r, redirectTo(tk.ResultURL, p), http.StatusFound)
}

// handleEmailVerification is GET /u/email-verification?ticket=…: it marks the email verified (single
// use), logs "sv", then redirects or confirms.
func (t *Tenant) handleEmailVerification(w http.ResponseWriter, r *http.Request) {
	const title = "Verify your email"
	ctx := r.Context()
	tk, err := t.liveTicket(ctx, r.URL.Query().Get("ticket"), ticketEmailVerification)
	if err != nil {
		t.ticketPageError(w, r, title, err)
		return
	}
	if _, err := t.store.TakeTicket(ctx, tk.ID); err != nil {
		t.ticketPageError(w, r, title, errTicketInvalid)
		return
	}
	now := t.now().UTC().Truncate(time.Millisecond)
	u, err := t.store.UpdateUser(ctx, tk.UserID, func(old store.User) (store.User, error) {
		old.EmailVerified, old.UpdatedAt = true, now
		return old, nil
	})
	if err != nil {
		t.ticketPageError(w, r, title, errTicketInvalid)
		return
	}
	e := requestEvent(r, "sv")
	e.Description = strp("Email verified")
	e.UserID, e.UserName = strp(u.ID), strp(u.Email)
	t.writeLog(ctx, e)
	t.ticketDone(w, r, tk, u, title, "Your email address has been verified.")
}
