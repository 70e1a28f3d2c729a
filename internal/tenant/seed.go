package tenant

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// Demo data written on first start (Config.Seed). The generator is seeded with a constant, so every
// fresh tenant gets the same people, ids and metadata; timestamps are spread over the two years before
// the first start.

const (
	demoDatabaseUsers = 250
	demoGoogleUsers   = 50
)

var (
	demoFirstNames = []string{"Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "Elijah",
		"Isabella", "Lucas", "Mia", "Mateo", "Amelia", "Levi", "Harper", "Ethan", "Zoë", "José", "Chloé",
		"Hiroshi", "Aiko", "Priya", "Arjun", "Fatima", "Omar", "Ingrid", "Lars", "Sione", "Wei", "Mei",
		"Kwame", "Amara", "Dmitri", "Svetlana", "Siobhán", "Pádraig", "Lucía", "Andrés", "Nora", "Émile"}
	demoLastNames = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
		"Rodriguez", "Martinez", "Hernández", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
		"Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Nakamura", "Tanaka",
		"Patel", "Sharma", "Okafor", "Mensah", "Ivanova", "Novak", "O'Brien", "Müller", "Schmidt",
		"Rossi", "Dubois", "Lindqvist", "Ångström"}
	demoDomains   = []string{"example.com", "example.org", "example.net", "acme.example", "globex.example", "initech.example", "umbrella.example"}
	demoLanguages = []string{"en", "en", "en", "es", "fr", "de", "ja", "pt-BR", "hi"}
	demoThemes    = []string{"light", "dark", "system"}
	demoCities    = []struct{ City, Country, Postal string }{
		{"London", "GB", "EC1A 1BB"}, {"Berlin", "DE", "10115"}, {"Paris", "FR", "75001"},
		{"New York", "US", "10001"}, {"Austin", "US", "73301"}, {"Tokyo", "JP", "100-0001"},
		{"São Paulo", "BR", "01000-000"}, {"Mumbai", "IN", "400001"}, {"Lagos", "NG", "100001"},
		{"Sydney", "AU", "2000"}, {"Toronto", "CA", "M5H 2N2"}, {"Dublin", "IE", "D02 X285"},
	}
	demoPlans = []string{"free", "free", "free", "pro", "pro", "business", "enterprise"}
	demoTiers = map[string]string{"free": "standard", "pro": "standard", "business": "priority", "enterprise": "premium"}
)

// seedDemo creates the demo connections and about 300 end users.
func (t *Tenant) seedDemo(ctx context.Context) error {
	now := t.now().UTC().Truncate(time.Millisecond)
	for _, c := range []store.Connection{
		{
			ID: newConnectionID(), Name: DatabaseConnection, Strategy: "auth0", Realms: []string{DatabaseConnection},
			// The options of the recorded default connection (TestUserManager_Unlink), trimmed.
			Options: json.RawMessage(`{"mfa":{"active":true,"return_enroll_settings":true},"validation":{"username":{"max":15,"min":1}},"import_mode":false,"passwordPolicy":"good","password_history":{"size":5,"enable":false},"strategy_version":2,"requires_username":true,"password_dictionary":{"enable":false},"brute_force_protection":true,"password_no_personal_info":{"enable":false},"password_complexity_options":{"min_length":8},"enabledDatabaseCustomization":false}`),
		},
		{
			ID: newConnectionID(), Name: GoogleConnection, Strategy: "google-oauth2", Realms: []string{GoogleConnection},
			Options: json.RawMessage(`{"email":true,"profile":true,"scope":["email","profile"]}`),
		},
	} {
		if err := t.store.CreateConnection(ctx, c); err != nil {
			return err
		}
	}
	// Demo end users never sign in here, so they share one hash of a random, unknown password
	// (hashing 250 passwords would slow the first start by seconds).
	hash, err := bcrypt.GenerateFromPassword([]byte(randomToken(24)), t.cost)
	if err != nil {
		return err
	}
	users := demoUsers(now, string(hash))
	if err := t.store.CreateUsers(ctx, users); err != nil {
		return err
	}
	t.log.InfoContext(ctx, "tenant: seeded demo data", "users", len(users))
	return nil
}

