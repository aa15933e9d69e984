package scenario

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/shardlab/shardlab/sim/netsim"
)

// The network actions of the sim engine (issue 9): late_join, clock_skew,
// delay and reorder of chosen message kinds between chosen nodes, and the
// synced expectation.

// netActionKeys are the step keys of this file's actions.
var netActionKeys = []string{"late_join", "clock_skew", "delay", "reorder"}

// The keys of the actions' mappings.
var (
	skewKeys    = []string{"nodes", "offset"}
	delayKeys   = []string{"kinds", "from", "to", "by", "loss", "slots"}
	reorderKeys = []string{"kinds", "from", "to", "window", "slots"}
)

// NetAction holds the arguments of clock_skew, delay and reorder
// (late_join uses Action.Nodes).
type NetAction struct {
	// Offset is clock_skew's clock offset ("1500ms", "-800ms"; "0s"
	// resets): positive is ahead.
	Offset string
	// Kinds are the message kinds delayed or reordered (netsim.MessageKinds;
	// empty: all); From and To the sending and receiving nodes (empty:
	// any).
	Kinds    []string
	From, To []int
	// By is delay's extra latency (a latency string); Loss its extra loss.
	By   string
	Loss float64
	// Window is reorder's spread: each affected message gets an extra
	// delay uniform in [0, Window] and may overtake the others.
	Window string
	// Slots is how long the rule lasts (0: to the end of the run).
	Slots uint64
}

// netAction parses the value of a network action key k into a.
func (p *parser) netAction(k string, v *yaml.Node, a *Action) {
	switch k {
	case "late_join":
		a.Nodes = p.ints(v)
	case "clock_skew":
		p.mapping(v, skewKeys, func(k string, v *yaml.Node) {
			switch k {
			case "nodes":
				a.Nodes = p.ints(v)
			case "offset":
				a.Net.Offset = p.str(v)
			}
		})
		if len(a.Nodes) == 0 || a.Net.Offset == "" {
			p.errf(v, "expected nodes and offset")
		}
	case "delay", "reorder":
		keys := delayKeys
		if k == "reorder" {
			keys = reorderKeys
		}
		p.mapping(v, keys, func(k string, v *yaml.Node) {
			switch k {
			case "kinds":
				for _, item := range p.seq(v) {
					kind := p.str(item)
					if !slices.Contains(netsim.MessageKinds, kind) {
						p.errf(item, "unknown message kind %q, expected one of %s", kind, strings.Join(netsim.MessageKinds, ", "))
					}
					a.Net.Kinds = append(a.Net.Kinds, kind)
				}
			case "from":
				a.Net.From = p.ints(v)
			case "to":
				a.Net.To = p.ints(v)
			case "by":
				a.Net.By = p.str(v)
			case "loss":
				a.Net.Loss = p.float(v)
			case "window":
				a.Net.Window = p.str(v)
			case "slots":
				a.Net.Slots = p.uint(v)
			}
		})
		if k == "delay" && a.Net.By == "" && a.Net.Loss == 0 {
			p.errf(v, "expected by or loss")
		}
		if k == "reorder" && a.Net.Window == "" {
			p.errf(v, "expected window")
		}
	}
}

// netNodes are the nodes a network action names (for the index checks).
func netNodes(a Action) []int { return slices.Concat(a.Net.From, a.Net.To) }

// checkNetAction checks a network action's arguments.
func checkNetAction(a Action) error {
	switch a.Kind {
	case "clock_skew":
		if _, err := time.ParseDuration(a.Net.Offset); err != nil {
			return fmt.Errorf("clock_skew offset %q, expected a duration such as 1500ms or -800ms", a.Net.Offset)
		}
	case "delay", "reorder":
		_, err := a.Net.rule()
		return err
	}
	return nil
}

// rule is the netsim message rule of a delay or reorder action.
func (n NetAction) rule() (netsim.MessageRule, error) {
	r := netsim.MessageRule{Kinds: n.Kinds, From: n.From, To: n.To, Loss: n.Loss}
	if n.Loss < 0 || n.Loss >= 1 {
		return r, fmt.Errorf("delay loss %v, expected [0, 1)", n.Loss)
	}
	if n.By != "" {
		l, err := netsim.ParseLatency(n.By)
		if err != nil {
			return r, err
		}
		r.Delay = l
	}
	if n.Window != "" {
		w, err := time.ParseDuration(n.Window)
		if err != nil || w <= 0 {
			return r, fmt.Errorf("reorder window %q, expected a positive duration such as 500ms", n.Window)
		}
		r.Delay, r.Reorder = netsim.Latency{Mean: w / 2, Jitter: w / 2, Dist: netsim.Uniform}, true
	}
	return r, nil
}

