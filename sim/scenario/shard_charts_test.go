package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShardCharts checks that a report's shard samples become the page's
// crosslink and receipt charts and its fraud-proof and roll-back marks.
func TestShardCharts(t *testing.T) {
	r := &Report{Shard: &ShardSeries{Samples: []ShardSample{
		{Slot: 8, Crosslinks: []uint64{1, 1}, ReceiptsSent: 4},
		{Slot: 16, Crosslinks: []uint64{2, 2}, ReceiptsSent: 9, ReceiptsClaimed: 3, FraudProofs: 1},
		{Slot: 24, Crosslinks: []uint64{3, 1}, ReceiptsSent: 12, ReceiptsClaimed: 7, FraudProofs: 2},
	}}}
	series, events := shardCharts(r)
	got := map[string][]float64{}
	for _, s := range series {
		got[s.Chart+"/"+s.Name] = s.Values
	}
	want := map[string][]float64{
		ChartCrosslinks + "/shard 0": {1, 2, 3},
		ChartCrosslinks + "/shard 1": {1, 2, 1},
		ChartReceipts + "/sent":      {4, 9, 12},
		ChartReceipts + "/claimed":   {0, 3, 7},
	}
	for k, w := range want {
		if g := got[k]; len(g) != len(w) || !equalFloats(g, w) {
			t.Errorf("series %s = %v, want %v", k, g, w)
		}
	}
	var kinds []string
	for _, e := range events {
		kinds = append(kinds, e.Kind)
	}
	if strings.Join(kinds, ",") != EventFraudProof+","+EventRollback+","+EventFraudProof {
		t.Errorf("events %v, want fraud proof at 16, roll-back and fraud proof at 24", events)
	}
	if s, e := shardCharts(&Report{}); s != nil || e != nil {
		t.Error("a report without shards drew shard charts")
	}
}

// TestShardChartsInPage checks the page of a run with shard samples holds
// the crosslink and receipt charts and the marks in its timeline table.
func TestShardChartsInPage(t *testing.T) {
	r := &Report{Name: "t", SlotsPerEpoch: 8, Steps: []Fired{}, Windows: []Window{}, Slashings: []Slashing{},
		Samples: []Sample{{Slot: 0, Nodes: []NodeSample{{}}}, {Slot: 8, Nodes: []NodeSample{{}}}},
		Shard: &ShardSeries{Samples: []ShardSample{
			{Slot: 0, Crosslinks: []uint64{0}},
			{Slot: 8, Crosslinks: []uint64{1}, ReceiptsSent: 2, FraudProofs: 1},
		}}}
	dir := t.TempDir()
	if err := WriteReport(dir, r); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"chart-" + ChartCrosslinks, "chart-" + ChartReceipts, EventFraudProof} {
		if !strings.Contains(string(page), s) {
			t.Errorf("report.html lacks %q", s)
		}
	}
}

func equalFloats(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}
