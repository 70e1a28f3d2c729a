package views

import (
	"slices"
	"strconv"
)

// UserShell is what every section of the user page shares: the heading, the messages, the action
// bar and the section tabs.
type UserShell struct {
	ID      string
	Heading string
	Picture string // an https URL or ""
	Blocked bool
	Flash   string
	Warning string
	// Ticket is a password-change ticket URL just created, shown once to copy; "" otherwise.
	Ticket string
	// RecoveryCode is an MFA recovery code just created, shown once to pass on; "" otherwise.
	RecoveryCode  string
	ScopesProblem string // why the service account's permissions could not be read, or ""
	Tabs          []Tab
	Actions       []ActionLink
}

// Tab is one section link; Current marks the section shown (aria-current="page").
type Tab struct {
	ID      string
	Label   string
	URL     string
	Current bool
}

// ActionLink is a button to an action's form. Disabled, when set, is why it cannot be used (the
// service account lacks a scope); the button is then rendered disabled with that sentence.
type ActionLink struct {
	ID       string
	Label    string
	URL      string
	Disabled string
	Danger   bool
}

// SignInPanel is the "Why can't this user sign in?" panel.
type SignInPanel struct {
	Findings []PanelFinding
}

// PanelFinding is one sentence of the panel with the button to its fix ("" URL: no fix).
type PanelFinding struct {
	Sentence string
	FixLabel string
	FixURL   string
	Disabled string // the fix's action is unavailable: why
}

// BlockRow is one brute-force block.
type BlockRow struct {
	Identifier string
	IP         string
	Connection string
}

// ProfileSection is the Profile tab: the profile fields, the identities, the metadata (read-only
// here), the sign-in panel, brute-force blocks and the user's audit entries.
type ProfileSection struct {
	Detail        UserDetail
	Panel         SignInPanel
	Blocks        []BlockRow
	BlocksProblem string
}

// RoleRow is one role of the user.
type RoleRow struct {
	ID          string
	Name        string
	Description string
	RemoveURL   string // the confirmation page, "" when the staff member may not remove roles
}

// RolesSection is the Roles tab with its role picker.
type RolesSection struct {
	Rows      []RoleRow
	Problem   string
	CanAssign bool   // the role may assign roles
	AssignURL string // POST target of the picker
	// RemoveURL is the confirmation page of removing the roles ticked in the table (GET, one role
	// parameter each); "" when roles cannot be removed.
	RemoveURL     string
	Disabled      string // the service account lacks the scope: why
	Picker        []Option
	PickerProblem string
	Reason        string
	ReasonNeeded  bool
	Errors        map[string]string
	// Orgs are the organizations the user is a member of; OrgsProblem says why they could not be read.
	Orgs        []OrgRow
	OrgsProblem string
}

// OrgRow is one organization the user is a member of.
type OrgRow struct {
	ID          string
	Name        string
	DisplayName string
}

// LogRow is one log event of the user.
type LogRow struct {
	Date        string
	Type        string // in words
	Code        string // Auth0's code
	Description string
	Client      string
	IP          string
	Failure     bool
}

// LogsSection is the Logs tab.
type LogsSection struct {
	Rows    []LogRow
	Problem string
}

// SessionRow is one Auth0 session of the user.
type SessionRow struct {
	ID       string
	Created  string
	LastSeen string
	Expires  string
	Device   string // last user agent
	IP       string
	Clients  string
	Methods  string
	// RevokeURL is the page that signs this one session out ("" when the role may not);
	// RevokeDisabled says why the service account cannot (the link is then not offered).
	RevokeURL      string
	RevokeDisabled string
}

// TokenRow is one refresh token (never its value).
type TokenRow struct {
	ID       string
	Client   string
	Created  string
	Expires  string
	Session  string
	Rotating bool
}

// MethodRow is one authentication method.
type MethodRow struct {
	ID        string
	Type      string
	Name      string // name, masked email or phone
	Confirmed bool
	Created   string
	LastUsed  string
}

// SessionsSection is the Sessions & devices tab.
type SessionsSection struct {
	// CanRevoke: the staff member's role may sign sessions out (the rows get a "Sign out" column).
	CanRevoke       bool
	Sessions        []SessionRow
	SessionsProblem string
	Tokens          []TokenRow
	TokensProblem   string
	Methods         []MethodRow
	MethodsProblem  string
	// RecoveryCodeURL is the page that replaces the user's MFA recovery code ("" when the role may
	// not); RecoveryCodeDisabled says why the service account cannot.
	RecoveryCodeURL      string
	RecoveryCodeDisabled string
}

// RawSection is the Raw JSON tab.
type RawSection struct {
	JSON string
}

// FormField is one input of an action form. Type is text, email, tel, url, password, radio,
// checkbox, select or hidden.
type FormField struct {
	Name         string
	Label        string
	Type         string
	Value        string
	Hint         string
	Hints        []string // a list under the field (the password policy)
	Options      []Option // radio and select
	Checked      bool     // checkbox
	Autocomplete string
}

// ActionForm is an action's page: the form, or the confirmation step of a destructive action. It is
// re-rendered with the input, the messages next to the fields and an error summary on failure.
type ActionForm struct {
	Heading   string // e.g. "Block user"
	User      string // the user's email or id
	UserURL   string
	Intro     []string // what the action will do
	ActionURL string
	SubmitID  string
	Submit    string
	Danger    bool
	// Disabled is why the action cannot be performed (a missing scope); the submit is then disabled.
	Disabled       string
	Fields         []FormField
	Reason         string
	ReasonRequired bool
	Errors         map[string]string
	Message        string
	// Labels maps field names to labels for the error summary.
	Labels map[string]string
}

func itoa(i int) string { return strconv.Itoa(i) }

func radioID(name string, i int) string { return name + "-" + strconv.Itoa(i) }

// sortedKeys orders the error summary by field name, so the page is stable.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func labelFor(labels map[string]string, field string) string {
	if l, ok := labels[field]; ok {
		return l
	}
	return field
}

// autocomplete is off except for new passwords, which password managers should not fill in with the
// staff member's own.
func autocomplete(f FormField) string {
	if f.Autocomplete != "" {
		return f.Autocomplete
	}
	return "off"
}