// holdLateJoiners keeps every node a late_join step names out of the run
// from genesis until its step.
func holdLateJoiners(s *netsim.Sim, sc *Scenario) error {
	held := map[int]bool{}
	for _, st := range sc.Timeline {
		if st.Action.Kind != "late_join" {
			continue
		}
		for _, n := range st.Action.Nodes {
			if held[n] {
				return fmt.Errorf("run scenario %s: node %d joins late twice", sc.Name, n)
			}
			held[n] = true
			if err := s.Hold(n); err != nil {
				return fmt.Errorf("run scenario %s: %w", sc.Name, err)
			}
		}
	}
	return nil
}

// fireNet applies a network action at slot and returns its detail.
func (r *run) fireNet(a Action, slot uint64) (string, error) {
	s := r.sim
	switch a.Kind {
	case "late_join":
		for _, n := range a.Nodes {
			if err := s.Join(n); err != nil {
				return "", err
			}
			r.closeWindow(fmt.Sprintf("late %d", n), slot)
		}
		return fmt.Sprint(a.Nodes), nil
	case "clock_skew":
		off, err := time.ParseDuration(a.Net.Offset)
		if err != nil {
			return "", err
		}
		for _, n := range a.Nodes {
			if err := s.SetClockSkew(n, off); err != nil {
				return "", err
			}
			key := fmt.Sprintf("skew %d", n)
			r.closeWindow(key, slot)
			if off != 0 {
				r.openWindow("latency", key, fmt.Sprintf("node %d clock %+v", n, off), slot)
			}
		}
		return fmt.Sprintf("nodes %v by %s", a.Nodes, off), nil
	case "delay", "reorder":
		rule, err := a.Net.rule()
		if err != nil {
			return "", err
		}
		id, err := s.AddMessageRule(rule)
		if err != nil {
			return "", err
		}
		detail := fmt.Sprintf("%s from %s to %s", kindsText(a.Net.Kinds), nodesText(a.Net.From), nodesText(a.Net.To))
		if a.Kind == "delay" {
			detail += fmt.Sprintf(" by %s, loss %g", rule.Delay, rule.Loss)
		} else {
			detail += " within " + a.Net.Window
		}
		key := fmt.Sprintf("rule %d", id)
		r.openWindow("latency", key, a.Kind+" "+detail, slot)
		if a.Net.Slots > 0 {
			end := slot + a.Net.Slots
			s.At(time.Duration(end)*s.SlotDuration(), func() { _ = s.RemoveMessageRule(id) })
			r.closeWindow(key, end)
		}
		return detail, nil
	}
	return "", fmt.Errorf("unknown network action %q", a.Kind)
}

// openLateWindows shades the slots before each late join.
func (r *run) openLateWindows() {
	for _, st := range r.sc.Timeline {
		if st.Action.Kind == "late_join" {
			for _, n := range st.Action.Nodes {
				r.openWindow("crash", fmt.Sprintf("late %d", n), fmt.Sprintf("node %d not started", n), 0)
			}
		}
	}
}

func kindsText(kinds []string) string {
	if len(kinds) == 0 {
		return "all messages"
	}
	return strings.Join(kinds, ", ")
}

func nodesText(nodes []int) string {
	if len(nodes) == 0 {
		return "any node"
	}
	return fmt.Sprint(nodes)
}

// evaluateSynced checks a synced expectation: it holds at a slot when
// every listed node is up and its head is the head of at least one of
// the other nodes that are up (it reached their chain).
func evaluateSynced(e Expectation, samples []Sample) Outcome {
	o := Outcome{Name: e.Name, Check: e.Check, From: e.From, To: e.To,
		Expected: fmt.Sprintf("nodes %v on the others' head", e.Nodes)}
	if e.To > e.From {
		o.Expected += fmt.Sprintf(" within slots %d..%d", e.From, e.To)
	} else {
		o.Expected += fmt.Sprintf(" at slot %d", e.From)
	}
	for t := e.From; t <= e.To; t++ {
		obs, ok := synced(e.Nodes, samples[t])
		o.Observed, o.Pass = obs, ok
		if ok {
			o.Observed += fmt.Sprintf(" (at slot %d)", t)
			break
		}
	}
	return o
}

// synced reports whether the listed nodes share a head with the others.
func synced(nodes []int, smp Sample) (string, bool) {
	others := map[string]bool{}
	for i, n := range smp.Nodes {
		if n.Up && !slices.Contains(nodes, i) {
			others[n.Head] = true
		}
	}
	if len(others) == 0 {
		return "no other node up", false
	}
	for _, i := range nodes {
		n := smp.Nodes[i]
		if !n.Up || !others[n.Head] {
			return fmt.Sprintf("node %d at head %s slot %d (up %v)", i, n.Head, n.HeadSlot, n.Up), false
		}
	}
	return "on the others' head", true
}
