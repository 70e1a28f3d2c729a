package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/views"
)

// MetadataService is the metadata editor's part of UserService; *users.Service satisfies it.
type MetadataService interface {
	PreviewMetadata(ctx context.Context, id string, f users.MetadataForm) (*users.MetadataPlan, error)
	SaveMetadata(ctx context.Context, id string, f users.MetadataForm) (users.SaveOutcome, error)
}

// Editor modes: the ?mode= of GET /users/:id/metadata and the form's hidden "mode".
const (
	modeJSON = "json"
	modeRows = "rows"
)

// spareRows is how many empty rows the row editor offers for new keys; "Add rows" adds as many.
const spareRows = 3

var objectHints = map[string]string{
	"user_metadata": "Preferences the user may also change themselves.",
	"app_metadata":  "Data about the user's access and plan, which the user cannot change.",
}

// metadataEdit: GET /users/:id/metadata[?mode=rows] — the editor, filled from the user as read now,
// carrying that metadata's fingerprint.
func (h *handler) metadataEdit(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	u, err := h.users.Get(c.Request().Context(), id)
	if errors.Is(err, users.ErrNoUser) {
		return h.noUser(c, id)
	}
	if err != nil {
		return err
	}
	in := metadataInput{mode: modeJSON, base: users.FingerprintOf(u)}
	if c.QueryParam("mode") == modeRows {
		in.mode = modeRows
	}
	in.setSnapshot(users.SnapshotOf(u))
	return h.renderMetadataForm(c, http.StatusOK, id, in, nil, "")
}

// metadataInput is the editor's state as posted (or as built for a fresh form): each object as JSON
// text or as rows, plus the fingerprint, the reason and the editor mode to show.
type metadataInput struct {
	mode    string
	base    string
	reason  string
	text    map[string]string      // object → JSON text, for objects posted as text
	rows    map[string][]users.Row // object → rows, for objects posted as rows
	op      string
	confirm bool
	digest  string
	resolve map[string]string
}

