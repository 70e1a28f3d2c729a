// Package audit keeps Userdesk's append-only audit trail of staff actions and denials (SQLite or
// PostgreSQL, plus an in-memory store for tests) and exports it as formula-safe CSV.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors returned by every Store; test with errors.Is.
var (
	// ErrNotFound: no entry with that id.
	ErrNotFound = errors.New("audit: entry not found")
	// ErrInvalid: an entry that cannot be recorded (no action, unknown outcome, a change that is not JSON).
	ErrInvalid = errors.New("audit: invalid entry")
)

// Outcome is how an audited action ended.
type Outcome string

// The outcomes an entry may record.
const (
	OutcomeSuccess Outcome = "success"
	OutcomeFailure Outcome = "failure" // attempted, and the upstream or Userdesk failed
	OutcomeDenied  Outcome = "denied"  // refused by authorization before anything was attempted
	OutcomeUnknown Outcome = "unknown" // the upstream may or may not have applied it (timeout, 5xx on create)
)

// Valid reports whether o is one of the four outcomes.
func (o Outcome) Valid() bool {
	switch o {
	case OutcomeSuccess, OutcomeFailure, OutcomeDenied, OutcomeUnknown:
		return true
	}
	return false
}

// Change is one changed field. Before and After are JSON values ("\"a@x.com\"", "true", "{...}"); an
// empty string means the field did not exist on that side (added or removed). Metadata changes are
// recorded per top-level key, e.g. Field "app_metadata.plan".
type Change struct {
	Field  string `json:"field"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// Entry is one audit record. Stores return Time in UTC with microsecond precision.
type Entry struct {
	// ID is assigned by Append, increasing in append order within one store.
	ID   int64
	Time time.Time
	// The staff member who acted (empty for an unauthenticated request that was denied).
	ActorIssuer  string
	ActorSubject string
	ActorEmail   string
	ActorRole    string
	// ClientIP is the address resolved through trusted proxies only.
	ClientIP string
	// Action names what was attempted: "user.create", "user.metadata.update", "user.block",
	// "authz.denied", "session.login", ...
	Action       string
	TargetUserID string
	TargetEmail  string
	Changes      []Change
	// Reason is the staff member's reason or ticket reference.
	Reason  string
	Outcome Outcome
	// UpstreamStatus is the Auth0 HTTP status, 0 when no upstream call was made.
	UpstreamStatus int
	// CorrelationID is the X-Correlation-ID sent to Auth0, linking the entry to the tenant log.
	CorrelationID string
	RequestID     string
	// Detail is a short, secret-free explanation (an error class, the rule that denied).
	Detail string
}

// Filter selects entries; zero fields do not filter.
type Filter struct {
	// Actor matches ActorSubject exactly or ActorEmail case-insensitively.
	Actor        string
	TargetUserID string
	Action       string
	Outcome      Outcome
	// From is inclusive and To exclusive.
	From, To time.Time
	// Limit caps Query's page (default DefaultLimit, at most MaxLimit) and Each's stream (no cap when 0).
	Limit  int
	Offset int
}

// Page sizes for Query.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// Store is the audit trail. It is append-only: there is no way to change or remove an entry through
// it, and the SQL stores refuse UPDATE and DELETE in the database itself. Implementations are safe for
// concurrent use.
type Store interface {
	// Append records e and returns it as stored (ID assigned; Time set to now when zero, then UTC and
	// truncated to microseconds). The entry is durable when Append returns nil. ErrInvalid when e has
	// no Action, an unknown Outcome, or a Change without Field or with a Before/After that is not JSON.
	Append(ctx context.Context, e Entry) (Entry, error)
	// Get returns one entry or ErrNotFound.
	Get(ctx context.Context, id int64) (Entry, error)
	// Query returns one page of matching entries, newest first (Time, then ID, descending), and how many
	// entries match in all.
	Query(ctx context.Context, f Filter) (entries []Entry, total int, err error)
	// Each calls fn for every matching entry, newest first, reading as it goes (for CSV export). fn's
	// error stops the walk and is returned unchanged. Limit and Offset apply when positive.
	Each(ctx context.Context, f Filter, fn func(Entry) error) error
}

// prepare validates e and gives it the form every store records and returns.
func prepare(e Entry, now func() time.Time) (Entry, error) {
	if e.Time.IsZero() {
		e.Time = now()
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	for _, p := range []*string{&e.ActorIssuer, &e.ActorSubject, &e.ActorEmail, &e.ActorRole, &e.ClientIP,
		&e.Action, &e.TargetUserID, &e.TargetEmail, &e.Reason, &e.CorrelationID, &e.RequestID, &e.Detail} {
		*p = clean(*p)
	}
	switch {
	case e.Action == "":
		return Entry{}, errors.Join(ErrInvalid, errors.New("empty action"))
	case !e.Outcome.Valid():
		return Entry{}, errors.Join(ErrInvalid, fmt.Errorf("outcome %q", e.Outcome))
	}
	changes := make([]Change, len(e.Changes))
	for i, c := range e.Changes {
		c.Field = clean(c.Field)
		if c.Field == "" {
			return Entry{}, errors.Join(ErrInvalid, fmt.Errorf("change %d has no field", i))
		}
		for _, v := range []string{c.Before, c.After} {
			if v != "" && !json.Valid([]byte(v)) {
				return Entry{}, errors.Join(ErrInvalid, fmt.Errorf("change %q: before/after must be JSON", c.Field))
			}
		}
		changes[i] = c
	}
	e.Changes = changes
	return e, nil
}

// clean makes s storable as text on every engine (PostgreSQL rejects NUL bytes and invalid UTF-8):
// each invalid sequence and each NUL becomes U+FFFD. CR and LF are kept: CSV quotes them and the
// pages escape them.
func clean(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// page returns Query's effective limit and offset.
func page(f Filter) (limit, offset int) {
	limit = f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	return min(limit, MaxLimit), max(f.Offset, 0)
}

// Option configures a store.
type Option func(*options)

type options struct{ now func() time.Time }

// WithClock makes Append stamp entries that have no Time with now instead of time.Now.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

func buildOptions(opts []Option) options {
	o := options{now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	return o
}
