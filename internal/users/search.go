package users

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/userdesk/userdesk/internal/mgmt"
)

const (
	// PerPage is the default number of users on one page of the list.
	PerPage = 50
	// MaxResults is how far Auth0 lets a search page: "You can only page through the first 1000
	// records" (auth0-contract §3.1).
	MaxResults = 1000
	// ModeLucene is the "advanced" search mode: the text is Auth0's Lucene syntax, sent verbatim.
	ModeLucene = "lucene"
)

// pageSizes are the page sizes the list offers; Auth0 allows at most 100 per page.
var pageSizes = []int{25, 50, 100}

// PageSizes returns the page sizes the list offers.
func PageSizes() []int { return slices.Clone(pageSizes) }

// sortFields are the root attributes the list sorts by (sort=field:1|-1); Auth0 sorts only by root
// attributes, never by metadata (auth0-contract §3.1).
var sortFields = []string{"created_at", "last_login", "logins_count", "email"}

// SortFields returns the attributes the list can be sorted by.
func SortFields() []string { return slices.Clone(sortFields) }

// SearchKind is what the search box understood the text as.
type SearchKind string

// The kinds of search.
const (
	KindAll    SearchKind = "all"     // empty box: every user
	KindEmail  SearchKind = "email"   // an email address: users-by-email
	KindUserID SearchKind = "user_id" // provider|id: the user itself
	KindPhone  SearchKind = "phone"   // an E.164 phone number: phone_number:"+…"
	KindName   SearchKind = "name"    // anything else: name or email prefix
	KindLucene SearchKind = "lucene"  // advanced mode, or text with a field:value term
)

// Lookup is which Management API endpoint answers a search.
type Lookup int

// The lookups. Only LookupSearch uses the search index, which is eventually consistent and pages
// through at most MaxResults users; the other two are immediately consistent (auth0-contract §3.1).
const (
	LookupSearch Lookup = iota // GET /api/v2/users?q=
	LookupEmail                // GET /api/v2/users-by-email?email=
	LookupID                   // GET /api/v2/users/{id}
)

// SearchParams is one search as the list's GET form carries it. Normalize before use.
type SearchParams struct {
	Text       string // what the staff member typed
	Mode       string // "" (the one search box) or ModeLucene
	Connection string // a connection name, "" for any
	Blocked    string // "true", "false" or "" (either)
	Verified   string // email verified: "true", "false" or ""
	Sort       string // "field:1" or "field:-1" with a field of SortFields, or "" (Auth0's order)
	Page       int    // 1-based
	PerPage    int    // one of PageSizes
}

// Normalize returns p with every value made one the list understands: the text trimmed, an unknown
// mode, tri-state or sort dropped, the page size defaulted to PerPage and the page to 1. The page is
// also held inside the first MaxResults results, where Auth0 answers 400 invalid_paging beyond.
func (p SearchParams) Normalize() SearchParams {
	p.Text = strings.TrimSpace(p.Text)
	if p.Mode != ModeLucene {
		p.Mode = ""
	}
	p.Connection = strings.TrimSpace(p.Connection)
	p.Blocked, p.Verified = triState(p.Blocked), triState(p.Verified)
	if _, _, ok := ParseSort(p.Sort); !ok {
		p.Sort = ""
	}
	if !slices.Contains(pageSizes, p.PerPage) {
		p.PerPage = PerPage
	}
	p.Page = min(max(p.Page, 1), MaxResults/p.PerPage)
	return p
}

func triState(s string) string {
	if s == "true" || s == "false" {
		return s
	}
	return ""
}

// ParseSort splits "field:1" or "field:-1" (field one of SortFields); ok is false otherwise.
func ParseSort(s string) (field string, desc bool, ok bool) {
	f, dir, found := strings.Cut(s, ":")
	if !found || !slices.Contains(sortFields, f) || (dir != "1" && dir != "-1") {
		return "", false, false
	}
	return f, dir == "-1", true
}

// Plan is how a search will be answered.
type Plan struct {
	Kind   SearchKind
	Lookup Lookup
	Q      string // LookupSearch: the Lucene query sent to Auth0 ("" lists everyone)
	Email  string // LookupEmail: the address, lower-cased as database connections store it
	UserID string // LookupID
}

var (
	// userIDPattern is "provider|id": a provider name (auth0, google-oauth2, samlp, oauth2, email,
	// sms, …) then the provider's id, which may itself hold '|' (samlp|conn|id). No spaces or ':'.
	userIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*\|[^\s:"]+$`)
	// phonePattern is an E.164 number once spaces, dots, dashes and parentheses are removed
	// (auth0-contract §3.4: ^\+[0-9]{1,15}$).
	phonePattern = regexp.MustCompile(`^\+[0-9]{1,15}$`)
	phoneNoise   = strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "")
	// luceneTerm is a field:value term in the plain search box (`blocked:true`, `email.domain:"x"`,
	// `_exists_:x`): such text is already Lucene and is sent as typed.
	luceneTerm = regexp.MustCompile(`(^|[\s(])[A-Za-z_][A-Za-z0-9_.]*:`)
)

