package sqlite

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// whereBuilder translates a store.Expr into a SQL boolean expression. Values only ever travel as bound
// parameters in args; the SQL text is built from fixed column names and operators.
//
// Every fragment it produces evaluates to 0 or 1, never NULL (nullable columns are guarded with
// IS NOT NULL), so Not means "every user the inner expression does not match".
type whereBuilder struct{ args []any }

func (b *whereBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "?"
}

func unsupported(format string, a ...any) error {
	return fmt.Errorf("%w: %s", store.ErrUnsupportedQuery, fmt.Sprintf(format, a...))
}

// Case-insensitive text fields map to their lower-cased copies; case-sensitive ones to the column.
var (
	ciTextCols = map[string]string{
		"email": "email_lc", "name": "name_lc", "given_name": "given_name_lc",
		"family_name": "family_name_lc", "nickname": "nickname_lc",
	}
	csTextCols = map[string]string{
		"username": "username", "user_id": "id", "phone_number": "phone_number", "last_ip": "last_ip",
		"identities.connection": "connection", "identities.provider": "provider",
	}
	// boolCols: nullable ones are "never set" when NULL and match neither true nor false.
	boolCols     = map[string]string{"blocked": "blocked", "email_verified": "email_verified", "phone_verified": "phone_verified"}
	timeCols     = map[string]string{"created_at": "created_at", "updated_at": "updated_at", "last_login": "last_login"}
	nullableCols = map[string]bool{"blocked": true, "phone_verified": true, "last_login": true}
)

func (b *whereBuilder) expr(e store.Expr) (string, error) {
	switch e := e.(type) {
	case nil:
		return "1", nil
	case store.Term:
		return b.term(e)
	case store.Range:
		return b.rangeExpr(e)
	case store.Exists:
		return b.exists(e.Field)
	case store.And:
		return b.join(e, " AND ", "1")
	case store.Or:
		return b.join(e, " OR ", "0")
	case store.Not:
		inner, err := b.expr(e.X)
		if err != nil {
			return "", err
		}
		return "NOT (" + inner + ")", nil
	default:
		return "", unsupported("expression type %T", e)
	}
}

func (b *whereBuilder) join(xs []store.Expr, op, empty string) (string, error) {
	if len(xs) == 0 {
		return empty, nil
	}
	parts := make([]string, 0, len(xs))
	for _, x := range xs {
		p, err := b.expr(x)
		if err != nil {
			return "", err
		}
		parts = append(parts, "("+p+")")
	}
	return strings.Join(parts, op), nil
}

func (b *whereBuilder) term(t store.Term) (string, error) {
	wild := t.Prefix || t.Suffix || t.Contains
	if col, ok := ciTextCols[t.Field]; ok {
		return b.text(col, strings.ToLower(t.Value), t), nil
	}
	if col, ok := csTextCols[t.Field]; ok {
		return b.text(col, t.Value, t), nil
	}
	if col, ok := boolCols[t.Field]; ok {
		if wild {
			return "", unsupported("wildcard on %s", t.Field)
		}
		if t.Value != "true" && t.Value != "false" {
			return "", unsupported("%s must be true or false", t.Field)
		}
		sqlExpr := col + " = " + b.arg(t.Value == "true")
		if nullableCols[t.Field] {
			sqlExpr = "(" + col + " IS NOT NULL AND " + sqlExpr + ")"
		}
		return sqlExpr, nil
	}
	if t.Field == "logins_count" {
		if wild {
			return "", unsupported("wildcard on logins_count")
		}
		n, err := strconv.ParseInt(t.Value, 10, 64)
		if err != nil {
			return "", unsupported("logins_count must be an integer")
		}
		return "logins_count = " + b.arg(n), nil
	}
	if col, path, ok, err := metadataPath(t.Field); ok || err != nil {
		if err != nil {
			return "", err
		}
		if wild {
			return "", unsupported("wildcards are not allowed on metadata")
		}
		return b.metadataTerm(col, path, t.Value), nil
	}
	return "", unsupported("unknown search field %q", t.Field)
}

// text matches a TEXT NOT NULL column exactly, by prefix, suffix or substring. Prefixes use a range
// on the column (v <= col < successor(v)) so the column's index serves them; suffix and substring
// matches scan.
func (b *whereBuilder) text(col, v string, t store.Term) string {
	switch {
	case t.Contains || (t.Prefix && t.Suffix):
		if v == "" {
			return "1"
		}
		return "instr(" + col + ", " + b.arg(v) + ") > 0"
	case t.Prefix:
		if v == "" {
			return "1"
		}
		if hi, ok := successor(v); ok {
			return col + " >= " + b.arg(v) + " AND " + col + " < " + b.arg(hi)
		}
		return col + " >= " + b.arg(v)
	case t.Suffix:
		if v == "" {
			return "1"
		}
		return "substr(" + col + ", " + b.arg(-utf8.RuneCountInString(v)) + ") = " + b.arg(v)
	default:
		return col + " = " + b.arg(v)
	}
}

