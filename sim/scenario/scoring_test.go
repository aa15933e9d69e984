package scenario

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestScoredOutParseErrors(t *testing.T) {
	const head = "name: x\nnetwork:\n  nodes: 4\n  epochs: 4\nexpect:\n"
	tests := []struct {
		name, src, want string
	}{
		{"node not an index", head + "  - {check: scored_out, node: spammer, op: \"=\", value: 1, at: {epoch: 1}}\n",
			`x.yaml:6:31: invalid scenario: expected a node index or honest, got "spammer"`},
		{"node on another check", head + "  - {check: finalized, node: 0, op: \">=\", value: 1, at: {epoch: 1}}\n",
			"x.yaml:6:5: invalid scenario: expected node only with check: scored_out"},
		{"no op", head + "  - {check: scored_out, node: 0, value: 1, at: {epoch: 1}}\n",
			"x.yaml:6:5: invalid scenario: expected op (>=, <= or =) and value for scored_out"},
		{"advancing", head + "  - {check: scored_out, op: advancing, at: {epoch: 1}, within: {epoch: 2}}\n",
			"expected advancing only on finalized"},
		{"node out of range", head + "  - {name: n, check: scored_out, node: 4, op: \"=\", value: 0, at: {epoch: 1}}\n",
			`x.yaml:6:3: invalid scenario: expectation "n": node 4, expected 0..3 (beacon nodes, then shard nodes)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tc.src))
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	sc, err := Parse("x.yaml", []byte(head+"  - {check: scored_out, node: honest, op: \"=\", value: 0, at: {epoch: 1}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckEngine(sc, EngineTestnet); err == nil || !strings.Contains(err.Error(), "check scored_out") {
		t.Fatalf("testnet engine: %v, want scored_out refused", err)
	}
	sch := compileSchema(t)
	if err := sch.Validate(asJSON(t, []byte(head+"  - {check: scored_out, node: spammer, op: \"=\", value: 1, at: {epoch: 1}}\n"))); err == nil {
		t.Fatal("the schema accepts node: spammer")
	}
}

// TestEvaluateScored checks the counts of scored_out on a made-up run in
// which node 5 (a garbage sender) is scored out by nodes 1 and 2 in slot 3
// and by node 1 again in slot 9, and node 2 (honest) by node 3 in slot 6.
func TestEvaluateScored(t *testing.T) {
	sc := &Scenario{Timeline: []Step{{Action: Action{Kind: "garbage_peer", Shard: &ShardAction{Node: 5}}}}}
	rep := &Report{ScoredOut: []ScoringOut{
		{Slot: 3, Node: 1, Peer: 5, Score: -90}, {Slot: 3, Node: 2, Peer: 5, Score: -81},
		{Slot: 6, Node: 3, Peer: 2, Score: -85}, {Slot: 9, Node: 1, Peer: 5, Score: -90},
	}}
	tests := []struct {
		name     string
		e        Expectation
		pass     bool
		observed string
	}{
		{"not before the slot it happened", Expectation{Peer: "5", Op: ">=", Value: 1, From: 3, To: 3}, false, "0"},
		{"by both within a window", Expectation{Peer: "5", Op: "=", Value: 2, From: 0, To: 8}, true, "2: nodes 1, 2 (by slot 4)"},
		{"scored out twice by one node counts once", Expectation{Peer: "5", Op: "=", Value: 2, From: 10, To: 10}, true, "2: nodes 1, 2"},
		{"honest", Expectation{Peer: honestPeers, Op: "=", Value: 0, From: 10, To: 10}, false, "1: 2 by 3"},
		{"honest before it", Expectation{Peer: honestPeers, Op: "=", Value: 0, From: 6, To: 6}, true, "0"},
		{"any", Expectation{Op: "=", Value: 3, From: 10, To: 10}, true, "3: 2 by 3; 5 by 1; 5 by 2"},
		{"by chosen nodes", Expectation{Peer: "5", Nodes: []int{2, 3}, Op: "=", Value: 1, From: 10, To: 10}, true, "1: nodes 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.e.Check = checkScoredOut
			o := evaluateScored(tc.e, sc, rep)
			if o.Pass != tc.pass || o.Observed != tc.observed {
				t.Fatalf("pass %v, observed %q (expected %s); want %v, %q", o.Pass, o.Observed, o.Expected, tc.pass, tc.observed)
			}
		})
	}
}

// TestScoredOutReported runs a short garbage_peer scenario: the
// scoring-outs are in the report, on its timeline (one event per slot and
// scored peer), and the checks count them.
func TestScoredOutReported(t *testing.T) {
	src := `name: scored
network: {nodes: 4, epochs: 2, shard_nodes: 4, shards: 8, tx_rate: 1}
timeline:
  - {at: {slot: 2}, garbage_peer: {node: 1, per_slot: 8, slots: 10}}
expect:
  - {name: spammer out, check: scored_out, node: 1, op: "=", value: 7, at: {slot: 2}, within: {epoch: 2}}
  - {name: honest in, check: scored_out, node: honest, op: "=", value: 0, at: {epoch: 2}}
  - {name: all, check: scored_out, op: "=", value: 7, at: {epoch: 2}}
`
	sc, err := Parse("scored.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	r, err := Run(context.Background(), sc, Options{Progress: &out})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range r.Expectations {
		if !o.Pass {
			t.Errorf("%s: expected %s, observed %s", o.Name, o.Expected, o.Observed)
		}
	}
	if len(r.ScoredOut) != 7 || len(r.Events) == 0 {
		t.Fatalf("scored out %+v, events %+v", r.ScoredOut, r.Events)
	}
	var scorers []string
	for _, e := range r.Events {
		if e.Kind != EventScoredOut || !strings.HasPrefix(e.Label, "node 1 by ") {
			t.Fatalf("event %+v", e)
		}
		scorers = append(scorers, strings.Fields(strings.TrimPrefix(e.Label, "node 1 by "))...)
	}
	if len(scorers) != 7 || strings.Count(out.String(), "scored out node 1") != 7 {
		t.Fatalf("events %+v, progress:\n%s", r.Events, out.String())
	}
}
