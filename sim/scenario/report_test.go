package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/shardlab/shardlab/internal/chromiumtest"
	"github.com/shardlab/shardlab/sim/chart"
)

// reportRun is a short run with a fault window and a slashing to draw.
func reportRun(t *testing.T) *Report {
	t.Helper()
	src := `name: report
network: {epochs: 5}
timeline:
  - {name: cut, at: {slot: 4}, partition: [[0, 1], [2, 3]]}
  - {at: {after: cut, slot: 6}, heal: true}
  - {at: {epoch: 3}, double_vote: [3]}
expect:
  - {check: slashed, validators: [3], at: {epoch: 5}}
  - {check: finalized, op: ">=", value: 9, at: {epoch: 5}}
`
	sc, err := Parse("report.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(context.Background(), sc, Options{Replay: "shardlab scenario run report.yaml --seed 1"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// withShardSeries adds the optional shard-layer series and events to r,
// as the shard stages write them.
func withShardSeries(r *Report) *Report {
	for slot := uint64(0); slot <= 40; slot += 8 {
		for shard := range 2 {
			r.AddPoint(ChartCrosslinks, fmt.Sprintf("shard %d", shard), slot, float64(slot/8+uint64(shard)))
		}
		r.AddPoint(ChartReceipts, "sent", slot, float64(3*slot))
		r.AddPoint(ChartReceipts, "claimed", slot, float64(2*slot))
	}
	r.Events = append(r.Events, Event{Slot: 12, Kind: EventFraudProof, Label: "shard 1 slot 9"}, Event{Slot: 14, Kind: EventRollback, Label: "shard 1"})
	return r
}

func TestReportFiles(t *testing.T) {
	r := reportRun(t)
	if r.Pass || !r.Expectations[0].Pass || r.Expectations[1].Pass {
		t.Fatalf("outcomes %+v: want the slashing found and the impossible finality failed", r.Expectations)
	}
	for _, tc := range []struct {
		name   string
		report *Report
		want   []string
		absent []string
	}{
		{name: "core series", report: r,
			want:   []string{`id="chart-finality"`, `id="chart-participation"`, `id="chart-timeline"`, `id="windows"`, "partition [[0 1] [2 3]]", ">slashing<", "FAIL"},
			absent: []string{`id="chart-crosslinks"`, `id="chart-receipts"`, EventFraudProof}},
		{name: "with shard series", report: withShardSeries(reportRun(t)),
			want: []string{`id="chart-crosslinks"`, "Crosslinked epoch per shard", ">shard 1<", `id="chart-receipts"`, ">claimed<", ">fraud proof<", ">crosslink rolled back<", "shard 1 slot 9"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := WriteReport(dir, tc.report); err != nil {
				t.Fatal(err)
			}
			var back Report
			data, err := os.ReadFile(filepath.Join(dir, "report.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &back); err != nil || back.Hash() != tc.report.Hash() {
				t.Fatalf("report.json does not round-trip: %v", err)
			}
			html, err := os.ReadFile(filepath.Join(dir, "report.html"))
			if err != nil {
				t.Fatal(err)
			}
			page := string(html)
			for _, want := range tc.want {
				if !strings.Contains(page, want) {
					t.Errorf("report.html lacks %q", want)
				}
			}
			for _, no := range tc.absent {
				if strings.Contains(page, no) {
					t.Errorf("report.html has %q", no)
				}
			}
			steps := page[strings.Index(page, `id="steps"`):]
			if i, j := strings.Index(steps, "<td>slashed</td>"), strings.Index(steps, "<td>"+EventFraudProof+"</td>"); i < 0 || j > i {
				t.Error("timeline table not in slot order: the fraud proof at slot 12 comes after the slashing at slot 32")
			}
			for _, banned := range []string{"<script", "src=", "href=", "url(", "@import"} {
				if strings.Contains(page, banned) {
					t.Errorf("report.html has %q: it must open offline, self-contained", banned)
				}
			}
		})
	}
	// The optional fields stay out of report.json when unset, so the
	// hashes of reports without them do not change.
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), `"series"`) || strings.Contains(string(js), `"events"`) {
		t.Error("report.json of a run without shard series has series or events keys")
	}
}

func TestAddPoint(t *testing.T) {
	t.Parallel()
	var r Report
	r.AddPoint("c", "a", 1, 10)
	r.AddPoint("c", "b", 1, 20)
	r.AddPoint("c", "a", 2, 11)
	r.AddPoint("d", "a", 2, 5)
	want := []Series{{Chart: "c", Name: "a", Slots: []uint64{1, 2}, Values: []float64{10, 11}}, {Chart: "c", Name: "b", Slots: []uint64{1}, Values: []float64{20}},
		{Chart: "d", Name: "a", Slots: []uint64{2}, Values: []float64{5}}}
	if !reflect.DeepEqual(want, r.Series) {
		t.Errorf("series %+v, want %+v", r.Series, want)
	}
	cs := seriesCharts(r.Series, nil)
	if len(cs) != 2 || cs[0].Title != "c" || len(cs[0].Series) != 2 || cs[1].ID != "chart-d" {
		t.Errorf("series charts %+v: want charts c (2 series) and d", cs)
	}
}

// TestReportRendersInChromium opens report.html in headless Chromium and
// checks that every chart is drawn: the rendered DOM holds each chart's
// SVG with its paths, and a screenshot shows the nodes' lines and the
// shaded partition window.
func TestReportRendersInChromium(t *testing.T) {
	b := chromiumtest.New(t)
	dir := t.TempDir()
	if err := WriteReport(dir, withShardSeries(reportRun(t))); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "report.html")
	dom, figs, err := b.Charts(page)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range figs {
		ids = append(ids, f.ID)
		if !f.Drawn(12) {
			t.Errorf("chart %s: %d svg, %d paths: not drawn", f.ID, f.SVGs, f.Paths)
		}
	}
	if want := []string{"chart-finality", "chart-participation", "chart-crosslinks", "chart-receipts", "chart-timeline"}; !slices.Equal(ids, want) {
		t.Fatalf("rendered charts %v, want %v", ids, want)
	}
	if !strings.Contains(dom, `id="expectations"`) {
		t.Fatal("rendered DOM lacks the expectations table")
	}
	b.Height = 3200
	img, err := b.Screenshot(page)
	if err != nil {
		t.Fatal(err)
	}
	// Node 0's lines, and the partition window (#f4a6a6 at 0x90 over white).
	if n := chromiumtest.Pixels(img, chart.Colour(0), 30); n < 1500 {
		t.Errorf("%d pixels of node 0's colour: the lines were not drawn", n)
	}
	if n := chromiumtest.Pixels(img, color.RGBA{0xf7, 0xc6, 0xc6, 0xff}, 10); n < 5000 {
		t.Errorf("%d pixels of the partition window's shade: the fault window was not drawn", n)
	}
}
