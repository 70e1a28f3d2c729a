package mgmt

import (
	"context"
	"errors"
	"net/http"
)

// TicketManager wraps /api/v2/tickets: one-time links Auth0 hosts, for a user to set a password or
// verify an email address. A ticket URL is a credential: hand it only to its user, never log it.
type TicketManager struct{ c *core }

// PasswordChangeTicket is the body of POST /api/v2/tickets/password-change. It names the user by
// UserID, or by ConnectionID and Email.
type PasswordChangeTicket struct {
	UserID       string `json:"user_id,omitempty"`
	ConnectionID string `json:"connection_id,omitempty"`
	Email        string `json:"email,omitempty"`
	// ResultURL is where the user lands after setting the password ("" = the application's default).
	ResultURL string `json:"result_url,omitempty"`
	// ClientID is the application whose login page the user returns to (its name shows on the page).
	ClientID       string `json:"client_id,omitempty"`
	OrganizationID string `json:"organization_id,omitempty"`
	// TTLSec is the ticket's lifetime in seconds; 0 = Auth0's default, 432000 (5 days).
	TTLSec int `json:"ttl_sec,omitempty"`
	// MarkEmailAsVerified also marks the email verified once the password is set: using the link
	// proves the user reads that mailbox.
	MarkEmailAsVerified bool `json:"mark_email_as_verified,omitempty"`
	// IncludeEmailInRedirect adds the email to ResultURL's query.
	IncludeEmailInRedirect bool `json:"includeEmailInRedirect,omitempty"`
}

// EmailVerificationTicket is the body of POST /api/v2/tickets/email-verification.
type EmailVerificationTicket struct {
	UserID                 string       `json:"user_id"`
	ResultURL              string       `json:"result_url,omitempty"`
	ClientID               string       `json:"client_id,omitempty"`
	OrganizationID         string       `json:"organization_id,omitempty"`
	TTLSec                 int          `json:"ttl_sec,omitempty"` // 0 = Auth0's default (5 days)
	IncludeEmailInRedirect bool         `json:"includeEmailInRedirect,omitempty"`
	Identity               *JobIdentity `json:"identity,omitempty"` // a secondary identity to verify
}

// ticket is the 201 answer of both endpoints.
type ticket struct {
	Ticket string `json:"ticket"`
}

// PasswordChange creates a password-change ticket and returns its URL
// ("https://<tenant>/u/reset-password?ticket=…#"): the "invite" path for a user created without a
// chosen password, or a reset a support agent sends. Nothing is emailed. A POST: resent only after
// a 429.
//
// Scopes: create:user_tickets. See
// https://auth0.com/docs/api/management/v2/tickets/post-password-change
func (m *TicketManager) PasswordChange(ctx context.Context, t PasswordChangeTicket) (string, error) {
	if t.UserID == "" && (t.ConnectionID == "" || t.Email == "") {
		return "", errors.New("mgmt: password-change ticket needs a user ID, or a connection ID and an email")
	}
	return m.create(ctx, routeTicketPassword, "password-change", t)
}

// EmailVerification creates an email-verification ticket and returns its URL
// ("https://<tenant>/u/email-verification?ticket=…#"); opening it marks the email verified.
// Nothing is emailed. A POST: resent only after a 429.
//
// Scopes: create:user_tickets. See
// https://auth0.com/docs/api/management/v2/tickets/post-email-verification
func (m *TicketManager) EmailVerification(ctx context.Context, t EmailVerificationTicket) (string, error) {
	if err := checkID("user", t.UserID); err != nil {
		return "", err
	}
	return m.create(ctx, routeTicketEmail, "email-verification", t)
}

func (m *TicketManager) create(ctx context.Context, route, kind string, body any) (string, error) {
	var out ticket
	if err := m.c.call(ctx, http.MethodPost, route, m.c.endpoint("tickets", kind), nil, body, &out); err != nil {
		return "", err
	}
	if out.Ticket == "" {
		return "", errors.New("mgmt: POST " + route + ": answer has no ticket URL")
	}
	return out.Ticket, nil
}
