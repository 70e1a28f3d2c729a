// Package static holds the console's embedded stylesheet and script, served under /static/.
package static

import "embed"

// FS holds the files served under /static/ (flat: app.css, app.js).
//
//go:embed app.css app.js
var FS embed.FS
