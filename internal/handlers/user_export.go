package handlers

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/views"
)

// Users exports: the way past the search's 1,000-result cap (see internal/users/export.go for the
// permission decision: authz.ReadUsers, every start and download audited as "users.export").

// exportRefresh is how often the progress page reloads itself while the job runs.
const exportRefresh = "2"

// exportFormURL is the export form offered for a capped search: the search's connection
// preselected, and the search and its count shown so the page can say what the file holds instead.
func exportFormURL(p users.SearchParams, total int) string {
	v := url.Values{}
	if p.Connection != "" {
		v.Set("connection", p.Connection)
	}
	if p.Text != "" {
		v.Set("q", p.Text)
	}
	v.Set("total", strconv.Itoa(total))
	return "/users/exports?" + v.Encode()
}

func exportURL(id string) string { return "/users/exports/" + url.PathEscape(id) }

// exportNew: GET /users/exports — the export form.
func (h *handler) exportNew(c echo.Context) error {
	total, _ := strconv.Atoi(c.QueryParam("total"))
	f := views.ExportForm{Query: strings.TrimSpace(c.QueryParam("q")), Total: max(total, 0)}
	if f.Query != "" {
		f.BackURL = searchURL(users.SearchParams{Text: f.Query, Connection: c.QueryParam("connection")}.Normalize())
	}
	chosen := c.QueryParams()["field"]
	if len(chosen) == 0 {
		chosen = users.DefaultExportFields()
	}
	return h.renderExportForm(c, http.StatusOK, f, c.QueryParam("connection"), chosen)
}

// exportStart: POST /users/exports — start the job and go to its page (303). Invalid input or an
// upstream failure re-renders the form with the choices kept and the messages next to the fields.
func (h *handler) exportStart(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.ErrBadRequest
	}
	req := users.ExportRequest{Connection: form.Get("connection"), Fields: form["field"]}
	job, err := h.users.StartExport(c.Request().Context(), req)
	switch {
	case err == nil:
		return c.Redirect(http.StatusSeeOther, exportURL(job.ID)+"?msg=started")
	case job != nil && errors.Is(err, users.ErrAuditFailed):
		return c.Redirect(http.StatusSeeOther, exportURL(job.ID)+"?msg=started-unaudited")
	}
	var p *users.Problem
	if !errors.As(err, &p) {
		return err
	}
	h.logProblem(c, p)
	return h.renderExportForm(c, p.Status, views.ExportForm{Errors: p.Fields, Message: withAuditNote(p)}, req.Connection, req.Fields)
}

// renderExportForm fills in the connections (one upstream call) and the field picker.
func (h *handler) renderExportForm(c echo.Context, status int, f views.ExportForm, conn string, chosen []string) error {
	conns, err := h.users.Connections(c.Request().Context())
	if err != nil {
		var p *users.Problem
		if !errors.As(err, &p) {
			return err
		}
		h.logProblem(c, p)
		if f.Message == "" {
			f.Message = p.Message
		}
	}
	f.Connections = []views.Option{{Value: "", Label: "All connections", Selected: conn == ""}}
	for _, cn := range conns {
		f.Connections = append(f.Connections, views.Option{Value: cn.Name, Label: cn.Name + " (" + cn.Strategy + ")", Selected: cn.Name == conn})
	}
	for i, fc := range users.ExportFields() {
		f.Fields = append(f.Fields, views.ExportFieldOption{ID: "field-" + strconv.Itoa(i), Name: fc.Name, Label: fc.Label,
			Checked: slices.Contains(chosen, fc.Name)})
	}
	return h.render(c, status, "Export users", views.ExportFormPage(f))
}

// exportShow: GET /users/exports/:job — the job's progress. While it runs the response carries
// Refresh: 2, so the browser reloads it every 2 s without script; ?refresh=0 stops that.
func (h *handler) exportShow(c echo.Context) error {
	id, err := url.PathUnescape(c.Param("job"))
	if err != nil {
		return echo.ErrNotFound
	}
	job, err := h.users.ExportJob(c.Request().Context(), id)
	if errors.Is(err, users.ErrNoExport) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	p := exportProgress(job)
	switch c.QueryParam("msg") {
	case "started":
		p.Flash = "Export started."
	case "started-unaudited":
		p.Flash, p.Warning = "Export started.", users.MsgAuditFailed
	}
	if !job.Done() {
		if c.QueryParam("refresh") != "0" {
			p.Refreshing = true
			p.StopURL = exportURL(job.ID) + "?refresh=0"
			c.Response().Header().Set("Refresh", exportRefresh)
		} else {
			p.RefreshURL = exportURL(job.ID)
		}
	}
	return h.render(c, http.StatusOK, "Users export", views.ExportProgressPage(p))
}

func exportProgress(job *mgmt.Job) views.ExportProgress {
	p := views.ExportProgress{
		JobID:      job.ID,
		Status:     job.Status,
		Connection: job.Connection,
		Created:    formatTime(job.CreatedAt, "—"),
		NewURL:     "/users/exports",
	}
	if p.Connection == "" {
		p.Connection = "every connection"
	}
	for _, f := range job.Fields {
		p.Fields = append(p.Fields, f.Name)
	}
	switch job.Status {
	case mgmt.JobPending:
		p.StatusText = "Waiting to start"
	case mgmt.JobProcessing:
		p.StatusText = "Exporting"
	case mgmt.JobCompleted:
		p.StatusText = "Completed"
		p.DownloadURL = exportURL(job.ID) + "/download"
	case mgmt.JobFailed:
		p.StatusText, p.Failed = "Failed", true
	default:
		p.StatusText = "Unknown (" + job.Status + ")"
	}
	if job.PercentageDone != nil && !job.Done() {
		p.Percent = strconv.Itoa(*job.PercentageDone) + "%"
	}
	return p
}

// exportDownload: GET /users/exports/:job/download — the CSV, streamed from Auth0's file through
// Userdesk (decompressed, cells made inert for spreadsheets) as an attachment. The job's location
// and the Management API token never reach the browser.
func (h *handler) exportDownload(c echo.Context) error {
	id, err := url.PathUnescape(c.Param("job"))
	if err != nil {
		return echo.ErrNotFound
	}
	f, err := h.users.OpenExport(c.Request().Context(), id)
	if errors.Is(err, users.ErrNoExport) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	defer f.Close()
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	hd.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	hd.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	if err := f.WriteCSV(c.Response()); err != nil {
		// The status is sent; the browser sees a truncated download, the log says why.
		h.log.ErrorContext(c.Request().Context(), "users export download failed", "job", id, "err", err.Error())
	}
	return nil
}
