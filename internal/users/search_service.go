package users

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/userdesk/userdesk/internal/mgmt"
)

// FindingAPI is what finding users needs beyond CoreAPI: the immediately consistent look-up by
// email and the users-export jobs that get past the search's 1,000-result cap.
type FindingAPI interface {
	// FindUsersByEmail is GET /api/v2/users-by-email: every user (one per connection) with exactly
	// that email.
	FindUsersByEmail(ctx context.Context, email string) ([]mgmt.User, error)
	// StartUsersExport is POST /api/v2/jobs/users-exports.
	StartUsersExport(ctx context.Context, j mgmt.UsersExportJob) (*mgmt.Job, error)
	// UsersExportJob is GET /api/v2/jobs/{id}.
	UsersExportJob(ctx context.Context, id string) (*mgmt.Job, error)
	// DownloadUsersExport fetches a completed export's file, decompressed.
	DownloadUsersExport(ctx context.Context, job *mgmt.Job) (io.ReadCloser, error)
}

// SearchResult is one page of a user search, with the tenant's connections for the filter.
type SearchResult struct {
	Params SearchParams // normalized: what the page shows and its links carry
	Plan   Plan
	Total  int // matches (Auth0's total for a search); only the first MaxResults can be paged through
	Users  []mgmt.User
	// Connections are the tenant's connections, sorted by name, for the connection filter.
	Connections []mgmt.Connection
	// ConnectionsErr is why Connections could not be listed (an explained *Problem, or nil); the
	// search itself is still shown.
	ConnectionsErr error
}

// LastPage is the highest page number that can be shown (at least 1).
func (r *SearchResult) LastPage() int {
	n := min(r.Total, MaxResults)
	last := (n + r.Params.PerPage - 1) / r.Params.PerPage
	return max(last, 1)
}

// Capped reports whether more users match than Auth0 lets a search page through.
func (r *SearchResult) Capped() bool { return r.Plan.Lookup == LookupSearch && r.Total > MaxResults }

// Search answers one list page: the users p selects (see BuildQuery for which endpoint) and the
// connections for the filter, fetched concurrently so the page costs one round-trip. A query Auth0
// rejects comes back as a *Problem whose Fields["q"] holds Auth0's message; a user id that does not
// exist is an empty result, not an error. A failure to list connections does not fail the search
// (see SearchResult.ConnectionsErr).
func (s *Service) Search(ctx context.Context, p SearchParams) (*SearchResult, error) {
	p = p.Normalize()
	plan := BuildQuery(p)
	if plan.Lookup != LookupSearch {
		p.Page = 1 // one page holds every user an exact look-up returns
	}
	res := &SearchResult{Params: p, Plan: plan}
	err := parallel(ctx,
		func(ctx context.Context) error {
			res.Connections, res.ConnectionsErr = s.Connections(ctx)
			return nil // the search is still worth showing
		},
		func(ctx context.Context) error { return s.lookup(ctx, res) },
	)
	if err != nil {
		return nil, Explain(OpSearch, err)
	}
	return res, nil
}

func (s *Service) lookup(ctx context.Context, res *SearchResult) error {
	p, plan := res.Params, res.Plan
	var found []mgmt.User
	switch plan.Lookup {
	case LookupEmail:
		us, err := s.API.FindUsersByEmail(ctx, plan.Email)
		if err != nil {
			return err
		}
		found = us
	case LookupID:
		u, err := s.API.GetUser(ctx, plan.UserID)
		switch {
		case errors.Is(err, mgmt.ErrNotFound):
		case err != nil:
			return err
		default:
			found = []mgmt.User{*u}
		}
	default:
		list, err := s.API.ListUsers(ctx, mgmt.ListUsersParams{Q: plan.Q, Page: p.Page - 1, PerPage: p.PerPage, Sort: p.Sort})
		if err != nil {
			return err
		}
		res.Total, res.Users = list.Total, list.Users
		return nil
	}
	found = FilterUsers(found, p)
	sortUsers(found, p.Sort)
	res.Total, res.Users = len(found), found
	return nil
}

// ConnectionsTTL is how long the list page reuses the tenant's connection list. Connections change
// rarely (an administrator adds one in the Auth0 Dashboard), so the users list costs Auth0 one call
// per page instead of two; a new connection shows in the filter within this time.
const ConnectionsTTL = time.Minute

// connectionCache holds the last connection list Connections read; failures are not kept.
type connectionCache struct {
	mu   sync.Mutex
	list []mgmt.Connection
	at   time.Time
}

// Connections lists the tenant's connections (every strategy), sorted by name, reusing the list it
// read less than ConnectionsTTL ago. The returned slice is the caller's.
func (s *Service) Connections(ctx context.Context) ([]mgmt.Connection, error) {
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	s.conns.mu.Lock()
	if s.conns.list != nil && now.Sub(s.conns.at) < ConnectionsTTL {
		list := slices.Clone(s.conns.list)
		s.conns.mu.Unlock()
		return list, nil
	}
	s.conns.mu.Unlock()

	var out []mgmt.Connection
	for page := 0; page < maxConnectionPages; page++ {
		list, err := s.API.ListConnections(ctx, mgmt.ListConnectionsParams{
			Fields: []string{"id", "name", "strategy"}, Page: page, PerPage: 100,
		})
		if err != nil {
			return nil, Explain(OpRead, err)
		}
		out = append(out, list.Connections...)
		if len(list.Connections) == 0 || (page+1)*100 >= list.Total {
			break
		}
	}
	slices.SortFunc(out, func(a, b mgmt.Connection) int { return strings.Compare(a.Name, b.Name) })
	out = slices.CompactFunc(out, func(a, b mgmt.Connection) bool { return a.Name == b.Name })
	if out == nil {
		out = []mgmt.Connection{}
	}
	s.conns.mu.Lock()
	s.conns.list, s.conns.at = slices.Clone(out), now
	s.conns.mu.Unlock()
	return out, nil
}
