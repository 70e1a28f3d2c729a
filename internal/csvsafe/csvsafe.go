// Package csvsafe makes CSV cells inert for spreadsheets (CSV/formula injection, OWASP): a cell a
// spreadsheet would read as a formula gets a leading single quote. encoding/csv already quotes
// newlines and quotes, so a value cannot forge a row.
package csvsafe

import "strings"

// Cell returns cell, prefixed with "'" when it starts with = + - @, a tab, CR or LF, or their
// full-width forms.
func Cell(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r', '\n':
		return "'" + cell
	}
	for _, p := range []string{"＝", "＋", "－", "＠"} {
		if strings.HasPrefix(cell, p) {
			return "'" + cell
		}
	}
	return cell
}
