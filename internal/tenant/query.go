package tenant

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// This file parses the user-search query language (q with search_engine=v3, contract §4) into a
// store.Expr. Supported, a subset of Auth0's Lucene subset:
//
//	field:value  field:"quoted value"  field:prefix*  field:*suffix (≥3 characters)  field:*infix*
//	field:begin*end (read as prefix AND suffix, the suffix ≥3 characters)
//	field:*  (= _exists_:field)   _exists_:field   email.domain:example.com
//	field:("a" OR "b")            range: logins_count:[1 TO *]  created_at:{2023-01 TO 2024-01-01]
//	a AND b, a OR b, NOT a, (…), and juxtaposition, read as AND [I: Lucene's default operator is OR;
//	Auth0 does not document which one v3 uses, AND is what a search box user expects]
//	bare words: prefix search over email, name and nickname; a bare "quoted phrase" is an exact match
//	on those fields; wildcards in bare words apply to the same three fields.
//
// Rejected with a QueryError (HTTP 400 invalid_query_string): unknown fields (organization_id too: the
// tenant has no organizations; v2's .raw subfields), `?`, more than two wildcards in a value, suffix
// wildcards shorter than 3 characters, wildcards or ranges on metadata or on non-text fields, ranges on
// text fields, v2 comparisons such as updated_at:>=2018-01-15. Lower-case and/or/not are plain words
// (Auth0: "Operators should always be capitalized").
//
// Auth0's exact wording for a rejected q is not established (contract §10); the message names the
// problem in the "Invalid query string: …" form used for other query-string errors [I].

// QueryError is a syntax or validation error in a user-search query.
type QueryError struct{ Msg string }

func (e *QueryError) Error() string { return e.Msg }

const (
	maxQueryLen   = 4096
	maxQueryDepth = 32
)

// Searchable fields by kind. Normalized text fields compare case-insensitively in the store.
var (
	textFields = map[string]bool{
		"email": true, "name": true, "given_name": true, "family_name": true, "nickname": true,
		"username": true, "user_id": true, "phone_number": true, "last_ip": true,
		"identities.connection": true, "identities.provider": true,
	}
	boolFields  = map[string]bool{"blocked": true, "email_verified": true, "phone_verified": true}
	dateFields  = map[string]bool{"created_at": true, "updated_at": true, "last_login": true}
	bareFields  = []string{"email", "name", "nickname"}
	metadataKey = regexp.MustCompile(`^(user_metadata|app_metadata)(\.[A-Za-z0-9_\-]+)+$`)
	fieldName   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)
	dateBound   = regexp.MustCompile(`^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$`)
)

// ParseQuery parses q into a store.Expr; an empty q yields nil (match everyone).
func ParseQuery(q string) (store.Expr, error) {
	if len(q) > maxQueryLen {
		return nil, &QueryError{fmt.Sprintf("query longer than %d characters", maxQueryLen)}
	}
	p := &qparser{s: []rune(q)}
	p.skipSpace()
	if p.eof() {
		return nil, nil
	}
	e, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		return nil, p.errorf("unexpected %q", string(p.s[p.i]))
	}
	return e, nil
}

type qparser struct {
	s []rune
	i int
}

func (p *qparser) eof() bool { return p.i >= len(p.s) }

func (p *qparser) errorf(format string, args ...any) error {
	return &QueryError{fmt.Sprintf("at position %d: ", p.i) + fmt.Sprintf(format, args...)}
}

func (p *qparser) skipSpace() {
	for !p.eof() && unicode.IsSpace(p.s[p.i]) {
		p.i++
	}
}

// keyword reports whether the upper-case operator kw starts at the cursor as a whole word.
func (p *qparser) keyword(kw string) bool {
	p.skipSpace()
	end := p.i + len(kw)
	if end > len(p.s) || string(p.s[p.i:end]) != kw {
		return false
	}
	return end == len(p.s) || unicode.IsSpace(p.s[end]) || p.s[end] == '(' || p.s[end] == ')' || p.s[end] == '"'
}

func (p *qparser) parseOr(depth int) (store.Expr, error) {
	if depth > maxQueryDepth {
		return nil, p.errorf("query nested too deeply")
	}
	first, err := p.parseAnd(depth)
	if err != nil {
		return nil, err
	}
	or := store.Or{first}
	for p.keyword("OR") {
		p.i += 2
		next, err := p.parseAnd(depth)
		if err != nil {
			return nil, err
		}
		or = append(or, next)
	}
	if len(or) == 1 {
		return first, nil
	}
	return or, nil
}

