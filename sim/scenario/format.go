package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/shardlab/shardlab/sim/netsim"
)

// ErrInvalid is wrapped by every error about a scenario file.
var ErrInvalid = errors.New("invalid scenario")

// Scenario is a parsed, validated scenario file.
type Scenario struct {
	Name        string
	Description string
	Network     Network
	Timeline    []Step
	Expect      []Expectation
	// File is the name errors and reports use.
	File string
}

// Network is the simulated network.
type Network struct {
	Nodes      int    `json:"nodes"`
	Validators uint64 `json:"validators"`
	// Preset is "minimal" (the only one the simulator runs fast enough).
	Preset string `json:"preset"`
	// SlotTime is the slot duration, e.g. "2s".
	SlotTime string `json:"slot_time"`
	// Latency is a netsim latency ("50ms", "50ms±20ms", "50ms~20ms").
	Latency    string  `json:"latency"`
	Loss       float64 `json:"loss"`
	MeshDegree int     `json:"mesh_degree"`
	Seed       uint64  `json:"seed"`
	// Slasher runs a slasher on every node (default true).
	Slasher bool `json:"slasher"`
	// Epochs is how long the run lasts.
	Epochs uint64 `json:"epochs"`
	// Config overrides chain-config keys of the minimal preset (registry.go).
	Config map[string]string `json:"config,omitempty"`
	// ShardNetwork is the shard side (shard.go).
	ShardNetwork
}

// When is a point in time: slot or epoch, or an offset after a named step.
type When struct {
	Slot, Epoch *uint64
	After       string
	// Time is a simulated time since genesis (rounded up to a slot start).
	Time *time.Duration
	// Event, when set, fires after an observed event (registry.go): the
	// step's slot is known only while running.
	Event *Trigger
}

// Step is one timeline entry: a trigger and exactly one action.
type Step struct {
	Name   string
	At     When
	Action Action
	// Slot is the resolved slot at whose start the step fires.
	Slot uint64
	line int
}

// Action is what a step does; Kind names it.
type Action struct {
	Kind string // partition, heal, isolate, latency, loss, crash, restart, offline, online, equivocate, double_vote, surround_vote
	// Groups for partition; Nodes for isolate, crash, restart, offline, online.
	Groups [][]int
	Nodes  []int
	// Latency and Loss for latency and loss.
	Latency string
	Loss    float64
	// Validators ("a..b", end exclusive) or Fraction for offline/online.
	Validators string
	Fraction   float64
	// Indices are the byzantine validators of double_vote and surround_vote.
	Indices []uint64
	// Link is the degradation of degrade (from a faults entry; restore
	// lifts it).
	Link netsim.LinkFault
	// Count is the number of validators of deposit.
	Count uint64
	// Rate and CrossShard are workload's changes (nil: unchanged).
	Rate, CrossShard *float64
	// Shard holds a shard-layer action's arguments (shard.go).
	Shard *ShardAction
	// InvalidShard is the shard of invalid_state_root (testnet engine).
	InvalidShard uint64
	// Net holds the arguments of clock_skew, delay and reorder (netactions.go).
	Net NetAction
}

// Expectation is one check.
type Expectation struct {
	Name  string
	Check string // finalized, justified, head_agreement, slashed, participation
	// Value is the bound of a value check; for head_agreement the number of
	// distinct heads expected (default 1).
	Op    string // >=, <=, =, advancing, not_advancing (finalized/justified)
	Value float64
	// Validators is the exact slashed set for slashed.
	Validators []uint64
	// Nodes restricts the check (empty: every node).
	Nodes []int
	// At is when the check is made; Within, when set, is a window
	// [At, Within]: a value check passes if it holds at some slot in it,
	// advancing and not_advancing compare its ends.
	At, Within When
	// From and To are the resolved slots (equal without a window).
	From, To uint64
	// Shard, Reason and Account narrow shard-layer checks
	// (shard_expect.go).
	Shard, Account uint64
	Reason         string
	// Metric is the Prometheus metric of a metric check (a name, or a name
	// with label matchers) and Role the nodes it is read from: "beacon"
	// (default) or "shard" (testnet engine: the shard nodes).
	Metric, Role string
	// Peer is the scored node of scored_out: an index, "honest" or ""
	// (any; scoring.go).
	Peer string
	line int
}

