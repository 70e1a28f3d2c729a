package tenant

import (
	"errors"
	"reflect"
	"testing"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

func TestParseQuery(t *testing.T) {
	bare := func(v string, prefix bool) store.Expr {
		return store.Or{
			store.Term{Field: "email", Value: v, Prefix: prefix},
			store.Term{Field: "name", Value: v, Prefix: prefix},
			store.Term{Field: "nickname", Value: v, Prefix: prefix},
		}
	}
	cases := []struct {
		q    string
		want store.Expr
	}{
		{"", nil},
		{"   ", nil},
		{`username:"test-user998"`, store.Term{Field: "username", Value: "test-user998"}},
		{`email:"chuck904@example.com"`, store.Term{Field: "email", Value: "chuck904@example.com"}},
		{`email:jane@example.com`, store.Term{Field: "email", Value: "jane@example.com"}},
		{`name:"Jane Smith"`, store.Term{Field: "name", Value: "Jane Smith"}},
		{`name:John\ Doe`, store.Term{Field: "name", Value: "John Doe"}},
		{`name:j*`, store.Term{Field: "name", Value: "j", Prefix: true}},
		{`name:*usa`, store.Term{Field: "name", Value: "usa", Suffix: true}},
		{`name:*rich*`, store.Term{Field: "name", Value: "rich", Contains: true}},
		{`user_id:auth0*`, store.Term{Field: "user_id", Value: "auth0", Prefix: true}},
		{`user_id:"auth0|abc"`, store.Term{Field: "user_id", Value: "auth0|abc"}},
		{`given_name:Zoë`, store.Term{Field: "given_name", Value: "Zoë"}},
		{`identities.connection:"google-oauth2"`, store.Term{Field: "identities.connection", Value: "google-oauth2"}},
		{`email.domain:"example.com"`, store.Term{Field: "email", Value: "@example.com", Suffix: true}},
		{`blocked:true`, store.Term{Field: "blocked", Value: "true"}},
		{`logins_count:0`, store.Term{Field: "logins_count", Value: "0"}},
		{`app_metadata.plan:"pro"`, store.Term{Field: "app_metadata.plan", Value: "pro"}},
		{`user_metadata.preferences.theme:dark`, store.Term{Field: "user_metadata.preferences.theme", Value: "dark"}},
		{`_exists_:last_login`, store.Exists{Field: "last_login"}},
		{`family_name:*`, store.Exists{Field: "family_name"}},
		{`logins_count:{100 TO *]`, store.Range{Field: "logins_count", Lo: "100", LoIncl: false, HiIncl: true}},
		{`created_at:[2023-01-01 TO 2024-06]`, store.Range{Field: "created_at", Lo: "2023-01-01", Hi: "2024-06", LoIncl: true, HiIncl: true}},
		{`last_login:[* TO 2017-12-31T10:00:00Z}`, store.Range{Field: "last_login", Hi: "2017-12-31T10:00:00Z", LoIncl: true}},
		{`jane`, bare("jane", true)},
		{`"Jane Smith"`, bare("Jane Smith", false)},
		{`name:jane AND blocked:true`, store.And{store.Term{Field: "name", Value: "jane"}, store.Term{Field: "blocked", Value: "true"}}},
		{`name:jane blocked:true`, store.And{store.Term{Field: "name", Value: "jane"}, store.Term{Field: "blocked", Value: "true"}}},
		{`name:a OR name:b AND blocked:false`, store.Or{
			store.Term{Field: "name", Value: "a"},
			store.And{store.Term{Field: "name", Value: "b"}, store.Term{Field: "blocked", Value: "false"}},
		}},
		{`NOT _exists_:logins_count OR logins_count:0`, store.Or{
			store.Not{X: store.Exists{Field: "logins_count"}},
			store.Term{Field: "logins_count", Value: "0"},
		}},
		{`(name:a OR name:b) AND NOT blocked:true`, store.And{
			store.Or{store.Term{Field: "name", Value: "a"}, store.Term{Field: "name", Value: "b"}},
			store.Not{X: store.Term{Field: "blocked", Value: "true"}},
		}},
		{`email:("a@x.com" OR "b@x.com")`, store.Or{store.Term{Field: "email", Value: "a@x.com"}, store.Term{Field: "email", Value: "b@x.com"}}},
		{`name:or`, store.Term{Field: "name", Value: "or"}}, // lower-case operators are words

		// The examples of Auth0's "User search query syntax" page (contract §4).
		{`name:"jane smith"`, store.Term{Field: "name", Value: "jane smith"}},
		{`email:"john@exampleco.com"`, store.Term{Field: "email", Value: "john@exampleco.com"}},
		{`name:john*`, store.Term{Field: "name", Value: "john", Prefix: true}},
		{`name:*john*`, store.Term{Field: "name", Value: "john", Contains: true}},
		{`name:*richard*`, store.Term{Field: "name", Value: "richard", Contains: true}},
		{`name:jane*smith`, store.And{store.Term{Field: "name", Value: "jane", Prefix: true}, store.Term{Field: "name", Value: "smith", Suffix: true}}},
		{`logins_count:[100 TO 200}`, store.Range{Field: "logins_count", Lo: "100", Hi: "200", LoIncl: true}},
		{`last_login:[* TO 2017-12-31]`, store.Range{Field: "last_login", Hi: "2017-12-31", LoIncl: true, HiIncl: true}},
		{`updated_at:[2018-01-15 TO *]`, store.Range{Field: "updated_at", Lo: "2018-01-15", LoIncl: true, HiIncl: true}},
		{`last_login:{2017-11 TO 2017-12]`, store.Range{Field: "last_login", Lo: "2017-11", Hi: "2017-12", HiIncl: true}},
		{`app_metadata.subscription.plan:"gold"`, store.Term{Field: "app_metadata.subscription.plan", Value: "gold"}},
		{`user_metadata.addresses.city:"Paris"`, store.Term{Field: "user_metadata.addresses.city", Value: "Paris"}},
		{`user_metadata.display.fontSize:13`, store.Term{Field: "user_metadata.display.fontSize", Value: "13"}},
		{`user_metadata.full_name:"Example Name"`, store.Term{Field: "user_metadata.full_name", Value: "Example Name"}},
		{`_exists_:user_metadata.fav_color`, store.Exists{Field: "user_metadata.fav_color"}},
		{`_exists_:app_metadata`, store.Exists{Field: "app_metadata"}},
		{`email:test*`, store.Term{Field: "email", Value: "test", Prefix: true}},
		{`phone_number:"+14155550100"`, store.Term{Field: "phone_number", Value: "+14155550100"}},
		{`phone_verified:false`, store.Term{Field: "phone_verified", Value: "false"}},
		{`email_verified:true`, store.Term{Field: "email_verified", Value: "true"}},
		{`last_ip:"203.0.113.7"`, store.Term{Field: "last_ip", Value: "203.0.113.7"}},
		{`email.domain:"exampleco.com" AND NOT blocked:true`, store.And{
			store.Term{Field: "email", Value: "@exampleco.com", Suffix: true},
			store.Not{X: store.Term{Field: "blocked", Value: "true"}},
		}},
	}
	for _, c := range cases {
		got, err := ParseQuery(c.q)
		if err != nil {
			t.Errorf("ParseQuery(%q): %v", c.q, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseQuery(%q)\n got %#v\nwant %#v", c.q, got, c.want)
		}
	}
}

func TestParseQueryRejects(t *testing.T) {
	for _, q := range []string{
		`name:jo?n`,               // ? wildcard
		`name:*sa`,                // suffix shorter than 3
		`user_metadata.x:abc*`,    // wildcard on metadata
		`app_metadata.n:[1 TO 2]`, // range on metadata
		`name:[a TO b]`,           // range on text
		`created_at:2023-01-01`,   // date without a range
		`created_at:[yesterday TO *]`,
		`logins_count:many`,
		`blocked:yes`,
		`password:x`, // unknown field
		`email:`,     // missing value
		`name:"unterminated`,
		`(name:a`,
		`name:a)`,
		`AND name:a`,
		`name:a OR`,
		`*`,
		`email.domain:*.com`,
		`_exists_:password`,
		`name:a\`,
		`updated_at:>=2018-01-15`,   // v2 comparison syntax
		`logins_count:>5`,           // v2 comparison syntax
		`email.raw:"a@example.com"`, // v2 .raw subfield
		`name:ja*sm`,                // begin*end with a suffix shorter than 3
		`name:*a*b*`,                // more wildcards than Auth0 documents
		`user_metadata.city:Par*`,   // wildcard on metadata
		`app_metadata.plan:*`,       // wildcard on metadata
		`user_metadata.n:{1 TO *]`,  // range on metadata
		`organization_id:"org_1"`,   // the tenant has no organizations
		`picture:"x"`,               // not searchable (contract §3.7)
		`name:j?ne`,
	} {
		_, err := ParseQuery(q)
		var qe *QueryError
		if !errors.As(err, &qe) {
			t.Errorf("ParseQuery(%q) = %v, want a QueryError", q, err)
		}
	}
	deep := ""
	for range 100 {
		deep += "("
	}
	if _, err := ParseQuery(deep + "name:a"); err == nil {
		t.Error("deep nesting accepted")
	}
}

// FuzzParseQuery: the parser never panics, and every result is either a QueryError or an expression
// whose terms use only searchable fields.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{`username:"test-user998"`, `name:j*`, `(a OR b) AND NOT c`, `logins_count:{1 TO *]`,
		`email:("a" OR "b")`, `name:\ x`, `"q\"x"`, `user_metadata.a.b:1`, `_exists_:email`, `((((`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		e, err := ParseQuery(q)
		if err != nil {
			var qe *QueryError
			if !errors.As(err, &qe) {
				t.Fatalf("non-QueryError %T: %v", err, err)
			}
			return
		}
		checkExpr(t, e)
	})
}

func checkExpr(t *testing.T, e store.Expr) {
	switch x := e.(type) {
	case nil:
	case store.Term:
		if !(textFields[x.Field] || boolFields[x.Field] || x.Field == "logins_count" || metadataKey.MatchString(x.Field)) {
			t.Fatalf("term on %q", x.Field)
		}
	case store.Range:
		if !(dateFields[x.Field] || x.Field == "logins_count") {
			t.Fatalf("range on %q", x.Field)
		}
	case store.Exists:
	case store.And:
		for _, y := range x {
			checkExpr(t, y)
		}
	case store.Or:
		for _, y := range x {
			checkExpr(t, y)
		}
	case store.Not:
		checkExpr(t, x.X)
	default:
		t.Fatalf("unexpected %T", e)
	}
}