// demoUsers generates the deterministic demo population.
func demoUsers(now time.Time, passwordHash string) []store.User {
	rng := rand.New(rand.NewPCG(20240601, 7))
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	emails := map[string]bool{}
	usernames := map[string]bool{}
	users := make([]store.User, 0, demoDatabaseUsers+demoGoogleUsers)
	const span = 2 * 365 * 24 * time.Hour

	for i := range demoDatabaseUsers + demoGoogleUsers {
		social := i >= demoDatabaseUsers
		first, last := pick(demoFirstNames), pick(demoLastNames)
		domain := pick(demoDomains)
		if social {
			domain = "gmail.com"
		}
		local := asciiFold(strings.ToLower(first)) + "." + asciiFold(strings.ToLower(last))
		email := local + "@" + domain
		for n := 2; emails[email]; n++ {
			email = fmt.Sprintf("%s%d@%s", local, n, domain)
		}
		emails[email] = true

		created := now.Add(-time.Duration(rng.Int64N(int64(span)))).Truncate(time.Millisecond)
		u := store.User{
			Email: email, CreatedAt: created, UpdatedAt: created,
			EmailVerified: social || rng.IntN(100) < 85,
		}
		if social {
			u.ID = fmt.Sprintf("google-oauth2|1%010d%010d", rng.IntN(1e10), rng.IntN(1e10))
			u.Connection, u.Provider, u.IsSocial = GoogleConnection, "google-oauth2", true
			u.GivenName, u.FamilyName = first, last
			u.Name, u.Nickname = first+" "+last, asciiFold(strings.ToLower(first))
		} else {
			b := make([]byte, 12)
			for j := range b {
				b[j] = byte(rng.IntN(256))
			}
			u.ID = "auth0|" + hex.EncodeToString(b)
			u.Connection, u.Provider = DatabaseConnection, "auth0"
			u.PasswordHash = passwordHash
			un := asciiFold(strings.ToLower(first[:1] + last))
			un = strings.Map(func(r rune) rune {
				if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, un)
			if len(un) > 12 {
				un = un[:12]
			}
			for n := 2; usernames[un]; n++ {
				un = fmt.Sprintf("%s%d", strings.TrimRight(un, "0123456789"), n)
			}
			usernames[un] = true
			u.Username = un
			if rng.IntN(100) < 65 {
				u.GivenName, u.FamilyName, u.Name = first, last, first+" "+last
			}
			if rng.IntN(100) < 30 {
				u.PhoneNumber = fmt.Sprintf("+1555%07d", rng.IntN(1e7))
				v := rng.IntN(2) == 0
				u.PhoneVerified = &v
			}
		}
		applyProfileDefaults(&u)

		switch r := rng.IntN(100); {
		case r < 5:
			b := true
			u.Blocked = &b
		case r < 20:
			b := false // unblocked by an admin at some point: the key is present
			u.Blocked = &b
		}
		if rng.IntN(100) >= 15 {
			u.LoginsCount = 1 + int(rng.ExpFloat64()*40)
			ll := created.Add(time.Duration(rng.Int64N(int64(now.Sub(created)) + 1))).Truncate(time.Millisecond)
			u.LastLogin = &ll
			u.LastIP = fmt.Sprintf("%s.%d", pick([]string{"203.0.113", "198.51.100", "192.0.2"}), 1+rng.IntN(254))
			u.UpdatedAt = ll
		}
		if !social && rng.IntN(100) < 10 {
			pr := created.Add(time.Duration(rng.Int64N(int64(now.Sub(created)) + 1))).Truncate(time.Millisecond)
			u.LastPasswordReset = &pr
			if pr.After(u.UpdatedAt) {
				u.UpdatedAt = pr
			}
		}
		if rng.IntN(100) < 80 {
			u.UserMetadata = demoUserMetadata(rng)
		}
		if rng.IntN(100) < 90 {
			u.AppMetadata = demoAppMetadata(rng, i)
		}
		users = append(users, u)
	}
	return users
}

func demoUserMetadata(rng *rand.Rand) json.RawMessage {
	md := map[string]any{
		"preferences": map[string]any{
			"language":   demoLanguages[rng.IntN(len(demoLanguages))],
			"theme":      demoThemes[rng.IntN(len(demoThemes))],
			"newsletter": rng.IntN(2) == 0,
		},
	}
	if rng.IntN(100) < 60 {
		c := demoCities[rng.IntN(len(demoCities))]
		md["address"] = map[string]any{"city": c.City, "country": c.Country, "postal_code": c.Postal}
	}
	if rng.IntN(100) < 20 {
		md["timezone"] = []string{"Europe/London", "America/New_York", "Asia/Tokyo", "Europe/Berlin"}[rng.IntN(4)]
	}
	b, _ := marshal(md) // maps of strings, numbers and bools always encode
	return b
}

func demoAppMetadata(rng *rand.Rand, i int) json.RawMessage {
	plan := demoPlans[rng.IntN(len(demoPlans))]
	roles := []string{"customer"}
	if rng.IntN(100) < 10 {
		roles = append(roles, "beta_tester")
	}
	if plan == "business" || plan == "enterprise" {
		if rng.IntN(100) < 40 {
			roles = append(roles, "billing_admin")
		}
	}
	md := map[string]any{
		"plan": plan, "roles": roles, "support_tier": demoTiers[plan],
		"account_id": fmt.Sprintf("acct_%05d", 10000+i),
	}
	if rng.IntN(100) < 15 {
		md["flags"] = map[string]any{"early_access": true, "max_projects": 5 + rng.IntN(20)}
	}
	b, _ := marshal(md)
	return b
}

// asciiFold maps the accented letters of the demo names to ASCII for email local parts.
func asciiFold(s string) string {
	r := strings.NewReplacer("ë", "e", "é", "e", "è", "e", "á", "a", "à", "a", "å", "a", "ä", "a",
		"ö", "o", "ó", "o", "ü", "u", "ú", "u", "í", "i", "ñ", "n", "ç", "c", "'", "")
	return r.Replace(s)
}
