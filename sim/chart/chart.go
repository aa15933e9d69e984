package chart

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Palette colours series in order when they name no colour (Tableau 10).
var Palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xd6, 0x27, 0x28, 0xff}, {0x2c, 0xa0, 0x2c, 0xff}, {0xff, 0x7f, 0x0e, 0xff},
	{0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff}, {0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff},
	{0xbc, 0xbd, 0x22, 0xff}, {0x17, 0xbe, 0xcf, 0xff},
}

// Colour returns the i-th palette colour (cycling).
func Colour(i int) color.Color { return Palette[i%len(Palette)] }

// Series is one named line, or set of points, of a chart.
type Series struct {
	Name string
	X, Y []float64
	// Colour is nil for the palette colour of the series' position.
	Colour color.Color
	// Dashed draws a dashed line; Points draws markers and no line.
	Dashed, Points bool
	// NoLegend leaves the series out of the legend (e.g. one line per
	// node of many, summarised by one legend entry).
	NoLegend bool
}

// Band is a shaded span of x (e.g. a fault window), listed in the legend
// once per Kind.
type Band struct {
	From, To float64
	Kind     string
	Colour   color.Color
}

// Event is a labelled marker at (X, Y), listed in the legend once per
// Kind.
type Event struct {
	X, Y   float64
	Kind   string
	Label  string
	Colour color.Color
}

// Chart is one chart of a report page. The y axis starts at 0 unless a
// value is negative.
type Chart struct {
	ID, Title, XLabel, YLabel string
	Series                    []Series
	Bands                     []Band
	Events                    []Event
	// YMax fixes the top of the y axis when positive (e.g. 1 for a share).
	YMax float64
	// FixX fixes the x axis to [XMin, XMax] (e.g. a run's slots, so that
	// the charts of one page line up) instead of the data's range.
	FixX       bool
	XMin, XMax float64
	// XTicks and YTicks, when set, replace an axis' numbers (e.g. the
	// shard counts of a sweep, rows of events).
	XTicks, YTicks []plot.Tick
}

// Size of a chart in points; the page scales it to its width.
const (
	Width  = 500 * vg.Length(1)
	Height = 250 * vg.Length(1)
	// maxLegend is the most legend entries drawn; more are summarised.
	maxLegend = 16
)

// HasData reports whether the chart has anything to draw.
func (c Chart) HasData() bool {
	for _, s := range c.Series {
		for i := range s.X {
			if finite(s.X[i], s.Y[i]) {
				return true
			}
		}
	}
	return len(c.Bands) > 0 || len(c.Events) > 0
}

// HTML renders the chart as a <figure> holding its title and inline SVG;
// a chart without data renders as its title and a "no data" note.
func (c Chart) HTML() (template.HTML, error) {
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart" id="%s"><figcaption>%s</figcaption>`, html.EscapeString(c.ID), html.EscapeString(c.Title))
	if !c.HasData() {
		b.WriteString(`<p class="nodata">no data for this chart in this report</p></figure>`)
		return template.HTML(b.String()), nil // #nosec G203: every text above is escaped
	}
	svg, err := c.SVG()
	if err != nil {
		return "", err
	}
	b.Write(svg)
	b.WriteString(`</figure>`)
	return template.HTML(b.String()), nil // #nosec G203: gonum's SVG escapes its texts
}

// SVG renders the chart as an <svg> element (no XML prolog) for inline
// use: the plot on the left, the legend on the right.
func (c Chart) SVG() ([]byte, error) {
	p, leg, err := c.plot()
	if err != nil {
		return nil, fmt.Errorf("draw chart %s: %w", c.ID, err)
	}
	cv := vgsvg.New(Width, Height)
	dc := draw.New(cv)
	lw := leg.Rectangle(dc).Size().X
	if lw > 0 {
		lw += 8
		legArea := draw.Crop(dc, Width-lw, 0, 0, -6)
		p.Draw(draw.Crop(dc, 0, -lw, 0, 0))
		leg.Draw(legArea)
	} else {
		p.Draw(dc)
	}
	var out bytes.Buffer
	if _, err := cv.WriteTo(&out); err != nil {
		return nil, fmt.Errorf("draw chart %s: %w", c.ID, err)
	}
	s := out.String()
	i := strings.Index(s, "<svg")
	if i < 0 {
		return nil, fmt.Errorf("draw chart %s: no <svg> element in the renderer's output", c.ID)
	}
	attrs := fmt.Sprintf(`<svg class="plot" role="img" aria-label="%s" style="max-width:100%%;height:auto"`, html.EscapeString(c.Title))
	// Metric-compatible fallbacks, then the generic family: a machine
	// without Liberation Sans shows a sans-serif font, not its default serif.
	body := strings.ReplaceAll(s[i+len("<svg"):], "font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")
	return []byte(attrs + body), nil
}

