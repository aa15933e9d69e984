package scenario

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/shardlab/shardlab/sim/netsim"
)

func TestRegistryParseErrors(t *testing.T) {
	const head = "name: x\nnetwork:\n  nodes: 4\n  epochs: 4\n"
	tests := []struct {
		name, src, want string
	}{
		{"unknown config key", "name: x\nnetwork:\n  config:\n    INACTIVITY_QUOTIENT: 3\n", "x.yaml:4:5: invalid scenario: unknown key \"INACTIVITY_QUOTIENT\", expected one of SHARD_COUNT"},
		{"fixed config key", "name: x\nnetwork:\n  config:\n    SLOTS_PER_EPOCH: 4\n", "x.yaml:4:22: invalid scenario: SLOTS_PER_EPOCH cannot be overridden"},
		{"bad config value", "name: x\nnetwork:\n  config:\n    MAX_DEPOSITS: many\n", "x.yaml:4:19: invalid scenario: MAX_DEPOSITS:"},
		{"deposit without count", head + "timeline:\n  - at: {slot: 1}\n    deposit: {}\n", "expected count of at least 1"},
		{"censor without nodes", head + "timeline:\n  - at: {slot: 1}\n    censor: {validators: 0..4}\n", "expected nodes (the censoring proposers)"},
		{"censor node out of range", head + "timeline:\n  - at: {slot: 1}\n    censor: {nodes: [7], validators: 0..4}\n", "censor names node 7"},
		{"withhold nodes", head + "timeline:\n  - at: {slot: 1}\n    withhold: {nodes: [1]}\n", "unknown key \"nodes\""},
		{"two events", head + "timeline:\n  - at: {after: {finalized: 1, slashing: true}}\n    heal: true\n", "expected one event"},
		{"time and slot", head + "timeline:\n  - at: {time: 4s, slot: 2}\n    heal: true\n", "expected one of slot, epoch or time"},
		{"bad time", head + "timeline:\n  - at: {time: soon}\n    heal: true\n", "expected a duration such as 30s"},
		{"expectation after event", head + "timeline:\n  - name: e\n    at: {after: {slashing: true}}\n    heal: true\nexpect:\n  - check: head_agreement\n    at: {after: e}\n", "is timed after an event"},
		{"balance without window", head + "expect:\n  - check: balance\n    validators: [1]\n    op: \">=\"\n    value: 0\n    at: {epoch: 1}\n", "expected within for balance"},
		{"active without validators", head + "expect:\n  - check: active\n    at: {epoch: 1}\n", "expected validators for active"},
		{"reorg without op", head + "expect:\n  - check: reorg_depth\n    at: {epoch: 1}\n", "expected op (>=, <= or =) and value for reorg_depth"},
		{"empty workload", head + "timeline:\n  - at: {slot: 1}\n    workload: {}\n", "expected rate (transactions a second, 0 stops) or cross_shard"},
		{"bad cross share", head + "timeline:\n  - at: {slot: 1}\n    workload: {cross_shard: 2}\n", "x.yaml:6:3: invalid scenario: step 1: workload cross_shard 2, expected a share in [0, 1]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tc.src))
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestTriggersResolve(t *testing.T) {
	src := "name: x\nnetwork:\n  epochs: 4\n  slot_time: 3s\n  config:\n    INACTIVITY_PENALTY_QUOTIENT: 64\ntimeline:\n" +
		"  - name: t\n    at: {time: 10s}\n    heal: true\n" +
		"  - name: f\n    at: {after: {finalized: 1}, slot: 2}\n    heal: true\n" +
		"  - name: g\n    at: {after: f}\n    heal: true\n" +
		"expect:\n  - check: head_agreement\n    at: {after: t, slot: 1}\n"
	sc, err := Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Timeline[0].Slot != 4 || sc.Expect[0].From != 5 {
		t.Fatalf("time step at slot %d, expectation at %d; want 4 and 5 (10s of 3s slots, rounded up)", sc.Timeline[0].Slot, sc.Expect[0].From)
	}
	if ev := sc.Timeline[1].At.Event; ev == nil || ev.Finalized == nil || *ev.Finalized != 1 {
		t.Fatalf("step f: event %+v, want finalized 1", ev)
	}
	if ev := sc.Timeline[2].At.Event; ev == nil || ev.Step != "f" {
		t.Fatalf("step g: event %+v, want step f", ev)
	}
	c, err := sc.Network.config()
	if err != nil || c.Chain == nil || c.Chain.InactivityPenaltyQuotient != 64 {
		t.Fatalf("chain config %+v, %v; want INACTIVITY_PENALTY_QUOTIENT 64", c.Chain, err)
	}
}

// balanceChange runs src and returns the mean balance change of
// validators 0..7 over epochs 2..6, from node 0's samples.
func balanceChange(t *testing.T, src string) float64 {
	t.Helper()
	sc, err := Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(context.Background(), sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Expectations) != 1 {
		t.Fatalf("%d outcomes", len(r.Expectations))
	}
	a, b := r.Samples[16].Nodes[0].Watch, r.Samples[48].Nodes[0].Watch
	sum := 0.0
	for v := range uint64(8) {
		sum += float64(b[v].Balance) - float64(a[v].Balance)
	}
	return sum / 8
}

// TestWrongHeadCosts shows the wrong_head action takes effect: voting for
// the head's parent forfeits the head reward, so validators 0..7 gain less
// than in the same run where they vote honestly.
func TestWrongHeadCosts(t *testing.T) {
	const base = "name: x\nnetwork:\n  epochs: 6\ntimeline:\n  - at: {epoch: 2}\n    %s: {validators: 0..8}\n" +
		"expect:\n  - check: balance\n    validators: [0, 1, 2, 3, 4, 5, 6, 7]\n    op: \">=\"\n    value: -1e12\n    at: {epoch: 2}\n    within: {epoch: 6}\n"
	honest := balanceChange(t, strings.Replace(base, "%s", "online", 1))
	wrong := balanceChange(t, strings.Replace(base, "%s", "wrong_head", 1))
	if !(wrong < honest*0.9) {
		t.Fatalf("mean gain with wrong head %.0f, honest %.0f: want clearly less", wrong, honest)
	}
}

// TestWorkloadStep fires workload steps on a simulator with shard nodes:
// each keeps what it does not name.
func TestWorkloadStep(t *testing.T) {
	cfg := netsim.DefaultConfig()
	cfg.Shard = netsim.DefaultShardConfig()
	cfg.Epochs = 1
	s, err := netsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := &run{sim: s, sc: &Scenario{}, out: io.Discard}
	rate, half := 3.0, 0.25
	for _, tc := range []struct {
		a           Action
		rate, cross float64
	}{
		{Action{Kind: "workload", Rate: &rate}, 3, cfg.Shard.CrossShard},
		{Action{Kind: "workload", CrossShard: &half}, 3, 0.25},
	} {
		if _, err := r.fireRegistry(Step{Action: tc.a}); err != nil {
			t.Fatal(err)
		}
		if gotRate, gotCross, _ := s.Workload(); gotRate != tc.rate || gotCross != tc.cross {
			t.Fatalf("workload %v tx/s, %v cross; want %v, %v", gotRate, gotCross, tc.rate, tc.cross)
		}
	}
}
