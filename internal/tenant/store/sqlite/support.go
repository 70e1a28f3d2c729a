package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// This file implements store.SupportStore.

// --- roles ---

// CreateRole implements store.SupportStore.
func (s *Store) CreateRole(ctx context.Context, r store.Role) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO roles (id, name, description) VALUES (?, ?, ?)`, r.ID, r.Name, r.Description)
		return mapErr(fmt.Sprintf("create role %q", r.ID), err)
	})
}

func scanRole(r rowScanner) (store.Role, error) {
	var x store.Role
	err := r.Scan(&x.ID, &x.Name, &x.Description)
	return x, err
}

// GetRole implements store.SupportStore.
func (s *Store) GetRole(ctx context.Context, id string) (store.Role, error) {
	r, err := scanRole(s.db.R.QueryRowContext(ctx, `SELECT id, name, description FROM roles WHERE id = ?`, id))
	return r, notFound(err, "role", id)
}

// UpdateRole implements store.SupportStore.
func (s *Store) UpdateRole(ctx context.Context, id string, fn func(old store.Role) (store.Role, error)) (store.Role, error) {
	var out store.Role
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		old, err := scanRole(tx.QueryRowContext(ctx, `SELECT id, name, description FROM roles WHERE id = ?`, id))
		if err != nil {
			return notFound(err, "role", id)
		}
		nr, err := fn(old)
		if err != nil {
			return err
		}
		nr.ID = id
		if _, err := tx.ExecContext(ctx, `UPDATE roles SET name = ?, description = ? WHERE id = ?`, nr.Name, nr.Description, id); err != nil {
			return mapErr(fmt.Sprintf("update role %q", id), err)
		}
		out = nr
		return nil
	})
	return out, err
}

// DeleteRole implements store.SupportStore; assignments and permissions go with it (foreign keys).
func (s *Store) DeleteRole(ctx context.Context, id string) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, "role", id, `DELETE FROM roles WHERE id = ?`, id)
	})
}

// ListRoles implements store.SupportStore.
func (s *Store) ListRoles(ctx context.Context) ([]store.Role, error) {
	return queryRoles(ctx, s.db.R, `SELECT id, name, description FROM roles ORDER BY name, id`)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryRoles(ctx context.Context, q querier, query string, args ...any) ([]store.Role, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list roles: %w", err)
	}
	defer rows.Close()
	out := []store.Role{}
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read role: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// execOne runs a statement that must affect one row; none gives ErrNotFound.
func execOne(ctx context.Context, tx *sql.Tx, what, key, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return mapErr(fmt.Sprintf("%s %q", what, key), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s %q: %w", what, key, store.ErrNotFound)
	}
	return nil
}

// mustExist returns ErrNotFound unless table has a row with column = key.
func mustExist(ctx context.Context, tx *sql.Tx, table, column, what, key string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM `+table+` WHERE `+column+` = ?`, key).Scan(&one)
	return notFound(err, what, key)
}

// AssignRoles implements store.SupportStore.
func (s *Store) AssignRoles(ctx context.Context, userID string, roleIDs []string) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "users", "id", "user", userID); err != nil {
			return err
		}
		for _, id := range roleIDs {
			if err := mustExist(ctx, tx, "roles", "id", "role", id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO user_roles (role_id, user_id) VALUES (?, ?)`, id, userID); err != nil {
				return mapErr("assign role", err)
			}
		}
		return nil
	})
}

// UnassignRoles implements store.SupportStore.
func (s *Store) UnassignRoles(ctx context.Context, userID string, roleIDs []string) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "users", "id", "user", userID); err != nil {
			return err
		}
		for _, id := range roleIDs {
			if _, err := tx.ExecContext(ctx, `DELETE FROM user_roles WHERE role_id = ? AND user_id = ?`, id, userID); err != nil {
				return mapErr("unassign role", err)
			}
		}
		return nil
	})
}

// UserRoles implements store.SupportStore.
func (s *Store) UserRoles(ctx context.Context, userID string) ([]store.Role, error) {
	var out []store.Role
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "users", "id", "user", userID); err != nil {
			return err
		}
		var err error
		out, err = queryRoles(ctx, tx, `SELECT r.id, r.name, r.description FROM roles r
			JOIN user_roles ur ON ur.role_id = r.id WHERE ur.user_id = ? ORDER BY r.name, r.id`, userID)
		return err
	})
	return out, err
}

// RoleMembers implements store.SupportStore.
func (s *Store) RoleMembers(ctx context.Context, roleID string, q store.RoleMembersQuery) ([]store.User, int, error) {
	var (
		users []store.User
		total int
	)
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "roles", "id", "role", roleID); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_roles WHERE role_id = ?`, roleID).Scan(&total); err != nil {
			return fmt.Errorf("sqlite: count role members: %w", err)
		}
		query := `SELECT ` + prefixCols("u", userCols) + ` FROM users u JOIN user_roles ur ON ur.user_id = u.id
			WHERE ur.role_id = ?`
		args := []any{roleID}
		if q.After != "" {
			query += ` AND u.id > ?`
			args = append(args, q.After)
		}
		query += ` ORDER BY u.id LIMIT ? OFFSET ?`
		limit := q.Limit
		if limit <= 0 {
			limit = -1
		}
		offset := q.Offset
		if q.After != "" {
			offset = 0
		}
		args = append(args, limit, offset)
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("sqlite: role members: %w", err)
		}
		if users, err = collectUsers(rows); err != nil {
			return err
		}
		return attachLinked(ctx, tx, users)
	})
	if err != nil {
		return nil, 0, err
	}
	return users, total, nil
}

