package pwpolicy

import "testing"

func TestFromOptions(t *testing.T) {
	cases := []struct {
		options string
		want    Policy
	}{
		{`{}`, Policy{"good", 8}},
		{`not json`, Policy{"good", 8}},
		{`{"passwordPolicy":null}`, Policy{"none", 1}},
		{`{"passwordPolicy":"low"}`, Policy{"low", 6}},
		{`{"passwordPolicy":"excellent"}`, Policy{"excellent", 10}},
		{`{"passwordPolicy":"weird"}`, Policy{"good", 8}},
		{`{"passwordPolicy":"fair","password_complexity_options":{"min_length":12}}`, Policy{"fair", 12}},
		{`{"password_complexity_options":{"min_length":0}}`, Policy{"good", 8}},
	}
	for _, c := range cases {
		if got := FromOptions([]byte(c.options)); got != c.want {
			t.Errorf("FromOptions(%s) = %+v, want %+v", c.options, got, c.want)
		}
	}
}

func TestAcceptable(t *testing.T) {
	cases := []struct {
		p    Policy
		pw   string
		want bool
	}{
		{Policy{"none", 1}, "a", true},
		{Policy{"none", 1}, "", false},
		{Policy{"low", 6}, "abcdef", true},
		{Policy{"low", 6}, "abcde", false},
		{Policy{"fair", 8}, "abcdEFG1", true},
		{Policy{"fair", 8}, "abcdefg1", false},
		{Policy{"good", 8}, "I have a password and its a secret", true}, // recorded: space counts as special
		{Policy{"good", 8}, "abcdefgh", false},
		{Policy{"excellent", 10}, "Abcdefgh1!", true},
		{Policy{"excellent", 10}, "Abcccdefg1!", false},
	}
	for _, c := range cases {
		if got := c.p.Acceptable(c.pw); got != c.want {
			t.Errorf("%+v accepts %q = %v, want %v (%v)", c.p, c.pw, got, c.want, c.p.Check(c.pw))
		}
	}
}
