package users

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/mgmt"
)

// DatabaseStrategy is the strategy of Auth0 database connections, the only ones a user with a
// password can be created in.
const DatabaseStrategy = "auth0"

// maxConnectionPages bounds how many pages of connections are read (100 each).
const maxConnectionPages = 10

// NewUser is what the create form submits, as typed; Validate decides what is acceptable.
type NewUser struct {
	Connection string
	Email      string
	// Username is sent when the connection requires one (Create refuses it otherwise).
	Username      string
	Password      string
	EmailVerified bool
	// Invite creates the user without a chosen password: Create sets a random one nobody sees, and
	// the caller then sends a password-change ticket (SendPasswordTicket) for the user to choose one.
	Invite bool
	// Reason is the staff member's reason or ticket reference, stored in the audit entry.
	Reason string
}

// Field-level validation sentences for the create form.
const (
	MsgConnectionRequired = "Choose a connection."
	MsgConnectionUnknown  = "Choose one of the database connections listed."
	MsgEmailRequired      = "Enter an email address."
	MsgEmailInvalid       = "Enter an email address like name@example.com."
	MsgPasswordRequired   = "Enter an initial password."
	MsgUsernameRequired   = "This connection requires a username: users sign in with it or their email address."
	MsgUsernameNotUsed    = "This connection does not use usernames: leave the username empty."
)

// DBConnection is a database connection the create form offers.
type DBConnection struct {
	Name string
	// RequiresUsername is the connection's requires_username option: new users need a username
	// besides their email address, and other connections accept none.
	RequiresUsername bool
}

// DatabaseConnections returns the tenant's database (strategy "auth0") connections, sorted by name,
// for the create form.
func (s *Service) DatabaseConnections(ctx context.Context) ([]DBConnection, error) {
	var out []DBConnection
	for page := 0; page < maxConnectionPages; page++ {
		list, err := s.API.ListConnections(ctx, mgmt.ListConnectionsParams{
			Strategy: []string{DatabaseStrategy}, Page: page, PerPage: 100,
		})
		if err != nil {
			return nil, Explain(OpRead, err)
		}
		for _, c := range list.Connections {
			// Filter again: the strategy parameter is a server-side filter we do not rely on alone.
			if c.Strategy == DatabaseStrategy {
				requires, _ := c.Options["requires_username"].(bool)
				out = append(out, DBConnection{Name: c.Name, RequiresUsername: requires})
			}
		}
		if len(list.Connections) == 0 || (page+1)*100 >= list.Total {
			break
		}
	}
	slices.SortFunc(out, func(a, b DBConnection) int { return strings.Compare(a.Name, b.Name) })
	return slices.CompactFunc(out, func(a, b DBConnection) bool { return a.Name == b.Name }), nil
}

