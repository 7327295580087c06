// Command bench runs the benchmarks behind the performance budget (README, "Performance") and prints
// their medians as a table beside the budget. `make bench` runs it.
//
//	go run ./tools/bench [-count 5] [-quick]
//
// -quick skips the 1,000,000-user sweep, whose seeding takes about a minute. The Cosmos DB
// rows run only when the emulator's settings are exported (tools/emulators.sh env); they are
// emulator numbers, not Azure's.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// row is one benchmark and the metric shown for it.
type row struct {
	pkg, bench, benchtime string
	metric                string  // "ns/op" or a custom unit
	show                  string  // how to print: "ms", "µs", "n"
	budget                float64 // in the shown unit; 0: none
	atLeast               bool    // the budget is a floor, not a ceiling
	label                 string
	slow, cosmos          bool
}

var rows = []row{
	{pkg: "./functions", bench: "BenchmarkColdStart", benchtime: "20x", metric: "ns/op", show: "ms", label: "cold start: exec → first answer on GET /"},
	{pkg: "./functions", bench: "BenchmarkColdStart", benchtime: "20x", metric: "bare-ms", show: "dec", label: "the same for the least Go HTTP server (ms)"},
	{pkg: "./functions", bench: "BenchmarkColdStart", benchtime: "20x", metric: "x-bare", show: "dec", budget: 2, label: "cold start ÷ the least Go server's"},
	{pkg: "./functions", bench: "BenchmarkColdStart", benchtime: "20x", metric: "MB-rss", show: "n", budget: 30, label: "idle RSS after start (MB)"},
	{pkg: "./functions", bench: "BenchmarkSignupConfirm", benchtime: "50x", metric: "ns/op", show: "ms", label: "signup + mail + confirm, bcrypt cost 10"},
	{pkg: "./functions", bench: "BenchmarkSignupFlood", benchtime: "5x", metric: "signups/s", show: "n", label: "signup flood, 300 at once, bcrypt 10: accepted (/s)"},
	{pkg: "./functions", bench: "BenchmarkSignupFlood", benchtime: "5x", metric: "%503", show: "dec", label: "signup flood: share refused with 503 (%)"},
	{pkg: "./functions", bench: "BenchmarkSignupFlood", benchtime: "5x", metric: "health-p50-ms", show: "dec", label: "signup flood: health p50 (ms)"},
	{pkg: "./functions", bench: "BenchmarkSignupFlood", benchtime: "5x", metric: "health-p99-ms", show: "dec", budget: 50, label: "signup flood: health p99 (ms)"},
	{pkg: "./functions", bench: "BenchmarkSignupFlood", benchtime: "5x", metric: "admin-p50-ms", show: "dec", label: "signup flood: admin read p50 (ms)"},
	{pkg: "./functions", bench: "BenchmarkSignupFlood", benchtime: "5x", metric: "admin-p99-ms", show: "dec", label: "signup flood: admin read p99 (ms)"},
	{pkg: "./functions", bench: "BenchmarkMailjetCallbacks/batch=1$", benchtime: "2000x", metric: "events/s", show: "n", label: "Mailjet callbacks, one event per request (/s)"},
	{pkg: "./functions", bench: "BenchmarkMailjetCallbacks/batch=100$", benchtime: "200x", metric: "events/s", show: "n", budget: 20000, atLeast: true, label: "Mailjet callbacks, batches of 100 (events/s)"},
	{pkg: "./functions", bench: "BenchmarkMailjetCallbacks/batch=100$", benchtime: "200x", metric: "p99-ms", show: "dec", label: "Mailjet callbacks, batches of 100: p99 per request (ms)"},
	{pkg: "./functions", bench: "BenchmarkMailjetCallbacks/batch=1000$", benchtime: "40x", metric: "events/s", show: "n", budget: 20000, atLeast: true, label: "Mailjet callbacks, batches of 1,000 (events/s)"},
	{pkg: "./functions", bench: "BenchmarkMailjetCallbacks/batch=1000$", benchtime: "40x", metric: "p99-ms", show: "dec", label: "Mailjet callbacks, batches of 1,000: p99 per request (ms)"},
	{pkg: "./functions", bench: "BenchmarkSCIMFilterUserName", benchtime: "3000x", metric: "p50-ms", show: "dec", label: "SCIM userName filter, 100k members: p50 (ms)"},
	{pkg: "./functions", bench: "BenchmarkSCIMFilterUserName", benchtime: "3000x", metric: "p99-ms", show: "dec", budget: 10, label: "SCIM userName filter, 100k members: p99 (ms)"},
	{pkg: "./functions", bench: "BenchmarkSSOWebhookUpsert", benchtime: "3000x", metric: "p50-ms", show: "dec", label: "signed webhook upsert, 100k members: p50 (ms)"},
	{pkg: "./functions", bench: "BenchmarkSSOWebhookUpsert", benchtime: "3000x", metric: "p99-ms", show: "dec", label: "signed webhook upsert, 100k members: p99 (ms)"},
	{pkg: "./functions", bench: "BenchmarkContactSync", benchtime: "1x", metric: "contacts/s", show: "n", label: "brand contact sync, 10,000 contacts in batches of 1,000 (/s)"},
	{pkg: "./internal/gdpr", bench: "BenchmarkSweep/users=10000/", benchtime: "20x", metric: "ns/op", show: "ms", budget: 100, label: "sweep, 10k users, 1k due"},
	{pkg: "./internal/gdpr", bench: "BenchmarkSweep/users=1000000/", benchtime: "20x", metric: "ns/op", show: "ms", budget: 100, label: "sweep, 1M users, 1k due", slow: true},
	{pkg: "./internal/gdpr", bench: "BenchmarkContactSweep/contacts=100000/", benchtime: "20x", metric: "ns/op", show: "ms", budget: 100, label: "contact sweep, 100k contacts, 1k due"},
	{pkg: "./internal/gdpr", bench: "BenchmarkContactSweep/contacts=1000000/", benchtime: "20x", metric: "ns/op", show: "ms", budget: 100, label: "contact sweep, 1M contacts, 1k due", slow: true},
	{pkg: "./functions", bench: "BenchmarkErasureWorkerLocalMode", benchtime: "10000x", metric: "erasures/s", show: "n", budget: 2000, atLeast: true, label: "erasure worker as local mode runs it, 10 contacts each (/s)"},
	{pkg: "./internal/gdpr", bench: "BenchmarkErasureWorker/batch=100/workers=2$", benchtime: "4000x", metric: "erasures/s", show: "n", label: "erasure jobs, batches of 100, 2 workers, no queue (/s)"},
	{pkg: "./internal/gdpr", bench: "BenchmarkErasureWorker/batch=1/workers=1$", benchtime: "2000x", metric: "erasures/s", show: "n", label: "erasure jobs one at a time, 1 worker, no queue (/s)"},
	// storetest.Bench: the same code on both stores. The tool turns "A/B$" into -bench
	// "^A$/^B$", which selects that sub-benchmark alone (DueQuery with its users=/due= levels).
	{pkg: "./internal/localstore", bench: "BenchmarkStore/PointRead$", benchtime: "1s", metric: "ns/op", show: "µs", label: "embedded store: point read"},
	{pkg: "./internal/localstore", bench: "BenchmarkStore/Update$", benchtime: "1s", metric: "ns/op", show: "µs", label: "embedded store: versioned update"},
	{pkg: "./internal/localstore", bench: "BenchmarkStore/DueQuery$", benchtime: "1s", metric: "ns/op", show: "ms", label: "embedded store: due query (100 of 10k)"},
	{pkg: "./internal/cosmosstore", bench: "BenchmarkStore/PointRead$", benchtime: "1s", metric: "ns/op", show: "µs", label: "Cosmos emulator: point read", cosmos: true},
	{pkg: "./internal/cosmosstore", bench: "BenchmarkStore/Update$", benchtime: "1s", metric: "ns/op", show: "µs", label: "Cosmos emulator: versioned update", cosmos: true},
	{pkg: "./internal/cosmosstore", bench: "BenchmarkStore/DueQuery$", benchtime: "5x", metric: "ns/op", show: "ms", label: "Cosmos emulator: due query (100 of 10k)", cosmos: true},
}

