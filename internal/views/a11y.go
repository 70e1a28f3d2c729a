package views

import "strings"

// describedBy is the aria-describedby of a form field: its error, its hint and its rules, whichever
// it has, so a screen reader reads them with the field.
func describedBy(f FormField, errs map[string]string) string {
	var ids []string
	if _, bad := errs[f.Name]; bad {
		ids = append(ids, "error-"+f.Name)
	}
	if f.Hint != "" {
		ids = append(ids, f.Name+"-hint")
	}
	if len(f.Hints) > 0 {
		ids = append(ids, f.Name+"-rules")
	}
	return strings.Join(ids, " ")
}
