package tenant

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// Setting keys.
const (
	settingServiceClient = "tenant.service_client_id"
	settingStaffClient   = "tenant.staff_client_id"
	settingDemoPassword  = "tenant.demo_password"
)

// setup runs on every Open: the first-start seed, then the objects Userdesk needs, brought in line
// with the configuration.
func (t *Tenant) setup(ctx context.Context, cfg Config) error {
	seeded := false
	if cfg.Seed {
		conns, err := t.store.ListConnections(ctx)
		if err != nil {
			return fmt.Errorf("tenant: list connections: %w", err)
		}
		if len(conns) == 0 {
			if err := t.seedDemo(ctx); err != nil {
				return fmt.Errorf("tenant: seed: %w", err)
			}
			seeded = true
		}
	}
	if err := t.ensureManagementAPI(ctx); err != nil { // support_seed.go
		return fmt.Errorf("tenant: management API resource server: %w", err)
	}
	if err := t.ensureServiceAccount(ctx, cfg.ServiceClientID, cfg.ServiceClientSecret); err != nil {
		return fmt.Errorf("tenant: service account: %w", err)
	}
	if err := t.ensureStaffApp(ctx, cfg.StaffCallbackURLs); err != nil {
		return fmt.Errorf("tenant: staff app: %w", err)
	}
	if err := t.ensureStaffConnection(ctx); err != nil {
		return fmt.Errorf("tenant: staff connection: %w", err)
	}
	if err := t.ensureDemoStaff(ctx, cfg.DemoPassword); err != nil {
		return fmt.Errorf("tenant: demo staff: %w", err)
	}
	if seeded {
		if err := t.seedSupport(ctx); err != nil { // support_seed.go
			return fmt.Errorf("tenant: seed support data: %w", err)
		}
		if err := t.seedOrganizations(ctx); err != nil { // organizations_seed.go
			return fmt.Errorf("tenant: seed organizations: %w", err)
		}
	}
	return nil
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomString returns n uniformly random characters of alphabet (crypto/rand, rejection sampling).
func randomString(n int, alphabet string) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n)
	for len(out) < n {
		_, _ = rand.Read(buf) // never fails (Go 1.24+)
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func newClientID() string     { return randomString(32, alnum) }
func newClientSecret() string { return randomString(64, secretAlphabet) }
func newConnectionID() string { return "con_" + randomString(16, alnum) }
func newGrantID() string      { return "cgr_" + randomString(16, alnum) }

// ensureClient loads the client whose id is fixedID, or else the one remembered under setting, or
// creates it; then makes it match want (name, type, grant types, callbacks, and the secret when
// fixedSecret is set) and remembers its id.
func (t *Tenant) ensureClient(ctx context.Context, setting, fixedID, fixedSecret string, want store.Client) (store.Client, error) {
	id := fixedID
	if id == "" {
		s, err := t.store.GetSetting(ctx, setting)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.Client{}, err
		}
		id = s
	}
	var c store.Client
	var err error
	if id != "" {
		c, err = t.store.GetClient(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.Client{}, err
		}
	}
	if id == "" || errors.Is(err, store.ErrNotFound) {
		c = want
		c.ClientID = firstNonEmpty(id, newClientID())
		c.ClientSecret = firstNonEmpty(fixedSecret, newClientSecret())
		if err := t.store.CreateClient(ctx, c); err != nil {
			return store.Client{}, err
		}
	} else {
		c, err = t.store.UpdateClient(ctx, id, func(old store.Client) (store.Client, error) {
			old.Name, old.AppType, old.GrantTypes, old.Callbacks = want.Name, want.AppType, want.GrantTypes, want.Callbacks
			if fixedSecret != "" {
				old.ClientSecret = fixedSecret
			}
			return old, nil
		})
		if err != nil {
			return store.Client{}, err
		}
	}
	return c, t.store.PutSetting(ctx, setting, c.ClientID)
}

// ensureServiceAccount makes the M2M client and its Management API grant (scopes: at least
// allScopes) exist.
func (t *Tenant) ensureServiceAccount(ctx context.Context, fixedID, fixedSecret string) error {
	if (fixedID == "") != (fixedSecret == "") {
		return errors.New("ServiceClientID and ServiceClientSecret must be set together")
	}
	c, err := t.ensureClient(ctx, settingServiceClient, fixedID, fixedSecret, store.Client{
		Name: serviceAccountName, AppType: "non_interactive", GrantTypes: []string{"client_credentials"},
	})
	if err != nil {
		return err
	}
	t.serviceID, t.serviceSecret = c.ClientID, c.ClientSecret
	return t.ensureGrant(ctx, c.ClientID, allScopes)
}

