package users_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
)

func apiErr(status int, code, msg string) error {
	return fmt.Errorf("mgmt call: %w", &mgmt.Error{StatusCode: status, Err: http.StatusText(status), Message: msg, ErrorCode: code})
}

func TestExplain(t *testing.T) {
	connRefused := &url.Error{Op: "Get", URL: "https://t/api/v2/users", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}
	tests := []struct {
		name       string
		op         users.Op
		err        error
		wantStatus int
		wantMsg    string
		wantField  string // field the sentence belongs to, "" for Message
	}{
		{"409 on create goes next to email", users.OpCreate, apiErr(409, "auth0_idp_error", "The user already exists."), 409, users.MsgDuplicateEmail, "email"},
		{"weak password next to password", users.OpCreate, apiErr(400, "", "PasswordStrengthError: Password is too weak"), 422, "PasswordStrengthError: Password is too weak", "password"},
		{"invalid email format next to email", users.OpCreate, apiErr(400, "invalid_body", "Payload validation error: 'Object didn't pass validation for format email: x' on property email."), 422,
			"Payload validation error: 'Object didn't pass validation for format email: x' on property email.", "email"},
		{"unknown connection next to connection", users.OpCreate, apiErr(400, "inexistent_connection", "The connection does not exist."), 422, "The connection does not exist.", "connection"},
		{"other 400 on update is a form message", users.OpUpdate, apiErr(400, "invalid_body", "Payload validation error: bad"), 422, "Payload validation error: bad", ""},
		{"bad search goes next to the search box", users.OpSearch, apiErr(400, "invalid_query_string", "Query validation error"), 400, "Query validation error", "q"},
		{"missing scope named (live wording)", users.OpCreate, apiErr(403, "insufficient_scope", "Insufficient scope, expected any of: create:users"), 502, "The service account is missing the create:users permission.", ""},
		{"missing scope without errorCode", users.OpSearch, apiErr(403, "", "Insufficient scope, expected any of: read:users"), 502, "The service account is missing the read:users permission.", ""},
		{"several acceptable scopes", users.OpRead, apiErr(403, "insufficient_scope", "Insufficient scope, expected any of: read:users, read:user_idp_tokens"), 502,
			"The service account is missing one of these permissions: read:users, read:user_idp_tokens.", ""},
		{"other 403 shows Auth0's reason", users.OpUpdate, apiErr(403, "operation_not_supported", "Not allowed here"), 403, "Not allowed here", ""},
		{"429 create", users.OpCreate, apiErr(429, "too_many_requests", "Global limit has been reached"), 503, users.MsgRateLimited, ""},
		{"429 search", users.OpSearch, apiErr(429, "", "Too many requests."), 503, users.MsgRateLimited, ""},
		{"401 credentials", users.OpRead, apiErr(401, "", "Invalid token"), 502, users.MsgUnauthorized, ""},
		{"503 update: nothing changed, no upstream text", users.OpUpdate, apiErr(503, "", "stack trace here"), 502, users.MsgUnavailable, ""},
		{"500 update: may have been applied", users.OpUpdate, apiErr(500, "", "stack trace here"), 502, users.MsgUpdateUnknown, ""},
		{"connection lost after sending the update", users.OpUpdate, &mgmt.TransportError{Err: errors.New("connection reset by peer")}, 502, users.MsgUpdateUnknown, ""},
		{"create checked and not made", users.OpCreate, &mgmt.CreateError{Outcome: mgmt.CreateNotCreated, Err: apiErr(502, "", "")}, 502, users.MsgNotCreated, ""},
		{"create outcome unknown", users.OpCreate, &mgmt.CreateError{Outcome: mgmt.CreateUnknown, Err: apiErr(502, "", "")}, 502, users.MsgCreateUnknown, ""},
		{"create found an existing user", users.OpCreate, &mgmt.CreateError{Outcome: mgmt.CreateNotCreated, Existing: &mgmt.User{UserID: "auth0|x"}, Err: apiErr(502, "", "")}, 409, users.MsgDuplicateEmail, "email"},
		{"429 with reset in 7 s", users.OpUpdate, &mgmt.Error{StatusCode: 429, RetryAfter: 6500 * time.Millisecond}, 503, "Auth0 is rate limiting requests; try again in 7 s.", ""},
		{"breaker open", users.OpUpdate, &mgmt.UnavailableError{RetryAfter: 9 * time.Second}, 503, "Auth0 is not answering; Userdesk paused its calls for 9 s. Nothing was changed.", ""},
		{"5xx create: outcome unknown", users.OpCreate, apiErr(502, "", ""), 502, users.MsgCreateUnknown, ""},
		{"5xx read", users.OpRead, apiErr(503, "", "upstream detail"), 502, users.MsgReadFailed, ""},
		{"timeout on create: outcome unknown", users.OpCreate, fmt.Errorf("post: %w", context.DeadlineExceeded), 504, users.MsgCreateUnknown, ""},
		{"timeout on update: outcome unknown", users.OpUpdate, fmt.Errorf("patch: %w", context.DeadlineExceeded), 504, users.MsgUpdateUnknown, ""},
		{"timeout on search", users.OpSearch, context.DeadlineExceeded, 504, users.MsgReadFailed, ""},
		{"connection refused on update", users.OpUpdate, connRefused, 502, users.MsgUnavailable, ""},
		{"token endpoint down", users.OpRead, &mgmt.TokenError{StatusCode: 503}, 502, users.MsgReadFailed, ""},
		{"token endpoint rejects credentials", users.OpRead, &mgmt.TokenError{StatusCode: 401}, 502, users.MsgUnauthorized, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := users.Explain(tt.op, tt.err)
			var p *users.Problem
			if !errors.As(err, &p) {
				t.Fatalf("Explain = %v, want *Problem", err)
			}
			if p.Status != tt.wantStatus {
				t.Errorf("status = %d, want %d", p.Status, tt.wantStatus)
			}
			if tt.wantField == "" {
				if p.Message != tt.wantMsg || len(p.Fields) != 0 {
					t.Errorf("message %q fields %v, want message %q", p.Message, p.Fields, tt.wantMsg)
				}
			} else if p.Fields[tt.wantField] != tt.wantMsg || len(p.Fields) != 1 || p.Message != "" {
				t.Errorf("message %q fields %v, want %s: %q", p.Message, p.Fields, tt.wantField, tt.wantMsg)
			}
			if !errors.Is(err, tt.err) {
				t.Error("cause not kept for logging")
			}
		})
	}
}

func TestExplainPassesThroughWhatIsNotAboutAuth0(t *testing.T) {
	for _, err := range []error{errors.New("bug"), context.Canceled, fmt.Errorf("x: %w", context.Canceled)} {
		if got := users.Explain(users.OpRead, err); got != err {
			t.Errorf("Explain(%v) = %v, want it unchanged", err, got)
		}
	}
	if users.Explain(users.OpRead, nil) != nil {
		t.Error("Explain(nil) != nil")
	}
}
