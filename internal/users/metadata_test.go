package users_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/users/userstest"
)

func TestParseMetadata(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		kind    users.Kind
		want    string // canonical JSON of the result when valid
		wantErr string // the exact sentence when invalid
	}{
		{"object", `{"a": 1, "b": {"c": [true, null]}}`, users.UserMetadata, `{"a":1,"b":{"c":[true,null]}}`, ""},
		{"empty object", ` {} `, users.UserMetadata, `{}`, ""},
		{"big integer kept exactly", `{"n": 12345678901234567890}`, users.UserMetadata, `{"n":12345678901234567890}`, ""},
		{"dots allowed in values", `{"site": "example.com"}`, users.AppMetadata, `{"site":"example.com"}`, ""},
		{"empty text", "  \n", users.UserMetadata, "", "Enter a JSON object; {} means no keys."},
		{"syntax error line and column", "{\n  \"a\": x\n}", users.UserMetadata, "",
			"Invalid JSON at line 2, column 8: invalid character 'x' looking for beginning of value."},
		{"column counts characters not bytes", "{\"é\": 1,,}", users.UserMetadata, "",
			"Invalid JSON at line 1, column 9: invalid character ',' looking for beginning of object key string."},
		{"crlf lines from a browser textarea", "{\r\n\"a\": 1\r\n\"b\": 2}", users.UserMetadata, "",
			"Invalid JSON at line 3, column 1: invalid character '\"' after object key:value pair."},
		{"unexpected end", "{\"a\": 1", users.UserMetadata, "",
			"Invalid JSON at line 1, column 8: unexpected end of JSON input."},
		{"trailing garbage", "{} x", users.UserMetadata, "",
			"Invalid JSON at line 1, column 4: invalid character 'x' after top-level value."},
		{"array", `[1, 2]`, users.UserMetadata, "", `Metadata must be a JSON object like {"key": "value"}, not an array.`},
		{"null", `null`, users.UserMetadata, "", `Metadata must be a JSON object like {"key": "value"}, not null.`},
		{"string", `"x"`, users.UserMetadata, "", `Metadata must be a JSON object like {"key": "value"}, not a string.`},
		{"number", `3`, users.AppMetadata, "", `Metadata must be a JSON object like {"key": "value"}, not a number.`},
		{"dot in key", `{"a.b": 1}`, users.UserMetadata, "", `The key "a.b" contains "." or "$", which Auth0 does not allow in metadata keys.`},
		{"dollar in nested key", `{"a": {"$set": 1}}`, users.UserMetadata, "", `The key "a/$set" contains "." or "$", which Auth0 does not allow in metadata keys.`},
		{"dot in key inside array", `{"a": [{"x.y": 1}]}`, users.UserMetadata, "", `The key "a[0]/x.y" contains "." or "$", which Auth0 does not allow in metadata keys.`},
		{"reserved app key", `{"plan": "gold", "email": "x"}`, users.AppMetadata, "", `The key "email" is reserved by Auth0 and cannot be set in app_metadata.`},
		{"reserved app key is fine in user_metadata", `{"email": "x"}`, users.UserMetadata, `{"email":"x"}`, ""},
		{"too deep", `{"a": ` + strings.Repeat("[", 32) + strings.Repeat("]", 32) + `}`, users.UserMetadata, "", "This nests too deeply; metadata may nest at most 32 levels here."},
		{"deep but allowed", `{"a": ` + strings.Repeat("[", 31) + strings.Repeat("]", 31) + `}`, users.UserMetadata, `{"a":` + strings.Repeat("[", 31) + strings.Repeat("]", 31) + `}`, ""},
		{"too large", `{"a": "` + strings.Repeat("x", users.MaxMetadataBytes) + `"}`, users.UserMetadata, "", "This is too large; metadata is limited to 64 KB here."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := users.ParseMetadata(tt.text, tt.kind)
			if tt.wantErr != "" {
				var me *users.MetadataError
				if !errors.As(err, &me) || me.Message != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("got %v with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			b, _ := json.Marshal(got)
			if string(b) != tt.want {
				t.Errorf("got %s, want %s", b, tt.want)
			}
		})
	}
}

