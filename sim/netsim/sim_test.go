package netsim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shardlab/shardlab/beacon/types"
)

// testConfig is the 4-node, 64-validator, minimal-preset network of the
// determinism tests.
func testConfig(seed uint64, epochs uint64) Config {
	c := DefaultConfig()
	c.Epochs, c.Seed = epochs, seed
	return c
}

func run(t *testing.T, c Config) *Result {
	t.Helper()
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Run(context.Background(), func(r EpochReport) { t.Log(r) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("trace %s, %d events, %d records, %s simulated in %s (%.0fx), %+v",
		res.TraceHex(), res.Events, res.Records, res.SimTime, res.Wall, res.Speedup(), res.Stats)
	return res
}

// TestFinalizesDeterministically runs the 4-node network for 5 epochs
// twice with one seed and once with another: it finalizes, the two runs of
// one seed give the same trace hash and final state roots, and the other
// seed gives another trace hash.
func TestFinalizesDeterministically(t *testing.T) {
	t.Parallel()
	a := run(t, testConfig(1, 5))
	last := a.Epochs[len(a.Epochs)-1]
	if last.Finalized < 2 {
		t.Fatalf("finalized epoch %d after 5 epochs, want >= 2", last.Finalized)
	}
	for i, r := range a.StateRoots {
		if r != a.StateRoots[0] {
			t.Errorf("node %d ends on state %s, node 0 on %s", i, r, a.StateRoots[0])
		}
	}
	b := run(t, testConfig(1, 5))
	if a.TraceHash != b.TraceHash {
		t.Fatalf("same seed, trace hashes %s and %s", a.TraceHex(), b.TraceHex())
	}
	for i := range a.StateRoots {
		if a.StateRoots[i] != b.StateRoots[i] {
			t.Fatalf("same seed, node %d state roots %s and %s", i, a.StateRoots[i], b.StateRoots[i])
		}
	}
	c := run(t, testConfig(2, 5))
	if c.TraceHash == a.TraceHash {
		t.Fatalf("seeds 1 and 2 give the same trace hash %s", a.TraceHex())
	}
}

// TestPartitionStallsFinality cuts the network in two halves (32
// validators each, less than two thirds on either side) for three epochs:
// finality stops; after healing, the nodes agree again and finality
// resumes.
func TestPartitionStallsFinality(t *testing.T) {
	t.Parallel()
	s, err := New(testConfig(3, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	spe := types.Slot(s.pcfg.SlotsPerEpoch)
	epochEnd := func(e uint64) types.Slot { return types.Slot(e+1)*spe - 1 }
	s.RunSlots(epochEnd(4))
	before := s.Report(4)
	t.Log("before the cut:", before)
	if before.Finalized < 2 {
		t.Fatalf("no finality before the cut: %v", before)
	}
	if err := s.Partition([]int{0, 1}, []int{2, 3}); err != nil {
		t.Fatal(err)
	}
	s.RunSlots(epochEnd(7))
	cut := s.Report(7)
	t.Log("during the cut:", cut)
	if cut.Finalized > before.Finalized+1 {
		t.Fatalf("finality advanced from %d to %d across a 50/50 partition", before.Finalized, cut.Finalized)
	}
	if cut.Heads < 2 {
		t.Fatalf("one head across a partition: %v", cut)
	}
	s.Heal()
	s.RunSlots(epochEnd(11))
	healed := s.Report(11)
	t.Log("after healing:", healed)
	if healed.Finalized < cut.Finalized+2 {
		t.Fatalf("finality did not resume after healing: %d -> %d", cut.Finalized, healed.Finalized)
	}
	if healed.Heads != 1 {
		t.Fatalf("%d heads after healing", healed.Heads)
	}
}

// TestMeshLossDeterministic runs 6 nodes on a degree-2 mesh with 5% loss,
// uniform latency and reordering links twice: the gossip still reaches
// every node (one head) and both runs give the same trace.
func TestMeshLossDeterministic(t *testing.T) {
	t.Parallel()
	c := testConfig(4, 2)
	c.Nodes, c.MeshDegree, c.Loss, c.Reorder = 6, 2, 0.05, true
	c.Latency = Latency{Mean: 80 * time.Millisecond, Jitter: 40 * time.Millisecond, Dist: Uniform}
	a := run(t, c)
	if a.Stats.Dropped == 0 || a.Stats.Duplicates == 0 {
		t.Fatalf("no loss or no duplicate: %+v", a.Stats)
	}
	if last := a.Epochs[len(a.Epochs)-1]; last.Heads != 1 || last.HeadSlot < 14 {
		t.Fatalf("mesh did not carry the chain: %v", last)
	}
	if b := run(t, c); a.TraceHash != b.TraceHash {
		t.Fatalf("same config, trace hashes %s and %s", a.TraceHex(), b.TraceHex())
	}
}

func TestParseLatency(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Latency
		ok   bool
	}{
		{"fixed", "50ms", Latency{Mean: 50 * time.Millisecond}, true},
		{"normal", "50ms±20ms", Latency{Mean: 50 * time.Millisecond, Jitter: 20 * time.Millisecond, Dist: Normal}, true},
		{"normal ascii", "50ms+-20ms", Latency{Mean: 50 * time.Millisecond, Jitter: 20 * time.Millisecond, Dist: Normal}, true},
		{"uniform", "50ms~20ms", Latency{Mean: 50 * time.Millisecond, Jitter: 20 * time.Millisecond, Dist: Uniform}, true},
		{"uniform below zero", "10ms~20ms", Latency{}, false},
		{"negative", "-5ms", Latency{}, false},
		{"garbage", "fast", Latency{}, false},
		{"bad jitter", "50ms±x", Latency{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseLatency(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("ParseLatency(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"no nodes", func(c *Config) { c.Nodes = 0 }},
		{"too few validators", func(c *Config) { c.Validators = 2 }},
		{"no epochs", func(c *Config) { c.Epochs = 0 }},
		{"fractional slot", func(c *Config) { c.SlotTime = 1500 * time.Millisecond }},
		{"loss 1", func(c *Config) { c.Loss = 1 }},
		{"negative mesh", func(c *Config) { c.MeshDegree = -1 }},
		{"negative peers", func(c *Config) { c.Peers = -1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			if _, err := New(c); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// BenchmarkSim runs the default 4-node network for two epochs, with the
// caches the nodes share and with a private cache per node, and reports
// events per second and the speed-up over real time.
func BenchmarkSim(b *testing.B) {
	for _, bc := range []struct {
		name     string
		unshared bool
	}{{"shared", false}, {"unshared", true}} {
		b.Run(bc.name, func(b *testing.B) {
			c := testConfig(1, 2)
			c.Unshared = bc.unshared
			benchSim(b, c)
		})
	}
}

// TestSharedCachesSameResult runs the 4-node network with the caches the
// nodes share and with a private cache per node: the trace hashes and
// final state roots are equal, and the shared caches saved every repeated
// block transition and signature check.
func TestSharedCachesSameResult(t *testing.T) {
	t.Parallel()
	shared := run(t, testConfig(1, 3))
	c := testConfig(1, 3)
	c.Unshared = true
	private := run(t, c)
	if shared.TraceHash != private.TraceHash {
		t.Fatalf("shared caches change the trace: %s, private %s", shared.TraceHex(), private.TraceHex())
	}
	for i := range shared.StateRoots {
		if shared.StateRoots[i] != private.StateRoots[i] {
			t.Fatalf("node %d: state root %s shared, %s private", i, shared.StateRoots[i], private.StateRoots[i])
		}
	}
	if private.Caches != (CacheStats{}) {
		t.Fatalf("private run reports shared cache counters %+v", private.Caches)
	}
	st := shared.Caches.States
	// Each block is proposed by one node (imported without a check) and
	// transitioned by the first other node to receive it; the other two
	// reuse it. Each checkpoint state is advanced by one node and reused by
	// the others.
	if st.Adds == 0 || st.Hits < 2*st.Adds {
		t.Fatalf("state cache %+v, want at least 2 hits per state added with 4 nodes", st)
	}
	if v := shared.Caches.Verify; v.Hits < v.Misses {
		t.Fatalf("signature cache %+v, want more hits than misses", v)
	}
}

// TestFakeBLSSaysSo runs the 4-node network with fake BLS: every epoch
// report and the result say so, the run matches the real one (all its
// signatures are valid), and no signature is verified.
func TestFakeBLSSaysSo(t *testing.T) {
	t.Parallel()
	real := run(t, testConfig(1, 2))
	c := testConfig(1, 2)
	c.FakeBLS = true
	fake := run(t, c)
	if !fake.FakeBLS || real.FakeBLS {
		t.Fatalf("result FakeBLS %v (fake run), %v (real run)", fake.FakeBLS, real.FakeBLS)
	}
	for _, r := range fake.Epochs {
		if !r.FakeBLS || !strings.Contains(r.String(), "FAKE BLS") {
			t.Fatalf("epoch line without the fake BLS mark: %s", r)
		}
	}
	for _, r := range real.Epochs {
		if r.FakeBLS || strings.Contains(r.String(), "FAKE") {
			t.Fatalf("real epoch line marked fake: %s", r)
		}
	}
	if fake.TraceHash != real.TraceHash {
		t.Fatalf("fake BLS changed an all-valid run: %s, real %s", fake.TraceHex(), real.TraceHex())
	}
	if v := fake.Caches.Verify; v.Hits+v.Misses != 0 {
		t.Fatalf("fake BLS run looked up signatures: %+v", v)
	}
}

// TestEpochsIncludeClosingTransition runs 4 epochs: the run ends with the
// first slot of epoch 4, so the last report carries epoch 3's closing
// transition (finality of epoch 2), and every epoch's report is taken at
// the first slot of the next epoch.
func TestEpochsIncludeClosingTransition(t *testing.T) {
	t.Parallel()
	res := run(t, testConfig(1, 4))
	spe := types.Slot(8)
	for _, r := range res.Epochs {
		if want := types.Slot(r.Epoch+1) * spe; r.HeadSlot != want {
			t.Errorf("epoch %d report at head slot %d, want %d", r.Epoch, r.HeadSlot, want)
		}
	}
	if last := res.Epochs[len(res.Epochs)-1]; last.Finalized < 2 || last.Justified < 3 {
		t.Errorf("last report %v, want justified 3 and finalized 2", last)
	}
	if want := 33 * 2 * time.Second; res.SimTime != want {
		t.Errorf("simulated %s, want 33 slots (%s)", res.SimTime, want)
	}
}