// successor returns the smallest string greater than every string that starts with p, comparing
// bytes as SQLite's BINARY collation does. ok is false when none exists (p is all 0xFF bytes, which
// valid UTF-8 never contains).
func successor(p string) (string, bool) {
	bs := []byte(p)
	for i := len(bs) - 1; i >= 0; i-- {
		if bs[i] < 0xFF {
			bs[i]++
			return string(bs[:i+1]), true
		}
	}
	return "", false
}

// metadataPath splits "user_metadata.a.b" into the column and the JSON path `$."a"."b"`. ok is false
// when field is not a metadata field at all.
func metadataPath(field string) (col, path string, ok bool, err error) {
	for _, c := range []string{"user_metadata", "app_metadata"} {
		rest, found := strings.CutPrefix(field, c+".")
		if !found {
			continue
		}
		var sb strings.Builder
		sb.WriteString("$")
		for _, key := range strings.Split(rest, ".") {
			if key == "" || strings.ContainsAny(key, "\"\\") {
				return "", "", true, unsupported("metadata path %q", field)
			}
			sb.WriteString(`."` + key + `"`)
		}
		return c, sb.String(), true, nil
	}
	return "", "", false, nil
}

// metadataTerm matches a metadata value exactly and case-sensitively. The value matches a JSON string
// equal to it, a number equal to it ("42" matches 42 and 42.0), or a boolean when it is "true" or
// "false". Auth0 ignores the array level: when the path ends at an array of scalars any element may
// match, and one array of objects anywhere along the path is looked through
// (user_metadata.addresses.city matches {"addresses":[{"city":"Paris"}]}). Deeper array nesting is not
// searched.
func (b *whereBuilder) metadataTerm(col, path, v string) string {
	keys := splitPath(path)
	// Placeholders are numbered in call order, so every fragment binds its arguments in text order.
	alts := []string{
		"EXISTS (SELECT 1 FROM json_each(" + col + ", " + b.arg(path) + ") AS j WHERE " +
			"(j.key IS NULL OR typeof(j.key) = 'integer') AND (" + b.valueConds(v) + "))",
	}
	for i := 1; i < len(keys); i++ {
		prefix, suffix := "$"+strings.Join(keys[:i], ""), "$"+strings.Join(keys[i:], "")
		// a walks the elements of an array at prefix (integer keys; the members of an object have
		// text keys and are skipped); j then reads suffix inside each element object.
		alts = append(alts, "EXISTS (SELECT 1 FROM json_each("+col+", "+b.arg(prefix)+") AS a, "+
			"json_each(a.value, "+b.arg(suffix)+") AS j WHERE typeof(a.key) = 'integer' AND a.type = 'object' AND "+
			"(j.key IS NULL OR typeof(j.key) = 'integer') AND ("+b.valueConds(v)+"))")
	}
	return strings.Join(alts, " OR ")
}

// splitPath splits `$."a"."b"` (as built by metadataPath) into `."a"`, `."b"`.
func splitPath(path string) []string {
	var keys []string
	for _, k := range strings.Split(strings.TrimPrefix(path, `$."`), `"."`) {
		keys = append(keys, `."`+strings.TrimSuffix(k, `"`)+`"`)
	}
	return keys
}

// valueConds compares the json_each row j with v (see metadataTerm).
func (b *whereBuilder) valueConds(v string) string {
	conds := []string{"(j.type = 'text' AND j.atom = " + b.arg(v) + ")"}
	switch v {
	case "true":
		conds = append(conds, "j.type = 'true'")
	case "false":
		conds = append(conds, "j.type = 'false'")
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		conds = append(conds, "(j.type IN ('integer', 'real') AND j.atom = "+b.arg(n)+")")
	} else if f, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "xXnN") {
		// ContainsAny excludes hex floats, "NaN" and "Inf", which JSON cannot hold.
		conds = append(conds, "(j.type IN ('integer', 'real') AND j.atom = "+b.arg(f)+")")
	}
	// json_each at a scalar yields that scalar with a NULL key; at an array, its elements (integer
	// keys); at an object, its members (text keys), which must not match; at a missing path or a NULL
	// column, nothing.
	return strings.Join(conds, " OR ")
}

