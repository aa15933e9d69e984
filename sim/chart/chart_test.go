package chart

import (
	"encoding/xml"
	"errors"
	"image/color"
	"io"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/plot"
)

// sample is a chart with every kind of content.
func sample() Chart {
	return Chart{ID: "c1", Title: "Finality <by node>", XLabel: "slot", YLabel: "epoch",
		Series: []Series{
			{Name: "node 0", X: []float64{0, 8, 16, 24}, Y: []float64{0, 1, 2, 3}},
			{Name: "node 0 justified", X: []float64{0, 8, 16, 24}, Y: []float64{0, 2, 3, 4}, Dashed: true, Colour: Colour(0)},
			{Name: "steps", X: []float64{4, math.NaN(), 12}, Y: []float64{1, 2, math.Inf(1)}, Points: true},
		},
		Bands:  []Band{{From: 4, To: 10, Kind: "partition", Colour: color.NRGBA{0xf4, 0xa6, 0xa6, 0x90}}},
		Events: []Event{{X: 20, Y: 1, Kind: "slashing", Label: "v3 & v4", Colour: Colour(4)}},
	}
}

// elements counts the start elements of an SVG by name, failing on
// malformed XML.
func elements(t *testing.T, svg []byte) map[string]int {
	t.Helper()
	n := map[string]int{}
	d := xml.NewDecoder(strings.NewReader(string(svg)))
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatalf("malformed SVG: %v\n%.300s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok {
			n[se.Name.Local]++
		}
	}
}

func TestChartSVG(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		chart     Chart
		wantPaths int
		wantTexts []string
	}{
		{name: "all kinds", chart: sample(), wantPaths: 10, wantTexts: []string{"node 0 justified", "partition", "slashing", "v3 &amp; v4", ">slot<", ">epoch<"}},
		{name: "one point", chart: Chart{ID: "p", Series: []Series{{Name: "only", X: []float64{3}, Y: []float64{7}}}}, wantPaths: 3, wantTexts: []string{"only"}},
		{name: "fixed y and ticks", chart: Chart{ID: "t", YMax: 1, YTicks: []plot.Tick{{Value: 0.5, Label: "row"}},
			Events: []Event{{X: 2, Y: 0.5, Kind: "fraud proof", Label: "shard 1", Colour: Colour(1)}}}, wantPaths: 2, wantTexts: []string{">row<", "fraud proof"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svg, err := tc.chart.SVG()
			if err != nil {
				t.Fatal(err)
			}
			s := string(svg)
			if !strings.HasPrefix(s, `<svg class="plot"`) || strings.Contains(s, "<?xml") {
				t.Errorf("not an inline svg element: %.120s", s)
			}
			if strings.Contains(s, "NaN") || strings.Contains(s, "Inf") {
				t.Error("svg has NaN or Inf coordinates")
			}
			if strings.Count(s, "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;") == 0 || strings.Contains(s, "font-family:Liberation Sans;") {
				t.Error("texts lack the sans-serif fallback fonts")
			}
			if strings.Contains(s, "url(") || strings.Contains(s, "@font-face") {
				t.Error("svg refers to an external resource or embeds a font")
			}
			if n := elements(t, svg)["path"]; n < tc.wantPaths {
				t.Errorf("%d paths drawn, want at least %d", n, tc.wantPaths)
			}
			for _, w := range tc.wantTexts {
				if !strings.Contains(s, w) {
					t.Errorf("svg lacks %q", w)
				}
			}
		})
	}
}

func TestChartHTML(t *testing.T) {
	t.Parallel()
	h, err := sample().HTML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(h), `<figure class="chart" id="c1"><figcaption>Finality &lt;by node&gt;</figcaption><svg`) {
		t.Errorf("figure: %.200s", h)
	}
	for _, empty := range []Chart{{ID: "e"}, {ID: "nan", Series: []Series{{X: []float64{math.NaN()}, Y: []float64{1}}}}} {
		h, err := empty.HTML()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(h), "<svg") || !strings.Contains(string(h), "no data") {
			t.Errorf("chart %s without data: %s", empty.ID, h)
		}
	}
}

func TestLegendCapped(t *testing.T) {
	t.Parallel()
	c := Chart{ID: "many"}
	for i := range 40 {
		c.Series = append(c.Series, Series{Name: "node " + string(rune('A'+i)), X: []float64{0, 1}, Y: []float64{float64(i), float64(i + 1)}})
	}
	svg, err := c.SVG()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(svg), "(more not listed)") || strings.Contains(string(svg), ">node h<") {
		t.Error("the legend of 40 series is not capped")
	}
}

func TestTickLabel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v    float64
		want string
	}{{0, "0"}, {25, "25"}, {2.5, "2.5"}, {0.25, "0.25"}, {4000, "4000"}, {12000, "12k"}, {12500, "12500"}, {-20000, "-20k"}, {1e-7, "1e-07"}} {
		if got := tickLabel(tc.v); got != tc.want {
			t.Errorf("tickLabel(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestAxisRange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                   string
		chart                  Chart
		xmin, xmax, ymin, ymax float64
	}{
		{name: "data with headroom", chart: Chart{Series: []Series{{X: []float64{8, 40}, Y: []float64{1, 21}}}}, xmin: 8, xmax: 40, ymin: 0, ymax: 22.05},
		{name: "fixed x and y", chart: Chart{FixX: true, XMax: 64, YMax: 1, Series: []Series{{X: []float64{8, 40}, Y: []float64{0.5, 1}}}}, xmin: 0, xmax: 64, ymin: 0, ymax: 1},
		{name: "bands widen x", chart: Chart{Bands: []Band{{From: 2, To: 50}}, Series: []Series{{X: []float64{8, 40}, Y: []float64{-1, 1}}}}, xmin: 2, xmax: 50, ymin: -1, ymax: 1.1},
		{name: "flat", chart: Chart{Series: []Series{{X: []float64{3, 3}, Y: []float64{0, 0}}}}, xmin: 2.5, xmax: 3.5, ymin: 0, ymax: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, _, err := tc.chart.plot()
			if err != nil {
				t.Fatal(err)
			}
			near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
			if !near(p.X.Min, tc.xmin) || !near(p.X.Max, tc.xmax) || !near(p.Y.Min, tc.ymin) || !near(p.Y.Max, tc.ymax) {
				t.Errorf("axes x [%v, %v] y [%v, %v], want x [%v, %v] y [%v, %v]", p.X.Min, p.X.Max, p.Y.Min, p.Y.Max, tc.xmin, tc.xmax, tc.ymin, tc.ymax)
			}
		})
	}
}
