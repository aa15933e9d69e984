package chart

import (
	"image/color"
	"os"
	"path/filepath"
	"testing"

	"github.com/shardlab/shardlab/internal/chromiumtest"
)

// TestChartRendersInChromium opens a page with the sample chart in
// headless Chromium: the DOM holds the drawn SVG and the screenshot shows
// the series' colour and the shaded band (the SVG is drawn, not blank).
func TestChartRendersInChromium(t *testing.T) {
	b := chromiumtest.New(t)
	h, err := sample().HTML()
	if err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(t.TempDir(), "chart.html")
	if err := os.WriteFile(page, []byte(`<!doctype html><html><body style="margin:0;width:900px">`+string(h)+`</body></html>`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, figs, err := b.Charts(page)
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != 1 || !figs[0].Drawn(10) || figs[0].Texts < 8 {
		t.Fatalf("rendered figures %+v: want one chart drawing its paths and labels", figs)
	}
	b.Width, b.Height = 950, 600
	img, err := b.Screenshot(page)
	if err != nil {
		t.Fatal(err)
	}
	if n := chromiumtest.Pixels(img, Colour(0), 40); n < 400 {
		t.Errorf("%d pixels of the first series' colour: the lines were not drawn", n)
	}
	// The band is #f4a6a6 at alpha 0x90 over white.
	if n := chromiumtest.Pixels(img, blend(0xf4, 0xa6, 0xa6, 0x90), 10); n < 5000 {
		t.Errorf("%d pixels of the partition band's colour: the band was not drawn", n)
	}
}

// blend is an NRGBA colour over white.
func blend(r, g, b, a uint8) color.RGBA {
	mix := func(c uint8) uint8 { return uint8((uint32(c)*uint32(a) + 255*(255-uint32(a))) / 255) }
	return color.RGBA{mix(r), mix(g), mix(b), 0xff}
}
