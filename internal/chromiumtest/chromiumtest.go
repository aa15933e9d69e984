// Package chromiumtest opens report pages in headless Chromium for tests:
// it finds the browser, dumps the DOM Chromium built, takes a screenshot,
// and counts what the page's charts drew. Tests of sim/bench and
// sim/scenario use it to prove their report.html renders; a test skips
// (with the command that installs it) only when no Chromium is installed.
//
// It is a test helper: only _test.go files import it.
package chromiumtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// names are the executables tried, in order.
var names = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Find returns the path of a headless-capable Chromium, or "".
func Find() string {
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser runs one Chromium binary with a private profile.
type Browser struct {
	bin, profile string
	// Width and Height are the window size in CSS pixels.
	Width, Height int
	// Timeout bounds each run of the browser.
	Timeout time.Duration
}

// New returns the installed Chromium, skipping t with the install command
// when there is none.
func New(t testing.TB) *Browser {
	t.Helper()
	bin := Find()
	if bin == "" {
		t.Skip("chromium is not installed (apt-get install -y chromium; `make report-test` does): cannot render the report page")
	}
	return &Browser{bin: bin, profile: t.TempDir(), Width: 1400, Height: 2000, Timeout: 2 * time.Minute}
}

// run runs the browser on the page file with extra arguments.
func (b *Browser) run(page string, args ...string) ([]byte, error) {
	abs, err := filepath.Abs(page)
	if err != nil {
		return nil, fmt.Errorf("run chromium: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.Timeout)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
		"--no-first-run", "--user-data-dir=" + b.profile, fmt.Sprintf("--window-size=%d,%d", b.Width, b.Height)}
	cmd := exec.CommandContext(ctx, b.bin, append(append(base, args...), "file://"+abs)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("run chromium %v: %w: %s", args, err, lastLines(stderr.String(), 5))
	}
	return out, nil
}

// DOM returns the DOM Chromium built from the page, serialised.
func (b *Browser) DOM(page string) (string, error) {
	out, err := b.run(page, "--dump-dom")
	return string(out), err
}

// Charts returns the DOM Chromium built from the page and its chart
// figures (see Figures).
func (b *Browser) Charts(page string) (string, []Figure, error) {
	dom, err := b.DOM(page)
	if err != nil {
		return "", nil, err
	}
	figs, err := Figures(dom)
	return dom, figs, err
}

// Screenshot returns a screenshot of the page's window.
func (b *Browser) Screenshot(page string) (image.Image, error) {
	shot := filepath.Join(b.profile, "screenshot.png")
	_ = os.Remove(shot)
	if _, err := b.run(page, "--screenshot="+shot); err != nil {
		return nil, err
	}
	f, err := os.Open(shot)
	if err != nil {
		return nil, fmt.Errorf("read screenshot: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decode screenshot: %w", err)
	}
	return img, nil
}

// Figure is one chart of a rendered page: a <figure class="chart">.
type Figure struct {
	ID string
	// SVGs, Paths and Texts count the figure's <svg>, <path> and <text>
	// elements; NoData is set for a "no data" figure.
	SVGs, Paths, Texts int
	NoData             bool
}

// Drawn reports whether the figure holds an SVG that draws at least
// minPaths paths (axes, grid and the data).
func (f Figure) Drawn(minPaths int) bool { return f.SVGs == 1 && f.Paths >= minPaths }

// Figures returns the chart figures of a DOM, in document order.
func Figures(dom string) ([]Figure, error) {
	z := html.NewTokenizer(strings.NewReader(dom))
	var out []Figure
	depth := 0 // nesting of <figure> inside the current chart
	for {
		switch z.Next() {
		case html.ErrorToken:
			if errors.Is(z.Err(), io.EOF) {
				if depth != 0 {
					return out, errors.New("parse dom: unclosed chart figure")
				}
				return out, nil
			}
			return out, fmt.Errorf("parse dom: %w", z.Err())
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if tok.Data == "figure" {
				if depth == 0 && attr(tok, "class") == "chart" {
					out = append(out, Figure{ID: attr(tok, "id")})
					depth = 1
				} else if depth > 0 {
					depth++
				}
				continue
			}
			if depth == 0 {
				continue
			}
			f := &out[len(out)-1]
			switch tok.Data {
			case "svg":
				f.SVGs++
			case "path":
				f.Paths++
			case "text":
				f.Texts++
			case "p":
				if attr(tok, "class") == "nodata" {
					f.NoData = true
				}
			}
		case html.EndTagToken:
			if tok := z.Token(); tok.Data == "figure" && depth > 0 {
				depth--
			}
		}
	}
}

func attr(t html.Token, key string) string {
	for _, a := range t.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// Pixels counts the pixels of img within tol (per 8-bit channel) of c.
func Pixels(img image.Image, c color.Color, tol uint32) int {
	cr, cg, cb, _ := c.RGBA()
	cr, cg, cb = cr>>8, cg>>8, cb>>8
	near := func(a, b uint32) bool { return a+tol >= b && a <= b+tol }
	n := 0
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if near(r>>8, cr) && near(g>>8, cg) && near(b>>8, cb) {
				n++
			}
		}
	}
	return n
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
