package users

import (
	"encoding/json"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// PasswordPolicy is a database connection's password policy as Auth0 defines it
// (options.passwordPolicy and options.password_complexity_options.min_length): a level and a
// minimum length. Userdesk checks a password against it before sending it, so staff see which rule
// failed instead of Auth0's PasswordStrengthError.
type PasswordPolicy struct {
	Level     string // none, low, fair, good or excellent
	MinLength int    // in characters
}

// Auth0's default minimum length per level.
var defaultMinLength = map[string]int{"none": 1, "low": 6, "fair": 8, "good": 8, "excellent": 10}

// PolicyFromOptions reads a connection's options. An absent passwordPolicy is Auth0's default for
// new connections, "good"; JSON null (a nil value) is "none"; an unknown level is treated as "good".
// password_complexity_options.min_length, when positive, replaces the level's default length.
func PolicyFromOptions(options map[string]any) PasswordPolicy {
	p := PasswordPolicy{Level: "good"}
	if v, ok := options["passwordPolicy"]; ok {
		switch lvl := v.(type) {
		case nil:
			p.Level = "none"
		case string:
			if _, known := defaultMinLength[lvl]; known {
				p.Level = lvl
			}
		}
	}
	p.MinLength = defaultMinLength[p.Level]
	if co, ok := options["password_complexity_options"].(map[string]any); ok {
		if n, ok := number(co["min_length"]); ok && n > 0 {
			p.MinLength = n
		}
	}
	return p
}

func number(v any) (int, bool) {
	switch n := v.(type) {
	case float64:
		return int(n), true
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	case int:
		return n, true
	}
	return 0, false
}

// Rules describes the policy in sentences, as shown next to the password field.
func (p PasswordPolicy) Rules() []string {
	out := []string{"At least " + chars(p.MinLength) + "."}
	switch p.Level {
	case "fair":
		out = append(out, "Lower-case letters, upper-case letters and numbers.")
	case "good":
		out = append(out, "At least 3 of: lower-case letters, upper-case letters, numbers, special characters.")
	case "excellent":
		out = append(out, "At least 3 of: lower-case letters, upper-case letters, numbers, special characters.",
			"No more than 2 identical characters in a row.")
	}
	return out
}

// Check returns the sentences of the rules pw breaks, in the order of Rules; nil when it is
// acceptable. "Special" is any character that is neither a letter nor a digit (a space counts), as
// the tenant does (internal/tenant/password.go).
func (p PasswordPolicy) Check(pw string) []string {
	var out []string
	if pw == "" || utf8.RuneCountInString(pw) < p.MinLength {
		out = append(out, "Use at least "+chars(max(p.MinLength, 1))+".")
	}
	var lower, upper, digit, special bool
	run, maxRun, prev := 0, 0, rune(-1)
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
	switch p.Level {
	case "fair":
		if !lower || !upper || !digit {
			out = append(out, "Use lower-case letters, upper-case letters and numbers.")
		}
	case "good", "excellent":
		if classes < 3 {
			out = append(out, "Use at least 3 of: lower-case letters, upper-case letters, numbers, special characters.")
		}
		if p.Level == "excellent" && maxRun > 2 {
			out = append(out, "Do not repeat a character more than twice in a row.")
		}
	}
	return out
}

func chars(n int) string {
	if n == 1 {
		return "1 character"
	}
	return fmt.Sprintf("%d characters", n)
}
