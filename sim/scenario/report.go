package scenario

import (
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strings"
)

// WriteReport writes report.json and report.html (self-contained: inline
// SVG charts and styles, nothing fetched) into dir, creating it.
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
	var b strings.Builder
	if err := page.Execute(&b, pageData{R: r, Hash: r.Hash(), Charts: charts(r)}); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.html"), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

type pageData struct {
	R      *Report
	Hash   string
	Charts []template.HTML
}

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>scenario {{.R.Name}}</title>
<style>
body{font-family:sans-serif;margin:2em;max-width:1000px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:14px}
.pass{color:#1a7f37;font-weight:bold}.fail{color:#cf222e;font-weight:bold}
figure{margin:1.5em 0}figcaption{font-weight:bold;margin-bottom:4px}code{background:#f3f3f3;padding:1px 4px}
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
<p>Shaded fault windows: <span style="background:#f4a6a6">&nbsp;partition&nbsp;</span> <span style="background:#c9c9c9">&nbsp;node down&nbsp;</span> <span style="background:#f6d58e">&nbsp;validators offline&nbsp;</span> <span style="background:#a6c8f4">&nbsp;latency or loss&nbsp;</span> <span style="background:#d9a6f4">&nbsp;byzantine&nbsp;</span> (hover for details).</p>
{{range .Charts}}{{.}}{{end}}
<h2>Timeline</h2>
<table id="steps"><tr><th>slot</th><th>step</th><th>action</th><th>detail</th></tr>
{{range .R.Steps}}<tr><td>{{.Slot}}</td><td>{{.Name}}</td><td>{{.Action}}</td><td>{{.Detail}}</td></tr>
{{end}}{{range .R.Slashings}}<tr><td>{{.Slot}}</td><td></td><td>slashed</td><td>validator {{.Validator}} (slashing included by this slot)</td></tr>
{{end}}</table>
</body></html>
`))

// palette colours the nodes' lines.
var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

// windowColour shades fault windows by kind.
var windowColour = map[string]string{"partition": "#f4a6a6", "crash": "#c9c9c9", "offline": "#f6d58e", "latency": "#a6c8f4", "loss": "#a6c8f4", "byzantine": "#d9a6f4"}

// series is one line of a chart.
type series struct {
	name, colour, dash string
	x, y               []float64
}

// chart is a line chart over slots with fault windows and markers.
type chart struct {
	id, title, ylabel string
	xmax, ymax        float64
	lines             []series
	windows           []Window
	marks             []Slashing
}

const (
	chartW, chartH     = 900, 260
	padL, padR         = 50, 140
	padT, padB         = 15, 35
	plotW, plotH       = chartW - padL - padR, chartH - padT - padB
	fmtF               = "%.1f"
	maxTicks           = 10
	markerRadius       = 5
	legendLineSpacing  = 16
	windowOpacity      = "0.45"
	gridColour         = "#e5e5e5"
	axisColour         = "#444"
	markerColour       = "#7b2cbf"
	markerStrokeColour = "#fff"
)

func (c chart) px(x float64) float64 { return padL + x/max(c.xmax, 1)*plotW }
func (c chart) py(y float64) float64 { return padT + plotH - y/max(c.ymax, 1e-9)*plotH }

// svg renders the chart as an inline SVG element.
func (c chart) svg() template.HTML {
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<figure id="%s"><figcaption>%s</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img">`,
		c.id, esc(c.title), chartW, chartH, chartW, chartH)
	for _, w := range c.windows {
		fmt.Fprintf(&b, `<rect class="window" x="`+fmtF+`" y="%d" width="`+fmtF+`" height="%d" fill="%s" opacity="%s"><title>%s (slots %d..%d)</title></rect>`,
			c.px(float64(w.From)), padT, c.px(float64(w.To))-c.px(float64(w.From)), plotH, windowColour[w.Kind], windowOpacity, esc(w.Label), w.From, w.To)
	}
	ystep := max(1, c.ymax/5)
	if c.ymax <= 1 {
		ystep = 0.25
	}
	for y := 0.0; y <= c.ymax+1e-9; y += ystep {
		fmt.Fprintf(&b, `<line x1="%d" y1="`+fmtF+`" x2="%d" y2="`+fmtF+`" stroke="%s"/><text x="%d" y="`+fmtF+`" font-size="11" text-anchor="end">%g</text>`,
			padL, c.py(y), padL+plotW, c.py(y), gridColour, padL-5, c.py(y)+4, y)
	}
	xstep := max(1, float64(int(c.xmax/maxTicks)))
	for x := 0.0; x <= c.xmax; x += xstep {
		fmt.Fprintf(&b, `<text x="`+fmtF+`" y="%d" font-size="11" text-anchor="middle">%g</text>`, c.px(x), padT+plotH+15, x)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="middle">slot</text>`, padL+plotW/2, chartH-3)
	fmt.Fprintf(&b, `<text x="12" y="%d" font-size="12" transform="rotate(-90 12 %d)" text-anchor="middle">%s</text>`, padT+plotH/2, padT+plotH/2, esc(c.ylabel))
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="%s"/>`, padL, padT, plotW, plotH, axisColour)
	for i, l := range c.lines {
		var pts strings.Builder
		for k := range l.x {
			fmt.Fprintf(&pts, fmtF+","+fmtF+" ", c.px(l.x[k]), c.py(l.y[k]))
		}
		fmt.Fprintf(&b, `<polyline class="series" fill="none" stroke="%s" stroke-width="2" stroke-dasharray="%s" points="%s"><title>%s</title></polyline>`,
			l.colour, l.dash, strings.TrimSpace(pts.String()), esc(l.name))
		ly := padT + 10 + i*legendLineSpacing
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2" stroke-dasharray="%s"/><text x="%d" y="%d" font-size="11">%s</text>`,
			padL+plotW+10, ly, padL+plotW+30, ly, l.colour, l.dash, padL+plotW+35, ly+4, esc(l.name))
	}
	for _, m := range c.marks {
		fmt.Fprintf(&b, `<circle class="slashing" cx="`+fmtF+`" cy="`+fmtF+`" r="%d" fill="%s" stroke="%s"><title>validator %d slashed by slot %d</title></circle><text x="`+fmtF+`" y="`+fmtF+`" font-size="10" text-anchor="middle">v%d</text>`,
			c.px(float64(m.Slot)), c.py(c.ymax/2), markerRadius, markerColour, markerStrokeColour, m.Validator, m.Slot, c.px(float64(m.Slot)), c.py(c.ymax/2)-8, m.Validator)
	}
	b.WriteString(`</svg></figure>`)
	return template.HTML(b.String()) //nolint:gosec // every text field above is escaped
}