func main() {
	count := flag.Int("count", 5, "runs per benchmark; the table shows the median")
	quick := flag.Bool("quick", false, "skip the 1M-user sweep")
	flag.Parse()
	cosmos := os.Getenv("POPSELL_TEST_COSMOS_ENDPOINT") != ""

	results := map[string][]float64{} // pkg|bench|metric → values
	ran := map[string]bool{}
	for _, r := range rows {
		key := r.pkg + r.bench + r.benchtime
		if ran[key] || (r.slow && *quick) || (r.cosmos && !cosmos) {
			continue
		}
		ran[key] = true
		fmt.Fprintf(os.Stderr, "running %s %s ×%d\n", r.pkg, r.bench, *count)
		cmd := exec.Command("go", "test", "-run", "^$", "-bench", "^"+strings.ReplaceAll(r.bench, "/", "$/^"), "-benchtime", r.benchtime,
			"-count", strconv.Itoa(*count), r.pkg)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s %s failed: %v\n%s", r.pkg, r.bench, err, out)
			os.Exit(1)
		}
		for name, metrics := range parse(out) {
			for unit, vs := range metrics {
				k := r.pkg + "|" + name + "|" + unit
				results[k] = append(results[k], vs...)
			}
		}
	}

	fmt.Printf("\n| benchmark | median | budget | within |\n|---|---|---|---|\n")
	for _, r := range rows {
		if (r.slow && *quick) || (r.cosmos && !cosmos) {
			continue
		}
		var vs []float64
		for k, v := range results {
			pkg, rest, _ := strings.Cut(k, "|")
			name, unit, _ := strings.Cut(rest, "|")
			if pkg == r.pkg && unit == r.metric && benchMatches(name, r.bench) {
				vs = append(vs, v...)
			}
		}
		if len(vs) == 0 {
			fmt.Printf("| %s | no result | | |\n", r.label)
			continue
		}
		m := convert(median(vs), r.metric, r.show)
		budget, within := "", ""
		if r.budget > 0 {
			op := "≤"
			ok := m <= r.budget
			if r.atLeast {
				op, ok = "≥", m >= r.budget
			}
			budget = fmt.Sprintf("%s %s", op, format(r.budget, r.show))
			within = map[bool]string{true: "yes", false: "NO"}[ok]
		}
		fmt.Printf("| %s | %s | %s | %s |\n", r.label, format(m, r.show), budget, within)
	}
}

