package users

import (
	"context"
	"net/mail"
	"strings"

	"github.com/userdesk/userdesk/internal/mgmt"
)

const (
	// PerPage is the number of users on one page of the list.
	PerPage = 50
	// MaxResults is how far Auth0 lets a search page: "You can only page through the first 1000
	// records" (auth0-contract §3.1).
	MaxResults = 1000
)

// SearchResult is one page of a user search.
type SearchResult struct {
	Text    string // what the staff member typed
	Query   string // the Lucene query sent to Auth0 ("" lists everyone)
	Page    int    // 1-based
	PerPage int
	Total   int // matches Auth0 reports; only the first MaxResults can be paged through
	Users   []mgmt.User
}

// LastPage is the highest page number that can be shown (at least 1).
func (r *SearchResult) LastPage() int {
	n := min(r.Total, MaxResults)
	last := (n + r.PerPage - 1) / r.PerPage
	return max(last, 1)
}

// Search lists users matching text (see BuildQuery), page being 1-based; page < 1 is treated as 1.
// A query Auth0 rejects comes back as a *Problem whose Fields["q"] holds Auth0's message.
func (s *Service) Search(ctx context.Context, text string, page int) (*SearchResult, error) {
	page = max(page, 1)
	q := BuildQuery(text)
	list, err := s.API.ListUsers(ctx, mgmt.ListUsersParams{Q: q, Page: page - 1, PerPage: PerPage})
	if err != nil {
		return nil, Explain(OpSearch, err)
	}
	return &SearchResult{
		Text:    strings.TrimSpace(text),
		Query:   q,
		Page:    page,
		PerPage: PerPage,
		Total:   list.Total,
		Users:   list.Users,
	}, nil
}

// BuildQuery turns what a staff member typed into an Auth0 v3 Lucene query:
//   - empty (or only spaces) → "" (list all users);
//   - text containing ':' → used as is, it already is Lucene (`blocked:true`, `email.domain:"x.com"`);
//   - an email address → exact match `email:"jane@example.com"`;
//   - anything else → prefix search on name or email, `name:jan* OR email:jan*`, with Lucene's special
//     characters and spaces escaped by a backslash (auth0-contract §4: "escape spaces").
func BuildQuery(text string) string {
	t := strings.TrimSpace(text)
	switch {
	case t == "":
		return ""
	case strings.Contains(t, ":"):
		return t
	case looksLikeEmail(t):
		return `email:"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(t) + `"`
	default:
		term := escapeLucene(strings.Join(strings.Fields(t), " "))
		return "name:" + term + "* OR email:" + term + "*"
	}
}

func looksLikeEmail(t string) bool {
	if strings.ContainsAny(t, " \t\r\n") || !strings.Contains(t, "@") {
		return false
	}
	a, err := mail.ParseAddress(t)
	return err == nil && a.Address == t && a.Name == ""
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
