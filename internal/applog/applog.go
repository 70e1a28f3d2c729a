// Package applog builds Userdesk's log/slog logger: JSON lines (one object per line, so CR/LF in user
// data is escaped and cannot forge a line) or text for a terminal, with the request id and the
// signed-in staff member's subject added to every line logged with a request's context.
package applog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/userdesk/userdesk/internal/reqctx"
)

// Formats of New.
const (
	JSON = "json"
	Text = "text"
)

// Keys of the attributes the handler adds from the context.
const (
	KeyRequestID = "request_id"
	KeyStaffSub  = "staff_sub"
	KeyStaffIss  = "staff_iss"
)

// DefaultFormat is JSON unless w is a terminal: machines read containers' and services' logs,
// people read a terminal.
func DefaultFormat(w io.Writer) string {
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return Text
		}
	}
	return JSON
}

// ParseLevel reads "debug", "info", "warn" or "error" (any case).
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return 0, fmt.Errorf("%q is not debug, info, warn or error", s)
	}
	return l, nil
}

// New returns a logger writing format (JSON or Text) to w at level and above, through ContextHandler.
func New(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if format == Text {
		h = slog.NewTextHandler(w, opts)
	} else {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(ContextHandler{Handler: h})
}

// ContextHandler adds request_id (reqctx.RequestID) and, on authenticated requests, staff_iss and
// staff_sub (reqctx.StaffFrom) to every record logged with a context carrying them, unless the record
// already has that key. It adds nothing else from the context: no email, no token, no cookie. Under
// a WithGroup they land inside the group, like any attribute of the record.
type ContextHandler struct{ slog.Handler }

// Handle implements slog.Handler.
func (h ContextHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		add := make([]slog.Attr, 0, 3)
		if id := reqctx.RequestID(ctx); id != "" && !has(r, KeyRequestID) {
			add = append(add, slog.String(KeyRequestID, id))
		}
		if s, ok := reqctx.StaffFrom(ctx); ok && s.Subject != "" && !has(r, KeyStaffSub) {
			add = append(add, slog.String(KeyStaffIss, s.Issuer), slog.String(KeyStaffSub, s.Subject))
		}
		if len(add) > 0 {
			r = r.Clone()
			r.AddAttrs(add...)
		}
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h ContextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return ContextHandler{Handler: h.Handler.WithAttrs(as)}
}

// WithGroup implements slog.Handler.
func (h ContextHandler) WithGroup(name string) slog.Handler {
	return ContextHandler{Handler: h.Handler.WithGroup(name)}
}

func has(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}