// ensureGrant gives clientID a grant for the Management audience with at least scopes.
func (t *Tenant) ensureGrant(ctx context.Context, clientID string, scopes []string) error {
	g, err := t.store.GetClientGrant(ctx, clientID, t.audience)
	if errors.Is(err, store.ErrNotFound) {
		return t.store.CreateClientGrant(ctx, store.ClientGrant{
			ID: newGrantID(), ClientID: clientID, Audience: t.audience, Scope: slices.Clone(scopes),
		})
	}
	if err != nil {
		return err
	}
	missing := slices.DeleteFunc(slices.Clone(scopes), func(s string) bool { return slices.Contains(g.Scope, s) })
	if len(missing) == 0 {
		return nil
	}
	_, err = t.store.UpdateClientGrant(ctx, g.ID, func(old store.ClientGrant) (store.ClientGrant, error) {
		old.Scope = append(old.Scope, missing...)
		return old, nil
	})
	return err
}

// ensureStaffApp makes the staff OIDC app exist with exactly the configured callbacks.
func (t *Tenant) ensureStaffApp(ctx context.Context, callbacks []string) error {
	for _, cb := range callbacks {
		u, err := url.Parse(cb)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
			return fmt.Errorf("staff callback %q must be an absolute http(s) URL without fragment", cb)
		}
	}
	c, err := t.ensureClient(ctx, settingStaffClient, "", "", store.Client{
		Name: staffAppName, AppType: "regular_web", GrantTypes: []string{"authorization_code"},
		Callbacks: slices.Clone(callbacks),
	})
	if err != nil {
		return err
	}
	t.staffID, t.staffSecret = c.ClientID, c.ClientSecret
	return nil
}

// ensureStaffConnection makes the staff database connection exist, enabled for the staff app only.
func (t *Tenant) ensureStaffConnection(ctx context.Context) error {
	c, err := t.store.GetConnectionByName(ctx, StaffConnection)
	if errors.Is(err, store.ErrNotFound) {
		return t.store.CreateConnection(ctx, store.Connection{
			ID: newConnectionID(), Name: StaffConnection, Strategy: "auth0",
			Options:        []byte(`{"passwordPolicy":"good","password_complexity_options":{"min_length":8},"brute_force_protection":true,"strategy_version":2}`),
			EnabledClients: []string{t.staffID}, Realms: []string{StaffConnection},
		})
	}
	if err != nil {
		return err
	}
	if slices.Equal(c.EnabledClients, []string{t.staffID}) {
		return nil
	}
	_, err = t.store.UpdateConnection(ctx, c.ID, func(old store.Connection) (store.Connection, error) {
		old.EnabledClients = []string{t.staffID}
		return old, nil
	})
	return err
}

// ensureDemoStaff makes the demo staff member exist in the staff connection with app_metadata roles
// ["admin"] and the configured (or once generated and stored) password.
func (t *Tenant) ensureDemoStaff(ctx context.Context, password string) error {
	if password == "" {
		s, err := t.store.GetSetting(ctx, settingDemoPassword)
		switch {
		case errors.Is(err, store.ErrNotFound):
			// Four character classes, so it passes any password policy.
			s = "Ud-" + randomString(16, alnum) + "-7a"
			if err := t.store.PutSetting(ctx, settingDemoPassword, s); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		password = s
	}
	t.demoPassword = password
	users, err := t.store.UsersByEmail(ctx, t.demoEmail)
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.Connection != StaffConnection {
			continue
		}
		if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) == nil {
			return nil
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(password), t.cost)
		if err != nil {
			return err
		}
		now := t.now().UTC().Truncate(time.Millisecond)
		_, err = t.store.UpdateUser(ctx, u.ID, func(old store.User) (store.User, error) {
			old.PasswordHash, old.LastPasswordReset, old.UpdatedAt = string(hash), &now, now
			return old, nil
		})
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), t.cost)
	if err != nil {
		return err
	}
	now := t.now().UTC().Truncate(time.Millisecond)
	u := store.User{
		ID: "auth0|" + newObjectID(), Connection: StaffConnection, Provider: "auth0",
		Email: t.demoEmail, EmailVerified: true, Name: "Demo Admin", GivenName: "Demo", FamilyName: "Admin",
		PasswordHash: string(hash), AppMetadata: []byte(`{"roles":["admin"]}`),
		CreatedAt: now, UpdatedAt: now,
	}
	applyProfileDefaults(&u)
	return t.store.CreateUser(ctx, u)
}