func (p *qparser) parseAnd(depth int) (store.Expr, error) {
	first, err := p.parseUnary(depth)
	if err != nil {
		return nil, err
	}
	and := store.And{first}
	for {
		p.skipSpace()
		if p.eof() || p.s[p.i] == ')' || p.keyword("OR") {
			break
		}
		if p.keyword("AND") {
			p.i += 3
		}
		next, err := p.parseUnary(depth)
		if err != nil {
			return nil, err
		}
		and = append(and, next)
	}
	if len(and) == 1 {
		return first, nil
	}
	return and, nil
}

func (p *qparser) parseUnary(depth int) (store.Expr, error) {
	if depth > maxQueryDepth {
		return nil, p.errorf("query nested too deeply")
	}
	p.skipSpace()
	switch {
	case p.eof():
		return nil, p.errorf("unexpected end of query")
	case p.keyword("NOT"):
		p.i += 3
		x, err := p.parseUnary(depth + 1)
		if err != nil {
			return nil, err
		}
		return store.Not{X: x}, nil
	case p.keyword("AND") || p.keyword("OR"):
		return nil, p.errorf("operator without a left-hand term")
	case p.s[p.i] == '(':
		p.i++
		e, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.eof() || p.s[p.i] != ')' {
			return nil, p.errorf("missing )")
		}
		p.i++
		return e, nil
	case p.s[p.i] == ')':
		return nil, p.errorf("unexpected )")
	}
	return p.parseTerm(depth)
}

// value is a parsed term value: literal parts split at unescaped '*' wildcards.
type value struct {
	parts  []string
	quoted bool
}

func (v value) literal() string { return strings.Join(v.parts, "") }

func (p *qparser) parseTerm(depth int) (store.Expr, error) {
	start := p.i
	if p.s[p.i] == '"' {
		v, err := p.readQuoted()
		if err != nil {
			return nil, err
		}
		return bareTerm(v)
	}
	// A field name is a plain run of name characters followed by ':'.
	j := p.i
	for j < len(p.s) && (p.s[j] == '_' || p.s[j] == '.' || unicode.IsLetter(p.s[j]) || unicode.IsDigit(p.s[j])) {
		j++
	}
	if j > p.i && j < len(p.s) && p.s[j] == ':' {
		field := string(p.s[p.i:j])
		p.i = j + 1
		return p.parseFieldValue(field, depth)
	}
	v, err := p.readWord()
	if err != nil {
		return nil, err
	}
	if len(v.parts) == 1 && v.parts[0] == "" {
		p.i = start
		return nil, p.errorf("unexpected %q", string(p.s[p.i]))
	}
	return bareTerm(v)
}

func (p *qparser) parseFieldValue(field string, depth int) (store.Expr, error) {
	if !fieldName.MatchString(field) {
		return nil, p.errorf("invalid field name %q", field)
	}
	if p.eof() || unicode.IsSpace(p.s[p.i]) || p.s[p.i] == ')' {
		return nil, p.errorf("missing value for field %s", field)
	}
	switch p.s[p.i] {
	case '[', '{':
		return p.parseRange(field)
	case '(':
		return p.parseValueGroup(field, depth)
	case '"':
		v, err := p.readQuoted()
		if err != nil {
			return nil, err
		}
		return fieldTerm(field, v)
	}
	v, err := p.readWord()
	if err != nil {
		return nil, err
	}
	return fieldTerm(field, v)
}

// parseValueGroup reads field:(v1 OR v2 …) / field:(v1 AND v2).
func (p *qparser) parseValueGroup(field string, depth int) (store.Expr, error) {
	if depth > maxQueryDepth {
		return nil, p.errorf("query nested too deeply")
	}
	p.i++ // (
	var terms []store.Expr
	op := ""
	for {
		p.skipSpace()
		if p.eof() {
			return nil, p.errorf("missing )")
		}
		if p.s[p.i] == ')' {
			p.i++
			break
		}
		if len(terms) > 0 {
			for _, kw := range []string{"OR", "AND"} {
				if p.keyword(kw) {
					if op != "" && op != kw {
						return nil, p.errorf("mixing AND and OR inside field:( ) is not supported")
					}
					op = kw
					p.i += len(kw)
					p.skipSpace()
				}
			}
		}
		var v value
		var err error
		if !p.eof() && p.s[p.i] == '"' {
			v, err = p.readQuoted()
		} else {
			v, err = p.readWord()
		}
		if err != nil {
			return nil, err
		}
		if len(v.parts) == 1 && v.parts[0] == "" {
			return nil, p.errorf("missing value in field:( )")
		}
		t, err := fieldTerm(field, v)
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
	}
	switch {
	case len(terms) == 0:
		return nil, p.errorf("empty field:( )")
	case len(terms) == 1:
		return terms[0], nil
	case op == "AND":
		return store.And(terms), nil
	}
	return store.Or(terms), nil // OR, or juxtaposed values
}