// readMetadataInput decodes the editor's POST. An object is rows when "<object>.rows" (the number of
// rows) is present, else the text of "<object>".
func readMetadataInput(c echo.Context) (metadataInput, error) {
	form, err := c.FormParams()
	if err != nil {
		return metadataInput{}, echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	in := metadataInput{
		mode: form.Get("mode"), base: form.Get("base"), reason: form.Get("reason"), op: form.Get("op"),
		confirm: form.Get("confirm") == "1", digest: form.Get("digest"),
		text: map[string]string{}, rows: map[string][]users.Row{}, resolve: map[string]string{},
	}
	if in.mode != modeRows {
		in.mode = modeJSON
	}
	for _, object := range users.MetadataObjects {
		n, err := strconv.Atoi(form.Get(object + ".rows"))
		if _, posted := form[object+".rows"]; !posted || err != nil || n < 0 {
			in.text[object] = form.Get(object)
			continue
		}
		n = min(n, users.MaxRows+1) // one too many is enough for ParseRows to refuse
		rows := make([]users.Row, 0, n)
		for i := range n {
			rows = append(rows, users.Row{
				Key:    form.Get(users.RowField(object, i, "key")),
				Type:   form.Get(users.RowField(object, i, "type")),
				Value:  form.Get(users.RowField(object, i, "value")),
				Remove: form.Get(users.RowField(object, i, "remove")) != "",
			})
		}
		in.rows[object] = rows
	}
	for name, vs := range form {
		if field, ok := strings.CutPrefix(name, "resolve."); ok && len(vs) > 0 {
			in.resolve[field] = vs[0]
		}
	}
	return in, nil
}

// serviceForm is the input as users.MetadataForm.
func (in metadataInput) serviceForm() users.MetadataForm {
	f := users.MetadataForm{
		UserMetadata: in.text["user_metadata"], AppMetadata: in.text["app_metadata"],
		Base: in.base, Reason: in.reason, Digest: in.digest, Resolve: in.resolve,
	}
	if r, ok := in.rows["user_metadata"]; ok {
		f.UserRows = append([]users.Row{}, r...)
	}
	if r, ok := in.rows["app_metadata"]; ok {
		f.AppRows = append([]users.Row{}, r...)
	}
	return f
}

// setSnapshot replaces both objects with s, in the input's mode.
func (in *metadataInput) setSnapshot(s users.Snapshot) {
	in.text, in.rows = map[string]string{}, map[string][]users.Row{}
	for _, object := range users.MetadataObjects {
		m := s.User
		if object == "app_metadata" {
			m = s.App
		}
		if in.mode == modeRows {
			in.rows[object] = users.RowsOf(m)
		} else {
			in.text[object] = users.PrettyJSON(m)
		}
	}
}

// convert switches the input to mode, keeping every edit. When an object cannot be parsed the
// input stays in its mode and the errors (field → sentence) are returned.
func (in *metadataInput) convert(mode string) map[string]string {
	errs := map[string]string{}
	var s users.Snapshot
	for _, object := range users.MetadataObjects {
		kind := users.UserMetadata
		if object == "app_metadata" {
			kind = users.AppMetadata
		}
		var m map[string]any
		if rows, ok := in.rows[object]; ok {
			var rerrs map[string]string
			m, rerrs = users.ParseRows(rows, object, kind)
			for k, v := range rerrs {
				errs[k] = v
			}
		} else {
			var err error
			if m, err = users.ParseMetadata(in.text[object], kind); err != nil {
				errs[object] = err.Error()
			}
		}
		if object == "app_metadata" {
			s.App = m
		} else {
			s.User = m
		}
	}
	if len(errs) > 0 {
		return errs
	}
	in.mode = mode
	in.setSnapshot(s)
	return nil
}

// renderMetadataForm renders the editor for in with errs next to their fields and summarised at
// the top. Objects posted as rows stay rows (in the same order, so errors stay next to their row)
// with spare empty rows after them; extra adds that many more.
func (h *handler) renderMetadataForm(c echo.Context, status int, id string, in metadataInput, errs map[string]string, msg string) error {
	return h.renderMetadataFormExtra(c, status, id, in, errs, msg, 0)
}

func (h *handler) renderMetadataFormExtra(c echo.Context, status int, id string, in metadataInput, errs map[string]string, msg string, extra int) error {
	base := userURL(id) + "/metadata"
	f := views.MetadataForm{
		Heading: id, ActionURL: base, CancelURL: userURL(id), Mode: in.mode,
		JSONURL: base + "?mode=" + modeJSON, RowsURL: base + "?mode=" + modeRows,
		Base: in.base, Errors: errs, Message: msg, Reason: in.reason,
		ReasonRequired: h.users.ReasonRequiredFor(authz.EditMetadata),
	}
	if in.mode == modeRows && len(in.text) > 0 {
		// Posted as JSON text (the preview and conflict pages carry the edit that way) but to be
		// shown as rows, e.g. after "Back to editing".
		if in.convert(modeRows) != nil {
			in.mode = modeJSON
		}
		f.Mode = in.mode
	}
	var order []string
	for _, object := range users.MetadataObjects {
		o := views.MetadataObject{Name: object, Hint: objectHints[object], RowsName: object + ".rows"}
		order = append(order, object)
		if rows, ok := in.rows[object]; ok && f.Mode == modeRows {
			rows = padRows(rows, extra)
			for i, r := range rows {
				vr := views.MetadataRow{
					Number: i + 1, Key: r.Key, Type: r.Type, Value: r.Value, Remove: r.Remove,
					Multiline:  r.Type == users.TypeJSON,
					KeyName:    users.RowField(object, i, "key"),
					TypeName:   users.RowField(object, i, "type"),
					ValueName:  users.RowField(object, i, "value"),
					RemoveName: users.RowField(object, i, "remove"),
				}
				o.Rows = append(o.Rows, vr)
				order = append(order, vr.KeyName, vr.ValueName)
			}
		} else {
			o.JSON = in.text[object]
		}
		f.Objects = append(f.Objects, o)
	}
	order = append(order, "reason")
	f.Summary = summary(errs, order)
	return h.render(c, status, "Edit metadata", views.MetadataPage(f))
}

// padRows keeps rows as they are and makes sure at least spareRows (+extra) empty rows follow the
// last used one.
func padRows(rows []users.Row, extra int) []users.Row {
	out := slices.Clone(rows)
	trailing := 0
	for i := len(out) - 1; i >= 0 && out[i].Empty() && !out[i].Remove; i-- {
		trailing++
	}
	for range max(spareRows-trailing, 0) + extra {
		if len(out) >= users.MaxRows {
			break
		}
		out = append(out, users.Row{Type: users.TypeString})
	}
	for i := range out {
		if out[i].Type == "" {
			out[i].Type = users.TypeString
		}
	}
	return out
}

// summary lists errs in page order (the fields in order, then any others sorted) for the summary.
func summary(errs map[string]string, order []string) []views.ErrorItem {
	var out []views.ErrorItem
	done := map[string]bool{}
	for _, f := range order {
		if msg, ok := errs[f]; ok && !done[f] {
			out = append(out, views.ErrorItem{Field: f, Message: msg})
			done[f] = true
		}
	}
	var rest []string
	for f := range errs {
		if !done[f] {
			rest = append(rest, f)
		}
	}
	slices.Sort(rest)
	for _, f := range rest {
		out = append(out, views.ErrorItem{Field: f, Message: errs[f]})
	}
	return out
}

// editHidden is the edit as hidden fields: both objects as JSON text (whatever editor produced
// them), the fingerprint, the editor mode to return to and the reason.
func editHidden(mine users.Snapshot, base, mode, reason string) []views.Hidden {
	return []views.Hidden{
		{Name: "user_metadata", Value: users.PrettyJSON(mine.User)},
		{Name: "app_metadata", Value: users.PrettyJSON(mine.App)},
		{Name: "base", Value: base},
		{Name: "mode", Value: mode},
		{Name: "reason", Value: reason},
	}
}

func previewView(id string, in metadataInput, p *users.MetadataPlan) views.MetadataPreview {
	v := views.MetadataPreview{
		Heading: id, ActionURL: userURL(id) + "/metadata", CancelURL: userURL(id),
		Body: p.Body, Reason: strings.TrimSpace(in.reason),
		Hidden: append(editHidden(p.Mine, p.Base, in.mode, in.reason), views.Hidden{Name: "digest", Value: p.Digest}),
	}
	for _, e := range p.Effects {
		var spans []views.Span
		for _, s := range e.Words() {
			spans = append(spans, views.Span{Text: s.Text, Code: s.Code})
		}
		v.Effects = append(v.Effects, spans)
	}
	switch p.Kept {
	case 0:
	case 1:
		v.Kept = "1 other key is not sent and stays as it is."
	default:
		v.Kept = fmt.Sprintf("%d other keys are not sent and stay as they are.", p.Kept)
	}
	return v
}

func conflictView(id string, in metadataInput, ce *users.ConflictError) views.MetadataConflict {
	v := views.MetadataConflict{
		Heading: id, ActionURL: userURL(id) + "/metadata", CancelURL: userURL(id),
		Hidden: editHidden(ce.Mine, ce.Base, in.mode, in.reason),
	}
	for i, c := range ce.Conflicts {
		v.Rows = append(v.Rows, views.ConflictRow{
			Path: c.Object + "." + c.Key, Name: "resolve." + c.Object + "." + c.Key, ID: "resolve-" + strconv.Itoa(i),
			Theirs: c.Theirs, Mine: c.Mine, Current: c.Current,
		})
	}
	return v
}

// metadataRedirect is where a finished save goes: the user page, re-read, with a fixed message.
func metadataRedirect(id, code string) string {
	return userURL(id) + "?" + url.Values{"msg": {code}}.Encode()
}

// withAuditNote is the problem's sentence, followed by users.MsgAuditFailed when its audit entry is
// missing.
func withAuditNote(p *users.Problem) string {
	if !p.AuditFailed {
		return p.Message
	}
	if p.Message == "" {
		return users.MsgAuditFailed
	}
	return p.Message + " " + users.MsgAuditFailed
}
