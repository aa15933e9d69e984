package scenario

import (
	"encoding/json"
	"fmt"
	"html/template"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gonum.org/v1/plot"

	"github.com/shardlab/shardlab/sim/chart"
)

// WriteReport writes report.json and report.html into dir, creating it.
// The page is self-contained: styles inline and charts drawn by
// gonum/plot (package sim/chart) as inline SVG; no script, nothing
// fetched, so it opens offline.
func WriteReport(dir string, r *Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	d := pageData{R: r, Hash: r.Hash(), Kinds: windowKinds(r.Windows), Timeline: timelineRows(r)}
	for _, c := range charts(r) {
		h, err := c.HTML()
		if err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		d.Charts = append(d.Charts, h)
	}
	var b strings.Builder
	if err := page.Execute(&b, d); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.html"), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

type pageData struct {
	R        *Report
	Hash     string
	Kinds    []windowKind
	Timeline []Fired
	Charts   []template.HTML
}

// timelineRows merges the steps fired, the slashings and the events in
// slot order (steps first within a slot).
func timelineRows(r *Report) []Fired {
	rows := slices.Clone(r.Steps)
	for _, s := range r.Slashings {
		rows = append(rows, Fired{Slot: s.Slot, Action: "slashed", Detail: fmt.Sprintf("validator %d (slashing included by this slot)", s.Validator)})
	}
	_, events := shardCharts(r)
	for _, e := range append(slices.Clone(r.Events), events...) {
		rows = append(rows, Fired{Slot: e.Slot, Action: e.Kind, Detail: e.Label})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Slot < rows[j].Slot })
	return rows
}

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>scenario {{.R.Name}}</title>
<style>
body{font-family:sans-serif;margin:2em;max-width:1000px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:14px}
.pass{color:#1a7f37;font-weight:bold}.fail{color:#cf222e;font-weight:bold}
figure.chart{margin:1.5em 0;max-width:800px}figcaption{font-weight:bold;margin-bottom:4px}code{background:#f3f3f3;padding:1px 4px}
.swatch{display:inline-block;width:1.2em;height:0.9em;vertical-align:middle;margin:0 4px 0 10px}
</style></head><body>
<h1>Scenario {{.R.Name}} {{if .R.Pass}}<span class="pass">PASS</span>{{else}}<span class="fail">FAIL</span>{{end}}</h1>
<p>{{.R.Description}}</p>
<p>File <code>{{.R.File}}</code>, seed {{.R.Seed}}, {{.R.Network.Nodes}} nodes, {{.R.Network.Validators}} validators, {{.R.Network.Epochs}} epochs of {{.R.SlotsPerEpoch}} slots.<br>
Trace hash <code>{{.R.TraceHash}}</code>, report hash <code>{{.Hash}}</code>.<br>
Replay: <code>{{.R.Replay}}</code></p>
<h2>Expectations</h2>
<table id="expectations"><tr><th>expectation</th><th>expected</th><th>observed</th><th>result</th></tr>
{{range .R.Expectations}}<tr><td>{{.Name}}</td><td>{{.Expected}}</td><td>{{.Observed}}</td><td>{{if .Pass}}<span class="pass">pass</span>{{else}}<span class="fail">fail</span>{{end}}</td></tr>
{{end}}</table>
<h2>Charts</h2>
{{if .Kinds}}<p>Shaded fault windows:{{range .Kinds}}<span class="swatch" style="background:{{.Colour}}"></span>{{.Kind}}{{end}}</p>{{end}}
{{range .Charts}}{{.}}{{end}}
{{if .R.Windows}}<h2>Fault windows</h2>
<table id="windows"><tr><th>kind</th><th>from slot</th><th>to slot</th><th>detail</th></tr>
{{range .R.Windows}}<tr><td>{{.Kind}}</td><td>{{.From}}</td><td>{{.To}}</td><td>{{.Label}}</td></tr>
{{end}}</table>{{end}}
<h2>Timeline</h2>
<table id="steps"><tr><th>slot</th><th>step</th><th>action</th><th>detail</th></tr>
{{range .Timeline}}<tr><td>{{.Slot}}</td><td>{{.Name}}</td><td>{{.Action}}</td><td>{{.Detail}}</td></tr>
{{end}}</table>
</body></html>
`))

// Series is an optional line of the report's charts, written by the
// stages that measure it, e.g. the shard layer's crosslinked epoch per
// shard or its receipts sent and claimed. Series with the same Chart are
// drawn together; see chartTitles for the charts the page knows by name
// (others are drawn under their Chart name). Slots and Values pair up.
type Series struct {
	Chart  string    `json:"chart"`
	Name   string    `json:"name"`
	Slots  []uint64  `json:"slots"`
	Values []float64 `json:"values"`
}

// Event is an optional mark on the report's timeline chart, e.g. a fraud
// proof included or a crosslink rolled back. Events of one Kind share a
// row and a colour.
type Event struct {
	Slot  uint64 `json:"slot"`
	Kind  string `json:"kind"`
	Label string `json:"label"`
}

// Chart names of Series the page titles (the shard layer writes them).
const (
	ChartCrosslinks = "crosslinks"
	ChartReceipts   = "receipts"
	ChartFraud      = "fraud_proofs"
)

// Event kinds the timeline colours (others get the next palette colour).
const (
	EventFraudProof = "fraud proof"
	EventRollback   = "crosslink rolled back"
)

// chartTitles titles the known series charts: title and y label.
var chartTitles = map[string][2]string{
	ChartCrosslinks: {"Crosslinked epoch per shard (node 0's head state)", "epoch"},
	ChartReceipts:   {"Cross-shard receipts sent and claimed (cumulative)", "receipts"},
	ChartFraud:      {"Fraud proofs submitted and included (cumulative)", "proofs"},
}

// AddPoint appends (slot, v) to the series name of the chart named chart,
// creating the series on first use.
func (r *Report) AddPoint(chartName, name string, slot uint64, v float64) {
	for i := range r.Series {
		if s := &r.Series[i]; s.Chart == chartName && s.Name == name {
			s.Slots, s.Values = append(s.Slots, slot), append(s.Values, v)
			return
		}
	}
	r.Series = append(r.Series, Series{Chart: chartName, Name: name, Slots: []uint64{slot}, Values: []float64{v}})
}

// windowColour shades fault windows by kind; other kinds get otherWindow.
var windowColour = map[string]color.NRGBA{
	"partition": {0xf4, 0xa6, 0xa6, 0x90}, "crash": {0xb0, 0xb0, 0xb0, 0x90}, "offline": {0xf6, 0xd5, 0x8e, 0x90},
	"latency": {0xa6, 0xc8, 0xf4, 0x90}, "loss": {0xa6, 0xc8, 0xf4, 0x90}, "byzantine": {0xd9, 0xa6, 0xf4, 0x90},
}

var otherWindow = color.NRGBA{0xa6, 0xe0, 0xc8, 0x90}

func shade(kind string) color.NRGBA {
	if c, ok := windowColour[kind]; ok {
		return c
	}
	return otherWindow
}

// windowKind is a legend entry of the page's fault windows.
type windowKind struct {
	Kind   string
	Colour template.CSS
}

// windowKinds lists the kinds of ws in order of first appearance.
func windowKinds(ws []Window) []windowKind {
	var out []windowKind
	seen := map[string]bool{}
	for _, w := range ws {
		if !seen[w.Kind] {
			seen[w.Kind] = true
			c := shade(w.Kind)
			out = append(out, windowKind{Kind: w.Kind, Colour: template.CSS(fmt.Sprintf("rgba(%d,%d,%d,%.2f)", c.R, c.G, c.B, float64(c.A)/255))})
		}
	}
	return out
}

// charts builds the report's charts over slots, each with the fault
// windows shaded: finalized and justified epoch per node, participation,
// the optional series charts in order of first appearance, and the
// timeline of slashings and events.
func charts(r *Report) []chart.Chart {
	if len(r.Samples) == 0 {
		return nil
	}
	var bands []chart.Band
	for _, w := range r.Windows {
		bands = append(bands, chart.Band{From: float64(w.From), To: float64(w.To), Kind: w.Kind, Colour: shade(w.Kind)})
	}
	end := float64(r.Samples[len(r.Samples)-1].Slot)
	nodes := len(r.Samples[0].Nodes)
	fin := chart.Chart{ID: "chart-finality", Title: "Finalized (solid) and justified (dashed) epoch per node", XLabel: "slot", YLabel: "epoch", Bands: bands, FixX: true, XMax: end}
	part := chart.Chart{ID: "chart-participation", Title: "Previous-epoch target participation per node (at epoch starts)", XLabel: "slot", YLabel: "share", YMax: 1, Bands: bands, FixX: true, XMax: end}
	for i := range nodes {
		col := chart.Colour(i)
		f := chart.Series{Name: fmt.Sprintf("node %d", i), Colour: col}
		j := chart.Series{Name: fmt.Sprintf("node %d justified", i), Colour: col, Dashed: true, NoLegend: true}
		p := chart.Series{Name: fmt.Sprintf("node %d", i), Colour: col}
		for _, s := range r.Samples {
			if i >= len(s.Nodes) {
				continue
			}
			n, x := s.Nodes[i], float64(s.Slot)
			f.X, f.Y = append(f.X, x), append(f.Y, float64(n.Finalized))
			j.X, j.Y = append(j.X, x), append(j.Y, float64(n.Justified))
			if s.Slot%r.SlotsPerEpoch == 0 && s.Slot > 0 {
				p.X, p.Y = append(p.X, x), append(p.Y, n.Participation)
			}
		}
		fin.Series = append(fin.Series, f, j)
		part.Series = append(part.Series, p)
	}
	out := []chart.Chart{fin, part}
	series, events := shardCharts(r)
	for _, c := range seriesCharts(append(append([]Series(nil), r.Series...), series...), bands) {
		c.FixX, c.XMax = true, end
		out = append(out, c)
	}
	tl := timeline(r, append(append([]Event(nil), r.Events...), events...), bands)
	tl.FixX, tl.XMax = true, end
	return append(out, tl)
}

// seriesCharts draws the optional series, one chart per Chart name.
func seriesCharts(series []Series, bands []chart.Band) []chart.Chart {
	var out []chart.Chart
	index := map[string]int{}
	for _, s := range series {
		i, ok := index[s.Chart]
		if !ok {
			i = len(out)
			index[s.Chart] = i
			title, ylabel := s.Chart, ""
			if t, ok := chartTitles[s.Chart]; ok {
				title, ylabel = t[0], t[1]
			}
			out = append(out, chart.Chart{ID: "chart-" + s.Chart, Title: title, XLabel: "slot", YLabel: ylabel, Bands: bands})
		}
		cs := chart.Series{Name: s.Name}
		for k := range min(len(s.Slots), len(s.Values)) {
			cs.X, cs.Y = append(cs.X, float64(s.Slots[k])), append(cs.Y, s.Values[k])
		}
		out[i].Series = append(out[i].Series, cs)
	}
	return out
}

// timeline draws the fault windows, the slashings (grouped by slot) and
// the events, one row per kind.
func timeline(r *Report, events []Event, bands []chart.Band) chart.Chart {
	c := chart.Chart{ID: "chart-timeline", Title: "Fault windows, slashings (included in node 0's chain) and events", XLabel: "slot", Bands: bands}
	rows := map[string]int{}
	row := func(kind string) float64 {
		if _, ok := rows[kind]; !ok {
			rows[kind] = len(rows) + 1
			c.YTicks = append(c.YTicks, plot.Tick{Value: float64(rows[kind]), Label: kind})
		}
		return float64(rows[kind])
	}
	var bySlot []Slashing
	for _, s := range r.Slashings {
		if n := len(bySlot); n > 0 && bySlot[n-1].Slot == s.Slot {
			continue
		}
		bySlot = append(bySlot, s)
	}
	for _, first := range bySlot {
		var vs []string
		for _, s := range r.Slashings {
			if s.Slot == first.Slot {
				vs = append(vs, fmt.Sprintf("v%d", s.Validator))
			}
		}
		c.Events = append(c.Events, chart.Event{X: float64(first.Slot), Y: row("slashing"), Kind: "slashing", Label: strings.Join(vs, ","), Colour: chart.Colour(4)})
	}
	colours := map[string]color.Color{"slashing": chart.Colour(4), EventFraudProof: chart.Colour(1), EventRollback: chart.Colour(3)}
	for _, e := range events {
		col, ok := colours[e.Kind]
		if !ok {
			col = chart.Colour(5 + len(colours))
			colours[e.Kind] = col
		}
		c.Events = append(c.Events, chart.Event{X: float64(e.Slot), Y: row(e.Kind), Kind: e.Kind, Label: e.Label, Colour: col})
	}
	c.YMax = float64(len(rows)) + 0.5
	return c
}
