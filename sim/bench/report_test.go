package bench

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// cannedResults is a three-point sweep with a find-max run, as a real run
// would write it.
func cannedResults() *Results {
	rs := &Results{Created: time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC), Command: "shardlab bench throughput --shards 8,16",
		Machine: Machine{CPUs: 2, CPUModel: "Test CPU <b>", OS: "linux", Arch: "amd64", GoVersion: "go1.26", MemTotal: 8 << 30}}
	lat := func(base float64) Latency {
		var cdf []float64
		for i := range 21 {
			cdf = append(cdf, base*(1+float64(i)/10))
		}
		return Latency{N: 100, P50: base * 2, P90: base * 2.8, P99: base * 2.98, CDF: cdf}
	}
	for i, sh := range []uint64{1, 8, 16} {
		inc := 900 * float64(sh) / float64(i+1)
		r := Result{Point: Point{Shards: sh, SlotSeconds: 2, CrossShard: 0.5, Mode: "fixed", Rate: 1000, ShardNodes: int(min(sh, 4)), BeaconNodes: 4},
			Cap: Cap(sh, 2*time.Second), HeldRate: inc, Rates: Rates{Offered: inc, Accepted: inc, Included: inc, Crosslinked: inc, Finalized: inc, Claimed: inc / 2},
			Latency:    Latencies{Inclusion: lat(1), Crosslink: lat(10), Finality: lat(30), Claim: lat(20)},
			Rejections: map[string]uint64{"pool full": 3}, CPUSeconds: 50, CPUUtil: 0.5 + 0.2*float64(i), CPUPer1000: 0.4, Bottleneck: "none"}
		for s := range 60 {
			r.Timeline = append(r.Timeline, Sample{T: float64(s), Rate: inc, Offered: inc, Accepted: inc, Included: float64(s%2) * 2 * inc})
		}
		rs.Runs = append(rs.Runs, r)
	}
	rs.Runs[2].Point.Mode = "find-max"
	rs.Runs[2].Steps = []Step{{Rate: 1000, Offered: 1000, Included: 990, Sustainable: true}, {Rate: 1250, Offered: 1250, Included: 1000, Why: "included 1000 of 1250"}}
	return rs
}

// svgs returns the <svg> elements of a page.
var svgRe = regexp.MustCompile(`(?s)<svg .*?</svg>`)

