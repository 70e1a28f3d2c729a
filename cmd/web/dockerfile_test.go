package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerInstr is one Dockerfile instruction with its continuation lines joined.
type dockerInstr struct {
	op   string // upper case: FROM, RUN, ...
	args string
}

func parseDockerfile(t *testing.T, path string) []dockerInstr {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []dockerInstr
	var cur strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		l := strings.TrimSpace(line)
		if cur.Len() == 0 && (l == "" || strings.HasPrefix(l, "#")) {
			continue
		}
		if strings.HasSuffix(l, "\\") {
			cur.WriteString(strings.TrimSuffix(l, "\\") + " ")
			continue
		}
		cur.WriteString(l)
		op, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstr{op: strings.ToUpper(op), args: strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// buildCommand is the exact command the Dockerfile builds the binary with.
var buildCommand = regexp.MustCompile(`CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o (\S+) \./cmd/web`)

// TestDockerfile checks the image recipe without a Docker engine: a Go build stage and a distroless
// static runtime stage; the binary built with CGO off and copied to where HEALTHCHECK and ENTRYPOINT
// run it; a non-root user; port 8080 on every interface; /data as the volume and the data
// directory; and nothing secret baked in (no secret-looking ENV or ARG, no local data or env file
// sent to the build).
func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t, filepath.Join("..", "..", "Dockerfile"))
	var froms []string
	byOp := map[string][]string{}
	last := -1 // index of the final FROM
	for i, in := range ins {
		byOp[in.op] = append(byOp[in.op], in.args)
		if in.op == "FROM" {
			froms = append(froms, in.args)
			last = i
		}
	}
	if len(froms) < 2 || !strings.HasPrefix(froms[0], "golang:1.26 ") || !strings.HasSuffix(froms[0], " AS build") {
		t.Fatalf("want a golang:1.26 build stage then a runtime stage, got FROM %q", froms)
	}
	if rt := froms[len(froms)-1]; !strings.HasPrefix(rt, "gcr.io/distroless/static") || !strings.HasSuffix(rt, ":nonroot") {
		t.Errorf("runtime stage %q is not distroless static nonroot", rt)
	}
	m := buildCommand.FindStringSubmatch(strings.Join(byOp["RUN"], "\n"))
	if m == nil {
		t.Fatalf("no RUN with the static build command; RUN lines: %q", byOp["RUN"])
	}
	runtime := map[string][]string{}
	for _, in := range ins[last+1:] {
		runtime[in.op] = append(runtime[in.op], in.args)
	}
	if !slicesContain(runtime["COPY"], "--from=build "+m[1]+" /userdesk") {
		t.Errorf("runtime stage does not copy %s to /userdesk: %q", m[1], runtime["COPY"])
	}
	if u := runtime["USER"]; len(u) != 1 || !strings.HasPrefix(u[0], "nonroot") {
		t.Errorf("USER = %q, want nonroot", u)
	}
	if !slicesContain(runtime["EXPOSE"], "8080") || !slicesContain(runtime["VOLUME"], "/data") {
		t.Errorf("EXPOSE %q, VOLUME %q", runtime["EXPOSE"], runtime["VOLUME"])
	}
	env := strings.Join(runtime["ENV"], " ")
	for _, want := range []string{"USERDESK_ADDR=0.0.0.0:8080", "USERDESK_DATA_DIR=/data"} {
		if !strings.Contains(env, want) {
			t.Errorf("ENV lacks %s: %q", want, env)
		}
	}
	hc := strings.Join(runtime["HEALTHCHECK"], " ")
	if !strings.Contains(hc, `CMD ["/userdesk", "healthcheck"]`) {
		t.Errorf("HEALTHCHECK = %q", hc)
	}
	if ep := runtime["ENTRYPOINT"]; len(ep) != 1 || ep[0] != `["/userdesk"]` {
		t.Errorf("ENTRYPOINT = %q", ep)
	}
	secretish := regexp.MustCompile(`(?i)(SECRET|PASSWORD|TOKEN|KEY|DATABASE_URL|CLIENT_ID)`)
	for _, in := range ins {
		if (in.op == "ENV" || in.op == "ARG") && secretish.MatchString(in.args) {
			t.Errorf("%s %s bakes a secret-looking setting into the image", in.op, in.args)
		}
	}
	ignore, err := os.ReadFile(filepath.Join("..", "..", ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{".git", "data", ".env", "*.db", "*.key"} {
		if !slicesContain(strings.Split(string(ignore), "\n"), want) {
			t.Errorf(".dockerignore does not exclude %s", want)
		}
	}

	// The same build command yields a static executable: no dynamic loader, no shared libraries.
	if testing.Short() {
		return
	}
	bin := filepath.Join(t.TempDir(), "userdesk")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("static build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary is dynamically linked (program header %s)", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %q", libs)
	}
}

func slicesContain(xs []string, want string) bool {
	for _, x := range xs {
		if strings.TrimSpace(x) == want {
			return true
		}
	}
	return false
}
