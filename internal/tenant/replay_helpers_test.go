package tenant

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The helpers shared by the two replay tests (TestReplayRecordings, TestReplaySupportRecordings):
// reading a cassette, sending one recorded request to the tenant and checking the response against
// the recorded one, mapping recorded ids to the tenant's, and the shape comparison.

const recordings = "../../testdata/auth0-recordings" // a copy of shared/fixtures/auth0-recordings (see its LICENSE.md)

// cassette is a go-vcr v2 recording (contract §9).
type cassette struct {
	Interactions []interaction `yaml:"interactions"`
}

type interaction struct {
	Request struct {
		Body    string              `yaml:"body"`
		Headers map[string][]string `yaml:"headers"`
		URL     string              `yaml:"url"`
		Method  string              `yaml:"method"`
	} `yaml:"request"`
	Response struct {
		Body    string              `yaml:"body"`
		Headers map[string][]string `yaml:"headers"`
		Code    int                 `yaml:"code"`
	} `yaml:"response"`
}

func loadCassette(t *testing.T, name string) cassette {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(recordings, name))
	if err != nil {
		t.Fatal(err)
	}
	var c cassette
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(c.Interactions) == 0 {
		t.Fatalf("%s: no interactions", name)
	}
	return c
}

// replayRequest is a recorded request as it is sent to the tenant: path, query and body rewritten
// (recorded ids mapped to the tenant's), token the bearer token to send ("" for none).
type replayRequest struct {
	path, query, body, token string
}

// exchanged is the tenant's answer to one replayed interaction.
type exchanged struct {
	where     string // "interaction I METHOD PATH", the prefix of every message about it
	body      []byte // the tenant's response body
	rec, ours any    // the recorded and the tenant's body decoded; nil when either body is empty
}