// The accepted keys, for errors that say what was expected.
var (
	topKeys     = []string{"name", "description", "network", "timeline", "faults", "expect"}
	networkKeys = append([]string{"nodes", "validators", "preset", "slot_time", "latency", "loss", "mesh_degree", "seed", "slasher", "epochs", "config"}, shardNetworkKeys...)
	whenKeys    = []string{"slot", "epoch", "after", "time"}
	actionKeys  = append(append([]string{"partition", "heal", "isolate", "latency", "loss", "crash", "restart", "offline", "online", "equivocate", "double_vote", "surround_vote", "invalid_state_root"}, registryActions...), append(shardActionKeys, netActionKeys...)...)
	stepKeys    = append([]string{"name", "at"}, actionKeys...)
	selectKeys  = []string{"nodes", "validators", "fraction"}
	expectKeys  = []string{"name", "check", "op", "value", "validators", "nodes", "at", "within", "shard", "reason", "account", "metric", "role", "node"}
	checks      = append(append([]string{"finalized", "justified", "head_agreement", "slashed", "participation", "metric", "synced"}, registryChecks...), append(shardChecks, scoreChecks...)...)
	ops         = []string{">=", "<=", "=", "advancing", "not_advancing"}
)

// parser reads one file, keeping positions for errors.
type parser struct {
	file    string
	errs    []error
	dynamic map[string]bool // names of event-triggered steps (registry.go)
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s:%d:%d: %w: %s", p.file, n.Line, n.Column, ErrInvalid, fmt.Sprintf(format, args...)))
}

// Parse reads and validates a scenario; errors carry file:line:column and
// what was expected. sets ("network.seed=3") override fields before checks.
func Parse(file string, data []byte, sets ...string) (*Scenario, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", file, ErrInvalid, err)
	}
	p := &parser{file: file}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		p.errf(&doc, "expected a mapping with keys %s", strings.Join(topKeys, ", "))
		return nil, errors.Join(p.errs...)
	}
	root := doc.Content[0]
	for _, s := range sets {
		if err := set(root, s); err != nil {
			return nil, err
		}
	}
	sc := &Scenario{File: file, Network: Network{Nodes: 4, Validators: 64, Preset: "minimal", SlotTime: "2s", Latency: "50ms±20ms", Seed: 1, Slasher: true, Epochs: 8}}
	var faults *yaml.Node
	p.mapping(root, topKeys, func(k string, v *yaml.Node) {
		switch k {
		case "name":
			sc.Name = p.str(v)
		case "description":
			sc.Description = p.str(v)
		case "network":
			p.network(v, &sc.Network)
		case "timeline":
			for _, item := range p.seq(v) {
				sc.Timeline = append(sc.Timeline, p.step(item))
			}
		case "faults":
			faults = v
		case "expect":
			for _, item := range p.seq(v) {
				sc.Expect = append(sc.Expect, p.expectation(item))
			}
		}
	})
	if sc.Name == "" {
		p.errf(root, "expected key name")
	}
	if faults != nil && len(p.errs) == 0 {
		// Fault steps go first: timeline steps at the same slot follow.
		sc.Timeline = append(p.faultSteps(faults, sc.Network), sc.Timeline...)
	}
	if len(p.errs) == 0 {
		p.resolve(root, sc)
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return sc, nil
}

// set applies one --set override "a.b=value" to the document.
func set(root *yaml.Node, s string) error {
	path, value, ok := strings.Cut(s, "=")
	if !ok || path == "" {
		return fmt.Errorf("set %q: %w: expected key=value", s, ErrInvalid)
	}
	n := root
	keys := strings.Split(path, ".")
	for i, k := range keys {
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("set %q: %w: %s is not a mapping", s, ErrInvalid, strings.Join(keys[:i], "."))
		}
		var next *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == k {
				next = n.Content[j+1]
			}
		}
		if next == nil {
			next = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, next)
		}
		n = next
	}
	var v yaml.Node
	if err := yaml.Unmarshal([]byte(value), &v); err != nil || len(v.Content) != 1 {
		return fmt.Errorf("set %q: %w: value is not YAML", s, ErrInvalid)
	}
	line, col := n.Line, n.Column
	*n = *v.Content[0]
	n.Line, n.Column = line, col
	return nil
}