// parseRange reads [lo TO hi] / {lo TO hi} (either bracket on either side; * = open).
func (p *qparser) parseRange(field string) (store.Expr, error) {
	loIncl := p.s[p.i] == '['
	p.i++
	p.skipSpace()
	lo := p.readBound()
	p.skipSpace()
	if !p.keyword("TO") {
		return nil, p.errorf("range needs TO")
	}
	p.i += 2
	p.skipSpace()
	hi := p.readBound()
	p.skipSpace()
	if p.eof() || (p.s[p.i] != ']' && p.s[p.i] != '}') {
		return nil, p.errorf("range needs ] or }")
	}
	hiIncl := p.s[p.i] == ']'
	p.i++
	if lo == "" || hi == "" {
		return nil, p.errorf("empty range bound")
	}
	if lo == "*" {
		lo = ""
	}
	if hi == "*" {
		hi = ""
	}
	switch {
	case dateFields[field]:
		for _, b := range []string{lo, hi} {
			if b != "" && !dateBound.MatchString(b) {
				return nil, &QueryError{fmt.Sprintf("invalid date %q in range on %s", b, field)}
			}
		}
	case field == "logins_count":
		for _, b := range []string{lo, hi} {
			if _, err := strconv.Atoi(b); b != "" && err != nil {
				return nil, &QueryError{fmt.Sprintf("invalid number %q in range on %s", b, field)}
			}
		}
	case metadataKey.MatchString(field):
		return nil, &QueryError{"ranges are not allowed on metadata"}
	default:
		return nil, &QueryError{fmt.Sprintf("ranges are not supported on %s", field)}
	}
	return store.Range{Field: field, Lo: lo, Hi: hi, LoIncl: loIncl, HiIncl: hiIncl}, nil
}

func (p *qparser) readBound() string {
	start := p.i
	for !p.eof() && !unicode.IsSpace(p.s[p.i]) && p.s[p.i] != ']' && p.s[p.i] != '}' {
		p.i++
	}
	return string(p.s[start:p.i])
}

// readQuoted reads "…" with \" and \\ escapes; wildcards inside quotes are literal.
func (p *qparser) readQuoted() (value, error) {
	p.i++ // opening quote
	var b strings.Builder
	for !p.eof() {
		r := p.s[p.i]
		p.i++
		switch r {
		case '\\':
			if p.eof() {
				return value{}, p.errorf("dangling escape")
			}
			b.WriteRune(p.s[p.i])
			p.i++
		case '"':
			return value{parts: []string{b.String()}, quoted: true}, nil
		default:
			b.WriteRune(r)
		}
	}
	return value{}, p.errorf("unterminated quote")
}

// readWord reads an unquoted value up to whitespace or a parenthesis; \x escapes x; '*' is a wildcard.
func (p *qparser) readWord() (value, error) {
	parts := []string{""}
	for !p.eof() {
		r := p.s[p.i]
		if unicode.IsSpace(r) || r == '(' || r == ')' {
			break
		}
		p.i++
		switch r {
		case '\\':
			if p.eof() {
				return value{}, p.errorf("dangling escape")
			}
			parts[len(parts)-1] += string(p.s[p.i])
			p.i++
		case '*':
			parts = append(parts, "")
		case '?':
			return value{}, &QueryError{"the ? wildcard is not supported"}
		case '"':
			return value{}, p.errorf("unexpected quote inside a word")
		default:
			parts[len(parts)-1] += string(r)
		}
	}
	return value{parts: parts}, nil
}

