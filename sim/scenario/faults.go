package scenario

import (
	"fmt"
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/shardlab/shardlab/sim/deploy"
	"github.com/shardlab/shardlab/sim/netsim"
)

// A scenario's faults key is sim/deploy's fault timeline list, unchanged
// (the one `testnet deploy` replays with Chaos Mesh): kinds partition,
// delay, loss, kill and restart on nodes named beacon-0, beacon-1, ...,
// at and duration in wall time of the run. This file turns it into
// timeline steps on the simulator.

// nodeNames are the sim nodes under their testnet names.
func nodeNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("beacon-%d", i)
	}
	return out
}

// faultSteps parses and validates a faults list (v, the value of the
// faults key) and returns the steps that stage it.
func (p *parser) faultSteps(v *yaml.Node, nw Network) []Step {
	wrapped, err := yaml.Marshal(&yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "faults"}, v}})
	if err != nil {
		p.errf(v, "expected a fault list: %v", err)
		return nil
	}
	tl, err := deploy.ParseTimeline(wrapped)
	if err == nil {
		err = tl.Validate(nodeNames(nw.Nodes))
	}
	if err != nil {
		p.errf(v, "expected a sim/deploy fault timeline: %v", err)
		return nil
	}
	slotTime, err := time.ParseDuration(nw.SlotTime)
	if err != nil || slotTime <= 0 {
		return nil // reported by the network check
	}
	toSlot := func(d deploy.Duration) uint64 { // rounded up to a slot start
		return uint64((time.Duration(d) + slotTime - 1) / slotTime)
	}
	var steps []Step
	for i, f := range tl.Faults {
		line := v.Content[i].Line
		targets := indexes(f.Targets)
		peers := indexes(f.Peers)
		if len(peers) > 0 && len(peers)+len(targets) != nw.Nodes {
			p.errf(v.Content[i], "fault %d (%s): peers must be every node but the targets: the simulator cuts and degrades whole nodes' traffic", i, f.Kind)
			continue
		}
		from, to := toSlot(f.At), toSlot(f.At+f.Duration)
		add := func(slot uint64, a Action) {
			steps = append(steps, Step{Name: fmt.Sprintf("fault %d %s", i, a.Kind), At: When{Slot: &slot}, Action: a, Slot: slot, line: line})
		}
		switch f.Kind {
		case deploy.FaultPartition:
			add(from, Action{Kind: "isolate", Nodes: targets})
			add(to, Action{Kind: "heal"})
		case deploy.FaultDelay, deploy.FaultLoss:
			fault := netsim.LinkFault{Loss: f.Loss / 100}
			if f.Kind == deploy.FaultDelay {
				fault.Delay = netsim.Latency{Mean: time.Duration(f.Latency), Jitter: time.Duration(f.Jitter), Dist: netsim.Normal}
			}
			add(from, Action{Kind: "degrade", Nodes: targets, Link: fault})
			add(to, Action{Kind: "restore", Nodes: targets})
		case deploy.FaultKill:
			add(from, Action{Kind: "crash", Nodes: targets})
			add(to, Action{Kind: "restart", Nodes: targets})
		case deploy.FaultRestart:
			add(from, Action{Kind: "crash", Nodes: targets})
			add(from, Action{Kind: "restart", Nodes: targets})
		}
	}
	slices.SortStableFunc(steps, func(a, b Step) int { return int(a.Slot) - int(b.Slot) })
	return steps
}

// indexes turns validated beacon-N names into node indexes.
func indexes(names []string) []int {
	out := make([]int, 0, len(names))
	for _, n := range names {
		var i int
		if _, err := fmt.Sscanf(n, "beacon-%d", &i); err == nil {
			out = append(out, i)
		}
	}
	return out
}