// prefixCols qualifies a comma-separated column list with a table alias.
func prefixCols(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + "." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// --- resource servers and permissions ---

// PutResourceServer implements store.SupportStore.
func (s *Store) PutResourceServer(ctx context.Context, rs store.ResourceServer) error {
	scopes, err := json.Marshal(rs.Scopes)
	if err != nil {
		return fmt.Errorf("sqlite: encode scopes: %w", err)
	}
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO resource_servers (identifier, id, name, scopes) VALUES (?, ?, ?, ?)
			ON CONFLICT (identifier) DO UPDATE SET id = excluded.id, name = excluded.name, scopes = excluded.scopes`,
			rs.Identifier, rs.ID, rs.Name, string(scopes))
		return mapErr(fmt.Sprintf("put resource server %q", rs.Identifier), err)
	})
}

// GetResourceServer implements store.SupportStore.
func (s *Store) GetResourceServer(ctx context.Context, identifier string) (store.ResourceServer, error) {
	var (
		rs     store.ResourceServer
		scopes string
	)
	err := s.db.R.QueryRowContext(ctx, `SELECT identifier, id, name, scopes FROM resource_servers WHERE identifier = ?`,
		identifier).Scan(&rs.Identifier, &rs.ID, &rs.Name, &scopes)
	if err != nil {
		return store.ResourceServer{}, notFound(err, "resource server", identifier)
	}
	if err := json.Unmarshal([]byte(scopes), &rs.Scopes); err != nil {
		return store.ResourceServer{}, fmt.Errorf("sqlite: decode scopes: %w", err)
	}
	return rs, nil
}

func (s *Store) changePermissions(ctx context.Context, table, ownerCol, ownerTable, what, owner string, ps []store.Permission, add bool) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, ownerTable, "id", what, owner); err != nil {
			return err
		}
		for _, p := range ps {
			q := `DELETE FROM ` + table + ` WHERE ` + ownerCol + ` = ? AND resource_server = ? AND permission = ?`
			if add {
				q = `INSERT OR IGNORE INTO ` + table + ` (` + ownerCol + `, resource_server, permission) VALUES (?, ?, ?)`
			}
			if _, err := tx.ExecContext(ctx, q, owner, p.ResourceServerIdentifier, p.PermissionName); err != nil {
				return mapErr("change permissions", err)
			}
		}
		return nil
	})
}

// AddRolePermissions implements store.SupportStore.
func (s *Store) AddRolePermissions(ctx context.Context, roleID string, ps []store.Permission) error {
	return s.changePermissions(ctx, "role_permissions", "role_id", "roles", "role", roleID, ps, true)
}

// RemoveRolePermissions implements store.SupportStore.
func (s *Store) RemoveRolePermissions(ctx context.Context, roleID string, ps []store.Permission) error {
	return s.changePermissions(ctx, "role_permissions", "role_id", "roles", "role", roleID, ps, false)
}

// AddUserPermissions implements store.SupportStore.
func (s *Store) AddUserPermissions(ctx context.Context, userID string, ps []store.Permission) error {
	return s.changePermissions(ctx, "user_permissions", "user_id", "users", "user", userID, ps, true)
}

// RemoveUserPermissions implements store.SupportStore.
func (s *Store) RemoveUserPermissions(ctx context.Context, userID string, ps []store.Permission) error {
	return s.changePermissions(ctx, "user_permissions", "user_id", "users", "user", userID, ps, false)
}

// UserPermissions implements store.SupportStore. Descriptions and resource-server names come from the
// resource server's scope list ("" when the server or scope is gone).
func (s *Store) UserPermissions(ctx context.Context, userID string) ([]store.UserPermission, error) {
	var out []store.UserPermission
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "users", "id", "user", userID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `
			SELECT resource_server, permission, '' AS source_id, '' AS source_name, 'DIRECT', 0 AS ord
				FROM user_permissions WHERE user_id = ?
			UNION ALL
			SELECT rp.resource_server, rp.permission, r.id, r.name, 'ROLE', 1
				FROM role_permissions rp JOIN roles r ON r.id = rp.role_id
				JOIN user_roles ur ON ur.role_id = rp.role_id WHERE ur.user_id = ?
			ORDER BY 1, 2, 6, 4, 3`, userID, userID)
		if err != nil {
			return fmt.Errorf("sqlite: user permissions: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				p   store.Permission
				src store.PermissionSource
				ord int
			)
			if err := rows.Scan(&p.ResourceServerIdentifier, &p.PermissionName, &src.SourceID, &src.SourceName, &src.SourceType, &ord); err != nil {
				return fmt.Errorf("sqlite: read permission: %w", err)
			}
			if n := len(out); n > 0 && out[n-1].Permission == p {
				out[n-1].Sources = append(out[n-1].Sources, src)
				continue
			}
			out = append(out, store.UserPermission{Permission: p, Sources: []store.PermissionSource{src}})
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return describePermissions(ctx, tx, out)
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []store.UserPermission{}
	}
	return out, nil
}

// RolePermissions implements store.SupportStore.
func (s *Store) RolePermissions(ctx context.Context, roleID string) ([]store.UserPermission, error) {
	out := []store.UserPermission{}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "roles", "id", "role", roleID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT resource_server, permission FROM role_permissions
			WHERE role_id = ? ORDER BY resource_server, permission`, roleID)
		if err != nil {
			return fmt.Errorf("sqlite: role permissions: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var p store.Permission
			if err := rows.Scan(&p.ResourceServerIdentifier, &p.PermissionName); err != nil {
				return fmt.Errorf("sqlite: read permission: %w", err)
			}
			out = append(out, store.UserPermission{Permission: p})
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return describePermissions(ctx, tx, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// describePermissions fills in the description of each permission and the name of its resource
// server from the server's scope list ("" when the server or scope is gone).
func describePermissions(ctx context.Context, tx *sql.Tx, out []store.UserPermission) error {
	servers := map[string]*store.ResourceServer{}
	for i := range out {
		id := out[i].ResourceServerIdentifier
		rs, ok := servers[id]
		if !ok {
			var scopes string
			var x store.ResourceServer
			err := tx.QueryRowContext(ctx, `SELECT name, scopes FROM resource_servers WHERE identifier = ?`, id).Scan(&x.Name, &scopes)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return fmt.Errorf("sqlite: read resource server: %w", err)
			default:
				if err := json.Unmarshal([]byte(scopes), &x.Scopes); err != nil {
					return fmt.Errorf("sqlite: decode scopes: %w", err)
				}
			}
			rs = &x
			servers[id] = rs
		}
		out[i].ResourceServerName = rs.Name
		for _, sc := range rs.Scopes {
			if sc.Value == out[i].PermissionName {
				out[i].Description = sc.Description
			}
		}
	}
	return nil
}

// --- logs ---

const logCols = `id, date, type, description, client_id, client_name, connection, connection_id, user_id,
	user_name, ip, hostname, user_agent, audience, scope, strategy, strategy_type, organization_id,
	organization_name, is_mobile, details, location_info, correlation_id`

func nullString(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func stringPtr(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	s := v.String
	return &s
}

// AppendLog implements store.SupportStore.
func (s *Store) AppendLog(ctx context.Context, e store.LogEvent) error {
	details, err := jsonText("log details", e.Details)
	if err != nil {
		return err
	}
	loc, err := jsonText("log location_info", e.LocationInfo)
	if err != nil {
		return err
	}
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO logs (`+logCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, millis(e.Date), e.Type, nullString(e.Description), nullString(e.ClientID), nullString(e.ClientName),
			nullString(e.Connection), nullString(e.ConnectionID), nullString(e.UserID), nullString(e.UserName),
			nullString(e.IP), nullString(e.Hostname), nullString(e.UserAgent), nullString(e.Audience),
			nullString(e.Scope), nullString(e.Strategy), nullString(e.StrategyType), nullString(e.OrganizationID),
			nullString(e.OrganizationName), e.IsMobile, details, loc, e.CorrelationID)
		return mapErr(fmt.Sprintf("append log %q", e.ID), err)
	})
}

func scanLog(r rowScanner) (store.LogEvent, error) {
	var (
		e                                                           store.LogEvent
		date                                                        int64
		desc, cid, cname, conn, connID, uid, uname, ip, host, ua    sql.NullString
		aud, scope, strat, stratType, orgID, orgName, details, locI sql.NullString
	)
	err := r.Scan(&e.ID, &date, &e.Type, &desc, &cid, &cname, &conn, &connID, &uid, &uname, &ip, &host, &ua,
		&aud, &scope, &strat, &stratType, &orgID, &orgName, &e.IsMobile, &details, &locI, &e.CorrelationID)
	if err != nil {
		return store.LogEvent{}, err
	}
	e.Date = fromMillis(date)
	e.Description, e.ClientID, e.ClientName = stringPtr(desc), stringPtr(cid), stringPtr(cname)
	e.Connection, e.ConnectionID, e.UserID, e.UserName = stringPtr(conn), stringPtr(connID), stringPtr(uid), stringPtr(uname)
	e.IP, e.Hostname, e.UserAgent, e.Audience = stringPtr(ip), stringPtr(host), stringPtr(ua), stringPtr(aud)
	e.Scope, e.Strategy, e.StrategyType = stringPtr(scope), stringPtr(strat), stringPtr(stratType)
	e.OrganizationID, e.OrganizationName = stringPtr(orgID), stringPtr(orgName)
	e.Details, e.LocationInfo = rawJSON(details), rawJSON(locI)
	return e, nil
}

// GetLog implements store.SupportStore.
func (s *Store) GetLog(ctx context.Context, id string) (store.LogEvent, error) {
	e, err := scanLog(s.db.R.QueryRowContext(ctx, `SELECT `+logCols+` FROM logs WHERE id = ?`, id))
	return e, notFound(err, "log", id)
}

// ListLogs implements store.SupportStore.
func (s *Store) ListLogs(ctx context.Context, q store.LogQuery) ([]store.LogEvent, int, error) {
	b := &logWhere{}
	where, err := b.expr(q.Expr)
	if err != nil {
		return nil, 0, err
	}
	if q.UserID != "" {
		where = "(" + where + ") AND user_id = " + b.arg(q.UserID)
	}
	countArgs := slices.Clone(b.args)
	var order string
	switch {
	case q.Checkpoint:
		if q.From != "" {
			where = "(" + where + ") AND id > " + b.arg(q.From)
		}
		order = "id ASC"
	case q.Sort == "date":
		order = "date DESC, id DESC"
		if q.Asc {
			order = "date ASC, id ASC"
		}
	case q.Sort == "" || q.Sort == "log_id":
		order = "id DESC"
		if q.Asc {
			order = "id ASC"
		}
	default:
		return nil, 0, unsupported("sort on log field %q", q.Sort)
	}
	limit, offset := q.Limit, q.Offset
	if limit <= 0 {
		limit = -1
	}
	if q.Checkpoint {
		offset = 0
	}
	var (
		out   []store.LogEvent
		total int
	)
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+logCols+` FROM logs WHERE `+where+` ORDER BY `+order+` LIMIT ? OFFSET ?`,
			append(b.args, limit, offset)...)
		if err != nil {
			return fmt.Errorf("sqlite: list logs: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanLog(rows)
			if err != nil {
				return fmt.Errorf("sqlite: read log: %w", err)
			}
			out = append(out, e)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if q.NoTotal || q.Checkpoint {
			return nil
		}
		return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM logs WHERE `+where, countArgs...).Scan(&total)
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// logWhere translates a store.Expr over log fields into SQL; values are bound parameters only.
type logWhere struct{ args []any }

func (b *logWhere) arg(v any) string {
	b.args = append(b.args, v)
	return "?"
}

// logTextCols are the searchable log fields (all case-sensitive, contract §5.3) and their columns.
var logTextCols = map[string]string{
	"type": "type", "user_id": "user_id", "user_name": "user_name", "client_id": "client_id",
	"client_name": "client_name", "connection": "connection", "connection_id": "connection_id",
	"description": "description", "ip": "ip", "hostname": "hostname", "user_agent": "user_agent",
	"strategy": "strategy", "strategy_type": "strategy_type", "log_id": "id", "organization_id": "organization_id",
}

func (b *logWhere) expr(e store.Expr) (string, error) {
	switch e := e.(type) {
	case nil:
		return "1", nil
	case store.Term:
		col, ok := logTextCols[e.Field]
		if !ok {
			return "", unsupported("unknown log search field %q", e.Field)
		}
		c := "COALESCE(" + col + ", '')"
		switch {
		case e.Contains || (e.Prefix && e.Suffix):
			return "instr(" + c + ", " + b.arg(e.Value) + ") > 0", nil
		case e.Prefix:
			return "substr(" + c + ", 1, " + b.arg(len([]rune(e.Value))) + ") = " + b.arg(e.Value), nil
		case e.Suffix:
			return "substr(" + c + ", " + b.arg(-len([]rune(e.Value))) + ") = " + b.arg(e.Value), nil
		default:
			return col + " IS NOT NULL AND " + col + " = " + b.arg(e.Value), nil
		}
	case store.Exists:
		if e.Field == "date" {
			return "1", nil
		}
		col, ok := logTextCols[e.Field]
		if !ok {
			return "", unsupported("unknown log search field %q", e.Field)
		}
		return "COALESCE(" + col + ", '') <> ''", nil
	case store.Range:
		if e.Field != "date" {
			return "", unsupported("range on log field %q", e.Field)
		}
		var parts []string
		if e.Lo != "" {
			start, end, err := parsePeriod(e.Lo)
			if err != nil {
				return "", err
			}
			parts = append(parts, "date >= "+b.arg(map[bool]int64{true: start, false: end}[e.LoIncl]))
		}
		if e.Hi != "" {
			start, end, err := parsePeriod(e.Hi)
			if err != nil {
				return "", err
			}
			parts = append(parts, "date < "+b.arg(map[bool]int64{true: end, false: start}[e.HiIncl]))
		}
		if len(parts) == 0 {
			return "1", nil
		}
		return strings.Join(parts, " AND "), nil
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
	}
	return "", unsupported("expression %T", e)
}

func (b *logWhere) join(xs []store.Expr, op, empty string) (string, error) {
	if len(xs) == 0 {
		return empty, nil
	}
	parts := make([]string, len(xs))
	for i, x := range xs {
		p, err := b.expr(x)
		if err != nil {
			return "", err
		}
		parts[i] = "(" + p + ")"
	}
	return strings.Join(parts, op), nil
}

// --- brute-force protection ---

// RecordLoginFailure implements store.SupportStore.
func (s *Store) RecordLoginFailure(ctx context.Context, identifier, ip, connection string, at time.Time) (int, error) {
	var n int
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO login_failures (identifier, ip, connection, count, last_at)
			VALUES (?, ?, ?, 1, ?)
			ON CONFLICT (identifier, ip, connection) DO UPDATE SET count = count + 1, last_at = excluded.last_at
			RETURNING count`, identifier, ip, connection, millis(at)).Scan(&n)
		return mapErr("record login failure", err)
	})
	return n, err
}

// ClearLoginFailures implements store.SupportStore.
func (s *Store) ClearLoginFailures(ctx context.Context, identifier, ip, connection string) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE identifier = ? AND ip = ? AND connection = ?`,
			identifier, ip, connection)
		return mapErr("clear login failures", err)
	})
}

// CreateUserBlock implements store.SupportStore.
func (s *Store) CreateUserBlock(ctx context.Context, b store.UserBlock) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO user_blocks (identifier, ip, connection, created_at)
			VALUES (?, ?, ?, ?)`, b.Identifier, b.IP, b.Connection, millis(b.CreatedAt))
		return mapErr("create user block", err)
	})
}

// blockFilter builds "identifier IN (...) [AND connection = ?]".
func blockFilter(identifiers []string, connection string) (string, []any) {
	ph := make([]string, len(identifiers))
	args := make([]any, 0, len(identifiers)+1)
	for i, id := range identifiers {
		ph[i] = "?"
		args = append(args, id)
	}
	where := "identifier IN (" + strings.Join(ph, ", ") + ")"
	if connection != "" {
		where += " AND connection = ?"
		args = append(args, connection)
	}
	return where, args
}

// UserBlocks implements store.SupportStore.
func (s *Store) UserBlocks(ctx context.Context, identifiers []string, connection string) ([]store.UserBlock, error) {
	out := []store.UserBlock{}
	if len(identifiers) == 0 {
		return out, nil
	}
	where, args := blockFilter(identifiers, connection)
	rows, err := s.db.R.QueryContext(ctx, `SELECT identifier, ip, connection, created_at FROM user_blocks WHERE `+where+
		` ORDER BY identifier, ip, connection`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: user blocks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			b  store.UserBlock
			ms int64
		)
		if err := rows.Scan(&b.Identifier, &b.IP, &b.Connection, &ms); err != nil {
			return nil, fmt.Errorf("sqlite: read user block: %w", err)
		}
		b.CreatedAt = fromMillis(ms)
		out = append(out, b)
	}
	return out, rows.Err()
}

// DeleteUserBlocks implements store.SupportStore.
func (s *Store) DeleteUserBlocks(ctx context.Context, identifiers []string, connection string) (int, error) {
	if len(identifiers) == 0 {
		return 0, nil
	}
	where, args := blockFilter(identifiers, connection)
	var n int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM user_blocks WHERE `+where, args...)
		if err != nil {
			return mapErr("delete user blocks", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM login_failures WHERE `+where, args...)
		return mapErr("delete login failures", err)
	})
	return int(n), err
}

// --- authentication methods ---

// secret_hash is added by recoveryCodeMigration (recovery.go).
const authMethodCols = `user_id, id, type, name, email, phone_number, preferred_method, totp_secret, confirmed,
	created_at, last_auth_at, secret_hash`

func authMethodValues(m store.AuthMethod) []any {
	return []any{m.UserID, m.ID, m.Type, m.Name, m.Email, m.PhoneNumber, m.PreferredAuthenticationMethod,
		m.TOTPSecret, m.Confirmed, millis(m.CreatedAt), nullMillis(m.LastAuthAt), m.SecretHash}
}

func scanAuthMethod(r rowScanner) (store.AuthMethod, error) {
	var (
		m       store.AuthMethod
		created int64
		last    sql.NullInt64
	)
	err := r.Scan(&m.UserID, &m.ID, &m.Type, &m.Name, &m.Email, &m.PhoneNumber, &m.PreferredAuthenticationMethod,
		&m.TOTPSecret, &m.Confirmed, &created, &last, &m.SecretHash)
	if err != nil {
		return store.AuthMethod{}, err
	}
	m.CreatedAt, m.LastAuthAt = fromMillis(created), timePtr(last)
	return m, nil
}

const insertAuthMethodSQL = `INSERT INTO auth_methods (` + authMethodCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// CreateAuthMethod implements store.SupportStore.
func (s *Store) CreateAuthMethod(ctx context.Context, m store.AuthMethod) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "users", "id", "user", m.UserID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, insertAuthMethodSQL, authMethodValues(m)...)
		return mapErr(fmt.Sprintf("create authentication method %q", m.ID), err)
	})
}

// AuthMethods implements store.SupportStore.
func (s *Store) AuthMethods(ctx context.Context, userID string) ([]store.AuthMethod, error) {
	out := []store.AuthMethod{}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "users", "id", "user", userID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+authMethodCols+` FROM auth_methods WHERE user_id = ? ORDER BY created_at, id`, userID)
		if err != nil {
			return fmt.Errorf("sqlite: authentication methods: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanAuthMethod(rows)
			if err != nil {
				return fmt.Errorf("sqlite: read authentication method: %w", err)
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	return out, err
}

// GetAuthMethod implements store.SupportStore.
func (s *Store) GetAuthMethod(ctx context.Context, userID, id string) (store.AuthMethod, error) {
	m, err := scanAuthMethod(s.db.R.QueryRowContext(ctx, `SELECT `+authMethodCols+` FROM auth_methods WHERE user_id = ? AND id = ?`, userID, id))
	return m, notFound(err, "authentication method", id)
}

// UpdateAuthMethod implements store.SupportStore; user and id cannot change.
func (s *Store) UpdateAuthMethod(ctx context.Context, userID, id string, fn func(old store.AuthMethod) (store.AuthMethod, error)) (store.AuthMethod, error) {
	var out store.AuthMethod
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		old, err := scanAuthMethod(tx.QueryRowContext(ctx, `SELECT `+authMethodCols+` FROM auth_methods WHERE user_id = ? AND id = ?`, userID, id))
		if err != nil {
			return notFound(err, "authentication method", id)
		}
		m, err := fn(old)
		if err != nil {
			return err
		}
		m.UserID, m.ID = userID, id
		if _, err := tx.ExecContext(ctx, `DELETE FROM auth_methods WHERE user_id = ? AND id = ?`, userID, id); err != nil {
			return mapErr("update authentication method", err)
		}
		if _, err := tx.ExecContext(ctx, insertAuthMethodSQL, authMethodValues(m)...); err != nil {
			return mapErr("update authentication method", err)
		}
		out = m
		return nil
	})
	return out, err
}

// DeleteAuthMethod implements store.SupportStore.
func (s *Store) DeleteAuthMethod(ctx context.Context, userID, id string) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, "authentication method", id, `DELETE FROM auth_methods WHERE user_id = ? AND id = ?`, userID, id)
	})
}

// ReplaceAuthMethods implements store.SupportStore.
func (s *Store) ReplaceAuthMethods(ctx context.Context, userID string, ms []store.AuthMethod) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "users", "id", "user", userID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM auth_methods WHERE user_id = ?`, userID); err != nil {
			return mapErr("replace authentication methods", err)
		}
		for _, m := range ms {
			m.UserID = userID
			if _, err := tx.ExecContext(ctx, insertAuthMethodSQL, authMethodValues(m)...); err != nil {
				return mapErr(fmt.Sprintf("create authentication method %q", m.ID), err)
			}
		}
		return nil
	})
}

