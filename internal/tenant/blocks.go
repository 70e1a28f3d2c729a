package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// Brute-force protection and the user-blocks endpoints (contract §5.6), and the sign-in log events.

// bruteForceThreshold is how many consecutive failed sign-ins of one account from one IP create a
// block: Auth0's brute-force protection default, 10 attempts.
const bruteForceThreshold = 10

// Session lifetimes of sign-ins on the tenant's page: Auth0's defaults (3 days idle, 30 days absolute).
const (
	sessionIdleTTL     = 72 * time.Hour
	sessionAbsoluteTTL = 30 * 24 * time.Hour
)

var errBruteForceBlocked = errors.New("account blocked by brute-force protection")

// signIn checks email and password for a sign-in to clientID, as checkPassword does, and adds
// brute-force protection and the log: "fu" for an unknown user, "fp" for a wrong password (counted
// towards a block), "limit_wc" when the count reaches bruteForceThreshold (a block for that
// identifier and IP is created) and "f" for a correct password of a blocked user. Attempts from a
// blocked IP fail with errBruteForceBlocked without checking the password.
func (t *Tenant) signIn(r *http.Request, clientID, email, password string) (store.User, error) {
	ctx := r.Context()
	conns, err := t.store.ListConnections(ctx)
	if err != nil {
		return store.User{}, err
	}
	enabled := map[string]store.Connection{}
	var first *store.Connection
	for i, c := range conns {
		if c.Strategy == "auth0" && slices.Contains(c.EnabledClients, clientID) {
			enabled[c.Name] = c
			if first == nil {
				first = &conns[i]
			}
		}
	}
	var found *store.User
	if email != "" && len(enabled) > 0 {
		us, err := t.store.UsersByEmail(ctx, email)
		if err != nil {
			return store.User{}, err
		}
		for i := range us {
			if _, ok := enabled[us[i].Connection]; ok && us[i].PasswordHash != "" {
				found = &us[i]
				break
			}
		}
	}
	cname := t.clientName(ctx, clientID)
	if found == nil {
		_ = bcrypt.CompareHashAndPassword(t.dummyHash, []byte(password))
		e := requestEvent(r, "fu")
		e.Description, e.ClientID, e.ClientName = strp("Wrong email or password."), strp(clientID), strp(cname)
		e.UserName = strp(email)
		if first != nil {
			e.Connection, e.ConnectionID = strp(first.Name), strp(first.ID)
			e.Strategy, e.StrategyType = strp("auth0"), strp("database")
		}
		t.writeLog(ctx, e)
		return store.User{}, errWrongPassword
	}
	conn := enabled[found.Connection]
	ip := clientIP(r)
	userEvent := func(typ, desc string) store.LogEvent {
		e := requestEvent(r, typ)
		e.Description, e.ClientID, e.ClientName = strp(desc), strp(clientID), strp(cname)
		e.Connection, e.ConnectionID = strp(conn.Name), strp(conn.ID)
		e.UserID, e.UserName = strp(found.ID), strp(email)
		e.Strategy, e.StrategyType = strp("auth0"), strp("database")
		return e
	}
	protected := bruteForceProtected(conn)
	if protected {
		blocks, err := t.store.UserBlocks(ctx, []string{email}, conn.Name)
		if err != nil {
			return store.User{}, err
		}
		if slices.ContainsFunc(blocks, func(b store.UserBlock) bool { return b.IP == ip }) {
			t.writeLog(ctx, userEvent("f", "Blocked: too many failed sign-in attempts from this IP address."))
			return store.User{}, errBruteForceBlocked
		}
	}
	if bcrypt.CompareHashAndPassword([]byte(found.PasswordHash), []byte(password)) != nil {
		t.writeLog(ctx, userEvent("fp", "Wrong email or password."))
		if !protected {
			return store.User{}, errWrongPassword
		}
		n, err := t.store.RecordLoginFailure(ctx, email, ip, conn.Name, t.now())
		if err != nil {
			return store.User{}, err
		}
		if n < bruteForceThreshold {
			return store.User{}, errWrongPassword
		}
		if err := t.store.CreateUserBlock(ctx, store.UserBlock{Identifier: email, IP: ip, Connection: conn.Name,
			CreatedAt: t.now().UTC().Truncate(time.Millisecond)}); err != nil {
			return store.User{}, err
		}
		e := userEvent("limit_wc", "An IP address is blocked because it reached the maximum failed login attempts into a single account.")
		e.Details, _ = marshal(map[string]any{"attempts": n, "ip": ip, "identifier": email})
		t.writeLog(ctx, e)
		return store.User{}, errBruteForceBlocked
	}
	if protected {
		if err := t.store.ClearLoginFailures(ctx, email, ip, conn.Name); err != nil {
			return store.User{}, err
		}
	}
	if found.Blocked != nil && *found.Blocked {
		t.writeLog(ctx, userEvent("f", "user is blocked"))
	}
	return *found, nil
}

// bruteForceProtected reads options.brute_force_protection (Auth0's default for new connections: on).
func bruteForceProtected(c store.Connection) bool {
	var o struct {
		BruteForce *bool `json:"brute_force_protection"`
	}
	_ = json.Unmarshal(c.Options, &o)
	return o.BruteForce == nil || *o.BruteForce
}

