// Command benchtable reads `go test -bench` output on standard input and prints one Markdown table:
// µs/op, allocs/op and every custom metric of each benchmark, then the dashboard-overhead ratio of
// each page (BenchmarkPages/<page>/page over BenchmarkPages/<page>/bare) and the machine the figures
// come from. A benchmark run several times (-count) is shown by the median of each metric; a
// page's ratio is the median of the ratios of the runs, each page run divided by the bare run next
// to it, with their range. `make bench` feeds the benchmarks into it.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// result is one benchmark line.
type result struct {
	name    string // without the Benchmark prefix and the -GOMAXPROCS suffix
	procs   string
	n       int
	metrics map[string]float64 // unit → value
	units   []string           // custom units in the order they appeared
}

// parsed is everything read from the input.
type parsed struct {
	results []result
	cpu     string
	goos    string
	goarch  string
}

func parse(r io.Reader) (parsed, error) {
	var p parsed
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "cpu:"):
			p.cpu = strings.TrimSpace(strings.TrimPrefix(line, "cpu:"))
		case strings.HasPrefix(line, "goos:"):
			p.goos = strings.TrimSpace(strings.TrimPrefix(line, "goos:"))
		case strings.HasPrefix(line, "goarch:"):
			p.goarch = strings.TrimSpace(strings.TrimPrefix(line, "goarch:"))
		case strings.HasPrefix(line, "Benchmark"):
			f := strings.Fields(line)
			if len(f) < 4 || len(f)%2 != 0 {
				continue // a benchmark's own log line
			}
			n, err := strconv.Atoi(f[1])
			if err != nil {
				continue
			}
			res := result{name: strings.TrimPrefix(f[0], "Benchmark"), n: n, metrics: map[string]float64{}}
			if i := strings.LastIndex(res.name, "-"); i > 0 {
				if _, err := strconv.Atoi(res.name[i+1:]); err == nil {
					res.name, res.procs = res.name[:i], res.name[i+1:]
				}
			}
			for i := 2; i+1 < len(f); i += 2 {
				v, err := strconv.ParseFloat(f[i], 64)
				if err != nil {
					return p, fmt.Errorf("%s: value %q: %w", f[0], f[i], err)
				}
				unit := f[i+1]
				if _, seen := res.metrics[unit]; !seen && unit != "ns/op" && unit != "B/op" && unit != "allocs/op" {
					res.units = append(res.units, unit)
				}
				res.metrics[unit] = v
			}
			p.results = append(p.results, res)
		}
	}
	return p, sc.Err()
}

func num(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// summary is one benchmark's runs: the median of each metric, and every run in order.
type summary struct {
	result
	runs []result
}

// summarise groups repeated runs of a benchmark (in first-seen order) and takes medians.
func summarise(results []result) []summary {
	var out []summary
	index := map[string]int{}
	for _, r := range results {
		i, ok := index[r.name]
		if !ok {
			i = len(out)
			index[r.name] = i
			out = append(out, summary{result: result{name: r.name, procs: r.procs, n: r.n, metrics: map[string]float64{}}})
		}
		out[i].runs = append(out[i].runs, r)
		for _, u := range r.units {
			if !slices.Contains(out[i].units, u) {
				out[i].units = append(out[i].units, u)
			}
		}
	}
	for i := range out {
		for _, r := range out[i].runs {
			for u := range r.metrics {
				if _, done := out[i].metrics[u]; done {
					continue
				}
				var vs []float64
				for _, rr := range out[i].runs {
					if v, ok := rr.metrics[u]; ok {
						vs = append(vs, v)
					}
				}
				out[i].metrics[u] = median(vs)
			}
		}
	}
	return out
}

// median of vs (the mean of the middle two for an even count); vs is reordered.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	slices.Sort(vs)
	m := len(vs) / 2
	if len(vs)%2 == 1 {
		return vs[m]
	}
	return (vs[m-1] + vs[m]) / 2
}

func render(w io.Writer, p parsed) {
	sums := summarise(p.results)
	fmt.Fprintln(w, "| benchmark | runs | µs/op | allocs/op | other |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|")
	for _, r := range sums {
		us, allocs := "", ""
		if v, ok := r.metrics["ns/op"]; ok {
			us = num(v / 1000)
		}
		if v, ok := r.metrics["allocs/op"]; ok {
			allocs = strconv.FormatFloat(v, 'f', 0, 64)
		}
		var other []string
		for _, u := range r.units {
			other = append(other, num(r.metrics[u])+" "+u)
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s |\n", r.name, len(r.runs), us, allocs, strings.Join(other, ", "))
	}
	// Dashboard overhead: page over bare for every page measured both ways.
	byName := map[string]summary{}
	for _, r := range sums {
		byName[r.name] = r
	}
	var pages []string
	for name := range byName {
		if page, ok := strings.CutSuffix(name, "/page"); ok && strings.HasPrefix(name, "Pages/") {
			if _, ok := byName[page+"/bare"]; ok {
				pages = append(pages, page)
			}
		}
	}
	sort.Strings(pages)
	if len(pages) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| page | page µs | bare upstream µs | page ÷ bare (target ≤ 1.5) | runs: lowest–highest |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---|")
		for _, pg := range pages {
			page, bare := byName[pg+"/page"], byName[pg+"/bare"]
			var ratios []float64
			for i := range min(len(page.runs), len(bare.runs)) {
				if b := bare.runs[i].metrics["ns/op"]; b > 0 {
					ratios = append(ratios, page.runs[i].metrics["ns/op"]/b)
				}
			}
			if len(ratios) == 0 {
				continue
			}
			lo, hi := slices.Min(ratios), slices.Max(ratios)
			fmt.Fprintf(w, "| %s | %s | %s | %.2f× | %d: %.2f×–%.2f× |\n", strings.TrimPrefix(pg, "Pages/"),
				num(page.metrics["ns/op"]/1000), num(bare.metrics["ns/op"]/1000), median(ratios), len(ratios), lo, hi)
		}
	}
	procs := ""
	if len(p.results) > 0 && p.results[0].procs != "" {
		procs = ", GOMAXPROCS " + p.results[0].procs
	}
	fmt.Fprintf(w, "\nMachine: %s, %s/%s%s, %s.\n", orUnknown(p.cpu), orUnknown(p.goos), orUnknown(p.goarch), procs, runtime.Version())
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func main() {
	p, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if len(p.results) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark results on standard input")
		os.Exit(1)
	}
	render(os.Stdout, p)
}