// benchMatches reports whether a result belongs to a row: a row ending in "$" names one
// benchmark exactly (batch=1 is not batch=100); any other row is a prefix of the names it
// gathers (its sub-benchmarks' levels).
func benchMatches(name, bench string) bool {
	if exact, ok := strings.CutSuffix(bench, "$"); ok {
		// "A/B$" is sub-benchmark B alone, with whatever levels B has below it.
		return name == exact || strings.HasPrefix(name, exact+"/")
	}
	return strings.HasPrefix(name, bench)
}

// parse reads `go test -bench` output: name, then pairs of value and unit.
func parse(out []byte) map[string]map[string][]float64 {
	res := map[string]map[string][]float64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndex(name, "-"); i > 0 {
			name = name[:i] // drop -GOMAXPROCS
		}
		if res[name] == nil {
			res[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err == nil {
				res[name][f[i+1]] = append(res[name][f[i+1]], v)
			}
		}
	}
	return res
}

func median(vs []float64) float64 {
	vs = slices.Clone(vs)
	slices.Sort(vs)
	if n := len(vs); n%2 == 1 {
		return vs[n/2]
	} else {
		return (vs[n/2-1] + vs[n/2]) / 2
	}
}

func convert(v float64, metric, show string) float64 {
	if metric != "ns/op" {
		return v
	}
	switch show {
	case "ms":
		return v / 1e6
	case "µs":
		return v / 1e3
	}
	return v
}

func format(v float64, show string) string {
	switch show {
	case "ms":
		return fmt.Sprintf("%.1f ms", v)
	case "µs":
		return fmt.Sprintf("%.0f µs", v)
	case "dec":
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}
