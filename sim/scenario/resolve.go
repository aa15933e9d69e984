package scenario

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/sim/netsim"
)

// slotsPerEpoch is the minimal preset's epoch length, the only preset.
var slotsPerEpoch = params.Minimal().SlotsPerEpoch

// resolve checks the network, turns every trigger into a slot and checks
// node indexes.
func (p *parser) resolve(root *yaml.Node, sc *Scenario) {
	nw := sc.Network
	if _, err := nw.config(); err != nil {
		p.errf(find(root, "network"), "%v", err)
		return
	}
	end := nw.Epochs * slotsPerEpoch
	named := map[string]uint64{}
	p.resolveTimes(sc)
	for i := range sc.Timeline {
		st := &sc.Timeline[i]
		pos := &yaml.Node{Line: st.line, Column: 3}
		if p.dynamicStep(i, st, nw) {
			continue
		}
		slot, err := resolveWhen(st.At, named)
		if err != nil {
			p.errf(pos, "step %d: %v", i+1, err)
			continue
		}
		if slot > end {
			p.errf(pos, "step %d fires at slot %d, expected at most the run's end, slot %d", i+1, slot, end)
		}
		st.Slot = slot
		if st.Name != "" {
			if _, dup := named[st.Name]; dup {
				p.errf(pos, "step name %q repeated", st.Name)
			}
			named[st.Name] = slot
		}
		nodes := st.Action.Nodes
		for _, g := range st.Action.Groups {
			nodes = append(nodes, g...)
		}
		nodes = append(nodes, netNodes(st.Action)...)
		for _, n := range nodes {
			if n >= nw.Nodes {
				p.errf(pos, "step %d names node %d, expected 0..%d", i+1, n, nw.Nodes-1)
			}
		}
		for _, v := range st.Action.Indices {
			if v >= nw.Validators {
				p.errf(pos, "step %d names validator %d, expected 0..%d", i+1, v, nw.Validators-1)
			}
		}
		if err := checkAction(st.Action); err != nil {
			p.errf(pos, "step %d: %v", i+1, err)
		}
		if err := checkRegistry(st.Action, nw); err != nil {
			p.errf(pos, "step %d: %v", i+1, err)
		}
		if err := checkShardAction(st.Action, nw); err != nil {
			p.errf(pos, "step %d: %v", i+1, err)
		}
	}
	for i := range sc.Expect {
		e := &sc.Expect[i]
		pos := &yaml.Node{Line: e.line, Column: 3}
		if p.dynamicRef(e) {
			continue
		}
		var err error
		if e.From, err = resolveWhen(e.At, named); err != nil {
			p.errf(pos, "expectation %q: %v", e.Name, err)
			continue
		}
		e.To = e.From
		if e.Within.set() {
			if e.To, err = resolveWhen(e.Within, named); err != nil {
				p.errf(pos, "expectation %q: %v", e.Name, err)
				continue
			}
		}
		if e.To < e.From || e.To > end {
			p.errf(pos, "expectation %q checks slots %d..%d, expected a window inside 0..%d", e.Name, e.From, e.To, end)
		}
		for _, n := range e.Nodes {
			if n >= nw.Nodes {
				p.errf(pos, "expectation %q names node %d, expected 0..%d", e.Name, n, nw.Nodes-1)
			}
		}
		if err := checkScoredNode(*e, nw); err != nil {
			p.errf(pos, "expectation %q: %v", e.Name, err)
		}
		if err := checkShardExpectation(*e, nw); err != nil {
			p.errf(pos, "expectation %q: %v", e.Name, err)
		}
	}
}

// find is the value of key in a mapping (the mapping itself if absent).
func find(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return m
}

// resolveWhen is the slot of w: absolute, or an offset after a step named
// earlier in the timeline.
func resolveWhen(w When, named map[string]uint64) (uint64, error) {
	var base uint64
	if w.After != "" {
		b, ok := named[w.After]
		if !ok {
			return 0, fmt.Errorf("after %q: expected the name of an earlier step", w.After)
		}
		base = b
	}
	switch {
	case w.Slot != nil:
		return base + *w.Slot, nil
	case w.Epoch != nil:
		return base + *w.Epoch*slotsPerEpoch, nil
	}
	return base, nil
}

