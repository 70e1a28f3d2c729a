package views

// Option is one choice of a <select>.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// SortHeader is a sortable column header: a link to the same search sorted by the column, the
// direction toggled when it is the current sort.
type SortHeader struct {
	ID     string // sort-<field>, for tests
	Label  string
	URL    string
	Active bool // the list is sorted by this column
	Desc   bool // …descending
}

// AriaSort is the header's aria-sort value.
func (h SortHeader) AriaSort() string {
	switch {
	case !h.Active:
		return "none"
	case h.Desc:
		return "descending"
	}
	return "ascending"
}

// SearchRow is one line of the user list.
type SearchRow struct {
	URL        string // /users/<path-escaped id>
	Email      string
	Name       string
	Connection string
	Created    string
	LastLogin  string // formatted, "never" when the user never signed in
	Logins     string
	Blocked    bool
	Unverified bool // has an email that is not verified
}

// UserSearch is the user list / search page. Every control is part of one GET form, so each search,
// filter, sort and page is a URL.
type UserSearch struct {
	CanCreate bool
	Query     string // what was typed into the search box
	Lucene    bool   // advanced mode: the box is Auth0's Lucene syntax
	// Understood says how the box was read ("Exact email look-up …"); SentQuery is the Lucene query
	// sent to the search index, "" for the exact look-ups.
	Understood string
	SentQuery  string
	QueryError string // Auth0's reason for refusing the query, shown next to the box
	Message    string // a sentence about the whole page (e.g. rate limiting), or ""
	// ConnectionsMessage says why the connection filter has no choices, or "".
	ConnectionsMessage string
	// Flash confirms what brought the staff member here ("User deleted."); Warning goes with it when
	// that change's audit entry could not be written. Both "" usually.
	Flash   string
	Warning string

	Connections []Option
	Blocked     []Option
	Verified    []Option
	PageSizes   []Option
	Sort        string // carried by the form, so a new search keeps the order
	// SortBy holds the sortable column headers by field: email, created_at, last_login, logins_count.
	SortBy map[string]SortHeader

	Total     int
	From, To  int // 1-based range of the rows shown; 0, 0 when empty
	Page      int
	LastPage  int
	Capped    bool   // more users match than Auth0 pages through
	ExportURL string // the export form for the same connection, "" when not capped
	PrevURL   string // "" on the first page
	NextURL   string // "" on the last page
	Rows      []SearchRow
}

// ExportFieldOption is one checkbox of the export field picker.
type ExportFieldOption struct {
	ID      string // field-<n>
	Name    string
	Label   string
	Checked bool
}

// ExportForm is the "export users" form.
type ExportForm struct {
	Connections []Option
	Fields      []ExportFieldOption
	// Query is the search the export was offered for ("" when none) and Total its matches.
	Query   string
	Total   int
	BackURL string // the search it came from
	Errors  map[string]string
	Message string
}

// ExportProgress is an export job's page.
type ExportProgress struct {
	JobID       string
	Status      string // pending, processing, completed or failed
	StatusText  string // the status in words
	Percent     string // "40%", "" when Auth0 did not say
	Connection  string // "every connection" or the connection's name
	Fields      []string
	Created     string
	Refreshing  bool   // the page reloads itself every 2 s (Refresh header)
	StopURL     string // the same page without reloading, "" when not refreshing
	RefreshURL  string // reload by hand
	DownloadURL string // "" until completed
	Failed      bool
	NewURL      string // start another export
	Flash       string
	Warning     string
}
