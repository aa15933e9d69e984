package bench

import (
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// findChromium returns a headless-capable Chromium, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestReportInChromium renders report.html of canned results in headless
// Chromium: the DOM it builds holds every chart's SVG with its data, and
// a screenshot shows the series' colours (the charts are drawn, not
// blank). `make bench-report-test` installs Chromium and runs it.
func TestReportInChromium(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		t.Skip("chromium not installed: apt-get install -y chromium (make bench-report-test does) to render report.html headless")
	}
	dir := t.TempDir()
	if err := cannedResults().Write(dir); err != nil {
		t.Fatal(err)
	}
	page := "file://" + filepath.Join(dir, ReportHTML)
	run := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
			"--user-data-dir=" + filepath.Join(dir, "profile"), "--window-size=1400,3200"}
		out, err := exec.CommandContext(ctx, bin, append(base, append(args, page)...)...).Output()
		if err != nil {
			t.Fatalf("%s %v: %v", bin, args, err)
		}
		return string(out)
	}
	dom := run("--dump-dom")
	if n := strings.Count(dom, "<svg"); n != 9 {
		t.Errorf("rendered DOM has %d charts, want 9", n)
	}
	if n := strings.Count(dom, `class="series"`); n < 20 {
		t.Errorf("rendered DOM has %d series elements", n)
	}
	shot := filepath.Join(dir, "report.png")
	run("--screenshot=" + shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// Count the pixels of the first two series colours (#1f77b4, #d62728).
	var blue, red int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			switch {
			case near(r, 0x1f) && near(g, 0x77) && near(bl, 0xb4):
				blue++
			case near(r, 0xd6) && near(g, 0x27) && near(bl, 0x28):
				red++
			}
		}
	}
	if blue < 500 || red < 500 {
		t.Errorf("screenshot %dx%d: %d blue and %d red series pixels: the charts did not render", b.Dx(), b.Dy(), blue, red)
	}
}

func near(a, b uint32) bool { return a+12 >= b && a <= b+12 }
