package users_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/auditlog"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/reqctx"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/users/userstest"
)

// staffCtx is a request context of a signed-in staff member with the given role, as the handlers'
// middleware leaves it.
func staffCtx(r authz.Role) context.Context {
	ctx := reqctx.WithStaff(context.Background(), reqctx.Staff{Issuer: "https://idp.example/", Subject: "staff-7",
		Email: "sam@corp.example", Name: "Sam", Role: r})
	ctx = reqctx.WithClientIP(ctx, "203.0.113.9")
	return reqctx.WithRequestID(ctx, "req-42")
}

func auditedService(api users.API) (*users.Service, *audit.MemoryStore) {
	store := audit.NewMemory()
	return &users.Service{API: api, Audit: auditlog.New(store, nil)}, store
}

func entries(t *testing.T, s audit.Store) []audit.Entry {
	t.Helper()
	es, _, err := s.Query(context.Background(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func assertActor(t *testing.T, e audit.Entry, role authz.Role) {
	t.Helper()
	if e.ActorIssuer != "https://idp.example/" || e.ActorSubject != "staff-7" || e.ActorEmail != "sam@corp.example" ||
		e.ActorRole != string(role) || e.ClientIP != "203.0.113.9" || e.RequestID != "req-42" || e.Time.IsZero() {
		t.Errorf("actor fields = %+v", e)
	}
}

// TestCreateIsAudited: one entry with the actor, the created fields (never the password), the
// reason, success, 201 and the correlation id the POST carried.
func TestCreateIsAudited(t *testing.T) {
	api := userstest.New(conns())
	svc, store := auditedService(api)
	id, err := svc.Create(staffCtx(authz.Agent), users.NewUser{Connection: "Staff-DB", Email: " new@example.com ",
		Password: "Pw-s3ntinel", EmailVerified: true, Reason: " TICKET-12 "})
	if err != nil {
		t.Fatal(err)
	}
	es := entries(t, store)
	if len(es) != 1 {
		t.Fatalf("%d entries, want 1", len(es))
	}
	e := es[0]
	assertActor(t, e, authz.Agent)
	sent := api.CallsTo("CreateUser")[0].CorrelationID
	if !hex32.MatchString(sent) || e.CorrelationID != sent {
		t.Errorf("correlation id: entry %q, sent %q", e.CorrelationID, sent)
	}
	if e.Action != "user.create" || e.TargetUserID != id || e.TargetEmail != "new@example.com" || e.Reason != "TICKET-12" ||
		e.Outcome != audit.OutcomeSuccess || e.UpstreamStatus != http.StatusCreated {
		t.Errorf("entry = %+v", e)
	}
	want := []audit.Change{{Field: "connection", After: `"Staff-DB"`}, {Field: "email", After: `"new@example.com"`},
		{Field: "email_verified", After: "true"}}
	if !reflect.DeepEqual(e.Changes, want) {
		t.Errorf("changes = %+v, want %+v", e.Changes, want)
	}
	if strings.Contains(fmtEntry(e), "s3ntinel") {
		t.Error("the password reached the audit entry")
	}
}

func fmtEntry(e audit.Entry) string {
	var b strings.Builder
	for _, c := range e.Changes {
		b.WriteString(c.Field + c.Before + c.After)
	}
	return b.String() + e.Detail + e.Reason + e.TargetEmail
}

// TestCreateFailuresAreAudited: a refusal is a failure with Auth0's status; a 5xx on create is unknown.
func TestCreateFailuresAreAudited(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		outcome audit.Outcome
		status  int
	}{
		{"conflict", &mgmt.Error{StatusCode: 409, Err: "Conflict", Message: "The user already exists."}, audit.OutcomeFailure, 409},
		{"bad gateway", &mgmt.Error{StatusCode: 502, Err: "Bad Gateway"}, audit.OutcomeUnknown, 502},
		{"lost answer", &mgmt.CreateError{Outcome: mgmt.CreateUnknown, Err: context.DeadlineExceeded}, audit.OutcomeUnknown, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := userstest.New(conns())
			api.Fail = func(m string) error {
				if m == "CreateUser" {
					return tc.err
				}
				return nil
			}
			svc, store := auditedService(api)
			if _, err := svc.Create(staffCtx(authz.Admin), users.NewUser{Connection: "Staff-DB", Email: "a@example.com", Password: "x"}); err == nil {
				t.Fatal("no error")
			}
			es := entries(t, store)
			if len(es) != 1 {
				t.Fatalf("%d entries", len(es))
			}
			e := es[0]
			if e.Outcome != tc.outcome || e.UpstreamStatus != tc.status || e.TargetUserID != "" || e.Detail == "" ||
				e.CorrelationID != api.CallsTo("CreateUser")[0].CorrelationID {
				t.Errorf("entry = %+v", e)
			}
		})
	}
}

// TestSaveMetadataIsAudited: one Change per changed top-level key with before and after, an added
// key has no before, a deleted key no after; unchanged keys are not recorded.
func TestSaveMetadataIsAudited(t *testing.T) {
	api := userstest.New(nil, metaUser())
	svc, store := auditedService(api)
	out, err := svc.SaveMetadata(staffCtx(authz.Agent), "auth0|abc", users.MetadataForm{Base: baseFor(api, "auth0|abc"),
		UserMetadata: `{"color": "blue", "addr": {"city": "Paris"}, "new": [1]}`,
		AppMetadata:  `{"plan": "platinum"}`,
		Reason:       "INC-9",
	})
	if err != nil || out != users.Saved {
		t.Fatalf("out %v err %v", out, err)
	}
	es := entries(t, store)
	if len(es) != 1 {
		t.Fatalf("%d entries", len(es))
	}
	e := es[0]
	assertActor(t, e, authz.Agent)
	if e.Action != "user.metadata_update" || e.TargetUserID != "auth0|abc" || e.TargetEmail != "jane@example.com" ||
		e.Reason != "INC-9" || e.Outcome != audit.OutcomeSuccess || e.UpstreamStatus != http.StatusOK {
		t.Errorf("entry = %+v", e)
	}
	if sent := api.CallsTo("UpdateUser")[0].CorrelationID; !hex32.MatchString(sent) || e.CorrelationID != sent {
		t.Errorf("correlation id: entry %q, sent %q", e.CorrelationID, sent)
	}
	want := []audit.Change{
		{Field: "user_metadata.color", Before: `"red"`, After: `"blue"`},
		{Field: "user_metadata.gone", Before: "1"},
		{Field: "user_metadata.new", After: "[1]"},
		{Field: "app_metadata.plan", Before: `"gold"`, After: `"platinum"`},
	}
	if !reflect.DeepEqual(e.Changes, want) {
		t.Errorf("changes = %+v\nwant %+v", e.Changes, want)
	}
}

// TestSaveMetadataFailureIsAudited: a refused PATCH is recorded with Auth0's status.
func TestSaveMetadataFailureIsAudited(t *testing.T) {
	api := userstest.New(nil, metaUser())
	api.Fail = func(m string) error {
		if m == "UpdateUser" {
			return &mgmt.Error{StatusCode: 400, Err: "Bad Request", Message: "Payload validation error"}
		}
		return nil
	}
	svc, store := auditedService(api)
	if _, err := svc.SaveMetadata(staffCtx(authz.Agent), "auth0|abc", users.MetadataForm{Base: baseFor(api, "auth0|abc"), UserMetadata: `{"color":"x"}`, AppMetadata: `{"plan":"gold"}`}); err == nil {
		t.Fatal("no error")
	}
	e := entries(t, store)[0]
	if e.Outcome != audit.OutcomeFailure || e.UpstreamStatus != 400 || e.Detail != "400 Payload validation error" || e.CorrelationID == "" {
		t.Errorf("entry = %+v", e)
	}
}

// TestMetadataPolicyDeniesAndSendsNothing: a key the role may not change → 403 naming the keys, no
// PATCH, and an audited denial carrying the attempted changes.
func TestMetadataPolicyDeniesAndSendsNothing(t *testing.T) {
	policy, err := authz.ParseMetadataPolicy("app_metadata.plan=admin,app_metadata.roles=nobody")
	if err != nil {
		t.Fatal(err)
	}
	api := userstest.New(nil, metaUser())
	svc, store := auditedService(api)
	svc.Policy = policy
	form := users.MetadataForm{Base: baseFor(api, "auth0|abc"), UserMetadata: `{"color":"red","addr":{"city":"Paris"},"gone":1}`, AppMetadata: `{"plan":"free","roles":["x"]}`}
	_, err = svc.SaveMetadata(staffCtx(authz.Agent), "auth0|abc", form)
	var p *users.Problem
	if !errors.As(err, &p) || p.Status != http.StatusForbidden ||
		p.Message != "Your role (agent) may not change app_metadata.plan, app_metadata.roles. Nothing was saved." {
		t.Fatalf("err = %v", err)
	}
	if w := api.Writes(); len(w) != 0 {
		t.Fatalf("a denied edit reached Auth0: %+v", w)
	}
	es := entries(t, store)
	if len(es) != 1 {
		t.Fatalf("%d entries", len(es))
	}
	e := es[0]
	assertActor(t, e, authz.Agent)
	if e.Action != auditlog.ActionDenied || e.Outcome != audit.OutcomeDenied || e.TargetUserID != "auth0|abc" ||
		e.UpstreamStatus != 0 || e.CorrelationID != "" ||
		e.Detail != "user.metadata_update: role agent may not change app_metadata.plan, app_metadata.roles" {
		t.Errorf("entry = %+v", e)
	}
	want := []audit.Change{{Field: "app_metadata.plan", Before: `"gold"`, After: `"free"`}, {Field: "app_metadata.roles", After: `["x"]`}}
	if !reflect.DeepEqual(e.Changes, want) {
		t.Errorf("changes = %+v", e.Changes)
	}

	// An admin may change plan but nobody may change roles; user_metadata is unrestricted.
	_, err = svc.SaveMetadata(staffCtx(authz.Admin), "auth0|abc", users.MetadataForm{Base: baseFor(api, "auth0|abc"), UserMetadata: `{"color":"green"}`, AppMetadata: `{"plan":"free"}`})
	if err != nil || len(api.Writes()) != 1 {
		t.Fatalf("admin change refused: %v", err)
	}
	if _, err = svc.SaveMetadata(staffCtx(authz.Admin), "auth0|abc", users.MetadataForm{Base: baseFor(api, "auth0|abc"), UserMetadata: `{}`, AppMetadata: `{"plan":"free","roles":[]}`}); !errors.As(err, &p) || p.Status != 403 {
		t.Fatalf("nobody-key change by admin: %v", err)
	}
	// Without a signed-in staff member nothing may change (fail closed).
	if _, err = svc.SaveMetadata(context.Background(), "auth0|abc", users.MetadataForm{Base: baseFor(api, "auth0|abc"), UserMetadata: `{"color":"x"}`, AppMetadata: `{"plan":"free"}`}); !errors.As(err, &p) || p.Status != 403 {
		t.Fatalf("no staff: %v", err)
	}
	if n := len(api.Writes()); n != 1 {
		t.Fatalf("writes = %d, want still 1", n)
	}
}

// TestReasonRequired: a configured action without a reason is a field error and nothing is called.
func TestReasonRequired(t *testing.T) {
	api := userstest.New(conns(), metaUser())
	svc, store := auditedService(api)
	svc.ReasonRequired = users.ParseReasonRequired(" user.metadata_update , user.create,")
	_, err := svc.SaveMetadata(staffCtx(authz.Agent), "auth0|abc", users.MetadataForm{Base: baseFor(api, "auth0|abc"), UserMetadata: `{"color":"x"}`, AppMetadata: "{}", Reason: "  "})
	var p *users.Problem
	if !errors.As(err, &p) || p.Status != 422 || p.Fields["reason"] != users.MsgReasonRequired {
		t.Fatalf("err = %v", err)
	}
	_, err = svc.Create(staffCtx(authz.Agent), users.NewUser{Connection: "Staff-DB", Email: "a@example.com", Password: "x"})
	if !errors.As(err, &p) || p.Fields["reason"] != users.MsgReasonRequired {
		t.Fatalf("create err = %v", err)
	}
	if c := api.Calls(); len(c) != 0 {
		t.Fatalf("calls = %+v", c)
	}
	_, err = svc.Create(staffCtx(authz.Agent), users.NewUser{Connection: "Staff-DB", Email: "a@example.com", Password: "x", Reason: strings.Repeat("é", 501)})
	if !errors.As(err, &p) || p.Fields["reason"] != users.MsgReasonTooLong {
		t.Fatalf("long reason err = %v", err)
	}
	if !svc.ReasonRequiredFor(authz.CreateUser) || svc.ReasonRequiredFor(authz.Block) {
		t.Error("ReasonRequiredFor")
	}
	if len(entries(t, store)) != 0 {
		t.Error("validation failures were audited")
	}
	def := users.ParseReasonRequired(users.DefaultReasonRequired)
	if !def[authz.DeleteUser] || !def[authz.ResetMFA] || !def["user.email_change"] || len(def) != 3 {
		t.Errorf("default = %v", def)
	}
}

type brokenAudit struct{}

func (brokenAudit) Append(context.Context, audit.Entry) (audit.Entry, error) {
	return audit.Entry{}, errors.New("disk full")
}

// TestAuditFailureIsNotSilent: the change is made, but the caller learns the entry is missing.
func TestAuditFailureIsNotSilent(t *testing.T) {
	api := userstest.New(conns(), metaUser())
	svc := &users.Service{API: api, Audit: brokenAudit{}}
	id, err := svc.Create(staffCtx(authz.Agent), users.NewUser{Connection: "Staff-DB", Email: "a@example.com", Password: "x"})
	if id == "" || !errors.Is(err, users.ErrAuditFailed) {
		t.Fatalf("create: id %q err %v", id, err)
	}
	out, err := svc.SaveMetadata(staffCtx(authz.Agent), "auth0|abc", users.MetadataForm{Base: baseFor(api, "auth0|abc"), UserMetadata: `{"color":"x"}`, AppMetadata: `{"plan":"gold"}`})
	if out != users.Saved || !errors.Is(err, users.ErrAuditFailed) {
		t.Fatalf("save: %v %v", out, err)
	}
	api.Fail = func(m string) error {
		if m == "UpdateUser" {
			return &mgmt.Error{StatusCode: 503, Err: "Service Unavailable"}
		}
		return nil
	}
	_, err = svc.SaveMetadata(staffCtx(authz.Agent), "auth0|abc", users.MetadataForm{Base: baseFor(api, "auth0|abc"), UserMetadata: `{"color":"y"}`, AppMetadata: `{"plan":"gold"}`})
	var p *users.Problem
	if !errors.As(err, &p) || !p.AuditFailed || p.Message != users.MsgUnavailable {
		t.Fatalf("failed save: %v", err)
	}
}
