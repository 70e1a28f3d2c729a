package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// createUsersBatch is how many users CreateUsers inserts per transaction: large enough to amortise
// the fsync of each commit (synchronous=FULL), small enough not to hold the write lock for long.
const createUsersBatch = 500

// userCols lists the users columns in the order scanUser reads them.
const userCols = `id, connection, provider, is_social, email, email_verified, username, phone_number,
	phone_verified, name, given_name, family_name, nickname, picture, password_hash, blocked,
	user_metadata, app_metadata, created_at, updated_at, last_login, last_ip, logins_count,
	last_password_reset`

const insertUserSQL = `INSERT INTO users (id, connection, provider, is_social, email, email_lc,
	email_verified, username, phone_number, phone_verified, name, name_lc, given_name, given_name_lc,
	family_name, family_name_lc, nickname, nickname_lc, picture, password_hash, blocked, user_metadata,
	app_metadata, created_at, updated_at, last_login, last_ip, logins_count, last_password_reset)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

const updateUserSQL = `UPDATE users SET connection = ?, provider = ?, is_social = ?, email = ?,
	email_lc = ?, email_verified = ?, username = ?, phone_number = ?, phone_verified = ?, name = ?,
	name_lc = ?, given_name = ?, given_name_lc = ?, family_name = ?, family_name_lc = ?, nickname = ?,
	nickname_lc = ?, picture = ?, password_hash = ?, blocked = ?, user_metadata = ?, app_metadata = ?,
	created_at = ?, updated_at = ?, last_login = ?, last_ip = ?, logins_count = ?,
	last_password_reset = ?
	WHERE id = ?`

// userValues returns the column values of u, id first, in insertUserSQL order; the metadata must be
// valid JSON (an invalid document would break every later metadata search).
func userValues(u store.User) ([]any, error) {
	um, err := jsonText("user_metadata", u.UserMetadata)
	if err != nil {
		return nil, err
	}
	am, err := jsonText("app_metadata", u.AppMetadata)
	if err != nil {
		return nil, err
	}
	return []any{
		u.ID, u.Connection, u.Provider, u.IsSocial, u.Email, strings.ToLower(u.Email),
		u.EmailVerified, u.Username, u.PhoneNumber, nullBool(u.PhoneVerified),
		u.Name, strings.ToLower(u.Name), u.GivenName, strings.ToLower(u.GivenName),
		u.FamilyName, strings.ToLower(u.FamilyName), u.Nickname, strings.ToLower(u.Nickname),
		u.Picture, u.PasswordHash, nullBool(u.Blocked), um, am,
		millis(u.CreatedAt), millis(u.UpdatedAt), nullMillis(u.LastLogin), u.LastIP, u.LoginsCount,
		nullMillis(u.LastPasswordReset),
	}, nil
}

// CreateUser implements store.Store.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	vals, err := userValues(u)
	if err != nil {
		return err
	}
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, insertUserSQL, vals...)
		return mapErr(fmt.Sprintf("create user %q", u.ID), err)
	})
}

// CreateUsers implements store.Store. Users are inserted in transactions of createUsersBatch; when a
// batch fails (ErrAlreadyExists for a taken key, for example) that batch is rolled back, the batches
// before it stay committed, and the error names the index of the offending user.
func (s *Store) CreateUsers(ctx context.Context, us []store.User) error {
	for start := 0; start < len(us); start += createUsersBatch {
		batch := us[start:min(start+createUsersBatch, len(us))]
		err := s.writeTx(ctx, func(tx *sql.Tx) error {
			stmt, err := tx.PrepareContext(ctx, insertUserSQL)
			if err != nil {
				return fmt.Errorf("sqlite: prepare insert user: %w", err)
			}
			defer stmt.Close()
			for i, u := range batch {
				vals, err := userValues(u)
				if err != nil {
					return fmt.Errorf("user %d: %w", start+i, err)
				}
				if _, err := stmt.ExecContext(ctx, vals...); err != nil {
					return mapErr(fmt.Sprintf("create user %d (%q)", start+i, u.ID), err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// GetUser implements store.Store. The user and its linked identities are read in one snapshot.
func (s *Store) GetUser(ctx context.Context, id string) (store.User, error) {
	var u store.User
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = readUser(ctx, tx, id)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, fmt.Errorf("user %q: %w", id, store.ErrNotFound)
	}
	return u, err
}

// UpdateUser implements store.Store. The user id is the key and cannot change: whatever ID fn
// returns, the row keeps id and the returned user carries it.
func (s *Store) UpdateUser(ctx context.Context, id string, fn func(old store.User) (store.User, error)) (store.User, error) {
	var out store.User
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		old, err := readUser(ctx, tx, id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %q: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		nu, err := fn(old)
		if err != nil {
			return err
		}
		nu.ID = id
		vals, err := userValues(nu)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, updateUserSQL, append(vals[1:], id)...); err != nil {
			return mapErr(fmt.Sprintf("update user %q", id), err)
		}
		// Return what a later GetUser returns (timestamps truncated to milliseconds, UTC).
		out, err = readUser(ctx, tx, id)
		return err
	})
	if err != nil {
		return store.User{}, err
	}
	return out, nil
}

// DeleteUser implements store.Store.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("sqlite: delete user %q: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("user %q: %w", id, store.ErrNotFound)
		}
		return nil
	})
}

// UsersByEmail implements store.Store: the match is exact and case-sensitive, as in Auth0's
// GET /users-by-email; results are ordered by user id.
func (s *Store) UsersByEmail(ctx context.Context, email string) ([]store.User, error) {
	if email == "" {
		return nil, nil
	}
	var users []store.User
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+userCols+` FROM users WHERE email = ? ORDER BY id`, email)
		if err != nil {
			return fmt.Errorf("sqlite: users by email: %w", err)
		}
		if users, err = collectUsers(rows); err != nil {
			return err
		}
		return attachLinked(ctx, tx, users)
	})
	return users, err
}

// ListUsers implements store.Store. The page and the total are read in one transaction, so they agree.
//
// Plans. The total comes from user_count when nothing is filtered, else from COUNT(*) (over an index
// range when the filter allows one). The page is chosen on rowids alone and only its users are read
// (a deferred join). When a filter matches many users but the page is near the start of an order an
// index provides (user id, created_at, ...), walking that index and stopping after the page is far
// cheaper than sorting every match: see probePage. Every plan returns the same users.
func (s *Store) ListUsers(ctx context.Context, q store.Query) ([]store.User, int, error) {
	if q.Offset < 0 || q.Limit < 0 {
		return nil, 0, fmt.Errorf("%w: negative offset or limit", store.ErrUnsupportedQuery)
	}
	var b whereBuilder
	where, err := b.expr(q.Expr)
	if err != nil {
		return nil, 0, err
	}
	order, err := orderBy(q.Sort, q.Desc)
	if err != nil {
		return nil, 0, err
	}
	if q.After != "" {
		if q.Sort != "" && q.Sort != "user_id" {
			return nil, 0, fmt.Errorf("%w: a user-id cursor needs the user-id order, not %q", store.ErrUnsupportedQuery, q.Sort)
		}
		op := " > "
		if q.Desc {
			op = " < "
		}
		where = "(" + where + ") AND id" + op + b.arg(q.After)
	}
	var (
		users []store.User
		total = -1 // unknown
	)
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		all, err := countAll(ctx, tx)
		if err != nil {
			return err
		}
		if !q.NoTotal {
			if where == "1" {
				total = all
			} else if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE `+where, b.args...).Scan(&total); err != nil {
				return fmt.Errorf("sqlite: count users: %w", err)
			}
			if total == 0 || q.Offset >= total {
				return nil // no page to read
			}
		}
		if where != "1" && q.Limit > 0 && q.After == "" {
			found, tried, ok, err := probePage(ctx, tx, q, where, b.args, all, total)
			if err != nil {
				return err
			}
			if ok {
				s.probes.hit.Add(1)
				users = found
				return attachLinked(ctx, tx, users)
			}
			if tried {
				s.probes.miss.Add(1)
			}
		}
		limit := q.Limit
		if limit == 0 {
			limit = -1 // SQLite: no limit
		}
		users, err = pageUsers(ctx, tx, `SELECT rowid FROM users WHERE `+where+` ORDER BY `+order+` LIMIT ? OFFSET ?`,
			order, append(append([]any(nil), b.args...), limit, q.Offset))
		if err != nil {
			return err
		}
		return attachLinked(ctx, tx, users) // one query for the whole page
	})
	if err != nil {
		return nil, 0, err
	}
	return users, max(total, 0), nil
}