// DeleteAuthMethods implements store.SupportStore.
func (s *Store) DeleteAuthMethods(ctx context.Context, userID string) (int, error) {
	return s.deleteAllOf(ctx, "auth_methods", userID)
}

// deleteAllOf removes every row of table belonging to the user; ErrNotFound for an unknown user.
func (s *Store) deleteAllOf(ctx context.Context, table, userID string) (int, error) {
	var n int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "users", "id", "user", userID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE user_id = ?`, userID)
		if err != nil {
			return mapErr("delete "+table, err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// --- sessions and refresh tokens ---

const sessionCols = `id, user_id, client_ids, created_at, updated_at, authenticated_at, last_interacted_at,
	idle_expires_at, expires_at, initial_user_agent, initial_ip, last_user_agent, last_ip, auth_methods`

// sessionMethod is the stored form of a store.SessionAuthMethod.
type sessionMethod struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Timestamp int64  `json:"timestamp"`
}

// CreateSession implements store.SupportStore.
func (s *Store) CreateSession(ctx context.Context, x store.Session) error {
	clients, err := jsonList(x.ClientIDs)
	if err != nil {
		return err
	}
	ms := make([]sessionMethod, len(x.AuthMethods))
	for i, m := range x.AuthMethods {
		ms[i] = sessionMethod{m.Name, m.Type, millis(m.Timestamp)}
	}
	methods, err := json.Marshal(ms)
	if err != nil {
		return fmt.Errorf("sqlite: encode session methods: %w", err)
	}
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "users", "id", "user", x.UserID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			x.ID, x.UserID, clients, millis(x.CreatedAt), millis(x.UpdatedAt), millis(x.AuthenticatedAt),
			millis(x.LastInteractedAt), millis(x.IdleExpiresAt), millis(x.ExpiresAt), x.InitialUserAgent,
			x.InitialIP, x.LastUserAgent, x.LastIP, string(methods))
		return mapErr(fmt.Sprintf("create session %q", x.ID), err)
	})
}

// scanSession reads one row of sessionCols.
func scanSession(r rowScanner) (store.Session, error) {
	var (
		x                                  store.Session
		clients, methods                   string
		created, updated, authn, last, idl int64
		exp                                int64
	)
	if err := r.Scan(&x.ID, &x.UserID, &clients, &created, &updated, &authn, &last, &idl, &exp,
		&x.InitialUserAgent, &x.InitialIP, &x.LastUserAgent, &x.LastIP, &methods); err != nil {
		return store.Session{}, err
	}
	var err error
	if x.ClientIDs, err = parseList(clients); err != nil {
		return store.Session{}, err
	}
	var ms []sessionMethod
	if err := json.Unmarshal([]byte(methods), &ms); err != nil {
		return store.Session{}, fmt.Errorf("sqlite: decode session methods: %w", err)
	}
	for _, m := range ms {
		x.AuthMethods = append(x.AuthMethods, store.SessionAuthMethod{Name: m.Name, Type: m.Type, Timestamp: fromMillis(m.Timestamp)})
	}
	x.CreatedAt, x.UpdatedAt, x.AuthenticatedAt = fromMillis(created), fromMillis(updated), fromMillis(authn)
	x.LastInteractedAt, x.IdleExpiresAt, x.ExpiresAt = fromMillis(last), fromMillis(idl), fromMillis(exp)
	return x, nil
}

// Sessions implements store.SupportStore.
func (s *Store) Sessions(ctx context.Context, userID string) ([]store.Session, error) {
	out := []store.Session{}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "users", "id", "user", userID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE user_id = ? ORDER BY created_at, id`, userID)
		if err != nil {
			return fmt.Errorf("sqlite: sessions: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			x, err := scanSession(rows)
			if err != nil {
				return fmt.Errorf("sqlite: read session: %w", err)
			}
			out = append(out, x)
		}
		return rows.Err()
	})
	return out, err
}

