package scenario

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

func TestReportFiles(t *testing.T) {
	r := reportRun(t)
	if r.Pass || !r.Expectations[0].Pass || r.Expectations[1].Pass {
		t.Fatalf("outcomes %+v: want the slashing found and the impossible finality failed", r.Expectations)
	}
	dir := t.TempDir()
	if err := WriteReport(dir, r); err != nil {
		t.Fatal(err)
	}
	var back Report
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &back); err != nil || back.Hash() != r.Hash() {
		t.Fatalf("report.json does not round-trip: %v", err)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(html)
	for _, want := range []string{`id="chart-finality"`, `id="chart-participation"`, `id="chart-slashings"`, `class="window"`, `class="slashing"`, "partition [[0 1] [2 3]]", "FAIL"} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	for _, banned := range []string{"http://", "https://"} {
		if strings.Contains(strings.ReplaceAll(page, "http://www.w3.org/2000/svg", ""), banned) {
			t.Errorf("report.html refers to %s: it must open offline", banned)
		}
	}
}

// TestReportRendersInChromium opens report.html in headless Chromium and
// checks the charts made it into the rendered DOM.
func TestReportRendersInChromium(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("chromium is not installed (apt-get install -y chromium): cannot render report.html")
	}
	dir := t.TempDir()
	if err := WriteReport(dir, reportRun(t)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--dump-dom", "file://"+filepath.Join(dir, "report.html"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := string(out)
	if n := strings.Count(dom, "<svg"); n != 3 {
		t.Fatalf("rendered DOM has %d svg elements, want 3", n)
	}
	if n := strings.Count(dom, "<polyline"); n < 12 {
		t.Fatalf("rendered DOM has %d polylines, want at least 12 (finalized, justified, participation of 4 nodes)", n)
	}
	if !strings.Contains(dom, `class="slashing"`) || !strings.Contains(dom, `id="expectations"`) {
		t.Fatal("rendered DOM lacks the slashing marker or the expectations table")
	}
}
