// Package pwpolicy is Auth0's database-connection password policy (contract §3.4, "password options"):
// read from a connection's options, described in sentences and checked. The embedded tenant enforces
// it as Auth0 does; the dashboard checks a password against it before sending, so staff see which rule
// failed rather than Auth0's bare PasswordStrengthError.
package pwpolicy

import (
	"encoding/json"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Policy is a level (none, low, fair, good or excellent) and a minimum length in characters.
type Policy struct {
	Level     string
	MinLength int
}

// Auth0's default minimum length per level.
var defaultMinLength = map[string]int{"none": 1, "low": 6, "fair": 8, "good": 8, "excellent": 10}

// FromOptions reads options.passwordPolicy and options.password_complexity_options.min_length from a
// connection's options JSON. An absent passwordPolicy is Auth0's default for new connections, "good";
// JSON null is "none"; an unknown level counts as "good"; malformed options give the defaults. A
// positive min_length replaces the level's default length.
func FromOptions(options []byte) Policy {
	var o map[string]json.RawMessage
	_ = json.Unmarshal(options, &o)
	p := Policy{Level: "good"}
	if raw, ok := o["passwordPolicy"]; ok { // present: a level, or null for "none"
		var lvl *string
		if json.Unmarshal(raw, &lvl) == nil {
			if lvl == nil {
				p.Level = "none"
			} else if _, known := defaultMinLength[*lvl]; known {
				p.Level = *lvl
			}
		}
	}
	p.MinLength = defaultMinLength[p.Level]
	var complexity struct {
		MinLength float64 `json:"min_length"`
	}
	if json.Unmarshal(o["password_complexity_options"], &complexity) == nil && complexity.MinLength >= 1 {
		p.MinLength = int(complexity.MinLength)
	}
	return p
}

// Rules describes the policy in sentences, as shown next to a password field.
func (p Policy) Rules() []string {
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

// Check returns a sentence for each rule pw breaks, in the order of Rules; nil when pw is acceptable.
// "Special" is any character that is neither a letter nor a digit: Auth0 lists "!@#$%^&*" as
// examples, and a recorded tenant with policy "good" accepted "I have a password and its a secret",
// whose only third class is the space.
func (p Policy) Check(pw string) []string {
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

// Acceptable reports whether pw breaks no rule.
func (p Policy) Acceptable(pw string) bool { return len(p.Check(pw)) == 0 }

func chars(n int) string {
	if n == 1 {
		return "1 character"
	}
	return fmt.Sprintf("%d characters", n)
}