// Session implements store.SupportStore.
func (s *Store) Session(ctx context.Context, id string) (store.Session, error) {
	x, err := scanSession(s.db.R.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = ?`, id))
	if err != nil {
		return store.Session{}, notFound(err, "session", id)
	}
	return x, nil
}

// DeleteSession implements store.SupportStore.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, "delete session", id, `DELETE FROM sessions WHERE id = ?`, id)
	})
}

// RevokeSession implements store.SupportStore.
func (s *Store) RevokeSession(ctx context.Context, id string) (int, error) {
	var n int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var userID string
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM sessions WHERE id = ?`, id).Scan(&userID)
		if err != nil {
			return notFound(err, "session", id)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE user_id = ? AND session_id = ?`, userID, id)
		if err != nil {
			return mapErr("delete session refresh tokens", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		return execOne(ctx, tx, "delete session", id, `DELETE FROM sessions WHERE id = ?`, id)
	})
	return int(n), err
}

// DeleteSessions implements store.SupportStore.
func (s *Store) DeleteSessions(ctx context.Context, userID string) (int, error) {
	var n int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "users", "id", "user", userID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE user_id = ? AND session_id IN
			(SELECT id FROM sessions WHERE user_id = ?)`, userID, userID); err != nil {
			return mapErr("delete session refresh tokens", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
		if err != nil {
			return mapErr("delete sessions", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// refreshResource is the stored form of a store.RefreshTokenResource.
type refreshResource struct {
	Audience string `json:"audience"`
	Scopes   string `json:"scopes"`
}

// CreateRefreshToken implements store.SupportStore.
func (s *Store) CreateRefreshToken(ctx context.Context, t store.RefreshToken) error {
	rs := make([]refreshResource, len(t.ResourceServers))
	for i, r := range t.ResourceServers {
		rs[i] = refreshResource(r)
	}
	b, err := json.Marshal(rs)
	if err != nil {
		return fmt.Errorf("sqlite: encode resource servers: %w", err)
	}
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "users", "id", "user", t.UserID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (id, user_id, client_id, session_id, created_at,
			idle_expires_at, expires_at, rotating, resource_servers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.UserID, t.ClientID, t.SessionID, millis(t.CreatedAt), nullMillis(t.IdleExpiresAt),
			nullMillis(t.ExpiresAt), t.Rotating, string(b))
		return mapErr(fmt.Sprintf("create refresh token %q", t.ID), err)
	})
}

// RefreshTokens implements store.SupportStore.
func (s *Store) RefreshTokens(ctx context.Context, userID string) ([]store.RefreshToken, error) {
	out := []store.RefreshToken{}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "users", "id", "user", userID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, user_id, client_id, session_id, created_at, idle_expires_at,
			expires_at, rotating, resource_servers FROM refresh_tokens WHERE user_id = ? ORDER BY created_at, id`, userID)
		if err != nil {
			return fmt.Errorf("sqlite: refresh tokens: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				t         store.RefreshToken
				created   int64
				idle, exp sql.NullInt64
				rs        string
			)
			if err := rows.Scan(&t.ID, &t.UserID, &t.ClientID, &t.SessionID, &created, &idle, &exp, &t.Rotating, &rs); err != nil {
				return fmt.Errorf("sqlite: read refresh token: %w", err)
			}
			var stored []refreshResource
			if err := json.Unmarshal([]byte(rs), &stored); err != nil {
				return fmt.Errorf("sqlite: decode resource servers: %w", err)
			}
			for _, r := range stored {
				t.ResourceServers = append(t.ResourceServers, store.RefreshTokenResource(r))
			}
			t.CreatedAt, t.IdleExpiresAt, t.ExpiresAt = fromMillis(created), timePtr(idle), timePtr(exp)
			out = append(out, t)
		}
		return rows.Err()
	})
	return out, err
}

// DeleteRefreshTokens implements store.SupportStore.
func (s *Store) DeleteRefreshTokens(ctx context.Context, userID string) (int, error) {
	return s.deleteAllOf(ctx, "refresh_tokens", userID)
}

// --- tickets ---

const ticketCols = `id, type, user_id, client_id, result_url, mark_email_as_verified, include_email_in_redirect,
	created_at, expires_at`

func scanTicket(r rowScanner) (store.Ticket, error) {
	var (
		t                store.Ticket
		created, expires int64
	)
	if err := r.Scan(&t.ID, &t.Type, &t.UserID, &t.ClientID, &t.ResultURL, &t.MarkEmailAsVerified,
		&t.IncludeEmailInRedirect, &created, &expires); err != nil {
		return store.Ticket{}, err
	}
	t.CreatedAt, t.ExpiresAt = fromMillis(created), fromMillis(expires)
	return t, nil
}

// CreateTicket implements store.SupportStore; ErrNotFound for an unknown user.
func (s *Store) CreateTicket(ctx context.Context, t store.Ticket) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "users", "id", "user", t.UserID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO tickets (`+ticketCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Type, t.UserID, t.ClientID, t.ResultURL, t.MarkEmailAsVerified, t.IncludeEmailInRedirect,
			millis(t.CreatedAt), millis(t.ExpiresAt))
		return mapErr("create ticket", err)
	})
}