// recordSignIn writes the "s" event of a successful sign-in and creates its session.
func (t *Tenant) recordSignIn(r *http.Request, clientID string, u store.User) {
	ctx := r.Context()
	now := t.now().UTC().Truncate(time.Millisecond)
	sess := store.Session{
		ID: randomString(32, alnum), UserID: u.ID, ClientIDs: []string{clientID}, CreatedAt: now, UpdatedAt: now,
		AuthenticatedAt: now, LastInteractedAt: now, IdleExpiresAt: now.Add(sessionIdleTTL),
		ExpiresAt: now.Add(sessionAbsoluteTTL), InitialUserAgent: r.UserAgent(), InitialIP: clientIP(r),
		LastUserAgent: r.UserAgent(), LastIP: clientIP(r),
		AuthMethods: []store.SessionAuthMethod{{Name: "pwd", Timestamp: now}},
	}
	if err := t.store.CreateSession(context.WithoutCancel(ctx), sess); err != nil {
		t.log.ErrorContext(ctx, "tenant: create session", "err", err)
	}
	e := requestEvent(r, "s")
	e.ClientID, e.ClientName = strp(clientID), strp(t.clientName(ctx, clientID))
	if c, err := t.store.GetConnectionByName(ctx, u.Connection); err == nil {
		e.Connection, e.ConnectionID = strp(c.Name), strp(c.ID)
	}
	e.UserID, e.UserName = strp(u.ID), strp(firstNonEmpty(u.Email, u.Username))
	e.Strategy, e.StrategyType = strp("auth0"), strp("database")
	e.Details, _ = marshal(map[string]any{"session_id": sess.ID, "stats": map[string]any{"loginsCount": u.LoginsCount + 1}})
	t.writeLog(ctx, e)
}

// --- /api/v2/user-blocks ---

type blockJSON struct {
	Identifier string `json:"identifier"`
	IP         string `json:"ip"`
	Connection string `json:"connection"`
}

func writeBlocks(w http.ResponseWriter, blocks []store.UserBlock) {
	out := []blockJSON{}
	for _, b := range blocks {
		out = append(out, blockJSON{b.Identifier, b.IP, b.Connection})
	}
	writeJSON(w, http.StatusOK, struct {
		BlockedFor []blockJSON `json:"blocked_for"`
	}{out})
}

// identifiersOf are the identifiers a user can sign in with.
func identifiersOf(u store.User) []string {
	var ids []string
	for _, s := range []string{u.Email, u.Username, u.PhoneNumber} {
		if s != "" {
			ids = append(ids, s)
		}
	}
	return ids
}

// blockParams validates the optional consider_brute_force_enablement flag (GA3) and, for the
// identifier form, the identifier.
func blockParams(r *http.Request, withIdentifier bool) (string, error) {
	v := r.URL.Query()
	allowed := []string{"consider_brute_force_enablement"}
	if withIdentifier {
		allowed = append(allowed, "identifier")
	}
	if err := checkParams(v, allowed...); err != nil {
		return "", err
	}
	if _, err := boolParam(v, "consider_brute_force_enablement", "If true and Brute Force Protection is enabled and configured to block logins, will return a list of blocked IP addresses.", false); err != nil {
		return "", err
	}
	id := strings.TrimSpace(v.Get("identifier"))
	if withIdentifier && id == "" {
		return "", queryError("'Missing required property: identifier' on property identifier (Should be any of a username, phone number, or email.).")
	}
	return id, nil
}

// identifierForms matches an identifier as given and, for emails, lower-cased (stored form).
func identifierForms(id string) []string {
	if lc := strings.ToLower(id); lc != id {
		return []string{id, lc}
	}
	return []string{id}
}

// getUserBlocks is GET /api/v2/user-blocks/{id} (go-auth0 sends a {} body; it is ignored).
func (t *Tenant) getUserBlocks(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if _, err := blockParams(r, false); err != nil {
		return err
	}
	u, err := t.userOr404(r)
	if err != nil {
		return err
	}
	blocks, err := t.store.UserBlocks(r.Context(), identifiersOf(u), u.Connection)
	if err != nil {
		return err
	}
	writeBlocks(w, blocks)
	return nil
}

// deleteUserBlocks is DELETE /api/v2/user-blocks/{id}: 204, and the user may sign in again.
func (t *Tenant) deleteUserBlocks(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if _, err := blockParams(r, false); err != nil {
		return err
	}
	u, err := t.userOr404(r)
	if err != nil {
		return err
	}
	if _, err := t.store.DeleteUserBlocks(r.Context(), identifiersOf(u), u.Connection); err != nil {
		return err
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}

// getBlocksByIdentifier is GET /api/v2/user-blocks?identifier=.
func (t *Tenant) getBlocksByIdentifier(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := blockParams(r, true)
	if err != nil {
		return err
	}
	blocks, err := t.store.UserBlocks(r.Context(), identifierForms(id), "")
	if err != nil {
		return err
	}
	writeBlocks(w, blocks)
	return nil
}

// deleteBlocksByIdentifier is DELETE /api/v2/user-blocks?identifier=: 204.
func (t *Tenant) deleteBlocksByIdentifier(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := blockParams(r, true)
	if err != nil {
		return err
	}
	if _, err := t.store.DeleteUserBlocks(r.Context(), identifierForms(id), ""); err != nil {
		return err
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}
