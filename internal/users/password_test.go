package users_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/userdesk/userdesk/internal/users"
)

func TestPolicyFromOptions(t *testing.T) {
	tests := []struct {
		name    string
		options string
		want    users.PasswordPolicy
	}{
		{"absent is good", `{}`, users.PasswordPolicy{Level: "good", MinLength: 8}},
		{"null is none", `{"passwordPolicy": null}`, users.PasswordPolicy{Level: "none", MinLength: 1}},
		{"low", `{"passwordPolicy": "low"}`, users.PasswordPolicy{Level: "low", MinLength: 6}},
		{"fair", `{"passwordPolicy": "fair"}`, users.PasswordPolicy{Level: "fair", MinLength: 8}},
		{"excellent", `{"passwordPolicy": "excellent"}`, users.PasswordPolicy{Level: "excellent", MinLength: 10}},
		{"min_length overrides", `{"passwordPolicy": "good", "password_complexity_options": {"min_length": 12}}`, users.PasswordPolicy{Level: "good", MinLength: 12}},
		{"unknown level is good", `{"passwordPolicy": "extreme"}`, users.PasswordPolicy{Level: "good", MinLength: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o map[string]any
			if err := json.Unmarshal([]byte(tt.options), &o); err != nil {
				t.Fatal(err)
			}
			if got := users.PolicyFromOptions(o); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// The checker agrees with the tenant's rules (internal/tenant/password.go) at every level.
func TestPasswordPolicyCheck(t *testing.T) {
	const (
		fair    = "Use lower-case letters, upper-case letters and numbers."
		classes = "Use at least 3 of: lower-case letters, upper-case letters, numbers, special characters."
		repeats = "Do not repeat a character more than twice in a row."
	)
	p := func(level string, n int) users.PasswordPolicy {
		return users.PasswordPolicy{Level: level, MinLength: n}
	}
	tests := []struct {
		policy users.PasswordPolicy
		pw     string
		want   []string
	}{
		{p("none", 1), "a", nil},
		{p("none", 1), "", []string{"Use at least 1 character."}},
		{p("low", 6), "abcdef", nil},
		{p("low", 6), "abcde", []string{"Use at least 6 characters."}},
		{p("fair", 8), "abcdefG1", nil},
		{p("fair", 8), "abcdefg!", []string{fair}},
		{p("fair", 8), "ab1", []string{"Use at least 8 characters.", fair}},
		{p("good", 8), "abcdefG1", nil},
		{p("good", 8), "abcdefg!", []string{classes}},
		{p("good", 8), "I have a password and its a secret", nil}, // the space is the third class
		{p("good", 8), "abcdefgh", []string{classes}},
		{p("excellent", 10), "abcdeFG1!x", nil},
		{p("excellent", 10), "aaabcdFG1!", []string{repeats}},
		{p("excellent", 10), "aabbccDD11", nil},
		{p("excellent", 10), "aaa", []string{"Use at least 10 characters.", classes, repeats}},
	}
	for _, tt := range tests {
		if got := tt.policy.Check(tt.pw); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %q: got %q, want %q", tt.policy.Level, tt.pw, got, tt.want)
		}
	}
}

func TestPasswordPolicyRules(t *testing.T) {
	got := users.PasswordPolicy{Level: "excellent", MinLength: 10}.Rules()
	want := []string{"At least 10 characters.", "At least 3 of: lower-case letters, upper-case letters, numbers, special characters.",
		"No more than 2 identical characters in a row."}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rules = %q", got)
	}
}
