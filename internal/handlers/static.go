package handlers

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/static"
)

// assets are the content-hashed URLs of the embedded files. The hash is a query parameter the
// static handler ignores: it only changes the URL when the content changes, so the files can be
// cached for a year.
type assets struct {
	css, js string
}

func newAssets() assets {
	return assets{css: assetURL("app.css"), js: assetURL("app.js")}
}

func assetURL(name string) string {
	b, err := fs.ReadFile(static.FS, name)
	if err != nil {
		// The names are fixed and embedded at build time; a missing one is a build mistake.
		panic("handlers: embedded asset missing: " + name)
	}
	sum := sha256.Sum256(b)
	return "/static/" + name + "?v=" + hex.EncodeToString(sum[:6])
}

// static serves one embedded file with a long cache lifetime. Only regular top-level files are
// served; there are no directory listings.
func (h *handler) static(c echo.Context) error {
	name := c.Param("*")
	if !fs.ValidPath(name) || path.Dir(name) != "." || name == "." {
		return echo.ErrNotFound
	}
	b, err := fs.ReadFile(static.FS, name)
	if err != nil {
		return echo.ErrNotFound
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	return c.Blob(http.StatusOK, ct, b)
}
