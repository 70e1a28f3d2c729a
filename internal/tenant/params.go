package tenant

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Query-string validation with Auth0's messages: "Query validation error: '<detail>' on property
// <name> (<description>)." (contract §2), errorCode invalid_query_string [I].

func queryError(format string, args ...any) *apiError {
	return badRequest("invalid_query_string", "Query validation error: "+format, args...)
}

// checkParams rejects query parameters outside allowed (Auth0 rejects unknown ones with 400).
func checkParams(v url.Values, allowed ...string) error {
	var extra []string
	for k := range v {
		if !slices.Contains(allowed, k) {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return queryError("'Additional properties not allowed: %s'.", strings.Join(extra, ","))
	}
	return nil
}

// intParam reads an integer parameter with bounds; def when absent.
func intParam(v url.Values, name, desc string, def, lo, hi int) (int, error) {
	s := v.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return 0, queryError("'Expected type integer but found type string' on property %s (%s).", name, desc)
	case n < lo:
		return 0, queryError("'Value %d is less than minimum %d' on property %s (%s).", n, lo, name, desc)
	case n > hi:
		return 0, queryError("'Value %d is greater than maximum %d' on property %s (%s).", n, hi, name, desc)
	}
	return n, nil
}

// boolParam reads a "true"/"false" parameter; def when absent.
func boolParam(v url.Values, name, desc string, def bool) (bool, error) {
	switch v.Get(name) {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, queryError("'Expected type boolean but found type string' on property %s (%s).", name, desc)
}

// fieldsParam reads fields + include_fields.
func fieldsParam(v url.Values, keep ...string) (fieldSelection, error) {
	inc, err := boolParam(v, "include_fields", "Whether specified fields are to be included (true) or excluded (false).", true)
	if err != nil {
		return fieldSelection{}, err
	}
	s := fieldSelection{include: inc, keep: keep, fields: map[string]bool{}}
	for _, f := range strings.Split(v.Get("fields"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			s.fields[f] = true
		}
	}
	return s, nil
}
