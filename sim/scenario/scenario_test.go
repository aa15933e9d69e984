package scenario

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	const head = "name: x\nnetwork:\n  nodes: 4\n  epochs: 4\n"
	tests := []struct {
		name, src, want string
	}{
		{"unknown top key", "name: x\nnetwrok: {}\n", "x.yaml:2:1: invalid scenario: unknown key \"netwrok\", expected one of name, description, network, timeline, faults, expect"},
		{"missing name", "network: {nodes: 4}\n", "x.yaml:1:1: invalid scenario: expected key name"},
		{"bad number", "name: x\nnetwork:\n  nodes: four\n", "x.yaml:3:10: invalid scenario: expected a non-negative integer, got \"four\""},
		{"bad preset", "name: x\nnetwork:\n  preset: mainnet\n", "x.yaml:3:11: invalid scenario: expected preset minimal"},
		{"two actions", head + "timeline:\n  - at: {slot: 3}\n    heal: true\n    crash: [1]\n", "x.yaml:8:12: invalid scenario: expected one action per step, got heal and crash"},
		{"no action", head + "timeline:\n  - at: {slot: 3}\n", "x.yaml:6:5: invalid scenario: expected one action"},
		{"unknown after", head + "timeline:\n  - at: {after: nope}\n    heal: true\n", "x.yaml:6:3: invalid scenario: step 1: after \"nope\": expected the name of an earlier step"},
		{"node out of range", head + "timeline:\n  - at: {slot: 1}\n    crash: [4]\n", "step 1 names node 4, expected 0..3"},
		{"step after the end", head + "timeline:\n  - at: {epoch: 5}\n    heal: true\n", "step 1 fires at slot 40, expected at most the run's end, slot 32"},
		{"bad check", head + "expect:\n  - check: finality\n    at: {epoch: 1}\n", "x.yaml:6:12: invalid scenario: unknown check \"finality\", expected one of finalized"},
		{"advancing without window", head + "expect:\n  - check: finalized\n    op: advancing\n    at: {epoch: 1}\n", "expected advancing only on finalized, justified, shard_claims, claims_from_shard, with a within window"},
		{"bad range", head + "timeline:\n  - at: {slot: 1}\n    offline: {validators: 9..3}\n", "validators \"9..3\", expected a range a..b"},
		{"bad latency", head + "timeline:\n  - at: {slot: 1}\n    latency: fast\n", "step 1: invalid simulation config"},
		{"too few validators", "name: x\nnetwork:\n  validators: 8\n", "x.yaml:3:3: invalid scenario: 8 validators, expected at least 64"},
		{"not yaml", "name: [x\n", "x.yaml: invalid scenario: yaml:"},
		{"set unknown key", head, "unknown key \"bogus\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sets []string
			if tc.name == "set unknown key" {
				sets = []string{"network.bogus=1"}
			}
			_, err := Parse("x.yaml", []byte(tc.src), sets...)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestSetOverrides(t *testing.T) {
	sc, err := LoadBuiltin("baseline", "network.seed=7", "network.loss=0.01")
	if err != nil {
		t.Fatal(err)
	}
	if sc.Network.Seed != 7 || sc.Network.Loss != 0.01 {
		t.Fatalf("network %+v, want seed 7 and loss 0.01", sc.Network)
	}
	if _, err := LoadBuiltin("baseline", "seed"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("--set seed: %v, want ErrInvalid", err)
	}
	if _, err := Load("no-such-scenario"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown built-in: %v, want ErrInvalid", err)
	}
}

func TestAfterResolves(t *testing.T) {
	sc, err := LoadBuiltin("partition-half")
	if err != nil {
		t.Fatal(err)
	}
	if got := []uint64{sc.Timeline[0].Slot, sc.Timeline[1].Slot, sc.Expect[0].From, sc.Expect[0].To}; got[0] != 16 || got[1] != 40 || got[2] != 24 || got[3] != 40 {
		t.Fatalf("resolved slots %v, want [16 40 24 40]", got)
	}
}

// TestBuiltinsPass runs every built-in twice: all expectations hold, no
// honest node is scored out for its gossip (only a garbage_peer or
// claim_attack sender may be) and the two reports are identical.
func TestBuiltinsPass(t *testing.T) {
	list, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) < 6 {
		t.Fatalf("%d built-ins, want at least 6", len(list))
	}
	for _, b := range list {
		t.Run(b.Name, func(t *testing.T) {
			var hashes []string
			for range 2 {
				sc, err := LoadBuiltin(b.Name)
				if err != nil {
					t.Fatal(err)
				}
				r, err := Run(context.Background(), sc, Options{})
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range r.Expectations {
					if !o.Pass {
						t.Errorf("%s: expected %s, observed %s", o.Name, o.Expected, o.Observed)
					}
				}
				if !r.Pass {
					t.Fatalf("report does not pass")
				}
				for _, so := range r.ScoredOut {
					if !slices.Contains(byzantineSenders(sc), so.Peer) {
						t.Errorf("honest node %d scored out by node %d at slot %d (score %g)", so.Peer, so.Node, so.Slot, so.Score)
					}
				}
				hashes = append(hashes, r.Hash())
			}
			if hashes[0] != hashes[1] {
				t.Fatalf("report hashes differ: %s, %s", hashes[0], hashes[1])
			}
		})
	}
}

func TestFailingExpectationReported(t *testing.T) {
	src := "name: short\nnetwork: {epochs: 3}\nexpect:\n  - {name: too much, check: finalized, op: \">=\", value: 5, at: {epoch: 3}}\n"
	sc, err := Parse("short.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(context.Background(), sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Pass || r.Expectations[0].Pass || r.Expectations[0].Observed != "0" {
		t.Fatalf("outcome %+v, want a failure observing 0", r.Expectations[0])
	}
}

// TestDeployFaults stages sim/deploy's fault timeline format on the
// simulator.
func TestDeployFaults(t *testing.T) {
	src := `name: faults
network: {epochs: 4}
faults:
  - {kind: kill, targets: [beacon-3], at: 20s, duration: 16s}
  - {kind: delay, targets: [beacon-2], at: 8s, duration: 10s, latency: 3s}
  - {kind: partition, targets: [beacon-0, beacon-1], peers: [beacon-2, beacon-3], at: 50s, duration: 4s}
expect:
  - {name: one head again, check: head_agreement, at: {epoch: 4}}
`
	sc, err := Parse("faults.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range sc.Timeline {
		got = append(got, fmt.Sprintf("%d %s %v", st.Slot, st.Action.Kind, st.Action.Nodes))
	}
	want := []string{"4 degrade [2]", "9 restore [2]", "10 crash [3]", "18 restart [3]", "25 isolate [0 1]", "27 heal []"}
	if !slices.Equal(got, want) {
		t.Fatalf("steps %q, want %q", got, want)
	}
	r, err := Run(context.Background(), sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Samples[12].Nodes[3].Up || !r.Samples[20].Nodes[3].Up {
		t.Fatal("beacon-3 was not down from slot 10 to 18")
	}
	if len(r.Windows) != 3 || !r.Pass {
		t.Fatalf("windows %+v, outcomes %+v", r.Windows, r.Expectations)
	}
	bad := []struct{ src, want string }{
		{"name: x\nfaults:\n  - {kind: kill, targets: [beacon-9], at: 1s, duration: 1s}\n", `x.yaml:3:3: invalid scenario: expected a sim/deploy fault timeline: invalid deploy config: fault 0 (kill): node "beacon-9": not in the network`},
		{"name: x\nfaults:\n  - {kind: delay, targets: [beacon-1], peers: [beacon-2], at: 1s, duration: 1s, latency: 1s}\n", "x.yaml:3:5: invalid scenario: fault 0 (delay): peers must be every node but the targets"},
	}
	for _, b := range bad {
		if _, err := Parse("x.yaml", []byte(b.src)); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("error %v, want %q", err, b.want)
		}
	}
}