// charts builds the report's charts: finalized and justified epochs per
// node, participation, and slashings over the fault windows.
func charts(r *Report) []template.HTML {
	if len(r.Samples) == 0 {
		return nil
	}
	end := float64(r.Samples[len(r.Samples)-1].Slot)
	nodes := len(r.Samples[0].Nodes)
	var top float64
	for _, s := range r.Samples {
		for _, n := range s.Nodes {
			top = max(top, float64(n.Justified))
		}
	}
	fin := chart{id: "chart-finality", title: "Finalized (solid) and justified (dashed) epoch per node", ylabel: "epoch", xmax: end, ymax: max(top, 1), windows: r.Windows}
	part := chart{id: "chart-participation", title: "Previous-epoch target participation per node (at epoch starts)", ylabel: "share", xmax: end, ymax: 1, windows: r.Windows}
	for i := range nodes {
		col := palette[i%len(palette)]
		f := series{name: fmt.Sprintf("node %d finalized", i), colour: col}
		j := series{name: fmt.Sprintf("node %d justified", i), colour: col, dash: "5,3"}
		p := series{name: fmt.Sprintf("node %d", i), colour: col}
		for _, s := range r.Samples {
			n := s.Nodes[i]
			f.x, f.y = append(f.x, float64(s.Slot)), append(f.y, float64(n.Finalized))
			j.x, j.y = append(j.x, float64(s.Slot)), append(j.y, float64(n.Justified))
			if s.Slot%r.SlotsPerEpoch == 0 && s.Slot > 0 {
				p.x, p.y = append(p.x, float64(s.Slot)), append(p.y, n.Participation)
			}
		}
		fin.lines = append(fin.lines, f, j)
		part.lines = append(part.lines, p)
	}
	slash := chart{id: "chart-slashings", title: "Fault windows and slashings (marker: slashing included in node 0's chain)", ylabel: "", xmax: end, ymax: 1, windows: r.Windows, marks: r.Slashings}
	return []template.HTML{fin.svg(), part.svg(), slash.svg()}
}