// GetTicket implements store.SupportStore. Errors never contain the ticket id.
func (s *Store) GetTicket(ctx context.Context, id string) (store.Ticket, error) {
	t, err := scanTicket(s.db.R.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM tickets WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Ticket{}, fmt.Errorf("ticket: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Ticket{}, fmt.Errorf("sqlite: read ticket: %w", err)
	}
	return t, nil
}

// TakeTicket implements store.SupportStore: read and delete in one statement, so a ticket is used at
// most once even under concurrent submissions.
func (s *Store) TakeTicket(ctx context.Context, id string) (store.Ticket, error) {
	var t store.Ticket
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = scanTicket(tx.QueryRowContext(ctx, `DELETE FROM tickets WHERE id = ? RETURNING `+ticketCols, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("ticket: %w", store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: take ticket: %w", err)
		}
		return nil
	})
	if err != nil {
		return store.Ticket{}, err
	}
	return t, nil
}

// --- jobs ---

const jobCols = `id, type, status, user_id, client_id, connection_id, connection, format, max_users, fields,
	created_at, file_token, exported`

func jobValues(j store.Job) ([]any, error) {
	fields, err := jsonText("job fields", j.Fields)
	if err != nil {
		return nil, err
	}
	return []any{j.ID, j.Type, j.Status, j.UserID, j.ClientID, j.ConnectionID, j.Connection, j.Format, j.Limit,
		fields, millis(j.CreatedAt), j.FileToken, j.Exported}, nil
}

func scanJob(r rowScanner) (store.Job, error) {
	var (
		j       store.Job
		fields  sql.NullString
		created int64
	)
	if err := r.Scan(&j.ID, &j.Type, &j.Status, &j.UserID, &j.ClientID, &j.ConnectionID, &j.Connection, &j.Format,
		&j.Limit, &fields, &created, &j.FileToken, &j.Exported); err != nil {
		return store.Job{}, err
	}
	j.Fields, j.CreatedAt = rawJSON(fields), fromMillis(created)
	return j, nil
}

// CreateJob implements store.SupportStore.
func (s *Store) CreateJob(ctx context.Context, j store.Job) error {
	vals, err := jobValues(j)
	if err != nil {
		return err
	}
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO jobs (`+jobCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, vals...)
		return mapErr(fmt.Sprintf("create job %q", j.ID), err)
	})
}

// GetJob implements store.SupportStore.
func (s *Store) GetJob(ctx context.Context, id string) (store.Job, error) {
	j, err := scanJob(s.db.R.QueryRowContext(ctx, `SELECT `+jobCols+` FROM jobs WHERE id = ?`, id))
	return j, notFound(err, "job", id)
}

// UpdateJob implements store.SupportStore; the id cannot change.
func (s *Store) UpdateJob(ctx context.Context, id string, fn func(old store.Job) (store.Job, error)) (store.Job, error) {
	var out store.Job
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		old, err := scanJob(tx.QueryRowContext(ctx, `SELECT `+jobCols+` FROM jobs WHERE id = ?`, id))
		if err != nil {
			return notFound(err, "job", id)
		}
		j, err := fn(old)
		if err != nil {
			return err
		}
		j.ID = id
		vals, err := jobValues(j)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET type = ?, status = ?, user_id = ?, client_id = ?,
			connection_id = ?, connection = ?, format = ?, max_users = ?, fields = ?, created_at = ?, file_token = ?,
			exported = ? WHERE id = ?`, append(vals[1:], id)...); err != nil {
			return mapErr(fmt.Sprintf("update job %q", id), err)
		}
		out = j
		return nil
	})
	return out, err
}

