package testnet

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/shardlab/shardlab/beacon/params"
)

// TestMonitorAndSummary folds snapshots into a monitor (first finality,
// distinct crosslinks with and without data, a crash) and prints a summary.
func TestMonitorAndSummary(t *testing.T) {
	t.Parallel()
	cfg := params.Minimal().WithShards()
	genesis := time.Unix(1000, 0)
	m := &monitor{emptyRoot: emptyDataRoot(cfg), genesis: genesis, xl: make([]xlTrack, 2), exited: map[string]string{}}
	data := "0x" + strings.Repeat("11", 32)
	xl := func(end uint64, root string) *Crosslink {
		return &Crosslink{EndEpoch: end, StartEpoch: end - 1, DataRoot: root, HasHeader: true, HeaderStateRoot: "0xabcdef0123456789"}
	}
	up := func(name string, fin uint64) NodeStatus {
		return NodeStatus{Name: name, State: "up", Finality: Finality{Finalized: Checkpoint{Epoch: fin}}}
	}
	steps := []*Snapshot{
		{Time: genesis.Add(10 * time.Second), Slot: 5, Nodes: []NodeStatus{up("a", 0), up("b", 0)},
			Shards: []ShardStatus{{Shard: 0, Crosslink: &Crosslink{}}, {Shard: 1}}},
		{Time: genesis.Add(20 * time.Second), Slot: 10, Nodes: []NodeStatus{up("a", 0), up("b", 0)},
			Shards: []ShardStatus{{Shard: 0, Crosslink: xl(1, m.emptyRoot)}, {Shard: 1, Crosslink: xl(1, data)}}},
		{Time: genesis.Add(66 * time.Second), Slot: 33, Nodes: []NodeStatus{up("a", 0), up("b", 2)},
			Shards: []ShardStatus{{Shard: 0, Crosslink: xl(1, m.emptyRoot)}, {Shard: 1, Crosslink: xl(2, data)}}},
		{Time: genesis.Add(70 * time.Second), Slot: 35, Nodes: []NodeStatus{up("a", 2), {Name: "b", State: "exited", Exit: "signal: killed"}},
			Shards: []ShardStatus{{Shard: 0, Crosslink: xl(3, data)}, {Shard: 1, Crosslink: xl(2, data)}}},
	}
	var notes []string
	for _, s := range steps {
		notes = append(notes, m.observe(s)...)
	}
	if f := m.firstFinal; f == nil || f.Epoch != 2 || f.Node != "b" || f.Slot != 33 || f.After != 66*time.Second {
		t.Fatalf("first finalization %+v", f)
	}
	if m.xl[0].count != 2 || m.xl[0].withData != 1 || m.xl[1].count != 2 || m.xl[1].withData != 2 {
		t.Fatalf("crosslinks %+v", m.xl)
	}
	if len(notes) != 2 || !strings.Contains(notes[1], "b exited on its own (signal: killed)") {
		t.Fatalf("notes %q", notes)
	}

	s := &Summary{BeaconNodes: 2, Shards: 2, SlotTime: 2 * time.Second, SlotsPerEpoch: 8, LastSlot: 35, FirstFinalized: m.firstFinal,
		Agreement:  Agreement{Epoch: 2, Root: "0x1234567890abcdef", Nodes: []NodeFinality{{Name: "a", Epoch: 2}}, Agree: []string{"a"}},
		Crosslinks: []ShardCrosslinks{{Shard: 0, Crosslinks: 2, WithData: 1, LastEndEpoch: 3, StateRoot: "0xabcdef0123456789"}},
		Latency:    Latency{Processes: 2, Blocks: 30, Samples: 30, P50: 2500 * time.Microsecond, P99: 12 * time.Millisecond},
		Failures:   []string{"b exited on its own (signal: killed)"}}
	var out bytes.Buffer
	s.Write(&out)
	for _, want := range []string{"ran to slot 35 (epoch 4)", "first finalized epoch 2 at slot 33, 66.0s after genesis (seen on b)",
		"all 1 nodes have the finalized block of epoch 2", "0=2 (1 with data)", "0@3 0xabcdef01…", "30 arrivals at 2 processes: p50 2.5ms",
		"result: FAIL: b exited on its own"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}

// TestReceiptTotalsAndShardFailures sums receipts from the destinations'
// side and fails full-length runs without crosslinks or claims.
func TestReceiptTotalsAndShardFailures(t *testing.T) {
	t.Parallel()
	snap := &Snapshot{Shards: []ShardStatus{
		{Shard: 0, HasReceipts: true, Receipts: ReceiptCounts{Sent: 10, Claimed: 2, Pending: 8, Received: 7}},
		{Shard: 1, HasReceipts: true, Receipts: ReceiptCounts{Sent: 8, Claimed: 0, Pending: 8, Received: 6}},
		{Shard: 2},
	}}
	rc, ok := snap.ReceiptTotals()
	if !ok || rc != (ReceiptCounts{Sent: 18, Claimed: 13, Pending: 5, Received: 13}) {
		t.Fatalf("totals %+v %v", rc, ok)
	}
	if _, ok := (&Snapshot{Shards: []ShardStatus{{Shard: 0}}}).ReceiptTotals(); ok {
		t.Fatal("totals without any shard's receipts")
	}

	full := func() *Summary {
		return &Summary{ShardNodes: 2, Epochs: shardCheckEpochs,
			Crosslinks: []ShardCrosslinks{{Shard: 0, Crosslinks: 3, WithData: 2}, {Shard: 1, Crosslinks: 3, WithData: 1}},
			Receipts:   ReceiptCounts{Sent: 18, Claimed: 13}, Load: &LoadStats{CrossShard: 20}}
	}
	if f := full().shardFailures(); len(f) != 0 {
		t.Fatalf("healthy run failed: %q", f)
	}
	s := full()
	s.Crosslinks[1].WithData = 0
	s.Receipts.Claimed = 0
	f := s.shardFailures()
	if len(f) != 2 || !strings.Contains(f[0], "shard(s) 1") || !strings.Contains(f[1], "none of 20 cross-shard transfers") {
		t.Fatalf("failures %q", f)
	}
	for _, mod := range []func(*Summary){
		func(s *Summary) { s.Interrupted = true },
		func(s *Summary) { s.Epochs = shardCheckEpochs - 1 },
		func(s *Summary) { s.ShardNodes = 0 },
	} {
		s := full()
		s.Crosslinks[0].WithData, s.Receipts.Claimed = 0, 0
		mod(s)
		if f := s.shardFailures(); len(f) != 0 {
			t.Fatalf("short or interrupted run failed on the shard layer: %q", f)
		}
	}
}

// TestMonitorRestarts: a node that exited on its own and runs again (a
// restart by hand), one whose pid changed between two polls, and one
// stopped on purpose are no failures; one still exited at the end is.
func TestMonitorRestarts(t *testing.T) {
	t.Parallel()
	m := &monitor{exited: map[string]string{}}
	node := func(name, state string, pid int) NodeStatus {
		n := NodeStatus{Name: name, State: state, Pid: pid}
		if state == "exited" {
			n.Exit = "signal: terminated"
		}
		return n
	}
	steps := [][]NodeStatus{
		{node("a", "up", 10), node("b", "up", 11), node("c", "up", 12), node("d", "up", 13)},
		{node("a", "exited", 0), node("b", "up", 21), node("c", "down", 0), node("d", "exited", 0)},
		{node("a", "up", 30), node("b", "up", 21), node("c", "up", 32), node("d", "exited", 0)},
	}
	var notes []string
	for _, nodes := range steps {
		notes = append(notes, m.observe(&Snapshot{Nodes: nodes})...)
	}
	want := []string{
		"a exited on its own (signal: terminated)",
		"b runs again as pid 21 (was pid 11)",
		"c stopped (pid 12)",
		"d exited on its own (signal: terminated)",
		"a runs again as pid 30 (after it exited: signal: terminated)",
		"c runs again as pid 32",
	}
	if strings.Join(notes, "\n") != strings.Join(want, "\n") {
		t.Fatalf("notes:\n%s\nwant:\n%s", strings.Join(notes, "\n"), strings.Join(want, "\n"))
	}
	if len(m.exited) != 1 || m.exited["d"] == "" {
		t.Fatalf("exited %v: want only d", m.exited)
	}
	if len(m.restarts) != 3 {
		t.Fatalf("restarts %q", m.restarts)
	}
}