func TestPrettyJSON(t *testing.T) {
	if got := users.PrettyJSON(nil); got != "{}" {
		t.Errorf("nil = %q", got)
	}
	got := users.PrettyJSON(map[string]any{"b": "<x>", "a": 1.0})
	if want := "{\n  \"a\": 1,\n  \"b\": \"<x>\"\n}"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func metaUser() mgmt.User {
	return mgmt.User{
		UserID:       "auth0|abc",
		Email:        "jane@example.com",
		UserMetadata: map[string]any{"color": "red", "addr": map[string]any{"city": "Paris"}, "gone": 1.0},
		AppMetadata:  map[string]any{"plan": "gold"},
	}
}

func TestSaveMetadataSendsOnlyChangedKeys(t *testing.T) {
	api := userstest.New(nil, metaUser())
	svc := &users.Service{API: api}
	out, err := svc.SaveMetadata(staffCtx(authz.Agent), "auth0|abc", users.MetadataForm{Base: baseFor(api, "auth0|abc"),
		UserMetadata: `{"color": "blue", "addr": {"city": "Paris", "zip": "75001"}, "new": [1]}`,
		AppMetadata:  `{"plan": "gold"}`,
	})
	if err != nil || out != users.Saved {
		t.Fatalf("out %v err %v", out, err)
	}
	w := api.Writes()
	if len(w) != 1 || w[0].ID != "auth0|abc" {
		t.Fatalf("writes = %+v, want one PATCH of auth0|abc", w)
	}
	upd := w[0].Params.(*mgmt.UserUpdate)
	wantUM := map[string]any{"color": "blue", "addr": map[string]any{"city": "Paris", "zip": "75001"}, "new": []any{1.0}, "gone": nil}
	if !reflect.DeepEqual(upd.UserMetadata, wantUM) {
		t.Errorf("user_metadata patch = %#v, want %#v", upd.UserMetadata, wantUM)
	}
	if upd.AppMetadata != nil {
		t.Errorf("unchanged app_metadata was sent: %#v", upd.AppMetadata)
	}
	body, _ := json.Marshal(upd)
	if strings.Contains(string(body), "app_metadata") || strings.Contains(string(body), "email") {
		t.Errorf("PATCH body carries more than user_metadata: %s", body)
	}
	if got := api.CallsTo("GetUser"); len(got) != 1 {
		t.Errorf("want one re-GET of the current user, got %d", len(got))
	}
}

func TestSaveMetadataNoChangeSendsNothing(t *testing.T) {
	api := userstest.New(nil, metaUser())
	out, err := (&users.Service{API: api}).SaveMetadata(context.Background(), "auth0|abc", users.MetadataForm{Base: baseFor(api, "auth0|abc"),
		UserMetadata: `{"gone": 1, "addr": {"city": "Paris"}, "color": "red"}`,
		AppMetadata:  `{"plan":"gold"}`,
	})
	if err != nil || out != users.NoChange {
		t.Fatalf("out %v err %v, want NoChange", out, err)
	}
	if w := api.Writes(); len(w) != 0 {
		t.Errorf("writes = %+v, want none", w)
	}
}

func TestSaveMetadataInvalidInputNeverCallsAuth0(t *testing.T) {
	api := userstest.New(nil, metaUser())
	_, err := (&users.Service{API: api}).SaveMetadata(context.Background(), "auth0|abc", users.MetadataForm{Base: baseFor(api, "auth0|abc"),
		UserMetadata: "{\n\"a\": tru\n}",
		AppMetadata:  `[]`,
	})
	var p *users.Problem
	if !errors.As(err, &p) || p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("err = %v, want 422 problem", err)
	}
	if !strings.HasPrefix(p.Fields["user_metadata"], "Invalid JSON at line 2, column ") ||
		!strings.HasPrefix(p.Fields["app_metadata"], "Metadata must be a JSON object") {
		t.Errorf("fields = %#v", p.Fields)
	}
	if c := api.Calls(); len(c) != 0 {
		t.Errorf("calls = %+v, want none", c)
	}
}

