package scenario

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Peer scoring in scenarios: the simulator's nodes disconnect peers whose
// gossip score falls below the graylist threshold (sim/netsim score.go);
// the run records each scoring-out in the report and on its timeline, and
// the scored_out check counts them.

// checkScoredOut is the check of scoring-outs.
const checkScoredOut = "scored_out"

// scoreChecks are the checks of this file.
var scoreChecks = []string{checkScoredOut}

// honestPeers is the value of a scored_out check's node key that selects
// every node that is not a byzantine sender (honestNodes).
const honestPeers = "honest"

// EventScoredOut is the timeline event kind of a scoring-out.
const EventScoredOut = "scored out"

// ScoringOut is one scoring-out of a run: node Node disconnected its peer
// Peer (simulator node indices) for its gossip score Score in slot Slot.
type ScoringOut struct {
	Slot  uint64  `json:"slot"`
	Node  int     `json:"node"`
	Peer  int     `json:"peer"`
	Score float64 `json:"score"`
}

// scoredNode reads the node key of a scored_out check: a node index or
// honest.
func (p *parser) scoredNode(v *yaml.Node, e *Expectation) {
	s, ok := p.scalar(v, "a node index or honest")
	if !ok {
		return
	}
	if _, err := strconv.ParseUint(s, 10, 31); err != nil && s != honestPeers {
		p.errf(v, "expected a node index or %s, got %q", honestPeers, s)
		return
	}
	e.Peer = s
}

// checkScored checks the keys of a scored_out check: an op of >=, <= or =
// with a value; and node only on it.
func (p *parser) checkScored(n *yaml.Node, e *Expectation, hasValue bool) {
	switch {
	case e.Check != checkScoredOut && e.Peer != "":
		p.errf(n, "expected node only with check: %s (the scored node)", checkScoredOut)
	case e.Check == checkScoredOut && ((e.Op != ">=" && e.Op != "<=" && e.Op != "=") || !hasValue):
		p.errf(n, "expected op (>=, <= or =) and value for %s", checkScoredOut)
	}
}

// checkScoredNode checks that a scored_out check's node exists in nw.
func checkScoredNode(e Expectation, nw Network) error {
	if e.Peer == "" || e.Peer == honestPeers {
		return nil
	}
	if i, _ := strconv.Atoi(e.Peer); i >= nw.Nodes+nw.ShardNodes {
		return fmt.Errorf("node %d, expected 0..%d (beacon nodes, then shard nodes)", i, nw.Nodes+nw.ShardNodes-1)
	}
	return nil
}

// sampleScores adds the scoring-outs since the last sample to the report
// and prints them; the timeline gets one event per slot and scored peer,
// naming the scorers.
func (r *run) sampleScores() {
	evs := r.sim.ScoredOut()
	var marks []ScoringOut // (slot, peer) in order of first appearance
	by := map[ScoringOut][]int{}
	for _, ev := range evs[len(r.rep.ScoredOut):] {
		so := ScoringOut{Slot: uint64(ev.Slot), Node: ev.Node, Peer: ev.Peer, Score: ev.Score}
		r.rep.ScoredOut = append(r.rep.ScoredOut, so)
		fmt.Fprintf(r.out, "slot %4d  %s\n", so.Slot, ev)
		k := ScoringOut{Slot: so.Slot, Peer: so.Peer}
		if _, ok := by[k]; !ok {
			marks = append(marks, k)
		}
		by[k] = append(by[k], so.Node)
	}
	for _, k := range marks {
		nodes := by[k]
		slices.Sort(nodes)
		r.rep.Events = append(r.rep.Events, Event{Slot: k.Slot, Kind: EventScoredOut,
			Label: fmt.Sprintf("node %d by %s", k.Peer, strings.Trim(fmt.Sprint(nodes), "[]"))})
	}
}

// byzantineSenders are the nodes a garbage_peer or claim_attack step
// names as the sender; every other node is honest.
func byzantineSenders(sc *Scenario) []int {
	var out []int
	for _, st := range sc.Timeline {
		if a := st.Action; a.Shard != nil && (a.Kind == "garbage_peer" || a.Kind == "claim_attack") {
			out = append(out, a.Shard.Node)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// evaluateScored checks a scored_out expectation: the number of distinct
// (node, peer) scoring-outs before the start of a slot of the window, of
// the chosen peer (node: n, counting the nodes that scored it out), of
// honest peers (node: honest) or of any (no node), by the chosen nodes
// (nodes; default all). It passes if op value holds at some slot of the
// window; the count never decreases.
func evaluateScored(e Expectation, sc *Scenario, rep *Report) Outcome {
	o := Outcome{Name: e.Name, Check: e.Check, From: e.From, To: e.To}
	byz := byzantineSenders(sc)
	match := func(s ScoringOut) bool {
		switch e.Peer {
		case "":
			return true
		case honestPeers:
			return !slices.Contains(byz, s.Peer)
		}
		return strconv.Itoa(s.Peer) == e.Peer
	}
	what := "scoring-outs"
	switch e.Peer {
	case "":
	case honestPeers:
		what = fmt.Sprintf("scoring-outs of honest nodes (all but %v)", orEmptyInts(byz))
	default:
		what = "nodes that scored out node " + e.Peer
	}
	if len(e.Nodes) > 0 {
		what += fmt.Sprintf(" among nodes %v", e.Nodes)
	}
	o.Expected = fmt.Sprintf("%s %s %g at slot %d", what, e.Op, e.Value, e.From)
	if e.To > e.From {
		o.Expected = fmt.Sprintf("%s %s %g within slots %d..%d", what, e.Op, e.Value, e.From, e.To)
	}
	for t := e.From; t <= e.To; t++ {
		var seen []ScoringOut
		for _, s := range rep.ScoredOut {
			k := ScoringOut{Node: s.Node, Peer: s.Peer}
			if s.Slot < t && match(s) && (len(e.Nodes) == 0 || slices.Contains(e.Nodes, s.Node)) && !slices.Contains(seen, k) {
				seen = append(seen, k)
			}
		}
		o.Observed = describeScored(seen, e.Peer)
		if o.Pass = compare(float64(len(seen)), e.Op, e.Value); o.Pass {
			if e.To > e.From {
				o.Observed += fmt.Sprintf(" (by slot %d)", t)
			}
			break
		}
	}
	return o
}

// describeScored formats the scoring-outs counted: the scorers of one
// peer, or every node-peer pair.
func describeScored(seen []ScoringOut, peer string) string {
	if len(seen) == 0 {
		return "0"
	}
	seen = slices.Clone(seen)
	slices.SortFunc(seen, func(a, b ScoringOut) int {
		if a.Peer != b.Peer {
			return a.Peer - b.Peer
		}
		return a.Node - b.Node
	})
	var parts []string
	for _, s := range seen {
		if peer != "" && peer != honestPeers {
			parts = append(parts, strconv.Itoa(s.Node))
		} else {
			parts = append(parts, fmt.Sprintf("%d by %d", s.Peer, s.Node))
		}
	}
	if peer != "" && peer != honestPeers {
		return fmt.Sprintf("%d: nodes %s", len(seen), strings.Join(parts, ", "))
	}
	return fmt.Sprintf("%d: %s", len(seen), strings.Join(parts, "; "))
}

func orEmptyInts(v []int) []int {
	if v == nil {
		return []int{}
	}
	return v
}
