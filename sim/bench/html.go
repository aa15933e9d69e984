package bench

import (
	"fmt"
	"html/template"
	"io"
	"slices"

	"gonum.org/v1/plot"

	"github.com/shardlab/shardlab/sim/chart"
)

// reportTmpl is report.html: self-contained (inline CSS, and charts drawn
// by gonum/plot as inline SVG; no script, no external resource), so it
// opens offline.
var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"f0":  func(v float64) string { return fmt.Sprintf("%.0f", v) },
	"f1":  func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"f2":  func(v float64) string { return fmt.Sprintf("%.2f", v) },
	"pct": func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>shardlab bench throughput</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:1em}
.note{color:#555;font-size:90%}figure.chart{margin:0 0 1em 0;width:650px}figcaption{font-weight:bold;font-size:90%}
.scroll{max-width:100%;overflow-x:auto;margin:1em 0}.scroll table{margin:0}td.why{min-width:22em;max-width:40em}
</style></head><body>
<h1>shardlab bench throughput</h1>
<p>{{.Created.Format "2006-01-02 15:04:05 MST"}} &middot; <code>{{.Command}}</code></p>
<h2>Machine</h2>
<table><tr><th class="l">CPUs</th><td>{{.Machine.CPUs}}</td></tr><tr><th class="l">CPU</th><td class="l">{{.Machine.CPUModel}}</td></tr>
<tr><th class="l">memory</th><td>{{.Mem}}</td></tr><tr><th class="l">OS/arch</th><td class="l">{{.Machine.OS}}/{{.Machine.Arch}}, {{.Machine.GoVersion}}</td></tr></table>
<h2>Runs</h2>
<div class="scroll" id="runs-scroll"><table id="runs"><tr><th>shards</th><th>slot</th><th>x-shard</th><th>mode</th><th>nodes (beacon+shard)</th><th>accounts</th><th>zipf</th><th>held rate</th><th>cap</th>
<th>offered</th><th>accepted</th><th>included</th><th>crosslinked</th><th>finalized</th><th>claimed</th>
<th>incl. p50/p90/p99 s</th><th>crosslink p50/p99 s</th><th>finality p50/p99 s</th><th>claim p50/p99 s</th><th>CPU util</th><th>CPU-s/1000 tx</th><th>net bytes/tx</th><th class="l">bottleneck</th></tr>
{{range .Runs}}<tr><td>{{.Point.Shards}}</td><td>{{.Point.SlotSeconds}}s</td><td>{{pct .Point.CrossShard}}</td><td>{{.Point.Mode}}</td><td>{{.Point.BeaconNodes}}+{{.Point.ShardNodes}}</td>
<td>{{.Point.Accounts}}</td><td>{{.Point.Zipf}}</td><td>{{f0 .HeldRate}}</td><td>{{f0 .Cap}}</td>
<td>{{f1 .Rates.Offered}}</td><td>{{f1 .Rates.Accepted}}</td><td>{{f1 .Rates.Included}}</td><td>{{f1 .Rates.Crosslinked}}</td><td>{{f1 .Rates.Finalized}}</td><td>{{f1 .Rates.Claimed}}</td>
<td>{{f2 .Latency.Inclusion.P50}} / {{f2 .Latency.Inclusion.P90}} / {{f2 .Latency.Inclusion.P99}}</td><td>{{f1 .Latency.Crosslink.P50}} / {{f1 .Latency.Crosslink.P99}}</td>
<td>{{f1 .Latency.Finality.P50}} / {{f1 .Latency.Finality.P99}}</td><td>{{f1 .Latency.Claim.P50}} / {{f1 .Latency.Claim.P99}}</td>
{{if eq .Point.Engine "sim"}}<td>-</td><td>-</td><td>-</td>{{else}}<td>{{pct .CPUUtil}}</td><td>{{f2 .CPUPer1000}}</td><td>{{f0 .NetBytesPerTx}}</td>{{end}}<td class="l why">{{.Bottleneck}}</td></tr>
{{end}}</table></div>
<p class="note">Rates are transactions per second over each run's measured window (warm-up excluded); a stage's rate counts the
window's transactions that reached it by the end of the run. Latencies are from the moment a transaction was offered.
Network bytes are the nodes' libp2p stream bytes sent in the window, per included transaction. See docs/benchmarks.md.</p>
{{if .Scaling}}<h2>Scaling</h2>
<div class="scroll" id="scaling-scroll"><table id="scaling"><tr><th>shards</th><th>x-shard</th><th>slot</th><th>included tx/s</th><th>p50 s</th><th>p99 s</th><th>CPU-s/1000 tx</th><th>efficiency vs 1 shard</th><th>per core tx/s</th><th>projection*</th></tr>
{{range .Scaling}}<tr><td>{{.Shards}}</td><td>{{pct .CrossShard}}</td><td>{{.SlotSeconds}}s</td><td>{{f1 .Included}}</td><td>{{f2 .P50}}</td><td>{{f2 .P99}}</td><td>{{if .PerCore}}{{f2 .CPUPer1000}}{{else}}-{{end}}</td>
<td>{{if .Efficiency}}{{pct .Efficiency}}{{else}}-{{end}}</td><td>{{if .PerCore}}{{f1 .PerCore}}{{else}}-{{end}}</td><td>{{if .Projection}}{{f0 .Projection}}{{else}}-{{end}}</td></tr>
{{end}}</table></div>
<p class="note">All shards share this machine's {{.Machine.CPUs}} cores: more shards add no cores here. Per core = included / {{.Machine.CPUs}}.
* A projection, not a measurement: per-core tx/s &times; shard nodes, assuming one core per shard node and linear scaling; shown only for CPU-bound runs.</p>
{{end}}
<h2>Charts</h2>
<div class="charts">{{range .Charts}}{{.}}{{end}}</div>
</body></html>
`))

// reportData feeds reportTmpl.
type reportData struct {
	*Results
	Mem     string
	Scaling []Scaling
	Charts  []template.HTML
}

// WriteHTML writes the self-contained report page.
func (rs *Results) WriteHTML(w io.Writer) error {
	d := reportData{Results: rs, Mem: fmt.Sprintf("%.1f GiB", float64(rs.Machine.MemTotal)/(1<<30))}
	if len(rs.Runs) > 1 {
		d.Scaling = ScalingRows(rs.Machine, rs.Runs)
	}
	for _, c := range rs.charts() {
		h, err := c.HTML()
		if err != nil {
			return fmt.Errorf("write report page: %w", err)
		}
		d.Charts = append(d.Charts, h)
	}
	return reportTmpl.Execute(w, d)
}

// runConfig describes a run's configuration under its charts' titles.
func runConfig(r *Result) string {
	return fmt.Sprintf("%d shards, %d s slots, %.0f%% cross-shard, %s, %d beacon + %d shard nodes, %d accounts",
		r.Point.Shards, r.Point.SlotSeconds, 100*r.Point.CrossShard, r.Point.Mode, r.Point.BeaconNodes, r.Point.ShardNodes, r.Point.Accounts)
}

// charts builds the report's charts.
func (rs *Results) charts() []chart.Chart {
	var out []chart.Chart
	// TPS over time, per run (the included rate is per second of
	// observation, so it moves in slot steps).
	for i := range rs.Runs {
		r := &rs.Runs[i]
		c := chart.Chart{ID: fmt.Sprintf("tps-time-%d", i), Title: "TPS over time: " + runConfig(r), XLabel: "seconds since the load started", YLabel: "tx/s"}
		var t, rate, off, inc []float64
		for _, s := range r.Timeline {
			t, rate, off, inc = append(t, s.T), append(rate, s.Rate), append(off, s.Offered), append(inc, s.Included)
		}
		// Blocks come once a slot: average over two slots.
		w := int(max(1, 2*r.Point.SlotSeconds))
		c.Series = []chart.Series{{Name: "target rate", X: t, Y: rate, Dashed: true}, {Name: "offered", X: t, Y: off},
			{Name: fmt.Sprintf("included (%ds mean)", w), X: t, Y: smooth(inc, w)}}
		out = append(out, c)
	}
	// Throughput against the offered rate: find-max steps and every run's window.
	tv := chart.Chart{ID: "tps-vs-offered", Title: "Included vs offered rate (find-max steps and each run's window)", XLabel: "offered tx/s", YLabel: "included tx/s"}
	var ox, oy []float64
	for i := range rs.Runs {
		r := &rs.Runs[i]
		for _, s := range r.Steps {
			ox, oy = append(ox, s.Offered), append(oy, s.Included)
		}
		ox, oy = append(ox, r.Rates.Offered), append(oy, r.Rates.Included)
	}
	if len(ox) > 0 {
		hi := slices.Max(ox)
		tv.Series = []chart.Series{{Name: "included = offered", X: []float64{0, hi}, Y: []float64{0, hi}, Dashed: true}, {Name: "measured", X: ox, Y: oy, Points: true}}
	}
	out = append(out, tv)
	// Against shards (a sweep).
	byX := map[float64][]*Result{}
	for i := range rs.Runs {
		byX[rs.Runs[i].Point.CrossShard] = append(byX[rs.Runs[i].Point.CrossShard], &rs.Runs[i])
	}
	xs := make([]float64, 0, len(byX))
	for x := range byX {
		xs = append(xs, x)
	}
	slices.Sort(xs)
	ts := chart.Chart{ID: "tps-vs-shards", Title: "Included tx/s vs shards", XLabel: "shards", YLabel: "included tx/s"}
	ls := chart.Chart{ID: "latency-vs-shards", Title: "Inclusion latency vs shards", XLabel: "shards", YLabel: "seconds"}
	for i, x := range xs {
		runs := byX[x]
		slices.SortFunc(runs, func(a, b *Result) int { return int(a.Point.Shards) - int(b.Point.Shards) })
		var sh, inc, p50, p99 []float64
		for _, r := range runs {
			sh, inc = append(sh, float64(r.Point.Shards)), append(inc, r.Rates.Included)
			p50, p99 = append(p50, r.Latency.Inclusion.P50), append(p99, r.Latency.Inclusion.P99)
		}
		name := fmt.Sprintf("%.0f%% cross-shard", 100*x)
		ts.Series = append(ts.Series, chart.Series{Name: name, X: sh, Y: inc})
		// p50 and p99 each get their own colour (and p99 a dashed line),
		// named in the legend.
		ls.Series = append(ls.Series, chart.Series{Name: name + " p50", X: sh, Y: p50, Colour: chart.Colour(2 * i)},
			chart.Series{Name: name + " p99", X: sh, Y: p99, Dashed: true, Colour: chart.Colour(2*i + 1)})
	}
	for _, sh := range shardCounts(rs.Runs) {
		t := plot.Tick{Value: float64(sh), Label: fmt.Sprint(sh)}
		ts.XTicks, ls.XTicks = append(ts.XTicks, t), append(ls.XTicks, t)
	}
	out = append(out, ts, ls)
	// Latency CDFs, per run.
	for i := range rs.Runs {
		r := &rs.Runs[i]
		c := chart.Chart{ID: fmt.Sprintf("latency-cdf-%d", i), Title: "Latency CDF: " + runConfig(r), XLabel: "seconds since offered", YLabel: "percentile", YMax: 100}
		for _, l := range []struct {
			name string
			lat  Latency
		}{{"inclusion", r.Latency.Inclusion}, {"crosslink", r.Latency.Crosslink}, {"finality", r.Latency.Finality}, {"claim (x-shard)", r.Latency.Claim}} {
			if len(l.lat.CDF) == 0 {
				continue
			}
			var ps []float64
			for j := range l.lat.CDF {
				ps = append(ps, float64(5*j))
			}
			c.Series = append(c.Series, chart.Series{Name: l.name, X: l.lat.CDF, Y: ps})
		}
		out = append(out, c)
	}
	return out
}

// shardCounts returns the distinct shard counts of the runs, ascending.
func shardCounts(runs []Result) []uint64 {
	var out []uint64
	for i := range runs {
		out = append(out, runs[i].Point.Shards)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// smooth averages v over a trailing window of n (the included rate comes
// in per-slot steps).
func smooth(v []float64, n int) []float64 {
	out := make([]float64, len(v))
	sum := 0.0
	for i := range v {
		sum += v[i]
		if i >= n {
			sum -= v[i-n]
		}
		out[i] = sum / float64(min(i+1, n))
	}
	return out
}