// Validate checks the form without asking Auth0 and returns field messages (nil when valid).
func (n NewUser) Validate() map[string]string {
	errs := map[string]string{}
	if strings.TrimSpace(n.Connection) == "" {
		errs["connection"] = MsgConnectionRequired
	}
	email := strings.TrimSpace(n.Email)
	switch {
	case email == "":
		errs["email"] = MsgEmailRequired
	case !looksLikeEmail(email) || len(email) > 254:
		errs["email"] = MsgEmailInvalid
	}
	if n.Password == "" && !n.Invite {
		errs["password"] = MsgPasswordRequired
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Create validates n, checks the connection is one of the database connections and creates the
// user, returning its id. Invalid input is a *Problem with Status 422 and Fields (a missing reason
// when authz.CreateUser requires one is a "reason" field); upstream failures are explained with
// OpCreate (409 → duplicate email next to the email field). Auth0 is called at most once with POST:
// a failed create is never retried, its outcome may be unknown.
//
// Every attempt that reached Auth0 is audited as "user.create" before Create returns: the created
// fields (connection, email, email_verified; never the password), the reason, the outcome, Auth0's
// status and the X-Correlation-ID the POST carried. When that entry cannot be written, a successful
// create returns the id together with ErrAuditFailed, and a failed one a *Problem with AuditFailed.
func (s *Service) Create(ctx context.Context, n NewUser) (string, error) {
	errs := n.Validate()
	if msg := s.CheckReason(authz.CreateUser, n.Reason); msg != "" {
		if errs == nil {
			errs = map[string]string{}
		}
		errs["reason"] = msg
	}
	if errs != nil {
		return "", &Problem{Status: http.StatusUnprocessableEntity, Fields: errs}
	}
	conns, err := s.DatabaseConnections(ctx)
	if err != nil {
		return "", err
	}
	i := slices.IndexFunc(conns, func(c DBConnection) bool { return c.Name == n.Connection })
	if i < 0 {
		return "", &Problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{"connection": MsgConnectionUnknown}}
	}
	username := strings.TrimSpace(n.Username)
	switch {
	case conns[i].RequiresUsername && username == "":
		return "", &Problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{"username": MsgUsernameRequired}}
	case !conns[i].RequiresUsername && username != "":
		return "", &Problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{"username": MsgUsernameNotUsed}}
	}
	verified := n.EmailVerified
	email := strings.TrimSpace(n.Email)
	if n.Invite {
		pw, err := invitePassword()
		if err != nil {
			return "", err
		}
		n.Password = pw
	}
	ctx, cid := withCorrelation(ctx)
	u, err := s.API.CreateUser(ctx, &mgmt.UserCreate{
		Connection:    n.Connection,
		Email:         email,
		Username:      username,
		Password:      n.Password,
		EmailVerified: &verified,
	})
	entry := audit.Entry{
		Action:      string(authz.CreateUser),
		TargetEmail: email,
		Changes: []audit.Change{
			{Field: "connection", After: jsonValue(n.Connection)},
			{Field: "email", After: jsonValue(email)},
			{Field: "email_verified", After: jsonValue(verified)},
		},
		Reason:        strings.TrimSpace(n.Reason),
		CorrelationID: cid,
	}
	if username != "" {
		entry.Changes = append(entry.Changes, audit.Change{Field: "username", After: jsonValue(username)})
	}
	if n.Invite {
		entry.Changes = append(entry.Changes, audit.Change{Field: "invite", After: "true"})
	}
	if err == nil && (u == nil || u.UserID == "") {
		err = errors.New("users: Auth0 answered the create without a user_id")
		entry.Outcome, entry.UpstreamStatus, entry.Detail = audit.OutcomeUnknown, http.StatusCreated, "answer without a user_id"
		if aerr := s.record(ctx, entry); aerr != nil {
			return "", errors.Join(err, aerr)
		}
		return "", err
	}
	if err != nil {
		entry.Outcome, entry.UpstreamStatus, entry.Detail = upstreamResult(err, true)
		explained := Explain(OpCreate, err)
		var p *Problem
		if username != "" && errors.As(explained, &p) && p.Fields["email"] == MsgDuplicateEmail {
			p.Fields = map[string]string{"email": MsgDuplicateEmailOrUsername}
		}
		if aerr := s.record(ctx, entry); aerr != nil {
			return "", withAuditFailure(explained, aerr)
		}
		return "", explained
	}
	// Auth0 answers a create with 201 (auth0-contract §3); the client returns a user only for it.
	entry.TargetUserID, entry.Outcome, entry.UpstreamStatus = u.UserID, audit.OutcomeSuccess, http.StatusCreated
	if aerr := s.record(ctx, entry); aerr != nil {
		return u.UserID, aerr
	}
	return u.UserID, nil
}

// withAuditFailure marks an explained failure as not audited: a *Problem gets AuditFailed, any other
// error is joined with the audit error (both end on the error page and in the log).
func withAuditFailure(err, auditErr error) error {
	var p *Problem
	if errors.As(err, &p) {
		p.AuditFailed = true
		return p
	}
	return errors.Join(err, auditErr)
}

// invitePassword is the password of an invited user: 32 random characters that satisfy every Auth0
// policy level (at most 72 bytes, all four classes, no character three times in a row). Nobody
// sees it; the user sets their own through the password-change ticket.
func invitePassword() (string, error) {
	strict := PasswordPolicy{Level: "excellent", MinLength: 16}
	for range 100 {
		b := make([]byte, 21)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		pw := "Aa1!" + base64.RawURLEncoding.EncodeToString(b)
		if len(strict.Check(pw)) == 0 {
			return pw, nil
		}
	}
	return "", errors.New("users: could not generate an invite password")
}