// match turns a (possibly wildcarded) value on a text field into a Term, or Exists for a lone *.
func match(field string, v value) (store.Expr, error) {
	ps := v.parts
	switch {
	case len(ps) == 1:
		if ps[0] == "" {
			return nil, &QueryError{fmt.Sprintf("empty value for %s", field)}
		}
		return store.Term{Field: field, Value: ps[0]}, nil
	case len(ps) == 2 && ps[0] == "" && ps[1] == "":
		return store.Exists{Field: field}, nil
	case len(ps) == 2 && ps[1] == "":
		return store.Term{Field: field, Value: ps[0], Prefix: true}, nil
	case len(ps) == 2 && ps[0] == "":
		if len([]rune(ps[1])) < 3 {
			return nil, &QueryError{"a suffix wildcard needs at least 3 characters after *"}
		}
		return store.Term{Field: field, Value: ps[1], Suffix: true}, nil
	case len(ps) == 3 && ps[0] == "" && ps[2] == "" && ps[1] != "":
		return store.Term{Field: field, Value: ps[1], Contains: true}, nil
	case len(ps) == 2:
		// begin*end: a prefix and a suffix. [I] The store cannot also require the value to be at least
		// as long as both, so "abc" matches ab*bc; Lucene would not.
		if len([]rune(ps[1])) < 3 {
			return nil, &QueryError{"a suffix wildcard needs at least 3 characters after *"}
		}
		return store.And{
			store.Term{Field: field, Value: ps[0], Prefix: true},
			store.Term{Field: field, Value: ps[1], Suffix: true},
		}, nil
	}
	return nil, &QueryError{"wildcards are supported only as prefix*, *suffix, *infix* and begin*end"}
}

// fieldTerm validates field:value by the field's kind.
func fieldTerm(field string, v value) (store.Expr, error) {
	wild := len(v.parts) > 1
	switch {
	case field == "_exists_":
		f := v.literal()
		if wild || !(textFields[f] || boolFields[f] || dateFields[f] || f == "logins_count" ||
			f == "user_metadata" || f == "app_metadata" || metadataKey.MatchString(f)) {
			return nil, &QueryError{fmt.Sprintf("_exists_ does not support %q", f)}
		}
		return store.Exists{Field: f}, nil
	case textFields[field]:
		return match(field, v)
	case field == "email.domain":
		if wild || v.literal() == "" {
			return nil, &QueryError{"email.domain needs an exact domain"}
		}
		return store.Term{Field: "email", Value: "@" + v.literal(), Suffix: true}, nil
	case boolFields[field]:
		if l := v.literal(); wild || (l != "true" && l != "false") {
			return nil, &QueryError{fmt.Sprintf("%s must be true or false", field)}
		}
		return store.Term{Field: field, Value: v.literal()}, nil
	case field == "logins_count":
		if _, err := strconv.Atoi(v.literal()); wild || err != nil {
			return nil, &QueryError{"logins_count must be an integer or a range"}
		}
		return store.Term{Field: field, Value: v.literal()}, nil
	case dateFields[field]:
		if wild && len(v.parts) == 2 && v.parts[0] == "" && v.parts[1] == "" {
			return store.Exists{Field: field}, nil
		}
		if l := v.literal(); strings.HasPrefix(l, ">") || strings.HasPrefix(l, "<") {
			return nil, &QueryError{fmt.Sprintf("comparisons such as %s:%s are v2 syntax; use a range, e.g. %s:[2024-01-01 TO *]", field, l, field)}
		}
		return nil, &QueryError{fmt.Sprintf("search %s with a range, e.g. %s:[2024-01-01 TO *]", field, field)}
	case metadataKey.MatchString(field):
		if wild {
			return nil, &QueryError{"wildcards are not allowed on metadata"}
		}
		if v.literal() == "" {
			return nil, &QueryError{fmt.Sprintf("empty value for %s", field)}
		}
		return store.Term{Field: field, Value: v.literal()}, nil
	}
	return nil, &QueryError{fmt.Sprintf("unknown or unsupported search field %q", field)}
}

// bareTerm searches email, name and nickname: a plain word by prefix, a quoted phrase exactly, a
// wildcarded word by its wildcard form.
func bareTerm(v value) (store.Expr, error) {
	if len(v.parts) == 1 && v.parts[0] == "" {
		return nil, &QueryError{"empty search term"}
	}
	if len(v.parts) == 2 && v.parts[0] == "" && v.parts[1] == "" {
		return nil, &QueryError{"a bare * is not supported; leave q empty to list everyone"}
	}
	if !v.quoted && len(v.parts) == 1 {
		v.parts = append(v.parts, "") // prefix
	}
	or := make(store.Or, 0, len(bareFields))
	for _, f := range bareFields {
		t, err := match(f, v)
		if err != nil {
			return nil, err
		}
		or = append(or, t)
	}
	return or, nil
}