// checkAction checks an action's arguments.
func checkAction(a Action) error {
	switch a.Kind {
	case "latency":
		if _, err := netsim.ParseLatency(a.Latency); err != nil {
			return err
		}
	case "loss":
		if a.Loss < 0 || a.Loss >= 1 {
			return fmt.Errorf("loss %v, expected [0, 1)", a.Loss)
		}
	case "clock_skew", "delay", "reorder":
		return checkNetAction(a)
	case "double_vote", "surround_vote":
		if len(a.Indices) == 0 {
			return fmt.Errorf("%s names no validator", a.Kind)
		}
	case "offline", "online":
		if a.Validators != "" {
			if _, _, err := parseRange(a.Validators); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseRange reads "a..b" (b exclusive).
func parseRange(s string) (lo, hi uint64, err error) {
	a, b, ok := strings.Cut(s, "..")
	if ok {
		lo, err = strconv.ParseUint(a, 10, 64)
		if err == nil {
			hi, err = strconv.ParseUint(b, 10, 64)
		}
	}
	if !ok || err != nil || hi <= lo {
		return 0, 0, fmt.Errorf("validators %q, expected a range a..b with a < b (b exclusive)", s)
	}
	return lo, hi, nil
}

// config is the simulator config of the network.
func (nw Network) config() (netsim.Config, error) {
	c := netsim.DefaultConfig()
	c.Nodes, c.Validators, c.Epochs, c.Seed, c.Loss, c.MeshDegree = nw.Nodes, nw.Validators, nw.Epochs, nw.Seed, nw.Loss, nw.MeshDegree
	c.Slasher = nw.Slasher
	chain, err := nw.chainParams()
	if err != nil {
		return c, err
	}
	c.Chain = chain
	d, err := time.ParseDuration(nw.SlotTime)
	if err != nil {
		return c, fmt.Errorf("slot_time %q, expected a duration such as 2s", nw.SlotTime)
	}
	c.SlotTime = d
	if err := nw.shardConfig(&c); err != nil {
		return c, err
	}
	if c.Latency, err = netsim.ParseLatency(nw.Latency); err != nil {
		return c, err
	}
	if c.Validators < 64 {
		return c, fmt.Errorf("%d validators, expected at least 64 (the minimal preset's genesis count)", c.Validators)
	}
	return c, c.Validate()
}

// offlineNodes maps an offline/online selection to whole nodes: the listed
// nodes; the nodes whose validators lie inside the range (it must cover
// whole nodes); or, for a fraction, the fewest nodes from the last one
// down hosting at least that share of the validators.
func offlineNodes(s validatorHosts, a Action) ([]int, error) {
	if len(a.Nodes) > 0 {
		return a.Nodes, nil
	}
	n := s.NodeCount() - s.ShardNodeCount() // validators are on beacon nodes
	if a.Validators != "" {
		lo, hi, err := parseRange(a.Validators)
		if err != nil {
			return nil, err
		}
		var out []int
		covered := uint64(0)
		for i := range n {
			first, count, _ := s.ValidatorRange(i)
			if first >= lo && first+count <= hi {
				out = append(out, i)
				covered += count
			}
		}
		if covered != hi-lo {
			return nil, fmt.Errorf("validators %s do not cover whole nodes (the simulator takes whole nodes' validators offline)", a.Validators)
		}
		return out, nil
	}
	_, total, _ := s.ValidatorRange(0)
	for i := 1; i < n; i++ {
		_, c, _ := s.ValidatorRange(i)
		total += c
	}
	var out []int
	var off uint64
	for i := n - 1; i >= 0 && float64(off) < a.Fraction*float64(total); i-- {
		_, c, _ := s.ValidatorRange(i)
		out, off = append(out, i), off+c
	}
	slices.Sort(out)
	return out, nil
}
