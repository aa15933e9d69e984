package scenario

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardlab/shardlab/sim/testnet"
)

// TestMetricParse checks the metric check's keys and their errors.
func TestMetricParse(t *testing.T) {
	t.Parallel()
	const head = "name: x\nnetwork:\n  nodes: 4\n  epochs: 4\nexpect:\n"
	sc, err := Parse("x.yaml", []byte(head+"  - check: metric\n    metric: beacon_head_slot{a=\"b\"}\n    op: \">=\"\n    value: 3\n    at: {epoch: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if e := sc.Expect[0]; e.Metric != `beacon_head_slot{a="b"}` || e.Role != RoleBeacon || e.Value != 3 {
		t.Fatalf("expectation %+v", e)
	}
	tests := []struct{ name, src, want string }{
		{"no metric", "  - check: metric\n    op: \">=\"\n    at: {epoch: 1}\n", "x.yaml:6:5: invalid scenario: expected key metric"},
		{"no op", "  - check: metric\n    metric: m\n    at: {epoch: 1}\n", "expected key op"},
		{"bad name", "  - check: metric\n    metric: \"a b\"\n    op: \"=\"\n    at: {epoch: 1}\n", "x.yaml:7:13: invalid scenario: metric \"a b\": expected a Prometheus metric name"},
		{"bad role", "  - check: metric\n    metric: m\n    role: validator\n    op: \"=\"\n    at: {epoch: 1}\n", "unknown role \"validator\", expected beacon or shard"},
		{"metric on another check", "  - check: finalized\n    metric: m\n    op: \"=\"\n    at: {epoch: 1}\n", "expected metric and role only with check: metric"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(head+tc.src))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestCheckEngine checks which scenarios each engine accepts: the
// testnet's own scenarios only there, link shaping only on the simulator
// (participation is sampled on both), and the built-ins the testnet engine is meant to run.
func TestCheckEngine(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/testnet/*.yaml")
	if len(files) == 0 {
		t.Fatal("no testnet scenarios in testdata/testnet")
	}
	for _, f := range files {
		sc, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckEngine(sc, EngineTestnet); err != nil {
			t.Errorf("%s on the testnet: %v", f, err)
		}
		if strings.Contains(f, "fisherman") || strings.Contains(f, "baseline") {
			if err := CheckEngine(sc, EngineSim); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s on the simulator: %v, want ErrInvalid", f, err)
			}
			if _, err := Run(context.Background(), sc, Options{}); !errors.Is(err, ErrInvalid) {
				t.Errorf("Run %s: %v, want ErrInvalid", f, err)
			}
		}
	}
	for _, name := range []string{"baseline", "offline-third", "double-vote", "surround-vote", "double-proposal", "partition-half", "partition-majority", "crash-restart"} {
		sc, err := LoadBuiltin(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckEngine(sc, EngineTestnet); err != nil {
			t.Errorf("built-in %s on the testnet: %v", name, err)
		}
	}
	for name, want := range map[string]string{"latency-spike": "action latency"} {
		sc, _ := LoadBuiltin(name)
		if err := CheckEngine(sc, EngineTestnet); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("built-in %s on the testnet: %v, want %q", name, err, want)
		}
	}
	for name, want := range map[string][]string{
		"garbage-peer":         {"action garbage_peer"},
		"receipt-double-claim": {"check claims_rejected", "check receipts_conserved"},
		"late-join":            nil, // late_join and synced run on real processes
		"deposits-exits":       {"action deposit"},
		"wrong-data-root":      {"check fraud_crosslinked", "check receipts_conserved", "check receipts_claimed"},
		"receipt-early-claim":  {"check fraud_proofs", "check offenders_slashed"},
		"withheld-body":        {"action shard_fraud of kind withheld (only state_root, early_claim)"},
	} {
		sc, _ := LoadBuiltin(name)
		err := CheckEngine(sc, EngineTestnet)
		if len(want) == 0 && err != nil {
			t.Errorf("built-in %s on the testnet: %v", name, err)
		}
		for _, w := range want {
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), w) {
				t.Errorf("built-in %s on the testnet: %v, want %q", name, err, w)
			}
		}
	}
	if sc, _ := LoadBuiltin("receipt-early-claim"); CheckEngine(sc, EngineTestnet) == nil || strings.Contains(CheckEngine(sc, EngineTestnet).Error(), "action") {
		t.Errorf("built-in receipt-early-claim: shard_fraud of kind early_claim refused on the testnet: %v", CheckEngine(sc, EngineTestnet))
	}
	many, err := Parse("many.yaml", []byte("name: many\nnetwork:\n  nodes: 4\n  epochs: 4\ntimeline:\n"+
		"  - name: skew\n    at: {slot: 3}\n    clock_skew: {nodes: [1], offset: 500ms}\n"+
		"  - at: {epoch: 1}\n    withhold: {validators: \"0..8\"}\n"+
		"  - at: {epoch: 2}\n    crash: [2]\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = CheckEngine(many, EngineTestnet)
	for _, w := range []string{`step "skew" at slot 3: action clock_skew`, "step at slot 8: action withhold"} {
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), w) {
			t.Errorf("two unsupported steps: %v, want %q", err, w)
		}
	}
	if err != nil && strings.Contains(err.Error(), "crash") {
		t.Errorf("crash refused: %v", err)
	}
	sc, _ := LoadBuiltin("double-vote", "network.slasher=false")
	if err := CheckEngine(sc, EngineTestnet); err == nil {
		t.Error("testnet engine accepted network.slasher false")
	}
	if err := CheckEngine(sc, "docker"); err == nil {
		t.Error("unknown engine accepted")
	}
}

// TestEvaluateMetricAndCount checks metric expectations (lowest value of
// the chosen nodes of a role, windows, absent metrics) and slashed counts.
func TestEvaluateMetricAndCount(t *testing.T) {
	t.Parallel()
	m := func(v float64) NodeSample { return NodeSample{Metrics: map[string]float64{"m": v}} }
	samples := []Sample{
		{Slot: 0, Nodes: []NodeSample{m(0), m(0)}, ShardNodes: []NodeSample{m(0), {}}},
		{Slot: 1, Nodes: []NodeSample{m(1), m(2)}, ShardNodes: []NodeSample{m(5), {}}},
		{Slot: 2, Nodes: []NodeSample{{Slashed: []uint64{3}}, {Slashed: []uint64{3}}}, ShardNodes: []NodeSample{m(7), m(1)}},
	}
	tests := []struct {
		name string
		e    Expectation
		pass bool
		obs  string
	}{
		{"lowest of all", Expectation{Check: "metric", Metric: "m", Role: RoleBeacon, Op: ">=", Value: 2, From: 1, To: 1}, false, "1"},
		{"one node", Expectation{Check: "metric", Metric: "m", Role: RoleBeacon, Op: ">=", Value: 2, Nodes: []int{1}, From: 1, To: 1}, true, "2"},
		{"window", Expectation{Check: "metric", Metric: "m", Role: RoleBeacon, Op: "=", Value: 1, From: 0, To: 1}, true, "1 (at slot 1)"},
		{"absent", Expectation{Check: "metric", Metric: "m", Role: RoleShard, Op: ">=", Value: 0, From: 1, To: 1}, false, "m absent on a shard node"},
		{"shard node", Expectation{Check: "metric", Metric: "m", Role: RoleShard, Op: "<=", Value: 5, Nodes: []int{0}, From: 1, To: 1}, true, "5"},
		{"no such node", Expectation{Check: "metric", Metric: "m", Role: RoleShard, Op: "<=", Value: 5, Nodes: []int{4}, From: 1, To: 1}, false, "no shard node among [4]"},
		{"slashed count", Expectation{Check: "slashed", Op: "=", Value: 1, From: 2, To: 2}, true, "1 slashed [3]"},
		{"slashed count too low", Expectation{Check: "slashed", Op: ">=", Value: 1, From: 1, To: 1}, false, "0 slashed []"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := evaluate(tc.e, samples)
			if o.Pass != tc.pass || o.Observed != tc.obs {
				t.Fatalf("outcome %+v, want pass %v observed %q", o, tc.pass, tc.obs)
			}
		})
	}
}

// TestPartitionGroups checks how a partition of beacon nodes places the
// shard nodes: shard node j joins beacon node j*N/S's group; beacon nodes
// in no group form one more.
func TestPartitionGroups(t *testing.T) {
	t.Parallel()
	r := &tnRun{}
	for _, name := range []string{"beacon-0", "beacon-1", "beacon-2", "beacon-3"} {
		r.beacon = append(r.beacon, &testnet.Process{Spec: testnet.NodeSpec{Name: name}})
	}
	for _, name := range []string{"shard-0", "shard-1", "shard-2"} {
		r.shard = append(r.shard, &testnet.Process{Spec: testnet.NodeSpec{Name: name}})
	}
	groups := [][]int{{0, 1}, {2, 3}}
	want := map[string]int{"beacon-0": 0, "beacon-1": 0, "beacon-2": 1, "beacon-3": 1, "shard-0": 0, "shard-1": 0, "shard-2": 1}
	for name, g := range want {
		if got := r.groupOf(name, groups); got != g {
			t.Errorf("%s in group %d, want %d", name, got, g)
		}
	}
	if got := r.groupOf("shard-2", [][]int{{3}, {0, 1, 2}}); got != 1 {
		t.Errorf("isolated node 3: shard-2 in group %d, want 1", got)
	}
}

// TestRunTestnetErrors checks the testnet engine's refusals before any
// process starts.
func TestRunTestnetErrors(t *testing.T) {
	t.Parallel()
	sc, _ := LoadBuiltin("latency-spike")
	if _, err := RunTestnet(context.Background(), sc, Options{}, DefaultTestnetOptions()); !errors.Is(err, ErrInvalid) {
		t.Fatalf("latency on the testnet: %v, want ErrInvalid", err)
	}
	src, err := os.ReadFile("testdata/testnet/fisherman.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc, err = Parse("f.yaml", []byte(strings.Replace(string(src), "invalid_state_root: 0", "invalid_state_root: 9", 1)))
	if err == nil {
		to := DefaultTestnetOptions()
		to.Binary = "/bin/true"
		_, err = RunTestnet(context.Background(), sc, Options{}, to)
	}
	if err == nil || !strings.Contains(err.Error(), "shard") {
		t.Fatalf("invalid_state_root of shard 9: %v", err)
	}
}

// TestSchemaAcceptsTestnetScenarios checks the testnet engine's own files
// against the JSON Schema (metric checks, invalid_state_root).
func TestSchemaAcceptsTestnetScenarios(t *testing.T) {
	t.Parallel()
	schema := compileSchema(t)
	files, _ := filepath.Glob("testdata/testnet/*.yaml")
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(asJSON(t, src)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
