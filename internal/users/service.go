package users

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/keylock"
	"github.com/userdesk/userdesk/internal/mgmt"
)

// API is the part of the Management API client the service needs. *mgmt.Client satisfies it through
// NewMgmtAPI; tests use an in-memory fake.
type API interface {
	CoreAPI
	FindingAPI  // finding users: users-by-email and users-export jobs (search_service.go)
	UserPageAPI // the user page's sections and actions, except metadata (userpage.go)
	// Each feature area adds its own interface here (declared next to the code that uses it), so the
	// service's needs stay visible per area and the fake in userstest grows one file per area.
}

// CoreAPI covers listing, reading, creating and updating users and listing connections.
type CoreAPI interface {
	ListUsers(ctx context.Context, p mgmt.ListUsersParams) (*mgmt.UserList, error)
	GetUser(ctx context.Context, id string) (*mgmt.User, error)
	CreateUser(ctx context.Context, u *mgmt.UserCreate) (*mgmt.User, error)
	UpdateUser(ctx context.Context, id string, u *mgmt.UserUpdate) (*mgmt.User, error)
	ListConnections(ctx context.Context, p mgmt.ListConnectionsParams) (*mgmt.ConnectionList, error)
}

// Service holds the user-facing logic. The zero value is not usable: API must be set.
type Service struct {
	API API
	// Audit records every write (and every refusal of one) after the upstream call and before the
	// handler answers. Nil records nothing; cmd/web always sets it.
	Audit Auditor
	// Policy limits which top-level metadata keys each role may change (USERDESK_METADATA_POLICY).
	// The zero policy lets every role that may edit metadata change every key.
	Policy authz.MetadataPolicy
	// ReasonRequired lists the actions that need a reason or ticket reference
	// (USERDESK_REASON_REQUIRED, see ParseReasonRequired).
	ReasonRequired map[authz.Action]bool

	// Now is the clock (nil = time.Now); tests move it to expire the connection list.
	Now func() time.Time

	// MetadataLocks serialises metadata saves per user, from the re-read to the PATCH, so that two
	// staff members saving the same key cannot both pass the conflict check (security.md §4 step
	// 3). Nil locks within this process only; replicas share a keylock.Postgres.
	MetadataLocks keylock.Locker

	localLocks keylock.Local   // MetadataLocks when it is nil
	conns      connectionCache // the list page's connection filter (search_service.go)
}

func (s *Service) metadataLocker() keylock.Locker {
	if s.MetadataLocks != nil {
		return s.MetadataLocks
	}
	return &s.localLocks
}

// ErrNoUser is returned (wrapped) when Auth0 has no user with the requested id.
var ErrNoUser = errors.New("users: no such user")

// Problem is a failure explained for a staff member. Message and Fields are safe to show: they are
// our own sentences, or for 4xx answers Auth0's message about the request itself; Err is the cause,
// for logs only.
type Problem struct {
	// Status is the HTTP status of the page that shows the problem.
	Status int
	// Message is a sentence about the whole request; "" when the problem is only about fields.
	Message string
	// Fields maps a form field name (connection, email, password, user_metadata, app_metadata, q)
	// to the sentence shown next to it.
	Fields map[string]string
	// Err is the underlying cause, or nil for pure validation failures.
	Err error
	// RetryAfter, when positive, is how long Auth0 asked to wait; the page sends it as Retry-After.
	RetryAfter time.Duration
	// AuditFailed reports that the audit entry of this attempt could not be written (MsgAuditFailed).
	AuditFailed bool
}

func (p *Problem) Error() string {
	s := fmt.Sprintf("users: %d", p.Status)
	if p.Message != "" {
		s += ": " + p.Message
	}
	for k, v := range p.Fields {
		s += "; " + k + ": " + v
	}
	if p.Err != nil {
		s += " (" + p.Err.Error() + ")"
	}
	return s
}

func (p *Problem) Unwrap() error { return p.Err }

// Get returns the user with the given (unescaped) id; ErrNoUser when it does not exist, a *Problem
// for other upstream failures.
func (s *Service) Get(ctx context.Context, id string) (*mgmt.User, error) {
	u, err := s.API.GetUser(ctx, id)
	if err != nil {
		if errors.Is(err, mgmt.ErrNotFound) {
			return nil, fmt.Errorf("%w: %w", ErrNoUser, err)
		}
		return nil, Explain(OpRead, err)
	}
	return u, nil
}