// exchange sends interaction i of a cassette (recorded for the URL path recPath) to the tenant as rq,
// with the recorded method and Content-Type, and checks the response against the recorded one: the
// same status (fatal otherwise, since later interactions depend on this one), the same Content-Type,
// and either both bodies empty or a body of the recorded shape (shapeDiff under rules).
func exchange(t *testing.T, e *env, i int, in interaction, recPath string, rq replayRequest, rules shapeRules) exchanged {
	t.Helper()
	target := e.srv.URL + rq.path
	if rq.query != "" {
		target += "?" + rq.query
	}
	req, err := http.NewRequest(in.Request.Method, target, strings.NewReader(rq.body))
	if err != nil {
		t.Fatal(err)
	}
	if ct := in.Request.Headers["Content-Type"]; len(ct) > 0 {
		req.Header.Set("Content-Type", ct[0])
	}
	if rq.token != "" {
		req.Header.Set("Authorization", "Bearer "+rq.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	x := exchanged{where: fmt.Sprintf("interaction %d %s %s", i, in.Request.Method, recPath), body: got}
	if res.StatusCode != in.Response.Code {
		t.Fatalf("%s: status %d, recorded %d; body %s", x.where, res.StatusCode, in.Response.Code, got)
	}
	if want := in.Response.Headers["Content-Type"]; len(want) > 0 && res.Header.Get("Content-Type") != want[0] {
		t.Errorf("%s: Content-Type %q, recorded %q", x.where, res.Header.Get("Content-Type"), want[0])
	}
	if in.Response.Body == "" || len(got) == 0 {
		if in.Response.Body != string(got) {
			t.Errorf("%s: body %q, recorded %q", x.where, got, in.Response.Body)
		}
		return x
	}
	if err := json.Unmarshal([]byte(in.Response.Body), &x.rec); err != nil {
		t.Fatalf("%s: recorded body: %v", x.where, err)
	}
	if err := json.Unmarshal(got, &x.ours); err != nil {
		t.Fatalf("%s: body %s: %v", x.where, got, err)
	}
	for _, d := range shapeDiff("$", x.rec, x.ours, rules) {
		t.Errorf("%s: %s", x.where, d)
	}
	return x
}

// mapIDs replaces every recorded value of ids in s with the tenant's, escaped with escape. Longer
// recorded values go first, so a full id is replaced before an id it contains.
func mapIDs(ids map[string]string, s string, escape func(string) string) string {
	keys := make([]string, 0, len(ids))
	for k := range ids {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return len(keys[i]) > len(keys[j]) || (len(keys[i]) == len(keys[j]) && keys[i] < keys[j])
	})
	for _, rec := range keys {
		s = strings.ReplaceAll(s, escape(rec), escape(ids[rec]))
	}
	return s
}

// shapeRules relaxes the shape comparison where a recording is known to differ. allowExtra names
// recorded object keys the tenant may leave out, at any level (the newer connection attributes). In an
// array of objects carrying one of keys, each element is compared with the recorded element that has
// the same value for that key, so arrays whose elements differ in shape by kind (log events, MFA
// methods) can be compared; every other element is compared with the first recorded one.
type shapeRules struct {
	allowExtra []string
	keys       []string
}

// shapeDiff lists how g's shape differs from the recorded r's: the same keys at every level, the same
// JSON types, arrays both empty or both non-empty (values aside).
func shapeDiff(path string, r, g any, rules shapeRules) []string {
	switch rv := r.(type) {
	case map[string]any:
		gv, ok := g.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, recorded object", path, g)}
		}
		keys := make([]string, 0, len(rv)+len(gv))
		for k := range rv {
			keys = append(keys, k)
		}
		for k := range gv {
			if _, ok := rv[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var diffs []string
		for _, k := range keys {
			rx, inR := rv[k]
			gx, inG := gv[k]
			switch {
			case inR && !inG:
				if !slices.Contains(rules.allowExtra, k) {
					diffs = append(diffs, fmt.Sprintf("%s.%s missing", path, k))
				}
			case !inR && inG:
				diffs = append(diffs, fmt.Sprintf("%s.%s not recorded", path, k))
			default:
				diffs = append(diffs, shapeDiff(path+"."+k, rx, gx, rules)...)
			}
		}
		return diffs
	case []any:
		gv, ok := g.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, recorded array", path, g)}
		}
		if (len(rv) == 0) != (len(gv) == 0) {
			return []string{fmt.Sprintf("%s: %d elements, recorded %d", path, len(gv), len(rv))}
		}
		var diffs []string
		for i, x := range gv {
			diffs = append(diffs, shapeDiff(fmt.Sprintf("%s[%d]", path, i), matchElement(rv, x, rules.keys), x, rules)...)
		}
		return diffs
	default:
		if fmt.Sprintf("%T", r) != fmt.Sprintf("%T", g) {
			return []string{fmt.Sprintf("%s: %T, recorded %T", path, g, r)}
		}
		return nil
	}
}

// matchElement returns the recorded element x is compared with: the first one with x's value for one
// of keys, else the first recorded element.
func matchElement(recorded []any, x any, keys []string) any {
	if xm, ok := x.(map[string]any); ok {
		for _, k := range keys {
			v, ok := xm[k]
			if !ok {
				continue
			}
			for _, rx := range recorded {
				if rm, ok := rx.(map[string]any); ok && rm[k] == v {
					return rx
				}
			}
		}
	}
	return recorded[0]
}

// TestShapeDiff shows the comparator notices what the replays rely on it to notice.
func TestShapeDiff(t *testing.T) {
	kinds := `[{"type":"totp","id":"a"},{"type":"email","id":"b","email":"x@example.com"}]`
	cases := []struct {
		rec, got string
		rules    shapeRules
		diffs    int
	}{
		{`{"a":1,"b":{"c":"x"}}`, `{"b":{"c":"y"},"a":2}`, shapeRules{}, 0},
		{`{"a":1}`, `{"a":"1"}`, shapeRules{}, 1},
		{`{"a":1,"b":2}`, `{"a":1}`, shapeRules{}, 1},
		{`{"a":1,"b":2}`, `{"a":1}`, shapeRules{allowExtra: []string{"b"}}, 0},
		{`{"a":1}`, `{"a":1,"z":true}`, shapeRules{}, 1},
		{`[{"id":"x"}]`, `[]`, shapeRules{}, 1},
		{`[{"id":"x"}]`, `[{"id":"y"},{"id":1}]`, shapeRules{}, 1},
		{`{"u":[{"k":{"n":null}}]}`, `{"u":[{"k":{"n":null}}]}`, shapeRules{}, 0},
		// Elements of different kinds: matched on "type" they agree; against the first element the
		// email method has an extra key.
		{kinds, kinds, shapeRules{keys: []string{"type"}}, 0},
		{kinds, kinds, shapeRules{}, 1},
		// A kind the recording lacks is compared with the first recorded element.
		{kinds, `[{"type":"sms","id":"c","phone":"1"}]`, shapeRules{keys: []string{"type"}}, 1},
	}
	for _, c := range cases {
		var r, g any
		mustUnmarshal(t, []byte(c.rec), &r)
		mustUnmarshal(t, []byte(c.got), &g)
		if d := shapeDiff("$", r, g, c.rules); len(d) != c.diffs {
			t.Errorf("shapeDiff(%s, %s, %+v) = %v, want %d differences", c.rec, c.got, c.rules, d, c.diffs)
		}
	}
}
