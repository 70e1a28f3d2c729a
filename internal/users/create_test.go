package users_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"testing"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/users/userstest"
)

func conns() []mgmt.Connection {
	return []mgmt.Connection{
		{ID: "con_2", Name: "Username-Password-Authentication", Strategy: "auth0"},
		{ID: "con_4", Name: "Members-DB", Strategy: "auth0", Options: map[string]any{"requires_username": true}},
		{ID: "con_1", Name: "google-oauth2", Strategy: "google-oauth2"},
		{ID: "con_3", Name: "Staff-DB", Strategy: "auth0"},
	}
}

func TestDatabaseConnections(t *testing.T) {
	api := userstest.New(conns())
	got, err := (&users.Service{API: api}).DatabaseConnections(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []users.DBConnection{{Name: "Members-DB", RequiresUsername: true}, {Name: "Staff-DB"}, {Name: "Username-Password-Authentication"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	p := api.CallsTo("ListConnections")[0].Params.(mgmt.ListConnectionsParams)
	if !reflect.DeepEqual(p.Strategy, []string{"auth0"}) {
		t.Errorf("strategy filter = %v", p.Strategy)
	}
}

func TestNewUserValidate(t *testing.T) {
	ok := users.NewUser{Connection: "c", Email: "a@example.com", Password: "pw"}
	tests := []struct {
		name string
		in   users.NewUser
		want map[string]string
	}{
		{"valid", ok, nil},
		{"all missing", users.NewUser{Email: "  "}, map[string]string{
			"connection": users.MsgConnectionRequired, "email": users.MsgEmailRequired, "password": users.MsgPasswordRequired}},
		{"not an email", users.NewUser{Connection: "c", Email: "jane", Password: "pw"}, map[string]string{"email": users.MsgEmailInvalid}},
		{"display-name form refused", users.NewUser{Connection: "c", Email: "Jane <a@example.com>", Password: "pw"}, map[string]string{"email": users.MsgEmailInvalid}},
		{"spaces-only password is still a password", users.NewUser{Connection: "c", Email: "a@example.com", Password: " "}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.Validate(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCreate(t *testing.T) {
	api := userstest.New(conns())
	svc := &users.Service{API: api}
	id, err := svc.Create(context.Background(), users.NewUser{
		Connection: "Staff-DB", Email: " new@example.com ", Password: "s3cret!", EmailVerified: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	u, ok := api.User(id)
	if !ok || u.Email != "new@example.com" {
		t.Fatalf("created user %q not stored: %+v", id, u)
	}
	w := api.Writes()
	if len(w) != 1 {
		t.Fatalf("writes = %d, want 1", len(w))
	}
	got := w[0].Params.(*mgmt.UserCreate)
	if got.Connection != "Staff-DB" || got.Email != "new@example.com" || got.Password != "s3cret!" || got.EmailVerified == nil || !*got.EmailVerified {
		t.Errorf("create body = %+v", got)
	}
}

func TestCreateRefusals(t *testing.T) {
	existing := mgmt.User{UserID: "auth0|1", Email: "dup@example.com", Identities: []mgmt.Identity{{Connection: "Staff-DB", Provider: "auth0"}}}
	tests := []struct {
		name       string
		in         users.NewUser
		wantStatus int
		wantFields map[string]string
		wantWrites int
		wantCalls  int
	}{
		{"invalid fields: no call at all", users.NewUser{Connection: "Staff-DB"}, 422,
			map[string]string{"email": users.MsgEmailRequired, "password": users.MsgPasswordRequired}, 0, 0},
		{"social connection refused", users.NewUser{Connection: "google-oauth2", Email: "a@example.com", Password: "x"}, 422,
			map[string]string{"connection": users.MsgConnectionUnknown}, 0, 1},
		{"duplicate", users.NewUser{Connection: "Staff-DB", Email: "dup@example.com", Password: "x"}, 409,
			map[string]string{"email": users.MsgDuplicateEmail}, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := userstest.New(conns(), existing)
			_, err := (&users.Service{API: api}).Create(context.Background(), tt.in)
			var p *users.Problem
			if !errors.As(err, &p) {
				t.Fatalf("err = %v", err)
			}
			if p.Status != tt.wantStatus || !reflect.DeepEqual(p.Fields, tt.wantFields) || p.Message != "" {
				t.Errorf("problem = %+v", p)
			}
			if n := len(api.Writes()); n != tt.wantWrites {
				t.Errorf("writes = %d, want %d", n, tt.wantWrites)
			}
			if n := len(api.Calls()); n != tt.wantCalls {
				t.Errorf("calls = %d (%+v), want %d", n, api.Calls(), tt.wantCalls)
			}
		})
	}
}

func TestCreateUpstreamFailureIsOneAttempt(t *testing.T) {
	api := userstest.New(conns())
	api.Fail = func(m string) error {
		if m == "CreateUser" {
			return &mgmt.Error{StatusCode: 502, Err: "Bad Gateway"}
		}
		return nil
	}
	_, err := (&users.Service{API: api}).Create(context.Background(), users.NewUser{Connection: "Staff-DB", Email: "a@example.com", Password: "x"})
	var p *users.Problem
	if !errors.As(err, &p) || p.Message != users.MsgCreateUnknown || p.Status != http.StatusBadGateway {
		t.Fatalf("err = %v", err)
	}
	if n := len(api.CallsTo("CreateUser")); n != 1 {
		t.Errorf("CreateUser called %d times, want exactly 1", n)
	}
}

func TestGetUnknownUser(t *testing.T) {
	_, err := (&users.Service{API: userstest.New(nil)}).Get(context.Background(), "auth0|x")
	if !errors.Is(err, users.ErrNoUser) {
		t.Errorf("err = %v, want ErrNoUser", err)
	}
}

// A connection that requires a username gets one (sent, audited); the others get none; a 400 about
// the username goes next to its field, and a 409 names both email and username.
func TestCreateUsername(t *testing.T) {
	tests := []struct {
		name       string
		in         users.NewUser
		fail       error
		wantFields map[string]string
		wantSent   string // the username in the create body; "-" for no create sent
	}{
		{"required and given", users.NewUser{Connection: "Members-DB", Email: "a@example.com", Password: "x", Username: " jdoe "}, nil, nil, "jdoe"},
		{"required and missing", users.NewUser{Connection: "Members-DB", Email: "a@example.com", Password: "x"}, nil,
			map[string]string{"username": users.MsgUsernameRequired}, "-"},
		{"not used by the connection", users.NewUser{Connection: "Staff-DB", Email: "a@example.com", Password: "x", Username: "jdoe"}, nil,
			map[string]string{"username": users.MsgUsernameNotUsed}, "-"},
		{"Auth0 refuses the username", users.NewUser{Connection: "Members-DB", Email: "a@example.com", Password: "x", Username: "a b"},
			&mgmt.Error{StatusCode: 400, Err: "Bad Request", Message: "Payload validation error: 'Object didn't pass validation for format username: a b' on property username (The user's username)."},
			map[string]string{"username": "Payload validation error: 'Object didn't pass validation for format username: a b' on property username (The user's username)."}, "a b"},
		{"taken", users.NewUser{Connection: "Members-DB", Email: "a@example.com", Password: "x", Username: "jdoe"},
			&mgmt.Error{StatusCode: 409, Err: "Conflict", Message: "The user already exists.", ErrorCode: "auth0_idp_error"},
			map[string]string{"email": users.MsgDuplicateEmailOrUsername}, "jdoe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := userstest.New(conns())
			api.Fail = func(m string) error {
				if m == "CreateUser" {
					return tt.fail
				}
				return nil
			}
			svc, store := auditedService(api)
			_, err := svc.Create(context.Background(), tt.in)
			var p *users.Problem
			switch {
			case tt.wantFields == nil && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantFields != nil && (!errors.As(err, &p) || !reflect.DeepEqual(p.Fields, tt.wantFields)):
				t.Fatalf("err = %v, want fields %v", err, tt.wantFields)
			}
			w := api.Writes()
			if tt.wantSent == "-" {
				if len(w) != 0 {
					t.Errorf("create sent: %+v", w)
				}
				return
			}
			if len(w) != 1 || w[0].Params.(*mgmt.UserCreate).Username != tt.wantSent {
				t.Fatalf("writes = %+v, want one create with username %q", w, tt.wantSent)
			}
			es := entries(t, store)
			if len(es) != 1 || !slices.ContainsFunc(es[0].Changes, func(c audit.Change) bool {
				return c.Field == "username" && c.After == `"`+tt.wantSent+`"`
			}) {
				t.Errorf("audit = %+v, want the username among the changes", es)
			}
		})
	}
}