// countAll reads the number of users kept by the user_count triggers (count_schema.go).
func countAll(ctx context.Context, tx *sql.Tx) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT n FROM user_count WHERE id = 0`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: read user count: %w", err)
	}
	return n, nil
}

// pageUsers reads the users whose rowids the subquery inner selects (a deferred join: the sorter, if
// any, holds small keys instead of whole rows), in order.
func pageUsers(ctx context.Context, tx *sql.Tx, inner, order string, args []any) ([]store.User, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+userCols+` FROM users WHERE rowid IN (`+inner+`) ORDER BY `+order, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	return collectUsers(rows)
}

// orderIndex names, per sort field, an index whose order is exactly orderBy's (the sort column, then
// the user id) and its key columns. last_login (NULLs) and username (no full index) have none.
var orderIndex = map[string]struct {
	name string
	cols []string
}{
	"":             {"sqlite_autoindex_users_1", []string{"id"}}, // the PRIMARY KEY's index
	"user_id":      {"sqlite_autoindex_users_1", []string{"id"}},
	"created_at":   {"users_created_at", []string{"created_at", "id"}},
	"updated_at":   {"users_updated_at", []string{"updated_at", "id"}},
	"email":        {"users_email_lc", []string{"email_lc", "id"}},
	"name":         {"users_name_lc", []string{"name_lc", "id"}},
	"nickname":     {"users_nickname_lc", []string{"nickname_lc", "id"}},
	"logins_count": {"users_logins_count", []string{"logins_count", "id"}},
}

// Probe tuning. probeNoTotalFactor bounds the rows a probe may walk when the number of matches is
// unknown (NoTotal): that many per user of the page. probeMaxNoTotal is the largest page end (offset
// + limit) probed then, so a failed probe wastes at most a few thousand row reads.
const (
	probeNoTotalFactor = 20
	probeMaxNoTotal    = 100
)

// probePage tries the order-scan plan: walk the order's index from the start, test the filter on each
// user and stop once the page is complete. SQLite would instead read every match through the filter's
// index and sort them all (2.5 ms for 10,000 matches at 100,000 users, against 0.3 ms here). The walk
// is bounded: the K-th key of the order is looked up first (a covering-index step per row, cheap) and
// the walk stops there, so when the matches are not where the estimate expects (a filter correlated
// with the order) probePage gives up after K rows and reports ok=false; the caller then uses the
// filter-and-sort plan. Within the bound the result is exact: every match ordered before the K-th key
// is seen, so a full page from the bounded walk is the true page.
//
// K: with the number of matches known (total), matches are assumed spread evenly, so the page end
// lies about E = need·all/total rows in; the probe runs only when 4·E ≤ total (a clear win) and walks
// up to 2·E+64 rows. A keyset query (After) is never probed: its id range already serves it. Without a total it walks up to probeNoTotalFactor rows per wanted user.
//
// tried reports whether the walk ran (false: the estimate ruled it out).
func probePage(ctx context.Context, tx *sql.Tx, q store.Query, where string, args []any, all, total int) (users []store.User, tried, ok bool, err error) {
	idx, indexed := orderIndex[q.Sort]
	if !indexed {
		return nil, false, false, nil
	}
	need := q.Offset + q.Limit
	var k int
	if total >= 0 {
		e := int(math.Ceil(float64(need) * float64(all) / float64(total)))
		if 4*e > total {
			return nil, false, false, nil
		}
		k = 2*e + 64
	} else {
		if need > probeMaxNoTotal {
			return nil, false, false, nil
		}
		k = probeNoTotalFactor * need
	}
	order, err := orderBy(q.Sort, q.Desc)
	if err != nil {
		return nil, false, false, err
	}
	bound := ""
	var boundArgs []any
	if k < all {
		// The K-th key in the order.
		keys := make([]any, len(idx.cols))
		ptrs := make([]any, len(keys))
		for i := range keys {
			ptrs[i] = &keys[i]
		}
		err := tx.QueryRowContext(ctx, `SELECT `+strings.Join(idx.cols, ", ")+` FROM users INDEXED BY `+idx.name+
			` ORDER BY `+order+` LIMIT 1 OFFSET ?`, k-1).Scan(ptrs...)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, true, false, fmt.Errorf("sqlite: list users: probe bound: %w", err)
		}
		if err == nil {
			op := " <= "
			if q.Desc {
				op = " >= "
			}
			marks := strings.TrimSuffix(strings.Repeat("?, ", len(keys)), ", ")
			bound = " AND (" + strings.Join(idx.cols, ", ") + ")" + op + "(" + marks + ")"
			boundArgs = keys
		}
	}
	pageArgs := append(append(append([]any(nil), args...), boundArgs...), q.Limit, q.Offset)
	users, err = pageUsers(ctx, tx, `SELECT rowid FROM users INDEXED BY `+idx.name+` WHERE (`+where+`)`+bound+
		` ORDER BY `+order+` LIMIT ? OFFSET ?`, order, pageArgs)
	if err != nil {
		return nil, true, false, err
	}
	// Without a bound the walk covered every user: its page is exact even when short.
	return users, true, bound == "" || len(users) == q.Limit, nil
}

type rowScanner interface{ Scan(dest ...any) error }

func collectUsers(rows *sql.Rows) ([]store.User, error) {
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read users: %w", err)
	}
	return out, nil
}

func scanUser(r rowScanner) (store.User, error) {
	var (
		u                            store.User
		phoneVerified, blocked       sql.NullBool
		um, am                       sql.NullString
		created, updated             int64
		lastLogin, lastPasswordReset sql.NullInt64
	)
	err := r.Scan(&u.ID, &u.Connection, &u.Provider, &u.IsSocial, &u.Email, &u.EmailVerified,
		&u.Username, &u.PhoneNumber, &phoneVerified, &u.Name, &u.GivenName, &u.FamilyName,
		&u.Nickname, &u.Picture, &u.PasswordHash, &blocked, &um, &am, &created, &updated,
		&lastLogin, &u.LastIP, &u.LoginsCount, &lastPasswordReset)
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, err
	}
	if err != nil {
		return store.User{}, fmt.Errorf("sqlite: read user: %w", err)
	}
	u.PhoneVerified = boolPtr(phoneVerified)
	u.Blocked = boolPtr(blocked)
	u.UserMetadata = rawJSON(um)
	u.AppMetadata = rawJSON(am)
	u.CreatedAt = fromMillis(created)
	u.UpdatedAt = fromMillis(updated)
	u.LastLogin = timePtr(lastLogin)
	u.LastPasswordReset = timePtr(lastPasswordReset)
	return u, nil
}

// millis stores t as UTC milliseconds since the epoch: Auth0 reports milliseconds, so finer precision
// would only make a stored value differ from what the API shows.
func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func nullMillis(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMillis(v.Int64)
	return &t
}

func nullBool(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

func boolPtr(v sql.NullBool) *bool {
	if !v.Valid {
		return nil
	}
	b := v.Bool
	return &b
}

// jsonText returns raw as TEXT, or NULL when it is empty (never set); invalid JSON is an error.
func jsonText(field string, raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("sqlite: %s is not valid JSON", field)
	}
	return string(raw), nil
}

func rawJSON(v sql.NullString) json.RawMessage {
	if !v.Valid {
		return nil
	}
	return json.RawMessage(v.String)
}
