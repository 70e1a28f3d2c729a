package applog

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/userdesk/userdesk/internal/reqctx"
)

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not one JSON object per line: %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// TestRequestContextOnEveryLine: a line logged with a request's context carries its request id and
// the staff member's issuer and subject, also through With; a line without that context
// carries neither; a record that names its request id keeps it (no duplicate key); the staff member's
// email is never added.
func TestRequestContextOnEveryLine(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, JSON, slog.LevelInfo)
	ctx := reqctx.WithRequestID(context.Background(), "req-123")
	ctx = reqctx.WithStaff(ctx, reqctx.Staff{Issuer: "https://idp/", Subject: "staff|42", Email: "agent@example.com"})

	log.InfoContext(ctx, "one")
	log.With("component", "http").InfoContext(ctx, "two", "k", "v")
	log.Info("three")
	log.InfoContext(ctx, "four", KeyRequestID, "req-123")
	log.DebugContext(ctx, "below the level")

	ls := lines(t, &buf)
	if len(ls) != 4 {
		t.Fatalf("%d lines, want 4: %s", len(ls), buf.String())
	}
	for _, i := range []int{0, 1} {
		if ls[i][KeyRequestID] != "req-123" || ls[i][KeyStaffSub] != "staff|42" || ls[i][KeyStaffIss] != "https://idp/" {
			t.Errorf("line %d lacks the request context: %v", i, ls[i])
		}
	}
	if ls[1]["component"] != "http" {
		t.Errorf("With attributes lost: %v", ls[1])
	}
	if _, ok := ls[2][KeyRequestID]; ok {
		t.Errorf("a line without a request got a request id: %v", ls[2])
	}
	if strings.Count(strings.Split(buf.String(), "\n")[3], KeyRequestID) != 1 {
		t.Errorf("request_id repeated on a record that already had it")
	}
	if strings.Contains(buf.String(), "agent@example.com") {
		t.Error("the staff member's email was added to log lines")
	}
}

// TestCRLFCannotForgeALine: user data with CR/LF and a fake JSON line stays inside one JSON line.
func TestCRLFCannotForgeALine(t *testing.T) {
	var buf bytes.Buffer
	New(&buf, JSON, slog.LevelInfo).Info("search", "q", "jane\r\n{\"level\":\"ERROR\",\"msg\":\"forged\"}\n")
	ls := lines(t, &buf)
	if len(ls) != 1 || ls[0]["msg"] != "search" {
		t.Fatalf("CR/LF in an attribute produced %d lines: %q", len(ls), buf.String())
	}
}

func TestFormatsAndLevels(t *testing.T) {
	var buf bytes.Buffer
	New(&buf, Text, slog.LevelWarn).Info("hidden")
	New(&buf, Text, slog.LevelWarn).Warn("shown")
	if got := buf.String(); strings.Contains(got, "hidden") || !strings.Contains(got, "level=WARN msg=shown") {
		t.Errorf("text output = %q", got)
	}
	if DefaultFormat(&buf) != JSON {
		t.Error("a non-terminal writer should default to JSON")
	}
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError} {
		if got, err := ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseLevel("loud"); err == nil {
		t.Error("ParseLevel accepted nonsense")
	}
}
