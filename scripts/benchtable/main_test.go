package main

import (
	"strings"
	"testing"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/userdesk/userdesk/cmd/web
cpu: AMD EPYC
BenchmarkPages/list/page-2   	     387	   3850890 ns/op	         2.000 calls/page	         1.000 token-fetches	  629530 B/op	    8731 allocs/op
BenchmarkPages/list/bare-2   	     272	   2567000 ns/op	  496451 B/op	    7596 allocs/op
    bench_test.go:65: seeded 100000 users in 20.414s
BenchmarkUsersAPI100k/Create-2          	      20	  77246572 ns/op	        76.64 p50-ms	        87.86 p99-ms	   63214 B/op	     718 allocs/op
PASS
`

// TestTable: every benchmark becomes a row with µs/op, allocs/op and its custom metrics; log lines are
// skipped; the page/bare ratio is computed; the machine line names the CPU and GOMAXPROCS.
func TestTable(t *testing.T) {
	p, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	render(&b, p)
	out := b.String()
	for _, want := range []string{
		"| Pages/list/page | 3851 | 8731 | 2.00 calls/page, 1.00 token-fetches |",
		"| Pages/list/bare | 2567 | 7596 |  |",
		"| UsersAPI100k/Create | 77247 | 718 | 76.6 p50-ms, 87.9 p99-ms |",
		"| list | 3851 | 2567 | 1.50× |",
		"Machine: AMD EPYC, linux/amd64, GOMAXPROCS 2,",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "seeded") {
		t.Error("a log line became a row")
	}
}