// mapping walks a mapping, rejecting unknown and repeated keys.
func (p *parser) mapping(n *yaml.Node, keys []string, f func(k string, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.errf(n, "expected a mapping with keys %s", strings.Join(keys, ", "))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !slices.Contains(keys, k.Value):
			p.errf(k, "unknown key %q, expected one of %s", k.Value, strings.Join(keys, ", "))
		case seen[k.Value]:
			p.errf(k, "key %q repeated", k.Value)
		default:
			seen[k.Value] = true
			f(k.Value, v)
		}
	}
}

func (p *parser) seq(n *yaml.Node) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "expected a list")
		return nil
	}
	return n.Content
}

func (p *parser) scalar(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		p.errf(n, "expected %s", what)
		return "", false
	}
	return n.Value, true
}

func (p *parser) str(n *yaml.Node) string {
	s, _ := p.scalar(n, "a string")
	return s
}

// scalarAs reads a scalar with parse, reporting what was expected.
func scalarAs[T any](p *parser, n *yaml.Node, what string, parse func(string) (T, error)) T {
	var zero T
	s, ok := p.scalar(n, what)
	if !ok {
		return zero
	}
	v, err := parse(s)
	if err != nil {
		p.errf(n, "expected %s, got %q", what, s)
		return zero
	}
	return v
}

func (p *parser) uint(n *yaml.Node) uint64 {
	return scalarAs(p, n, "a non-negative integer", func(s string) (uint64, error) { return strconv.ParseUint(s, 10, 64) })
}