func TestWriteHTML(t *testing.T) {
	t.Parallel()
	rs := cannedResults()
	var b bytes.Buffer
	if err := rs.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	// Self-contained: no script, no external resource.
	for _, bad := range []string{"<script", "src=", "href=", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if strings.Contains(page, "Test CPU <b>") || !strings.Contains(page, "Test CPU &lt;b&gt;") {
		t.Error("machine text not escaped")
	}
	svgs := svgRe.FindAllString(page, -1)
	// 3 TPS-over-time, vs offered, vs shards (2), 3 CDFs.
	if len(svgs) != 9 || strings.Count(page, `<figure class="chart"`) != 9 {
		t.Fatalf("%d charts, want 9", len(svgs))
	}
	for _, id := range []string{"tps-time-0", "tps-vs-offered", "tps-vs-shards", "latency-vs-shards", "latency-cdf-2"} {
		if !strings.Contains(page, `id="`+id+`"`) {
			t.Errorf("no chart %s", id)
		}
	}
	for _, want := range []string{"TPS over time: 16 shards, 2 s slots, 50% cross-shard, find-max, 4 beacon + 4 shard nodes", "included (4s mean)", "50% cross-shard p99", "claim (x-shard)"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for i, s := range svgs {
		// Each chart is well-formed XML and draws data: axes, grid and
		// at least one series make more than 10 paths.
		d := xml.NewDecoder(strings.NewReader(s))
		paths := 0
		for {
			tok, err := d.Token()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Errorf("chart %d: %v", i, err)
				}
				break
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "path" {
				paths++
			}
		}
		if paths < 10 {
			t.Errorf("chart %d draws %d paths: %.200s", i, paths, s)
		}
		if strings.Contains(s, "NaN") || strings.Contains(s, "Inf") {
			t.Errorf("chart %d has NaN or Inf coordinates", i)
		}
	}
	for _, c := range rs.charts() {
		if c.ID != "tps-vs-shards" && c.ID != "latency-vs-shards" {
			continue
		}
		var got []float64
		for _, tk := range c.XTicks {
			got = append(got, tk.Value)
		}
		if !slices.Equal(got, []float64{1, 8, 16}) {
			t.Errorf("chart %s: x ticks at %v, want the shard counts 1, 8, 16", c.ID, got)
		}
	}
	if !strings.Contains(page, `id="scaling"`) || !strings.Contains(page, "projection") {
		t.Error("no scaling table")
	}
	// Efficiency of the 8-shard point against the 1-shard one:
	// 3600 / (8 x 900) = 50%.
	rows := ScalingRows(rs.Machine, rs.Runs)
	if rows[1].Efficiency != 0.5 || rows[0].PerCore != 450 || rows[1].Projection != 0 || rows[2].Projection == 0 {
		t.Errorf("scaling rows %+v", rows)
	}
}

func TestChartsWithoutData(t *testing.T) {
	t.Parallel()
	// A run cut short: no timeline, no latencies.
	rs := &Results{Runs: []Result{{Point: Point{Shards: 2, SlotSeconds: 2}}}}
	var b bytes.Buffer
	if err := rs.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	// TPS over time, vs shards and latency vs shards have points or
	// nothing: the time series and CDF have no data.
	if n := strings.Count(page, "no data for this chart"); n != 2 {
		t.Errorf("%d charts say they have no data, want 2 (TPS over time, latency CDF)", n)
	}
}

func TestWriteFilesAndCompare(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rs := cannedResults()
	if err := rs.Write(dir); err != nil {
		t.Fatal(err)
	}
	back, err := ReadResults(filepath.Join(dir, ResultsJSON))
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Runs) != 3 || back.Runs[1].Latency.Inclusion.P99 != rs.Runs[1].Latency.Inclusion.P99 {
		t.Fatalf("round trip: %+v", back.Runs)
	}
	csv, err := os.ReadFile(filepath.Join(dir, ResultsCSV))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(csv)), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[0], "shards,slot_s,cross_shard") {
		t.Errorf("csv:\n%s", csv)
	}
	back.Runs[1].Rates.Included *= 1.1
	var b bytes.Buffer
	WriteCompare(&b, rs, back)
	if !strings.Contains(b.String(), "8 shards, 2s slots, 50% cross-shard, fixed: included 3600.0 -> 3960.0 tx/s (+10.0%)") {
		t.Errorf("compare:\n%s", b.String())
	}
	if _, err := ReadResults(filepath.Join(dir, ResultsCSV)); err == nil {
		t.Error("read a CSV as results")
	}
	var tb bytes.Buffer
	rs.WriteTable(&tb)
	for _, want := range []string{"protocol cap 4096 tx/s", "find-max 1250 tx/s", "stop: included 1000 of 1250", "scaling on this machine (2 cores"} {
		if !strings.Contains(tb.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, tb.String())
		}
	}
}

// TestLatencyChartColours: in the latency-vs-shards chart of a sweep over
// two cross-shard fractions every series (p50 and p99 of each) has its own
// colour, and the legend names each one.
func TestLatencyChartColours(t *testing.T) {
	t.Parallel()
	rs := cannedResults()
	for _, r := range slices.Clone(rs.Runs) {
		r.Point.CrossShard = 0
		rs.Runs = append(rs.Runs, r)
	}
	var found bool
	for _, c := range rs.charts() {
		if c.ID != "latency-vs-shards" {
			continue
		}
		found = true
		if len(c.Series) != 4 {
			t.Fatalf("%d series, want p50 and p99 of 2 cross-shard fractions", len(c.Series))
		}
		svg, err := c.SVG()
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]string{}
		for _, s := range c.Series {
			if s.Colour == nil {
				t.Fatalf("series %q has no colour", s.Name)
			}
			r, g, b, _ := s.Colour.RGBA()
			hex := fmt.Sprintf("#%02X%02X%02X", r>>8, g>>8, b>>8)
			if other, ok := seen[hex]; ok {
				t.Errorf("series %q and %q share colour %s", s.Name, other, hex)
			}
			seen[hex] = s.Name
			if !strings.Contains(string(svg), "stroke:"+hex) {
				t.Errorf("series %q: no stroke %s in the SVG", s.Name, hex)
			}
			if !strings.Contains(string(svg), s.Name) {
				t.Errorf("series %q is not in the legend", s.Name)
			}
		}
	}
	if !found {
		t.Fatal("no latency-vs-shards chart")
	}
}
