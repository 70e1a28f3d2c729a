// Package authz decides what a staff member may do: the built-in roles, the actions each allows, the
// mapping from an identity provider's group or role claim to those roles, and the optional per-role
// metadata write policy. Every decision is made server-side; the UI only hides what this refuses.
package authz

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Role is a built-in staff role. Each role includes everything the roles below it may do.
type Role string

const (
	None     Role = ""
	Viewer   Role = "viewer"   // read users, metadata, logs
	Helpdesk Role = "helpdesk" // viewer + tickets, verification emails, unblock, MFA reset, revoke sessions
	Agent    Role = "agent"    // helpdesk + create, edit profile and metadata, block, roles
	Admin    Role = "admin"    // agent + delete, audit export, staff sessions
)

var rank = map[Role]int{None: 0, Viewer: 1, Helpdesk: 2, Agent: 3, Admin: 4}

// ParseRole accepts a role name in any case.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := rank[r]; !ok || r == None {
		return None, fmt.Errorf("unknown role %q (want viewer, helpdesk, agent or admin)", s)
	}
	return r, nil
}

// AtLeast reports whether r includes everything min may do.
func (r Role) AtLeast(min Role) bool { return rank[r] >= rank[min] && r != None }

// Action is something a staff member does through Userdesk.
type Action string

const (
	ReadUsers      Action = "users.read"
	ReadLogs       Action = "logs.read"
	ReadAudit      Action = "audit.read"
	SendTicket     Action = "user.password_ticket"
	SendVerify     Action = "user.verification_email"
	Unblock        Action = "user.unblock"
	ResetMFA       Action = "user.mfa_reset"
	RevokeSessions Action = "user.sessions_revoke"
	CreateUser     Action = "user.create"
	EditProfile    Action = "user.profile_update"
	EditMetadata   Action = "user.metadata_update"
	Block          Action = "user.block"
	AssignRoles    Action = "user.roles_update"
	DeleteUser     Action = "user.delete"
	ExportAudit    Action = "audit.export"
	StaffSessions  Action = "staff.sessions"
)

// minimum is the least role that may perform each action.
var minimum = map[Action]Role{
	ReadUsers: Viewer, ReadLogs: Viewer, ReadAudit: Viewer,
	SendTicket: Helpdesk, SendVerify: Helpdesk, Unblock: Helpdesk, ResetMFA: Helpdesk, RevokeSessions: Helpdesk,
	CreateUser: Agent, EditProfile: Agent, EditMetadata: Agent, Block: Agent, AssignRoles: Agent,
	DeleteUser: Admin, ExportAudit: Admin, StaffSessions: Admin,
}

// Actions lists every action, sorted.
func Actions() []Action {
	out := make([]Action, 0, len(minimum))
	for a := range minimum {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// MinimumRole returns the least role allowed to perform a; None for an unknown action.
func MinimumRole(a Action) Role { return minimum[a] }

// Allows reports whether role r may perform a. Unknown actions are refused (fail closed).
func (r Role) Allows(a Action) bool {
	min, ok := minimum[a]
	return ok && r.AtLeast(min)
}

// Mapping turns the values of the identity provider's group/role claim into a Userdesk role.
type Mapping struct {
	// Claim is the ID token (or proxy assertion) claim that holds groups or roles.
	Claim string
	// Groups maps a claim value to a role; a staff member gets the highest role of their values.
	Groups map[string]Role
}

// ParseMapping reads "group=role,group=role" (for example
// "support-admins=admin,support=agent,helpdesk=helpdesk"). Values may themselves be role names, which
// map to that role when not listed ("admin" → admin), so an IdP that emits Userdesk's role names
// directly needs no mapping.
func ParseMapping(claim, spec string) (Mapping, error) {
	m := Mapping{Claim: claim, Groups: map[string]Role{}}
	var errs []error
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		group, role, ok := strings.Cut(part, "=")
		if !ok || strings.TrimSpace(group) == "" {
			errs = append(errs, fmt.Errorf("role mapping %q is not group=role", part))
			continue
		}
		r, err := ParseRole(role)
		if err != nil {
			errs = append(errs, fmt.Errorf("role mapping %q: %w", part, err))
			continue
		}
		m.Groups[strings.TrimSpace(group)] = r
	}
	return m, errors.Join(errs...)
}

// Resolve returns the highest role the claim values map to, or None: a staff member who maps to no
// role may not sign in.
func (m Mapping) Resolve(values []string) Role {
	best := None
	for _, v := range values {
		r, ok := m.Groups[v]
		if !ok {
			if pr, err := ParseRole(v); err == nil {
				r, ok = pr, true
			}
		}
		if ok && rank[r] > rank[best] {
			best = r
		}
	}
	return best
}

// MetadataPolicy limits which top-level metadata keys each role may change. An empty policy lets every
// role that may edit metadata change every key.
type MetadataPolicy struct {
	rules []metadataRule
}

type metadataRule struct {
	object string // "user_metadata" or "app_metadata"
	key    string // a top-level key, or "*"
	min    Role   // None = nobody
}

// ParseMetadataPolicy reads rules "object.key=role" separated by commas, where key may be "*" and
// role may be "nobody": "app_metadata.plan=agent,app_metadata.roles=nobody,app_metadata.*=admin".
// The most specific rule wins (an exact key over "*"); keys no rule covers follow EditMetadata.
func ParseMetadataPolicy(spec string) (MetadataPolicy, error) {
	var p MetadataPolicy
	var errs []error
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		path, role, ok := strings.Cut(part, "=")
		obj, key, ok2 := strings.Cut(strings.TrimSpace(path), ".")
		if !ok || !ok2 || (obj != "user_metadata" && obj != "app_metadata") || key == "" {
			errs = append(errs, fmt.Errorf("metadata rule %q is not user_metadata.key=role or app_metadata.key=role", part))
			continue
		}
		r := None
		if strings.TrimSpace(strings.ToLower(role)) != "nobody" {
			var err error
			if r, err = ParseRole(role); err != nil {
				errs = append(errs, fmt.Errorf("metadata rule %q: %w", part, err))
				continue
			}
		}
		p.rules = append(p.rules, metadataRule{object: obj, key: key, min: r})
	}
	return p, errors.Join(errs...)
}

// MayChange reports whether role r may change (add, modify or delete) the top-level key of object
// ("user_metadata" or "app_metadata").
func (p MetadataPolicy) MayChange(r Role, object, key string) bool {
	if !r.Allows(EditMetadata) {
		return false
	}
	var exact, wild *metadataRule
	for i := range p.rules {
		rule := &p.rules[i]
		if rule.object != object {
			continue
		}
		switch rule.key {
		case key:
			exact = rule
		case "*":
			wild = rule
		}
	}
	rule := exact
	if rule == nil {
		rule = wild
	}
	if rule == nil {
		return true
	}
	return rule.min != None && r.AtLeast(rule.min)
}

// Forbidden returns the keys of changed (per object) that r may not change, sorted, as
// "object.key"; empty when the edit is allowed.
func (p MetadataPolicy) Forbidden(r Role, changed map[string][]string) []string {
	var out []string
	for object, keys := range changed {
		for _, k := range keys {
			if !p.MayChange(r, object, k) {
				out = append(out, object+"."+k)
			}
		}
	}
	slices.Sort(out)
	return out
}
