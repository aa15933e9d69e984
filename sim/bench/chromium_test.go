package bench

import (
	"path/filepath"
	"testing"

	"github.com/shardlab/shardlab/internal/chromiumtest"
	"github.com/shardlab/shardlab/sim/chart"
)

// TestReportInChromium renders report.html of canned results in headless
// Chromium: the DOM it builds holds every chart's SVG with its axes and
// data, and a screenshot shows the series' colours (the charts are drawn,
// not blank). `make report-test` installs Chromium and runs it.
func TestReportInChromium(t *testing.T) {
	b := chromiumtest.New(t)
	dir := t.TempDir()
	if err := cannedResults().Write(dir); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, ReportHTML)
	_, figs, err := b.Charts(page)
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != 9 {
		t.Fatalf("rendered DOM has %d charts, want 9", len(figs))
	}
	for _, f := range figs {
		if !f.Drawn(10) || f.Texts < 8 {
			t.Errorf("chart %s: %d svg, %d paths, %d texts: not drawn", f.ID, f.SVGs, f.Paths, f.Texts)
		}
	}
	b.Height = 6000 // the whole page
	img, err := b.Screenshot(page)
	if err != nil {
		t.Fatal(err)
	}
	// The first two series colours (target rate and offered, the x = y
	// line and the measured points, ...) fill many pixels.
	blue, red := chromiumtest.Pixels(img, chart.Colour(0), 30), chromiumtest.Pixels(img, chart.Colour(1), 30)
	if blue < 2000 || red < 1000 {
		t.Errorf("screenshot %v: %d blue and %d red series pixels: the charts did not render", img.Bounds().Size(), blue, red)
	}
}
