package views

// Page is what the layout needs: the title, the signed-in staff member and the per-response CSP
// nonce the page's <script> must carry.
type Page struct {
	Title     string
	SignedIn  bool   // show the navigation and the sign-out form
	StaffName string // shown in the header when SignedIn
	StaffRole string // the staff member's Userdesk role, shown next to the name
	CanCreate bool   // show "New user" in the navigation
	// CanReadAudit shows "Audit" and CanStaffSessions "Staff sessions" in the navigation.
	CanReadAudit     bool
	CanStaffSessions bool
	Nonce            string // CSP nonce of this response
	CSSURL           string // stylesheet URL under /static/
	JSURL            string // script URL under /static/
}

// SignIn is the public sign-in page.
type SignIn struct {
	Product  string
	Error    string // a sentence from the fixed list, or ""
	Notice   string // a neutral message (signed out), or ""
	LoginURL string // /auth/login, with a checked return_to when there is one
}

// Identity is one row of a user's identities table.
type Identity struct {
	Connection string
	Provider   string
	UserID     string
	Social     bool
	// UnlinkURL is the page that detaches this linked identity ("" for the account's own identity,
	// or when the role may not); UnlinkDisabled says why the service account cannot.
	UnlinkURL      string
	UnlinkDisabled string
}

// Field is one labelled value of the profile.
type Field struct {
	Label string
	Value string
}

// UserDetail is the user page.
type UserDetail struct {
	ID              string
	Heading         string // name or email
	Picture         string // an https URL or ""
	Blocked         bool
	Flash           string // a sentence from the fixed list, or ""
	Fields          []Field
	Identities      []Identity
	UserMetadata    string // pretty JSON
	AppMetadata     string // pretty JSON
	EditURL         string
	CanEditMetadata bool   // the staff member's role may edit metadata
	Warning         string // a sentence that needs attention (the audit entry failed), or ""
	// Audit is the user's recent audit entries; nil hides the section.
	Audit *UserAudit
}

// UserAudit is the user page's audit section.
type UserAudit struct {
	Rows    []AuditRow
	MoreURL string // /audit?target=<id>
	Message string // why the entries cannot be shown, or ""
}

// NewUserForm is the create-user form, either empty or re-rendered with its errors. The password is
// never part of it: it is not sent back to the browser.
type NewUserForm struct {
	Connections []string // database connection names to choose from
	// UsernameConnections names the connections that require a username; the username field is
	// shown when there is any.
	UsernameConnections []string
	Connection          string
	Email               string
	Username            string
	EmailVerified       bool
	Invite              bool              // create without a password and show a password-change ticket
	Errors              map[string]string // field name → sentence
	Message             string            // a sentence about the whole form, or ""
	// Reason is the reason or ticket reference as typed; ReasonRequired marks the field required.
	Reason         string
	ReasonRequired bool
}

// AuditChange is one changed field of an audit entry, as JSON text ("" = absent on that side).
type AuditChange struct {
	Field  string
	Before string
	After  string
}

// AuditRow is one audit entry as shown.
type AuditRow struct {
	ID            string
	Time          string // UTC, to the second
	Actor         string // email, or subject when there is none
	ActorID       string // issuer and subject, the stable identity
	ActorURL      string // /audit?actor=<subject>, "" without an actor
	Role          string
	IP            string
	Action        string
	Target        string // the target's email, else its id
	TargetID      string
	TargetURL     string // the user page, "" when the target is not an Auth0 user
	Outcome       string // success, failure, denied or unknown
	Upstream      string // Auth0's HTTP status, "" when none
	CorrelationID string
	RequestID     string
	Reason        string
	Detail        string
	Changes       []AuditChange
}

// AuditFilter is the audit page's GET form, as typed.
type AuditFilter struct {
	Actor   string
	Target  string
	Action  string
	Outcome string
	From    string // YYYY-MM-DD, inclusive
	To      string // YYYY-MM-DD, inclusive
	Errors  map[string]string
}

// AuditList is the audit page.
type AuditList struct {
	Filter   AuditFilter
	Actions  []string // the action filter's choices
	Outcomes []string // the outcome filter's choices
	Rows     []AuditRow
	Total    int
	From, To int    // 1-based range of the rows shown
	PrevURL  string // "" on the first page
	NextURL  string // "" on the last page
	CSVURL   string // the CSV export with the same filters; "" when the role may not export
	Message  string
}

// StaffSessionRow is one active staff session.
type StaffSessionRow struct {
	Staff     string // email or name, else subject
	Issuer    string
	Subject   string
	Role      string // the role the groups map to now; "no role" when none
	Groups    string
	IP        string
	UserAgent string
	Created   string
	LastSeen  string
}

// StaffSessions is the staff sessions page.
type StaffSessions struct {
	Rows    []StaffSessionRow
	Flash   string
	Warning string
	Message string
}

// ErrorPage is the page for a failed request. Message is always a safe sentence.
type ErrorPage struct {
	Status  int
	Title   string
	Message string
	BackURL string // where "Back" goes, "" for none
}
