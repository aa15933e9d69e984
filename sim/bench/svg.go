package bench

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// palette colours the series of a chart.
var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"}

// series is one line (or set of points) of a chart.
type series struct {
	name   string
	xs, ys []float64
	dashed bool
	dots   bool
}

// chart is a line chart rendered as inline SVG.
type chart struct {
	id, title, xlabel, ylabel string
	series                    []series
}

// Chart geometry (SVG user units).
const (
	chartW, chartH                 = 640, 360
	padL, padR, padT, padB float64 = 70, 160, 36, 48
)

// niceStep returns a round tick step for a span split in about n parts.
func niceStep(span float64, n int) float64 {
	if span <= 0 || math.IsNaN(span) || math.IsInf(span, 0) {
		return 1
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			return m * mag
		}
	}
	return 10 * mag
}

// bounds returns the axis ranges: from 0 (or the smallest x) to a round
// value above the largest.
func (c chart) bounds() (x0, x1, y0, y1 float64) {
	x0, x1, y1 = math.Inf(1), math.Inf(-1), 0
	for _, s := range c.series {
		for i := range s.xs {
			x0, x1 = math.Min(x0, s.xs[i]), math.Max(x1, s.xs[i])
			y1 = math.Max(y1, s.ys[i])
		}
	}
	if math.IsInf(x0, 1) {
		x0, x1 = 0, 1
	}
	if x1 <= x0 {
		x1 = x0 + 1
	}
	if y1 <= 0 {
		y1 = 1
	}
	st := niceStep(y1, 5)
	y1 = math.Ceil(y1/st) * st
	return x0, x1, 0, y1
}

// svg renders the chart; a chart without data says so.
func (c chart) svg() string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="%s" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		html.EscapeString(c.id), chartW, chartH, chartW, chartH, html.EscapeString(c.title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/>`, chartW, chartH)
	fmt.Fprintf(&b, `<text x="%d" y="22" text-anchor="middle" font-size="15" font-weight="bold">%s</text>`, chartW/2, html.EscapeString(c.title))
	empty := true
	for _, s := range c.series {
		if len(s.xs) > 0 {
			empty = false
		}
	}
	if empty {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="13" fill="#666">no data for this chart in these runs</text></svg>`, chartW/2, chartH/2)
		return b.String()
	}
	x0, x1, y0, y1 := c.bounds()
	pw, ph := chartW-padL-padR, chartH-padT-padB
	px := func(x float64) float64 { return padL + (x-x0)/(x1-x0)*pw }
	py := func(y float64) float64 { return padT + ph - (y-y0)/(y1-y0)*ph }
	// Grid and ticks.
	ys := niceStep(y1-y0, 5)
	for y := y0; y <= y1+ys/2; y += ys {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`, padL, py(y), padL+pw, py(y))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" font-size="11">%s</text>`, padL-6, py(y)+4, tick(y))
	}
	xs := niceStep(x1-x0, 6)
	for x := math.Ceil(x0/xs) * xs; x <= x1+xs/1e6; x += xs {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`, px(x), padT, px(x), padT+ph)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="11">%s</text>`, px(x), padT+ph+16, tick(x))
	}
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#333"/>`, padL, padT, pw, ph)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" font-size="12">%s</text>`, padL+pw/2, chartH-8, html.EscapeString(c.xlabel))
	fmt.Fprintf(&b, `<text transform="translate(16 %.1f) rotate(-90)" text-anchor="middle" font-size="12">%s</text>`, padT+ph/2, html.EscapeString(c.ylabel))
	for i, s := range c.series {
		col := palette[i%len(palette)]
		if len(s.xs) > 1 && !s.dots {
			var pts []string
			for j := range s.xs {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(s.xs[j]), py(s.ys[j])))
			}
			dash := ""
			if s.dashed {
				dash = ` stroke-dasharray="6 4"`
			}
			fmt.Fprintf(&b, `<polyline class="series" fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`, col, dash, strings.Join(pts, " "))
		}
		if s.dots || len(s.xs) == 1 {
			for j := range s.xs {
				fmt.Fprintf(&b, `<circle class="series" cx="%.1f" cy="%.1f" r="4" fill="%s"/>`, px(s.xs[j]), py(s.ys[j]), col)
			}
		}
		ly := padT + 14 + float64(i)*18
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="3"/>`, padL+pw+10, ly-4, padL+pw+30, ly-4, col)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11">%s</text>`, padL+pw+36, ly, html.EscapeString(s.name))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// tick formats an axis value.
func tick(v float64) string {
	switch {
	case math.Abs(v) >= 10000:
		return fmt.Sprintf("%.0fk", v/1000)
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 1:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2g", v)
}
