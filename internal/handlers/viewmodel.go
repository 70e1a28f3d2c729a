package handlers

import (
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/views"
)

// userURL is the user page's path. User ids contain '|' (auth0|abc), so they are always escaped.
func userURL(id string) string { return "/users/" + url.PathEscape(id) }

// userID returns the unescaped :id parameter; echo hands it over still escaped.
func userID(c echo.Context) (string, error) {
	id, err := url.PathUnescape(c.Param("id"))
	if err != nil || id == "" {
		return "", echo.ErrNotFound
	}
	return id, nil
}

const timeLayout = "2006-01-02 15:04 UTC"

func formatTime(t *time.Time, none string) string {
	if t == nil || t.IsZero() {
		return none
	}
	return t.UTC().Format(timeLayout)
}

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return "—"
	case *b:
		return "yes"
	}
	return "no"
}

func count(n *int64) string {
	if n == nil {
		return "0"
	}
	return strconv.FormatInt(*n, 10)
}

func heading(u *mgmt.User) string {
	switch {
	case u.Name != "":
		return u.Name
	case u.Email != "":
		return u.Email
	}
	return u.UserID
}

// safePicture keeps only absolute https picture URLs (what Auth0 and gravatar produce); anything
// else is not shown.
func safePicture(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return ""
	}
	return u.String()
}

func userDetail(u *mgmt.User, flash string) views.UserDetail {
	blocked := u.Blocked != nil && *u.Blocked // Auth0 omits blocked until it is set
	d := views.UserDetail{
		ID:      u.UserID,
		Heading: heading(u),
		Picture: safePicture(u.Picture),
		Blocked: blocked,
		Flash:   flash,
		Fields: []views.Field{
			{Label: "User id", Value: u.UserID},
			{Label: "Email", Value: u.Email},
			{Label: "Email verified", Value: yesNo(u.EmailVerified)},
			{Label: "Name", Value: u.Name},
			{Label: "Nickname", Value: u.Nickname},
			{Label: "Username", Value: u.Username},
			{Label: "Phone", Value: u.PhoneNumber},
			{Label: "Created", Value: formatTime(u.CreatedAt, "—")},
			{Label: "Updated", Value: formatTime(u.UpdatedAt, "—")},
			{Label: "Last login", Value: formatTime(u.LastLogin, "never")},
			{Label: "Last IP", Value: u.LastIP},
			{Label: "Logins", Value: count(u.LoginsCount)},
			{Label: "Blocked", Value: yesNo(&blocked)},
		},
		UserMetadata: users.PrettyJSON(u.UserMetadata),
		AppMetadata:  users.PrettyJSON(u.AppMetadata),
		EditURL:      userURL(u.UserID) + "/metadata",
	}
	for _, i := range u.Identities {
		d.Identities = append(d.Identities, views.Identity{Connection: i.Connection, Provider: i.Provider, UserID: i.UserID, Social: i.IsSocial})
	}
	return d
}

// flashMessage maps the fixed ?msg= codes to a confirmation and, when the change's audit entry could
// not be written, a warning; anything else shows nothing.
func flashMessage(code string) (flash, warning string) {
	switch code {
	case "created":
		return "User created.", ""
	case "created-unaudited":
		return "User created.", users.MsgAuditFailed
	case "metadata-saved":
		return "Metadata saved.", ""
	case "metadata-saved-unaudited":
		return "Metadata saved.", users.MsgAuditFailed
	case "metadata-unverified":
		return "Metadata saved.", msgMetadataUnverified
	case "metadata-unverified-unaudited":
		return "Metadata saved.", msgMetadataUnverified + " " + users.MsgAuditFailed
	case "nochange":
		return "No changes to save.", ""
	}
	return "", ""
}
