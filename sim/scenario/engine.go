package scenario

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/shardlab/shardlab/sim/testnet"
)

// The engines a scenario runs on: the simulator (Run) and the testnet of
// real processes (RunTestnet). This file holds what tells them apart: the
// actions and checks each supports, and the checks only the testnet engine
// samples (Prometheus metrics).

// Engines.
const (
	EngineSim     = "sim"
	EngineTestnet = "testnet"
)

// Roles of a metric check's nodes.
const (
	RoleBeacon = "beacon"
	RoleShard  = "shard"
)

// testnetActions are the actions fireTestnet stages on real processes;
// every other action is refused up front on the testnet engine (link
// shaping, for one, needs the simulator's network: real processes talk
// over loopback TCP).
var testnetActions = []string{"partition", "heal", "isolate", "crash", "restart", "offline", "online",
	"equivocate", "double_vote", "surround_vote", "invalid_state_root", "late_join", "exit", "wrong_data_root", "claim_attack", "shard_fraud"}

// testnetFraudKinds are the kinds of shard_fraud the shard nodes' debug
// API stages.
var testnetFraudKinds = []string{"state_root", "early_claim"}

// testnetChecks are the checks the testnet engine samples: the others
// read the simulator's state (participation, reorgs, the shard layer's
// series) and are refused up front.
var testnetChecks = []string{"finalized", "justified", "head_agreement", "slashed", "participation", "metric", "synced",
	"active", "exited", "registry", "balance"}

// testnetOnly are the actions and checks the simulator does not support.
var testnetOnly = []string{"invalid_state_root", "metric"}

// CheckEngine reports an error naming every step and expectation of sc
// that engine cannot run.
func CheckEngine(sc *Scenario, engine string) error {
	var bad []string
	for _, st := range sc.Timeline {
		k := st.Action.Kind
		if engine == EngineSim && slices.Contains(testnetOnly, k) || engine == EngineTestnet && !slices.Contains(testnetActions, k) {
			bad = append(bad, fmt.Sprintf("step %s: action %s", stepLabel(st), k))
		}
		if engine == EngineTestnet && k == "shard_fraud" && !slices.Contains(testnetFraudKinds, st.Action.Shard.Kind) {
			bad = append(bad, fmt.Sprintf("step %s: action shard_fraud of kind %s (only %s)", stepLabel(st), st.Action.Shard.Kind, strings.Join(testnetFraudKinds, ", ")))
		}
	}
	for _, e := range sc.Expect {
		if engine == EngineSim && slices.Contains(testnetOnly, e.Check) || engine == EngineTestnet && !slices.Contains(testnetChecks, e.Check) {
			bad = append(bad, fmt.Sprintf("expectation %q: check %s", e.Name, e.Check))
		}
	}
	switch {
	case engine != EngineSim && engine != EngineTestnet:
		return fmt.Errorf("%w: engine %q, expected %s or %s", ErrInvalid, engine, EngineSim, EngineTestnet)
	case engine == EngineTestnet && !sc.Network.Slasher:
		bad = append(bad, "network.slasher false (the testnet's nodes always run their slasher)")
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: not supported on the %s engine: %s", ErrInvalid, engine, strings.Join(bad, "; "))
	}
	return nil
}

// stepLabel names a step for an error: its name and its slot (an event
// step's slot is not known before the run).
func stepLabel(st Step) string {
	at := fmt.Sprintf("at slot %d", st.Slot)
	if st.At.Event != nil {
		at = "after " + st.At.Event.String()
	}
	if st.Name != "" {
		return fmt.Sprintf("%q %s", st.Name, at)
	}
	return at
}

// metricKey reads the metric and role keys of an expectation.
func (p *parser) metricKey(k string, v *yaml.Node, e *Expectation) {
	switch k {
	case "metric":
		e.Metric = p.str(v)
		if _, err := testnet.ParseMetricSelector(e.Metric); err != nil {
			p.errf(v, "%v", err)
		}
	case "role":
		if e.Role = p.str(v); e.Role != RoleBeacon && e.Role != RoleShard {
			p.errf(v, "unknown role %q, expected %s or %s", e.Role, RoleBeacon, RoleShard)
		}
	}
}

// checkMetric checks that metric and role come with a metric check, and
// the metric check with a metric.
func (p *parser) checkMetric(n *yaml.Node, e *Expectation) {
	switch {
	case e.Check == "metric" && e.Metric == "":
		p.errf(n, "expected key metric: a Prometheus metric name such as beacon_finalized_epoch")
	case e.Check != "metric" && (e.Metric != "" || e.Role != ""):
		p.errf(n, "expected metric and role only with check: metric")
	case e.Check == "metric" && e.Role == "":
		e.Role = RoleBeacon
	}
}

// roleNodes are the nodes of s an expectation looks at: the shard nodes
// for a metric check of role shard, else the beacon nodes.
func roleNodes(e Expectation, s Sample) []NodeSample {
	if e.Check == "metric" && e.Role == RoleShard {
		return s.ShardNodes
	}
	return s.Nodes
}

// metricExpected describes a metric check (evaluate adds the window).
func metricExpected(e Expectation) string {
	who := "every " + e.Role + " node"
	if len(e.Nodes) > 0 {
		who = fmt.Sprintf("%s nodes %v", e.Role, e.Nodes)
	}
	return fmt.Sprintf("%s %s %g on %s", e.Metric, e.Op, e.Value, who)
}

// metricHolds reports the lowest value of e's metric among ns (the chosen
// nodes of its role) and whether it meets the bound. A node whose metric
// is absent, or a chosen node that does not exist, fails.
func metricHolds(e Expectation, ns []NodeSample) (string, bool) {
	switch {
	case len(ns) < len(e.Nodes):
		return fmt.Sprintf("no %s node among %v", e.Role, e.Nodes), false
	case len(ns) == 0:
		return fmt.Sprintf("no %s nodes sampled", e.Role), false
	}
	low := 0.0
	for i, n := range ns {
		v, ok := n.Metrics[e.Metric]
		if !ok {
			return fmt.Sprintf("%s absent on a %s node", e.Metric, e.Role), false
		}
		if i == 0 || v < low {
			low = v
		}
	}
	return fmt.Sprintf("%g", low), compare(low, e.Op, e.Value)
}

// slashedCount checks the number of slashed validators (a slashed check
// with op and value: who exactly is slashed may not be known in advance,
// such as the proposer of a fraudulent shard block). It holds when it
// holds on every node.
func slashedCount(e Expectation, ns []NodeSample) (string, bool) {
	for _, n := range ns {
		if !compare(float64(len(n.Slashed)), e.Op, e.Value) {
			return fmt.Sprintf("%d slashed %v", len(n.Slashed), orEmpty(n.Slashed)), false
		}
	}
	if len(ns) == 0 {
		return "no nodes", false
	}
	return fmt.Sprintf("%d slashed %v", len(ns[0].Slashed), orEmpty(ns[0].Slashed)), true
}

// validatorHosts is what offlineNodes needs of an engine: the nodes and
// the validators each hosts.
type validatorHosts interface {
	NodeCount() int
	ShardNodeCount() int
	ValidatorRange(i int) (first, count uint64, err error)
}
