package views_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// No view or handler may bypass templ's escaping or URL sanitization (security.md §6 #13).
func TestNoEscapingBypass(t *testing.T) {
	var files []string
	for _, pattern := range []string{"*.templ", "*.go", "../handlers/*.go"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 10 {
		t.Fatalf("found only %d files; the globs are wrong", len(files))
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"templ.Raw", "templ.SafeURL", "templ.FromGoHTML", "templ.JSUnsafeFuncCall", "templ.SafeCSS"} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s uses %s", f, bad)
			}
		}
	}
}