func TestSaveMetadataUnknownUser(t *testing.T) {
	api := userstest.New(nil)
	_, err := (&users.Service{API: api}).SaveMetadata(context.Background(), "auth0|nope", users.MetadataForm{Base: users.Fingerprint(users.Snapshot{}), UserMetadata: "{}", AppMetadata: "{}"})
	if !errors.Is(err, users.ErrNoUser) {
		t.Fatalf("err = %v, want ErrNoUser", err)
	}
	if w := api.Writes(); len(w) != 0 {
		t.Errorf("writes = %+v", w)
	}
}

func TestSaveMetadataUpstreamFailureIsExplained(t *testing.T) {
	api := userstest.New(nil, metaUser())
	api.Fail = func(m string) error {
		if m == "UpdateUser" {
			return &mgmt.Error{StatusCode: 503, Err: "Service Unavailable", Message: "secret internal detail"}
		}
		return nil
	}
	_, err := (&users.Service{API: api}).SaveMetadata(staffCtx(authz.Agent), "auth0|abc", users.MetadataForm{Base: baseFor(api, "auth0|abc"), UserMetadata: `{"color":"x"}`, AppMetadata: "{}"})
	var p *users.Problem
	if !errors.As(err, &p) || p.Message != users.MsgUnavailable || p.Status != http.StatusBadGateway {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(p.Message, "secret") {
		t.Error("5xx message leaked")
	}
}

// lockSpy is a keylock.Locker that records what was locked and, through api, whether the re-read
// and the PATCH happened while the lock was held.
type lockSpy struct {
	fail    error
	held    bool
	keys    []string
	unlocks int
}

func (l *lockSpy) Lock(_ context.Context, key string) (func(), error) {
	if l.fail != nil {
		return nil, l.fail
	}
	l.keys = append(l.keys, key)
	l.held = true
	return func() { l.held = false; l.unlocks++ }, nil
}

// The save holds the user's metadata lock (shared by replicas through MetadataLocks) from the
// re-read to the PATCH, and releases it after.
func TestSaveMetadataHoldsTheUsersLock(t *testing.T) {
	api := userstest.New(nil, metaUser())
	spy := &lockSpy{}
	var heldAt []string
	api.Fail = func(m string) error {
		if spy.held {
			heldAt = append(heldAt, m)
		}
		return nil
	}
	svc := &users.Service{API: api, MetadataLocks: spy}
	out, err := svc.SaveMetadata(staffCtx(authz.Agent), "auth0|abc", users.MetadataForm{Base: baseFor(api, "auth0|abc"),
		UserMetadata: `{"color": "blue", "gone": 1, "addr": {"city": "Paris"}}`, AppMetadata: `{"plan":"gold"}`})
	if err != nil || out != users.Saved {
		t.Fatalf("out %v err %v", out, err)
	}
	if !reflect.DeepEqual(spy.keys, []string{"metadata:auth0|abc"}) || spy.unlocks != 1 || spy.held {
		t.Errorf("locked %q, unlocked %d times, still held %v", spy.keys, spy.unlocks, spy.held)
	}
	if !reflect.DeepEqual(heldAt, []string{"GetUser", "UpdateUser"}) {
		t.Errorf("calls made under the lock = %q, want the re-read and the PATCH", heldAt)
	}
}

// When the lock cannot be taken (the shared database is down, or another save of the same user
// outlasts the wait), nothing is sent and the staff member reads why.
func TestSaveMetadataWithoutTheLockSendsNothing(t *testing.T) {
	api := userstest.New(nil, metaUser())
	svc := &users.Service{API: api, MetadataLocks: &lockSpy{fail: context.DeadlineExceeded}}
	_, err := svc.SaveMetadata(context.Background(), "auth0|abc", users.MetadataForm{Base: baseFor(api, "auth0|abc"),
		UserMetadata: `{"color": "blue"}`, AppMetadata: `{}`})
	var p *users.Problem
	if !errors.As(err, &p) || p.Status != http.StatusServiceUnavailable || p.Message != users.MsgMetadataLockFailed {
		t.Fatalf("err = %v, want the 503 lock problem", err)
	}
	if c := api.Calls(); len(c) != 0 {
		t.Errorf("calls = %+v, want none", c)
	}
}
