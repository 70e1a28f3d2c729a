package auditlog_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/auditlog"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/reqctx"
)

func staffCtx() context.Context {
	ctx := reqctx.WithStaff(context.Background(), reqctx.Staff{Issuer: "https://idp.example/", Subject: "sub-1",
		Email: "sam@corp.example", Role: authz.Agent})
	ctx = reqctx.WithClientIP(ctx, "203.0.113.9")
	return reqctx.WithRequestID(ctx, "req-1")
}

// TestAppendCompletesTheEntry: the actor, IP and request id come from the request context.
func TestAppendCompletesTheEntry(t *testing.T) {
	store := audit.NewMemory()
	r := auditlog.New(store, nil)
	got, err := r.Append(staffCtx(), audit.Entry{Action: "user.create", Outcome: audit.OutcomeSuccess, TargetUserID: "auth0|1"})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == 0 || got.ActorIssuer != "https://idp.example/" || got.ActorSubject != "sub-1" || got.ActorEmail != "sam@corp.example" ||
		got.ActorRole != "agent" || got.ClientIP != "203.0.113.9" || got.RequestID != "req-1" || got.TargetUserID != "auth0|1" {
		t.Fatalf("entry = %+v", got)
	}
	// An actor set by the caller (sign-in, where the context has no staff yet) is kept.
	got, _ = r.Append(staffCtx(), audit.Entry{Action: auditlog.ActionLogin, Outcome: audit.OutcomeSuccess,
		ActorIssuer: "iss2", ActorSubject: "sub-2", ActorRole: "viewer", ClientIP: "198.51.100.1"})
	if got.ActorSubject != "sub-2" || got.ActorEmail != "" || got.ActorRole != "viewer" || got.ClientIP != "198.51.100.1" {
		t.Fatalf("caller's fields overwritten: %+v", got)
	}
}

// TestDenied records the refusal with the action and the role it needs.
func TestDenied(t *testing.T) {
	store := audit.NewMemory()
	if err := auditlog.New(store, nil).Denied(staffCtx(), authz.DeleteUser, "auth0|1"); err != nil {
		t.Fatal(err)
	}
	es, _, _ := store.Query(context.Background(), audit.Filter{})
	if len(es) != 1 {
		t.Fatalf("%d entries", len(es))
	}
	e := es[0]
	if e.Action != auditlog.ActionDenied || e.Outcome != audit.OutcomeDenied || e.TargetUserID != "auth0|1" ||
		e.ActorSubject != "sub-1" || e.ActorRole != "agent" || e.Detail != "user.delete needs role admin" {
		t.Fatalf("entry = %+v", e)
	}
}

type failing struct{ audit.Store }

func (failing) Append(context.Context, audit.Entry) (audit.Entry, error) {
	return audit.Entry{}, errors.New("disk full")
}

// TestFailureIsLoggedAtErrorLevel: a failed write is returned and logged, without the changed values.
func TestFailureIsLoggedAtErrorLevel(t *testing.T) {
	var logs bytes.Buffer
	r := auditlog.New(failing{}, slog.New(slog.NewJSONHandler(&logs, nil)))
	_, err := r.Append(staffCtx(), audit.Entry{Action: "user.metadata_update", Outcome: audit.OutcomeSuccess,
		Changes: []audit.Change{{Field: "user_metadata.secret", After: `"s3ntinel"`}}})
	if err == nil {
		t.Fatal("no error")
	}
	l := logs.String()
	if !strings.Contains(l, `"level":"ERROR"`) || !strings.Contains(l, "audit_write_failed") || !strings.Contains(l, "disk full") {
		t.Fatalf("log = %s", l)
	}
	if strings.Contains(l, "s3ntinel") {
		t.Fatal("the log contains a changed value")
	}
	r.Record(staffCtx(), audit.Entry{Action: auditlog.ActionLogout, Outcome: audit.OutcomeSuccess})
	if strings.Count(logs.String(), "audit_write_failed") != 2 {
		t.Fatal("Record did not log its failure")
	}
}

func TestActionNames(t *testing.T) {
	names := auditlog.ActionNames()
	for _, want := range []string{"session.login", "session.login_failed", "session.logout", "staff.sessions_end", "authz.denied", "user.create", "user.metadata_update"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("ActionNames lacks %s", want)
		}
	}
	if auditlog.IsUserAction(auditlog.ActionLogin) || !auditlog.IsUserAction("user.create") || !auditlog.IsUserAction(auditlog.ActionDenied) {
		t.Error("IsUserAction")
	}
}
