// Package safepath decides whether a return-to value is a same-origin relative path that is safe to
// redirect to after sign-in.
package safepath

import (
	"net/url"
	"strings"
)

// ReturnTo returns p when it is a same-origin relative path ("/users?q=x"), and "" otherwise. It
// refuses anything a browser could read as another origin or a script: schemes, hosts, protocol-relative
// "//x" and "/\x", backslashes, control characters (raw or percent-encoded) and over-long values.
func ReturnTo(p string) string {
	if len(p) == 0 || len(p) > 2048 || p[0] != '/' {
		return ""
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return ""
	}
	if strings.ContainsRune(p, '\\') {
		return ""
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return ""
		}
	}
	// Decode once and look again: "/%09/evil.example" or "/%2F/evil" must not survive a later decode.
	dec, err := url.PathUnescape(p)
	if err != nil {
		return ""
	}
	for _, r := range dec {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return ""
		}
	}
	if len(dec) > 1 && (dec[1] == '/' || dec[1] == '\\') {
		return ""
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	return p
}