func (p *parser) float(n *yaml.Node) float64 {
	return scalarAs(p, n, "a number", func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
}

func (p *parser) boolean(n *yaml.Node) bool {
	return scalarAs(p, n, "true or false", strconv.ParseBool)
}

// ints reads one integer or a list of them.
func (p *parser) ints(n *yaml.Node) []int {
	if n.Kind == yaml.ScalarNode {
		return []int{int(p.uint(n))}
	}
	var out []int
	for _, item := range p.seq(n) {
		out = append(out, int(p.uint(item)))
	}
	return out
}

func (p *parser) network(n *yaml.Node, nw *Network) {
	p.mapping(n, networkKeys, func(k string, v *yaml.Node) {
		switch k {
		case "nodes":
			nw.Nodes = int(p.uint(v))
		case "validators":
			nw.Validators = p.uint(v)
		case "preset":
			if nw.Preset = p.str(v); nw.Preset != "minimal" {
				p.errf(v, "expected preset minimal, got %q", nw.Preset)
			}
		case "slot_time":
			nw.SlotTime = p.str(v)
		case "latency":
			nw.Latency = p.str(v)
		case "loss":
			nw.Loss = p.float(v)
		case "mesh_degree":
			nw.MeshDegree = int(p.uint(v))
		case "seed":
			nw.Seed = p.uint(v)
		case "slasher":
			nw.Slasher = p.boolean(v)
		case "epochs":
			nw.Epochs = p.uint(v)
		case "config":
			p.chainConfig(v, nw)
		default:
			p.shardNetwork(k, v, nw)
		}
	})
}

func (p *parser) when(n *yaml.Node) When {
	var w When
	p.mapping(n, whenKeys, func(k string, v *yaml.Node) {
		switch k {
		case "slot":
			x := p.uint(v)
			w.Slot = &x
		case "epoch":
			x := p.uint(v)
			w.Epoch = &x
		case "after":
			if v.Kind == yaml.MappingNode {
				p.event(v, &w)
			} else {
				w.After = p.str(v)
			}
		case "time":
			d := scalarAs(p, v, "a duration such as 30s", time.ParseDuration)
			w.Time = &d
		}
	})
	if (w.Slot != nil && w.Epoch != nil) || (w.Time != nil && (w.Slot != nil || w.Epoch != nil || w.After != "" || w.Event != nil)) {
		p.errf(n, "expected one of slot, epoch or time (time without after)")
	}
	if n.Kind == yaml.MappingNode && w.Slot == nil && w.Epoch == nil && w.After == "" && w.Time == nil && w.Event == nil {
		p.errf(n, "expected slot, epoch, time or after")
	}
	return w
}

func (p *parser) step(n *yaml.Node) Step {
	st := Step{line: n.Line}
	hasAt := false
	p.mapping(n, stepKeys, func(k string, v *yaml.Node) {
		if slices.Contains(actionKeys, k) {
			if st.Action.Kind != "" {
				p.errf(v, "expected one action per step, got %s and %s", st.Action.Kind, k)
			}
			st.Action.Kind = k
		}
		a := &st.Action
		switch k {
		case "name":
			st.Name = p.str(v)
		case "at":
			st.At, hasAt = p.when(v), true
		case "partition":
			for _, g := range p.seq(v) {
				a.Groups = append(a.Groups, p.ints(g))
			}
			if len(a.Groups) < 2 {
				p.errf(v, "expected at least two groups of nodes")
			}
		case "heal", "equivocate":
			if !p.boolean(v) {
				p.errf(v, "expected %s: true", k)
			}
		case "double_vote", "surround_vote":
			for _, x := range p.ints(v) {
				a.Indices = append(a.Indices, uint64(x))
			}
		case "isolate", "crash", "restart":
			a.Nodes = p.ints(v)
		case "latency":
			a.Latency = p.str(v)
		case "loss":
			a.Loss = p.float(v)
		case "invalid_state_root":
			a.InvalidShard = p.uint(v)
		case "late_join", "clock_skew", "delay", "reorder":
			p.netAction(k, v, a)
		case "offline", "online":
			p.selection(v, a, true)
		default:
			if slices.Contains(registryActions, k) {
				p.registryAction(k, v, a)
			} else {
				p.shardAction(k, v, a)
			}
		}
	})
	if !hasAt {
		p.errf(n, "expected key at")
	}
	if st.Action.Kind == "" {
		p.errf(n, "expected one action: %s", strings.Join(actionKeys, ", "))
	}
	return st
}

func (p *parser) expectation(n *yaml.Node) Expectation {
	e := Expectation{line: n.Line}
	hasAt, hasValue := false, false
	p.mapping(n, expectKeys, func(k string, v *yaml.Node) {
		switch k {
		case "name":
			e.Name = p.str(v)
		case "check":
			if e.Check = p.str(v); !slices.Contains(checks, e.Check) {
				p.errf(v, "unknown check %q, expected one of %s", e.Check, strings.Join(checks, ", "))
			}
		case "op":
			if e.Op = p.str(v); !slices.Contains(ops, e.Op) {
				p.errf(v, "unknown op %q, expected one of %s", e.Op, strings.Join(ops, ", "))
			}
		case "value":
			e.Value, hasValue = p.float(v), true
		case "validators":
			for _, item := range p.seq(v) {
				e.Validators = append(e.Validators, p.uint(item))
			}
		case "nodes":
			e.Nodes = p.ints(v)
		case "at":
			e.At, hasAt = p.when(v), true
		case "within":
			e.Within = p.when(v)
		case "metric", "role":
			p.metricKey(k, v, &e)
		case "node":
			p.scoredNode(v, &e)
		default:
			p.shardExpectKey(k, v, &e)
		}
	})
	p.checkMetric(n, &e)
	p.checkScored(n, &e, hasValue)
	switch {
	case e.Check == "":
		p.errf(n, "expected key check: %s", strings.Join(checks, ", "))
	case !hasAt:
		p.errf(n, "expected key at")
	case (e.Check == "finalized" || e.Check == "justified" || e.Check == "participation" || e.Check == "metric") && e.Op == "":
		p.errf(n, "expected key op: %s", strings.Join(ops, ", "))
	case e.Check == "synced" && len(e.Nodes) == 0:
		p.errf(n, "expected nodes: the nodes that must reach the others' head")
	case (e.Op == "advancing" || e.Op == "not_advancing") && (e.Check != "finalized" && e.Check != "justified" && !slices.Contains(countChecks, e.Check) || !e.Within.set()):
		p.errf(n, "expected %s only on finalized, justified, %s, with a within window", e.Op, strings.Join(countChecks, ", "))
	default:
		p.checkExpectation(n, &e, hasValue)
	}
	if (e.Check == "head_agreement" || slices.Contains(boolChecks, e.Check)) && !hasValue {
		e.Value = 1
	}
	if e.Name == "" {
		e.Name = e.Check
	}
	return e
}

func (w When) set() bool {
	return w.Slot != nil || w.Epoch != nil || w.After != "" || w.Time != nil || w.Event != nil
}