// PutJobFile implements store.SupportStore.
func (s *Store) PutJobFile(ctx context.Context, jobID string, data []byte) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO job_files (job_id, data) VALUES (?, ?)
			ON CONFLICT (job_id) DO UPDATE SET data = excluded.data`, jobID, data)
		return mapErr(fmt.Sprintf("put job file %q", jobID), err)
	})
}

// GetJobFile implements store.SupportStore.
func (s *Store) GetJobFile(ctx context.Context, jobID string) ([]byte, error) {
	var b []byte
	err := s.db.R.QueryRowContext(ctx, `SELECT data FROM job_files WHERE job_id = ?`, jobID).Scan(&b)
	return b, notFound(err, "job file", jobID)
}

// --- clients and grants ---

// DeleteClient implements store.SupportStore; the grants go with it (foreign key).
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, "client", id, `DELETE FROM clients WHERE client_id = ?`, id)
	})
}

// ListClientGrants implements store.SupportStore.
func (s *Store) ListClientGrants(ctx context.Context) ([]store.ClientGrant, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+grantCols+` FROM client_grants ORDER BY client_id, audience`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list client grants: %w", err)
	}
	defer rows.Close()
	out := []store.ClientGrant{}
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read client grant: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// DeleteClientGrant implements store.SupportStore.
func (s *Store) DeleteClientGrant(ctx context.Context, id string) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, "client grant", id, `DELETE FROM client_grants WHERE id = ?`, id)
	})
}