func (b *whereBuilder) rangeExpr(r store.Range) (string, error) {
	var parts []string
	switch {
	case r.Field == "logins_count":
		if r.Lo != "" {
			n, err := strconv.ParseInt(r.Lo, 10, 64)
			if err != nil {
				return "", unsupported("logins_count bound %q is not an integer", r.Lo)
			}
			parts = append(parts, "logins_count "+cmp(">", r.LoIncl)+" "+b.arg(n))
		}
		if r.Hi != "" {
			n, err := strconv.ParseInt(r.Hi, 10, 64)
			if err != nil {
				return "", unsupported("logins_count bound %q is not an integer", r.Hi)
			}
			parts = append(parts, "logins_count "+cmp("<", r.HiIncl)+" "+b.arg(n))
		}
	case timeCols[r.Field] != "":
		col := timeCols[r.Field]
		// A bound names a period (a year, a month, a day, a second or a millisecond); inclusive bounds
		// include the whole period and exclusive ones exclude it, as Lucene's date rounding does.
		if r.Lo != "" {
			start, end, err := parsePeriod(r.Lo)
			if err != nil {
				return "", err
			}
			if r.LoIncl {
				parts = append(parts, col+" >= "+b.arg(start))
			} else {
				parts = append(parts, col+" >= "+b.arg(end))
			}
		}
		if r.Hi != "" {
			start, end, err := parsePeriod(r.Hi)
			if err != nil {
				return "", err
			}
			if r.HiIncl {
				parts = append(parts, col+" < "+b.arg(end))
			} else {
				parts = append(parts, col+" < "+b.arg(start))
			}
		}
		if nullableCols[r.Field] {
			parts = append([]string{col + " IS NOT NULL"}, parts...)
		}
	default:
		return "", unsupported("range on field %q", r.Field)
	}
	if len(parts) == 0 {
		return "1", nil
	}
	return strings.Join(parts, " AND "), nil
}

func cmp(op string, incl bool) string {
	if incl {
		return op + "="
	}
	return op
}

// parsePeriod reads an RFC 3339 timestamp or a date prefix ("2017", "2017-12", "2017-12-31",
// "2017-12-31T10:00", "2017-12-31T10:00:00") and returns the period it names as [start, end) in UTC
// milliseconds. Forms without a zone are UTC.
func parsePeriod(s string) (start, end int64, err error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		t = t.UTC().Truncate(time.Millisecond)
		if strings.Contains(s, ".") {
			return t.UnixMilli(), t.Add(time.Millisecond).UnixMilli(), nil
		}
		return t.UnixMilli(), t.Add(time.Second).UnixMilli(), nil
	}
	layouts := []struct {
		layout string
		next   func(time.Time) time.Time
	}{
		{"2006-01-02T15:04:05.000", func(t time.Time) time.Time { return t.Add(time.Millisecond) }},
		{"2006-01-02T15:04:05", func(t time.Time) time.Time { return t.Add(time.Second) }},
		{"2006-01-02T15:04", func(t time.Time) time.Time { return t.Add(time.Minute) }},
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
	}
	for _, l := range layouts {
		if t, err := time.ParseInLocation(l.layout, s, time.UTC); err == nil {
			return t.UnixMilli(), l.next(t).UnixMilli(), nil
		}
	}
	return 0, 0, unsupported("date %q is neither RFC 3339 nor a date prefix", s)
}

// exists matches users for which the field holds a value: a non-empty string, a set (non-NULL)
// boolean or timestamp, a logins_count above zero, or a non-null metadata value.
func (b *whereBuilder) exists(field string) (string, error) {
	if col, ok := ciTextCols[field]; ok {
		return col + " <> ''", nil
	}
	if col, ok := csTextCols[field]; ok {
		return col + " <> ''", nil
	}
	switch field {
	case "blocked", "phone_verified", "last_login":
		return field + " IS NOT NULL", nil
	case "email_verified", "created_at", "updated_at":
		return "1", nil
	case "logins_count":
		return "logins_count > 0", nil
	case "user_metadata", "app_metadata":
		return field + " IS NOT NULL", nil
	}
	col, path, ok, err := metadataPath(field)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", unsupported("unknown field %q", field)
	}
	return "COALESCE(json_type(" + col + ", " + b.arg(path) + "), 'null') <> 'null'", nil
}

// sortCols are the sortable fields; text fields sort by their lower-cased copy, as people expect.
var sortCols = map[string]string{
	"created_at": "created_at", "updated_at": "updated_at", "email": "email_lc", "name": "name_lc",
	"user_id": "id", "last_login": "last_login", "logins_count": "logins_count",
	"nickname": "nickname_lc", "username": "username", "given_name": "given_name_lc",
	"family_name": "family_name_lc",
}

// orderBy returns the ORDER BY clause: the sort field, then the user id in the same direction so
// pages never overlap or skip users that share a sort value. Unset timestamps (NULL) sort first.
func orderBy(field string, desc bool) (string, error) {
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	if field == "" || field == "user_id" {
		return "id" + dir, nil
	}
	col, ok := sortCols[field]
	if !ok {
		return "", unsupported("sort by %q", field)
	}
	return col + dir + ", id" + dir, nil
}
