package handlers

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/reqctx"
)

// cspFormat is the Content-Security-Policy; %s is the per-response nonce. Scripts run only with the
// nonce (and what they load, 'strict-dynamic'); pictures come from https URLs such as gravatar.
const cspFormat = "default-src 'self'; script-src 'nonce-%s' 'strict-dynamic'; style-src 'self'; " +
	"img-src 'self' https: data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// securityHeaders sets the response headers every response carries and puts a fresh 128-bit CSP
// nonce on the request context (reqctx.Nonce). Cache-Control is no-store here; the static handler
// replaces it for the files it serves. HSTS is left out in dev (plain http on localhost).
func securityHeaders(dev bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			var b [16]byte
			if _, err := rand.Read(b[:]); err != nil {
				return err
			}
			nonce := base64.RawURLEncoding.EncodeToString(b[:])
			h := c.Response().Header()
			// The nonce is base64url, so it cannot break out of the directive.
			h.Set("Content-Security-Policy", fmt.Sprintf(cspFormat, nonce))
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Cache-Control", "no-store")
			if !dev {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			r := c.Request()
			c.SetRequest(r.WithContext(reqctx.WithNonce(r.Context(), nonce)))
			return next(c)
		}
	}
}

// requestContext gives every request a random id (on the context and in the X-Request-ID response
// header; a client-sent X-Request-ID is ignored) and puts the client IP, as the Echo instance's
// IPExtractor resolves it, on the context for the audit trail.
func requestContext() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			var b [12]byte
			if _, err := rand.Read(b[:]); err != nil {
				return err
			}
			id := base64.RawURLEncoding.EncodeToString(b[:])
			c.Response().Header().Set(echo.HeaderXRequestID, id)
			r := c.Request()
			ctx := reqctx.WithClientIP(reqctx.WithRequestID(r.Context(), id), c.RealIP())
			c.SetRequest(r.WithContext(ctx))
			return next(c)
		}
	}
}

// requestLogger logs method, path, status and latency of every request, never headers, cookies,
// query strings or bodies. It hands a returned error to the error handler first, so the logged
// status is the one the client got.
func requestLogger(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err)
			}
			r := c.Request()
			log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", c.Response().Status),
				slog.Duration("latency", time.Since(start)),
				slog.String("request_id", reqctx.RequestID(r.Context())),
				slog.String("ip", reqctx.ClientIP(r.Context())),
			)
			return nil
		}
	}
}
