package tenant

import (
	"encoding/json"
	"unicode"
	"unicode/utf8"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// passwordPolicy is a database connection's password policy (contract §3.4, Auth0 "password options").
type passwordPolicy struct {
	level     string // none, low, fair, good, excellent
	minLength int
}

// Auth0's default minimum lengths per level.
var defaultMinLength = map[string]int{"none": 1, "low": 6, "fair": 8, "good": 8, "excellent": 10}

// policyOf reads options.passwordPolicy and options.password_complexity_options.min_length. An absent
// passwordPolicy means Auth0's default for new connections, "good"; JSON null means "none".
func policyOf(c store.Connection) passwordPolicy {
	var o struct {
		PasswordPolicy *json.RawMessage `json:"passwordPolicy"`
		Complexity     struct {
			MinLength int `json:"min_length"`
		} `json:"password_complexity_options"`
	}
	_ = json.Unmarshal(c.Options, &o) // malformed options: defaults
	p := passwordPolicy{level: "good"}
	if o.PasswordPolicy != nil {
		var lvl *string
		if json.Unmarshal(*o.PasswordPolicy, &lvl) == nil {
			if lvl == nil {
				p.level = "none"
			} else if _, ok := defaultMinLength[*lvl]; ok {
				p.level = *lvl
			}
		}
	}
	p.minLength = defaultMinLength[p.level]
	if o.Complexity.MinLength > 0 {
		p.minLength = o.Complexity.MinLength
	}
	return p
}

// acceptable reports whether pw satisfies the policy. "Special" is any character that is neither a
// letter nor a digit: Auth0 lists "!@#$%^&*" as examples, and the recorded tenant (policy good)
// accepted "I have a password and its a secret", whose only third class is the space.
func (p passwordPolicy) acceptable(pw string) bool {
	if utf8.RuneCountInString(pw) < p.minLength || pw == "" {
		return false
	}
	var lower, upper, digit, special bool
	run, prev := 0, rune(-1)
	maxRun := 0
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			special = true
		}
		if r == prev {
			run++
		} else {
			run, prev = 1, r
		}
		maxRun = max(maxRun, run)
	}
	classes := 0
	for _, b := range []bool{lower, upper, digit, special} {
		if b {
			classes++
		}
	}
	switch p.level {
	case "fair":
		return lower && upper && digit
	case "good":
		return classes >= 3
	case "excellent":
		return classes >= 3 && maxRun <= 2
	}
	return true // none, low: length only
}
