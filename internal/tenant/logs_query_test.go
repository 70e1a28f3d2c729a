package tenant

import (
	"reflect"
	"testing"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// TestParseLogQuery covers the log search syntax subset (contract §5.3), with examples from Auth0's
// log search documentation.
func TestParseLogQuery(t *testing.T) {
	bare := func(v string) store.Expr {
		var or store.Or
		for _, f := range logBareFields {
			or = append(or, store.Term{Field: f, Value: v})
		}
		return or
	}
	cases := []struct {
		q    string
		want store.Expr
	}{
		{"", nil},
		{`type:"sapi"`, store.Term{Field: "type", Value: "sapi"}},
		{"type:s", store.Term{Field: "type", Value: "s"}},
		{`user_id:"auth0|1234"`, store.Term{Field: "user_id", Value: "auth0|1234"}},
		{"user_name:jane*", store.Term{Field: "user_name", Value: "jane", Prefix: true}},
		{"description:*word", store.Term{Field: "description", Value: "word", Suffix: true}},
		{"type:s AND user_id:x", store.And{store.Term{Field: "type", Value: "s"}, store.Term{Field: "user_id", Value: "x"}}},
		{"type:f OR type:fp", store.Or{store.Term{Field: "type", Value: "f"}, store.Term{Field: "type", Value: "fp"}}},
		{"NOT type:s", store.Not{X: store.Term{Field: "type", Value: "s"}}},
		{"(type:s OR type:f) connection:db", store.And{store.Or{store.Term{Field: "type", Value: "s"}, store.Term{Field: "type", Value: "f"}}, store.Term{Field: "connection", Value: "db"}}},
		{"date:[2023-01-01 TO 2023-02-01}", store.Range{Field: "date", Lo: "2023-01-01", Hi: "2023-02-01", LoIncl: true}},
		{"date:[* TO 2023-02-01]", store.Range{Field: "date", Hi: "2023-02-01", LoIncl: true, HiIncl: true}},
		{"_exists_:user_id", store.Exists{Field: "user_id"}},
		{"sapi", bare("sapi")},
	}
	for _, c := range cases {
		got, err := parseLogQuery(c.q)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseLogQuery(%q) = %#v, %v; want %#v", c.q, got, err, c.want)
		}
	}
	for _, q := range []string{"password:x", "type:(s", "type:s)", "date:[2023 TO]", "user_name:*ab", "type:a*b", `type:"open`, "AND", "_exists_:secret"} {
		if _, err := parseLogQuery(q); err == nil {
			t.Errorf("parseLogQuery(%q) succeeded, want an error", q)
		}
	}
}

// FuzzParseLogQuery: the parser never panics and never accepts an unknown field.
func FuzzParseLogQuery(f *testing.F) {
	for _, s := range []string{`type:"sapi"`, "a AND (b OR NOT c)", "date:[* TO 2023]", `x:"\"`, "((((", "user_name:*abc*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		_, _ = parseLogQuery(q)
	})
}
