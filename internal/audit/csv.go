package audit

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/userdesk/userdesk/internal/csvsafe"
)

// CSVColumns returns the header row of WriteCSV, in order. The columns are stable: new ones are only
// ever appended.
func CSVColumns() []string {
	return []string{"id", "time", "actor_issuer", "actor_subject", "actor_email", "actor_role", "client_ip",
		"action", "target_user_id", "target_email", "changes", "reason", "outcome", "upstream_status",
		"correlation_id", "request_id", "detail"}
}

// WriteCSV writes the header row and then one row per entry that each passes to its callback (for
// example func(fn func(Entry) error) error { return store.Each(ctx, f, fn) }), and flushes. time is
// RFC 3339 UTC; changes is the JSON array of {field, before, after}.
//
// Rows are RFC 4180: a cell with a comma, quote, CR or LF is quoted, so a newline in a name cannot
// start a forged row. Cells are also made inert for spreadsheets (CSV/formula injection, ASVS 5
// 1.2.10): a cell starting with = + - @, a tab, CR or LF (or a full-width = + - @) gets a leading
// single quote, so Excel, LibreOffice and Sheets show it as text instead of evaluating it.
func WriteCSV(w io.Writer, each func(fn func(Entry) error) error) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVColumns()); err != nil {
		return fmt.Errorf("audit: csv: %w", err)
	}
	err := each(func(e Entry) error {
		row, err := csvRow(e)
		if err != nil {
			return err
		}
		return cw.Write(row)
	})
	cw.Flush()
	if err != nil {
		return fmt.Errorf("audit: csv: %w", err)
	}
	if err := cw.Error(); err != nil {
		return fmt.Errorf("audit: csv: %w", err)
	}
	return nil
}

// ExportCSV writes every entry f selects, newest first, as WriteCSV does, streaming from s.
func ExportCSV(ctx context.Context, w io.Writer, s Store, f Filter) error {
	return WriteCSV(w, func(fn func(Entry) error) error { return s.Each(ctx, f, fn) })
}

func csvRow(e Entry) ([]string, error) {
	changes := e.Changes
	if changes == nil {
		changes = []Change{}
	}
	cj, err := json.Marshal(changes)
	if err != nil {
		return nil, err
	}
	row := []string{strconv.FormatInt(e.ID, 10), e.Time.UTC().Format(time.RFC3339Nano), e.ActorIssuer,
		e.ActorSubject, e.ActorEmail, e.ActorRole, e.ClientIP, e.Action, e.TargetUserID, e.TargetEmail,
		string(cj), e.Reason, string(e.Outcome), strconv.Itoa(e.UpstreamStatus), e.CorrelationID,
		e.RequestID, e.Detail}
	for i, cell := range row {
		row[i] = csvsafe.Cell(cell)
	}
	return row, nil
}
