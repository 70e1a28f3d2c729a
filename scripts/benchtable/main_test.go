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
		"| Pages/list/page | 1 | 3851 | 8731 | 2.00 calls/page, 1.00 token-fetches |",
		"| Pages/list/bare | 1 | 2567 | 7596 |  |",
		"| UsersAPI100k/Create | 1 | 77247 | 718 | 76.6 p50-ms, 87.9 p99-ms |",
		"| list | 3851 | 2567 | 1.50× | 1: 1.50×–1.50× |",
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

// Repeated runs (-count) become one row of medians; the ratio is the median of each run's page
// over the bare run beside it, with the range.
func TestRepeatedRunsShowMedians(t *testing.T) {
	in := `BenchmarkPages/user/page-2 100 900000 ns/op 4 calls/page 1100 allocs/op
BenchmarkPages/user/bare-2 100 600000 ns/op 640 allocs/op
BenchmarkPages/user/page-2 100 700000 ns/op 4 calls/page 1000 allocs/op
BenchmarkPages/user/bare-2 100 500000 ns/op 650 allocs/op
BenchmarkPages/user/page-2 100 800000 ns/op 4 calls/page 1200 allocs/op
BenchmarkPages/user/bare-2 100 400000 ns/op 660 allocs/op
`
	p, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	render(&b, p)
	out := b.String()
	for _, want := range []string{
		"| Pages/user/page | 3 | 800 | 1100 | 4.00 calls/page |",
		"| Pages/user/bare | 3 | 500 | 650 |  |",
		// runs: 900/600 = 1.50, 700/500 = 1.40, 800/400 = 2.00
		"| user | 800 | 500 | 1.50× | 3: 1.40×–2.00× |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "| Pages/user/page |"); n != 1 {
		t.Errorf("%d rows for one benchmark run three times", n)
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