// sans is the typeface of every text of a chart (pages fall back to their
// sans-serif font when Liberation is not installed).
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// plot builds the gonum plot and the legend of c.
func (c Chart) plot() (*plot.Plot, plot.Legend, error) {
	p := plot.New()
	for _, sty := range []*font.Font{&p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font, &p.X.Tick.Label.Font, &p.Y.Tick.Label.Font} {
		sty.Typeface, sty.Variant = sans.Typeface, sans.Variant
	}
	p.X.Label.Text, p.Y.Label.Text = c.XLabel, c.YLabel
	p.X.Label.TextStyle.Font.Size, p.Y.Label.TextStyle.Font.Size = 11, 11
	leg := plot.NewLegend()
	leg.TextStyle.Font.Typeface, leg.TextStyle.Font.Variant, leg.TextStyle.Font.Size = sans.Typeface, sans.Variant, 9
	leg.Top, leg.Left = true, true
	leg.ThumbnailWidth, leg.Padding = 18, 3
	var entries int
	addLegend := func(name string, th plot.Thumbnailer) {
		entries++
		switch {
		case entries < maxLegend:
			leg.Add(name, th)
		case entries == maxLegend:
			leg.Add("(more not listed)")
		}
	}

	xr, yr := newRange(), newRange()
	// Bands go first, under everything else.
	if len(c.Bands) > 0 {
		p.Add(bands(c.Bands))
		seen := map[string]bool{}
		for _, b := range c.Bands {
			xr.add(b.From)
			xr.add(b.To)
			if !seen[b.Kind] {
				seen[b.Kind] = true
				addLegend(b.Kind, swatch{b.Colour})
			}
		}
	}
	p.Add(plotter.NewGrid())
	for i, s := range c.Series {
		xys := points(s.X, s.Y)
		if len(xys) == 0 {
			continue
		}
		for _, pt := range xys {
			xr.add(pt.X)
			yr.add(pt.Y)
		}
		col := s.Colour
		if col == nil {
			col = Colour(i)
		}
		var th plot.Thumbnailer
		if s.Points || len(xys) == 1 {
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, leg, fmt.Errorf("series %q: %w", s.Name, err)
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: 3, Shape: draw.CircleGlyph{}}
			p.Add(sc)
			th = sc
		} else {
			l, err := plotter.NewLine(xys)
			if err != nil {
				return nil, leg, fmt.Errorf("series %q: %w", s.Name, err)
			}
			l.LineStyle = draw.LineStyle{Color: col, Width: 1.6}
			if s.Dashed {
				l.LineStyle.Dashes = []vg.Length{5, 3}
			}
			p.Add(l)
			th = l
		}
		if !s.NoLegend && s.Name != "" {
			addLegend(s.Name, th)
		}
	}
	if len(c.Events) > 0 {
		if err := c.addEvents(p, addLegend, xr, yr); err != nil {
			return nil, leg, err
		}
	}
	xr.apply(&p.X.Min, &p.X.Max)
	if c.FixX {
		p.X.Min, p.X.Max = c.XMin, c.XMax
	}
	yr.apply(&p.Y.Min, &p.Y.Max)
	if p.Y.Min > 0 {
		p.Y.Min = 0
	}
	switch {
	case c.YMax > 0:
		p.Y.Max = c.YMax
	case p.Y.Max <= p.Y.Min:
		p.Y.Max = p.Y.Min + 1
	default:
		p.Y.Max += 0.05 * (p.Y.Max - p.Y.Min) // headroom: a line at the top stays visible
	}
	if p.X.Max <= p.X.Min {
		p.X.Min, p.X.Max = p.X.Min-0.5, p.X.Max+0.5
	}
	p.X.Tick.Marker = ticks{}
	p.Y.Tick.Marker = ticks{}
	if len(c.XTicks) > 0 {
		p.X.Tick.Marker = plot.ConstantTicks(c.XTicks)
	}
	if len(c.YTicks) > 0 {
		p.Y.Tick.Marker = plot.ConstantTicks(c.YTicks)
	}
	return p, leg, nil
}

