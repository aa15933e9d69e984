package bench

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shardlab/shardlab/internal/chromiumtest"
)

// layoutProbe is appended to a copy of report.html in the test only (the
// report itself carries no script): after layout it writes onto <body>
// whether the page is wider than the window and, for every table, how far
// right its visible box (the table, or the box it scrolls in) reaches.
const layoutProbe = `<script>
const d = document.documentElement;
document.body.dataset.pageWidth = d.scrollWidth;
document.body.dataset.viewWidth = d.clientWidth;
for (const t of document.querySelectorAll("table")) {
  const box = t.parentElement.classList.contains("scroll") ? t.parentElement : t;
  t.dataset.right = Math.ceil(box.getBoundingClientRect().right);
}
</script>`

var (
	bodyWidthsRe = regexp.MustCompile(`<body data-page-width="(\d+)" data-view-width="(\d+)"`)
	tableRightRe = regexp.MustCompile(`<table id="(\w+)" data-right="(\d+)"`)
)

// TestReportTablesFitInChromium lays report.html of a sweep with long
// bottleneck texts out in headless Chromium at 1,280 px: the page is no
// wider than the window (the runs table, wider than the page, scrolls
// sideways in its own box) and no table's visible box reaches past the
// window's right edge.
func TestReportTablesFitInChromium(t *testing.T) {
	b := chromiumtest.New(t)
	b.Width, b.Height = 1280, 2000
	dir := t.TempDir()
	rs := cannedResults()
	for i := range rs.Runs {
		rs.Runs[i].Bottleneck = "claims: 922 of 1843 cross-shard tx/s claimed by the end of the drain (the relayers and the blocks' claim cap)"
	}
	if err := rs.Write(dir); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, ReportHTML))
	if err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "probe.html")
	probed := strings.Replace(string(raw), "</body>", layoutProbe+"</body>", 1)
	if err := os.WriteFile(page, []byte(probed), 0o644); err != nil {
		t.Fatal(err)
	}
	dom, err := b.DOM(page)
	if err != nil {
		t.Fatal(err)
	}
	m := bodyWidthsRe.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the probe did not run: no widths on <body>")
	}
	if pageW, viewW := atoiT(t, m[1]), atoiT(t, m[2]); pageW > viewW {
		t.Errorf("page is %d px wide in a %d px window: a table overflows it", pageW, viewW)
	}
	tables := tableRightRe.FindAllStringSubmatch(dom, -1)
	if len(tables) < 2 {
		t.Fatalf("probed %d tables, want the runs and scaling tables", len(tables))
	}
	for _, tb := range tables {
		if right := atoiT(t, tb[2]); right > b.Width {
			t.Errorf("table %s reaches %d px, past the %d px window", tb[1], right, b.Width)
		}
	}
}

func atoiT(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