// BuildQuery decides how to answer p (normalized by the caller) and builds the Lucene query:
//   - advanced mode → the text verbatim, in parentheses when filters are added;
//   - empty → every user (only the filters);
//   - an email address → users-by-email (exact, immediately consistent);
//   - a user id such as auth0|abc or google-oauth2|123 → GET the user;
//   - an E.164 phone number (spaces, dashes, dots and parentheses ignored) → phone_number:"+…";
//   - text with a field:value term → Lucene, as typed (links from before advanced mode keep working);
//   - anything else → name or email prefix, `name:jan* OR email:jan*`, with Lucene's special
//     characters and spaces escaped by a backslash (auth0-contract §4: "escape spaces").
//
// Filters (connection, blocked, email verified) are joined to the query with AND. The exact
// look-ups cannot carry them; Search applies them to the few users those return (FilterUsers), so
// the answer stays immediately consistent.
func BuildQuery(p SearchParams) Plan {
	t := strings.TrimSpace(p.Text)
	var plan Plan
	switch {
	case p.Mode == ModeLucene && t != "":
		plan = Plan{Kind: KindLucene, Q: t}
	case t == "":
		plan = Plan{Kind: KindAll}
	case looksLikeEmail(t):
		return Plan{Kind: KindEmail, Lookup: LookupEmail, Email: strings.ToLower(t)}
	case userIDPattern.MatchString(t):
		return Plan{Kind: KindUserID, Lookup: LookupID, UserID: t}
	case phonePattern.MatchString(phoneNoise.Replace(t)):
		plan = Plan{Kind: KindPhone, Q: `phone_number:"` + phoneNoise.Replace(t) + `"`}
	case luceneTerm.MatchString(t):
		plan = Plan{Kind: KindLucene, Q: t}
	default:
		term := escapeLucene(strings.Join(strings.Fields(t), " "))
		plan = Plan{Kind: KindName, Q: "name:" + term + "* OR email:" + term + "*"}
	}
	filters := filterTerms(p)
	if len(filters) == 0 {
		return plan
	}
	if plan.Q != "" {
		filters = append([]string{"(" + plan.Q + ")"}, filters...)
	}
	plan.Q = strings.Join(filters, " AND ")
	return plan
}

// filterTerms are the Lucene terms of p's filters. blocked:false does not match users Auth0 never
// blocked (it omits the attribute until it is set), so "not blocked" is NOT blocked:true.
func filterTerms(p SearchParams) []string {
	var out []string
	if p.Connection != "" {
		out = append(out, `identities.connection:"`+quoteLucene(p.Connection)+`"`)
	}
	switch p.Blocked {
	case "true":
		out = append(out, "blocked:true")
	case "false":
		out = append(out, "NOT blocked:true")
	}
	if p.Verified != "" {
		out = append(out, "email_verified:"+p.Verified)
	}
	return out
}

// FilterUsers keeps the users that pass p's filters: the exact look-ups' counterpart of the AND
// terms of BuildQuery.
func FilterUsers(us []mgmt.User, p SearchParams) []mgmt.User {
	var out []mgmt.User
	for _, u := range us {
		if p.Connection != "" && !slices.ContainsFunc(u.Identities, func(i mgmt.Identity) bool { return i.Connection == p.Connection }) {
			continue
		}
		blocked := u.Blocked != nil && *u.Blocked
		if (p.Blocked == "true" && !blocked) || (p.Blocked == "false" && blocked) {
			continue
		}
		verified := u.EmailVerified != nil && *u.EmailVerified
		if (p.Verified == "true" && !verified) || (p.Verified == "false" && (u.EmailVerified == nil || verified)) {
			continue
		}
		out = append(out, u)
	}
	return out
}

// sortUsers orders the exact look-ups' few users as Auth0 would sort a search; users without the
// attribute come last either way.
func sortUsers(us []mgmt.User, sort string) {
	field, desc, ok := ParseSort(sort)
	if !ok {
		return
	}
	key := func(u *mgmt.User) (string, bool) {
		switch field {
		case "created_at":
			return timeKey(u.CreatedAt)
		case "last_login":
			return timeKey(u.LastLogin)
		case "logins_count":
			if u.LoginsCount == nil {
				return "", false
			}
			return fmt.Sprintf("%020d", *u.LoginsCount), true
		}
		return strings.ToLower(u.Email), u.Email != ""
	}
	slices.SortStableFunc(us, func(a, b mgmt.User) int {
		ka, oka := key(&a)
		kb, okb := key(&b)
		switch {
		case !oka || !okb:
			return boolCmp(!oka, !okb)
		case desc:
			return strings.Compare(kb, ka)
		}
		return strings.Compare(ka, kb)
	})
}

func timeKey(t *time.Time) (string, bool) {
	if t == nil || t.IsZero() {
		return "", false
	}
	return t.UTC().Format("20060102150405.000000000"), true // fixed width: compares as text
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func looksLikeEmail(t string) bool {
	if strings.ContainsAny(t, " \t\r\n") || !strings.Contains(t, "@") {
		return false
	}
	a, err := mail.ParseAddress(t)
	return err == nil && a.Address == t && a.Name == ""
}

// quoteLucene escapes a value for a "quoted" Lucene phrase: backslashes and double quotes.
func quoteLucene(t string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(t)
}

// escapeLucene backslash-escapes the characters Lucene's query parser treats specially, and
// spaces, so the text is one literal term. Callers collapse other whitespace first.
func escapeLucene(t string) string {
	var b strings.Builder
	for _, r := range t {
		if strings.ContainsRune(`+-&|!(){}[]^"~*?:\/ `, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