// addEvents draws the events as labelled markers.
func (c Chart) addEvents(p *plot.Plot, addLegend func(string, plot.Thumbnailer), xr, yr *span) error {
	kinds := map[string]bool{}
	var labels plotter.XYLabels
	for _, e := range c.Events {
		if !finite(e.X, e.Y) {
			continue
		}
		xr.add(e.X)
		yr.add(e.Y)
		sc, err := plotter.NewScatter(plotter.XYs{{X: e.X, Y: e.Y}})
		if err != nil {
			return fmt.Errorf("event %q: %w", e.Label, err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: e.Colour, Radius: 4, Shape: draw.CircleGlyph{}}
		p.Add(sc)
		if !kinds[e.Kind] {
			kinds[e.Kind] = true
			addLegend(e.Kind, sc)
		}
		labels.XYs = append(labels.XYs, plotter.XY{X: e.X, Y: e.Y})
		labels.Labels = append(labels.Labels, e.Label)
	}
	if len(labels.XYs) == 0 {
		return nil
	}
	l, err := plotter.NewLabels(labels)
	if err != nil {
		return fmt.Errorf("event labels: %w", err)
	}
	for i := range l.TextStyle {
		l.TextStyle[i].Font.Typeface, l.TextStyle[i].Font.Variant, l.TextStyle[i].Font.Size = sans.Typeface, sans.Variant, 8
	}
	l.Offset = vg.Point{X: 4, Y: 4}
	p.Add(l)
	return nil
}

// points pairs xs and ys, dropping NaN and infinite points.
func points(xs, ys []float64) plotter.XYs {
	out := make(plotter.XYs, 0, len(xs))
	for i := range min(len(xs), len(ys)) {
		if finite(xs[i], ys[i]) {
			out = append(out, plotter.XY{X: xs[i], Y: ys[i]})
		}
	}
	return out
}

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// span is the range of the values added to it.
type span struct{ lo, hi float64 }

func newRange() *span { return &span{lo: math.Inf(1), hi: math.Inf(-1)} }

func (s *span) add(v float64) { s.lo, s.hi = min(s.lo, v), max(s.hi, v) }

// apply sets an axis to the range, when anything was added.
func (s *span) apply(lo, hi *float64) {
	if s.lo <= s.hi {
		*lo, *hi = s.lo, s.hi
	}
}

// ticks are gonum's default tick positions labelled without trailing
// zeros, thousands as "k" (25 and 12k, not 25.00 and 12000).
type ticks struct{}

// Ticks implements plot.Ticker.
func (ticks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = tickLabel(ts[i].Value)
		}
	}
	return ts
}

// tickLabel formats an axis value.
func tickLabel(v float64) string {
	if math.Abs(v) >= 10000 && math.Mod(v, 1000) == 0 {
		return strconv.FormatFloat(v/1000, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// bands draws shaded spans of x over the whole height.
type bands []Band

// Plot implements plot.Plotter.
func (bs bands) Plot(c draw.Canvas, p *plot.Plot) {
	x, _ := p.Transforms(&c)
	for _, b := range bs {
		x0, x1 := x(b.From), x(b.To)
		if x1-x0 < 2 {
			x1 = x0 + 2 // a window of one instant stays visible
		}
		poly := []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}}
		c.FillPolygon(b.Colour, c.ClipPolygonX(poly))
	}
}

// swatch is a legend thumbnail filled with one colour.
type swatch struct{ colour color.Color }

// Thumbnail implements plot.Thumbnailer.
func (s swatch) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	c.FillPolygon(s.colour, []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}})
}
