package scenario

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/sim/netsim"
)

// Registry, validator-level and timing extensions of the scenario format:
// network.config chain-config overrides; the actions deposit, exit,
// withhold, wrong_head and censor (and offline/online of single
// validators); triggers at a simulated time and after an observed event;
// and the checks reorg_depth, balance, active, exited and registry.

// The extension keys (merged into format.go's lists).
var (
	registryActions = []string{"deposit", "exit", "withhold", "wrong_head", "censor", "workload"}
	registryChecks  = []string{"reorg_depth", "balance", "active", "exited", "registry"}
	eventKeys       = []string{"finalized", "justified", "slashing", "step"}
	depositKeys     = []string{"count"}
	censorKeys      = []string{"nodes", "validators"}
	workloadKeys    = []string{"rate", "cross_shard"}
	// fixedConfigKeys are chain-config keys a scenario cannot override:
	// scenario times assume the minimal preset's epoch, slot_time sets the
	// slot, and the shard keys belong to the shard layer's settings.
	fixedConfigKeys = []string{"SLOTS_PER_EPOCH", "SECONDS_PER_SLOT", "MIN_GENESIS_ACTIVE_VALIDATOR_COUNT", "MIN_GENESIS_TIME"}
)

// Trigger is an observed condition a step can wait for (node 0's view).
type Trigger struct {
	// Finalized or Justified: the epoch reached (at least).
	Finalized, Justified *uint64
	// Slashing: any validator slashed.
	Slashing bool
	// Step: a step of that name fired.
	Step string
}

func (ev Trigger) String() string {
	switch {
	case ev.Finalized != nil:
		return fmt.Sprintf("finalized %d", *ev.Finalized)
	case ev.Justified != nil:
		return fmt.Sprintf("justified %d", *ev.Justified)
	case ev.Slashing:
		return "slashing"
	}
	return "step " + ev.Step
}

// configKeys are the chain-config keys (as params' YAML spells them).
func configKeys() []string {
	var out []string
	for _, l := range strings.Split(string(params.Minimal().MarshalYAML()), "\n") {
		if k, _, ok := strings.Cut(l, ":"); ok && !strings.HasPrefix(l, "#") && k != "CONFIG_NAME" {
			out = append(out, k)
		}
	}
	return out
}

// chainConfig reads network.config: KEY: value overrides of the minimal
// preset, each checked on its own so errors point at the key.
func (p *parser) chainConfig(n *yaml.Node, nw *Network) {
	keys := configKeys()
	nw.Config = map[string]string{}
	p.mapping(n, keys, func(k string, v *yaml.Node) {
		val, ok := p.scalar(v, "a number or 0x-hex bytes")
		switch {
		case !ok:
		case slices.Contains(fixedConfigKeys, k):
			p.errf(v, "%s cannot be overridden in a scenario (fixed keys: %s)", k, strings.Join(fixedConfigKeys, ", "))
		default:
			if _, err := params.Parse([]byte(k + ": " + val + "\n")); err != nil {
				p.errf(v, "%s: %v", k, err)
				return
			}
			nw.Config[k] = val
		}
	})
}

// chainParams is the minimal preset with nw.Config applied (nil without
// overrides).
func (nw Network) chainParams() (*params.Config, error) {
	if len(nw.Config) == 0 {
		return nil, nil
	}
	var b strings.Builder
	keys := make([]string, 0, len(nw.Config))
	for k := range nw.Config {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, nw.Config[k])
	}
	c, err := params.Parse([]byte(b.String()))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// registryAction parses the value of one of registryActions into a.
func (p *parser) registryAction(k string, v *yaml.Node, a *Action) {
	switch k {
	case "deposit":
		p.mapping(v, depositKeys, func(_ string, v *yaml.Node) { a.Count = p.uint(v) })
		if a.Count == 0 {
			p.errf(v, "expected count of at least 1")
		}
	case "exit":
		for _, x := range p.ints(v) {
			a.Indices = append(a.Indices, uint64(x))
		}
	case "withhold", "wrong_head":
		p.selection(v, a, false)
	case "workload":
		p.mapping(v, workloadKeys, func(k string, v *yaml.Node) {
			x := p.float(v)
			if k == "rate" {
				a.Rate = &x
			} else {
				a.CrossShard = &x
			}
		})
		if a.Rate == nil && a.CrossShard == nil {
			p.errf(v, "expected rate (transactions a second, 0 stops) or cross_shard (share in [0, 1])")
		}
	case "censor":
		p.mapping(v, censorKeys, func(k string, v *yaml.Node) {
			if k == "nodes" {
				a.Nodes = p.ints(v)
			} else {
				a.Validators = p.str(v)
			}
		})
		if len(a.Nodes) == 0 || a.Validators == "" {
			p.errf(v, "expected nodes (the censoring proposers) and validators (a..b)")
		}
	}
}

// selection reads {nodes, validators, fraction} (nodes only if allowed).
func (p *parser) selection(v *yaml.Node, a *Action, nodes bool) {
	keys := selectKeys
	if !nodes {
		keys = selectKeys[1:]
	}
	p.mapping(v, keys, func(k string, v *yaml.Node) {
		switch k {
		case "nodes":
			a.Nodes = p.ints(v)
		case "validators":
			a.Validators = p.str(v)
		case "fraction":
			if a.Fraction = p.float(v); a.Fraction <= 0 || a.Fraction > 1 {
				p.errf(v, "expected a fraction in (0, 1]")
			}
		}
	})
	if len(a.Nodes) == 0 && a.Validators == "" && a.Fraction == 0 {
		p.errf(v, "expected %s", strings.Join(keys, ", "))
	}
}

// event reads the mapping form of after: exactly one of eventKeys.
func (p *parser) event(n *yaml.Node, w *When) {
	ev := &Trigger{}
	count := 0
	p.mapping(n, eventKeys, func(k string, v *yaml.Node) {
		count++
		switch k {
		case "finalized":
			ev.Finalized = p.uintRef(v)
		case "justified":
			ev.Justified = p.uintRef(v)
		case "slashing":
			if !p.boolean(v) {
				p.errf(v, "expected slashing: true")
			}
			ev.Slashing = true
		case "step":
			ev.Step = p.str(v)
		}
	})
	if count != 1 {
		p.errf(n, "expected one event: %s", strings.Join(eventKeys, ", "))
	}
	if ev.Step != "" {
		w.After = ev.Step // the name of a step; resolve makes it an event if that step is one
		return
	}
	w.Event = ev
}

// uintRef reads a non-negative integer into a new variable.
func (p *parser) uintRef(n *yaml.Node) *uint64 {
	x := p.uint(n)
	return &x
}

// timeSlot is the slot at whose start simulated time t has passed
// (rounded up).
func timeSlot(t time.Duration, slotTime string) (uint64, error) {
	d, err := time.ParseDuration(slotTime)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("time %s: slot_time %q is not a duration", t, slotTime)
	}
	return uint64((t + d - 1) / d), nil
}

// checkRegistry checks a registry action's or check's arguments.
func checkRegistry(a Action, nw Network) error {
	switch a.Kind {
	case "exit":
		if len(a.Indices) == 0 {
			return fmt.Errorf("exit names no validator")
		}
	case "workload":
		if a.Rate != nil && (*a.Rate < 0 || math.IsInf(*a.Rate, 0) || math.IsNaN(*a.Rate)) {
			return fmt.Errorf("workload rate %v, expected a finite rate >= 0", *a.Rate)
		}
		if a.CrossShard != nil && !(*a.CrossShard >= 0 && *a.CrossShard <= 1) {
			return fmt.Errorf("workload cross_shard %v, expected a share in [0, 1]", *a.CrossShard)
		}
	case "withhold", "wrong_head", "censor":
		if a.Validators != "" {
			if _, _, err := parseRange(a.Validators); err != nil {
				return err
			}
		}
		for _, n := range a.Nodes {
			if n >= nw.Nodes {
				return fmt.Errorf("censor names node %d, expected 0..%d", n, nw.Nodes-1)
			}
		}
	}
	return nil
}

// validatorSet resolves a validators range or a fraction (the last
// validators of the genesis registry, rounded up).
func validatorSet(a Action, total uint64) ([]types.ValidatorIndex, error) {
	lo, hi := uint64(0), total
	if a.Validators != "" {
		var err error
		if lo, hi, err = parseRange(a.Validators); err != nil {
			return nil, err
		}
	} else {
		lo = total - min(total, uint64(math.Ceil(a.Fraction*float64(total))))
	}
	out := make([]types.ValidatorIndex, 0, hi-lo)
	for v := lo; v < hi; v++ {
		out = append(out, types.ValidatorIndex(v))
	}
	return out, nil
}

// misbehaviourOf maps an action to its netsim misbehaviour.
var misbehaviourOf = map[string]netsim.Misbehaviour{"offline": netsim.Offline, "online": netsim.Offline, "withhold": netsim.Withhold, "wrong_head": netsim.WrongHead}

// fireRegistry applies a registry or validator-level step and returns its
// detail for the timeline.
func (r *run) fireRegistry(st Step) (string, error) {
	s, a, slot := r.sim, st.Action, st.Slot
	switch a.Kind {
	case "deposit":
		first, err := s.Deposit(a.Count)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("validators %d..%d", first, first+a.Count), nil
	case "exit":
		for _, v := range a.Indices {
			if err := s.Exit(types.ValidatorIndex(v)); err != nil {
				return "", err
			}
		}
		return "validators " + fmt.Sprint(a.Indices), nil
	case "workload":
		rate, cross, _ := s.Workload()
		if a.Rate != nil {
			rate = *a.Rate
		}
		if a.CrossShard != nil {
			cross = *a.CrossShard
		}
		if err := s.SetWorkload(rate, cross); err != nil {
			return "", err
		}
		return fmt.Sprintf("%g tx/s, %g cross-shard", rate, cross), nil
	case "censor":
		vs, err := validatorSet(a, r.sc.Network.Validators)
		if err != nil {
			return "", err
		}
		for _, n := range a.Nodes {
			if err := s.Censor(n, true, vs); err != nil {
				return "", err
			}
		}
		detail := fmt.Sprintf("nodes %v leave out validators %s", a.Nodes, rangeText(vs))
		r.openWindow("byzantine", "censor", "censor "+detail, slot)
		return detail, nil
	}
	vs, err := validatorSet(a, r.sc.Network.Validators)
	if err != nil {
		return "", err
	}
	m := misbehaviourOf[a.Kind]
	on := a.Kind != "online"
	if err := s.SetMisbehaviour(m, on, vs); err != nil {
		return "", err
	}
	if a.Kind == "online" { // back to honest
		for _, m := range []netsim.Misbehaviour{netsim.Withhold, netsim.WrongHead} {
			if err := s.SetMisbehaviour(m, false, vs); err != nil {
				return "", err
			}
		}
	}
	detail := "validators " + rangeText(vs)
	key := "validators " + a.Validators + fmt.Sprint(a.Fraction)
	kind := map[bool]string{true: "offline", false: "byzantine"}[m == netsim.Offline]
	if on {
		r.openWindow(kind, key, fmt.Sprintf("%s %s", detail, m), slot)
	} else {
		r.closeWindow(key, slot)
	}
	return detail, nil
}

func rangeText(vs []types.ValidatorIndex) string {
	if len(vs) == 0 {
		return "none"
	}
	return fmt.Sprintf("%d..%d", vs[0], vs[len(vs)-1]+1)
}

// checkExpectation checks the keys of the registryChecks.
func (p *parser) checkExpectation(n *yaml.Node, e *Expectation, hasValue bool) {
	switch e.Check {
	case "reorg_depth", "registry", "balance":
		if (e.Op != ">=" && e.Op != "<=" && e.Op != "=") || !hasValue {
			p.errf(n, "expected op (>=, <= or =) and value for %s", e.Check)
		}
	}
	switch e.Check {
	case "balance", "active", "exited":
		if len(e.Validators) == 0 {
			p.errf(n, "expected validators for %s", e.Check)
		}
	}
	if e.Check == "balance" && !e.Within.set() {
		p.errf(n, "expected within for balance: the change from at to within is checked")
	}
}

// resolveTimes turns every time trigger into a slot.
func (p *parser) resolveTimes(sc *Scenario) {
	fix := func(w *When, line int) {
		if w.Time == nil {
			return
		}
		slot, err := timeSlot(*w.Time, sc.Network.SlotTime)
		if err != nil {
			p.errf(&yaml.Node{Line: line, Column: 3}, "%v", err)
			return
		}
		w.Slot, w.Time = &slot, nil
	}
	for i := range sc.Timeline {
		fix(&sc.Timeline[i].At, sc.Timeline[i].line)
	}
	for i := range sc.Expect {
		fix(&sc.Expect[i].At, sc.Expect[i].line)
		fix(&sc.Expect[i].Within, sc.Expect[i].line)
	}
}

// dynamicStep reports whether st fires after an event (or after a step
// that does), making its trigger an Event and checking its action; such a
// step's slot is found while running.
func (p *parser) dynamicStep(i int, st *Step, nw Network) bool {
	if p.dynamic == nil {
		p.dynamic = map[string]bool{}
	}
	if st.At.Event == nil && !p.dynamic[st.At.After] {
		return false
	}
	if st.At.Event == nil {
		st.At.Event = &Trigger{Step: st.At.After}
	}
	if st.Name != "" {
		p.dynamic[st.Name] = true
	}
	pos := &yaml.Node{Line: st.line, Column: 3}
	if err := checkAction(st.Action); err != nil {
		p.errf(pos, "step %d: %v", i+1, err)
	}
	if err := checkRegistry(st.Action, nw); err != nil {
		p.errf(pos, "step %d: %v", i+1, err)
	}
	return true
}

// dynamicRef reports an expectation timed after an event-triggered step.
func (p *parser) dynamicRef(e *Expectation) bool {
	for _, w := range []When{e.At, e.Within} {
		if w.Event != nil || p.dynamic[w.After] {
			p.errf(&yaml.Node{Line: e.line, Column: 3}, "expectation %q is timed after an event: expected a fixed slot, epoch, time or a step at one", e.Name)
			return true
		}
	}
	return false
}

// due reports whether step i fires at slot; an event step fires its
// offset after the slot its event is first seen (and its Slot is set).
func (r *run) due(i int, st *Step, slot uint64) bool {
	ev := st.At.Event
	if ev == nil {
		return st.Slot == slot
	}
	if r.armed == nil {
		r.armed = map[int]uint64{}
	}
	at, ok := r.armed[i]
	if !ok {
		if !r.happened(*ev) {
			return false
		}
		at, _ = resolveWhen(When{Slot: st.At.Slot, Epoch: st.At.Epoch}, nil)
		at += slot
		r.armed[i] = at
		fmt.Fprintf(r.out, "slot %4d  event %s seen: step %s fires at slot %d\n", slot, ev, cmp(st.Name, "-"), at)
	}
	st.Slot = at
	return at == slot
}

// happened reports whether ev has been observed (node 0's view).
func (r *run) happened(ev Trigger) bool {
	last := r.rep.Samples[len(r.rep.Samples)-1].Nodes[0]
	switch {
	case ev.Finalized != nil:
		return last.Finalized >= *ev.Finalized
	case ev.Justified != nil:
		return last.Justified >= *ev.Justified
	case ev.Slashing:
		return len(r.slashed) > 0
	}
	for _, f := range r.rep.Steps {
		if f.Name == ev.Step {
			return true
		}
	}
	return false
}

// watched is one validator as a node's head state has it.
type watched struct {
	Exists               bool
	Activation, Exit     uint64
	Balance              uint64
	ActiveNow, ExitedNow bool
}

// sampleMore adds what the registry checks need to node i's sample: the
// reorg depth since the last sample, the registry size and the watched
// validators (active and exited as of the epoch of slot, which begins).
func (r *run) sampleMore(slot uint64, i int, ns *NodeSample, head types.Root, hs *types.BeaconState) {
	if r.prevHead == nil {
		r.prevHead = make([]types.Root, r.sim.NodeCount())
		r.watch = watchedValidators(r.sc)
	}
	if prev := r.prevHead[i]; prev != (types.Root{}) && prev != head {
		if d, err := r.sim.ReorgDepth(i, prev, head); err == nil {
			ns.Reorg = d
		}
	}
	r.prevHead[i] = head
	ns.Registry = len(hs.Validators)
	epoch := slot / slotsPerEpoch
	ns.Watch = map[uint64]watched{}
	for v := range r.watch {
		if v >= uint64(len(hs.Validators)) {
			ns.Watch[v] = watched{}
			continue
		}
		val := hs.Validators[v]
		ns.Watch[v] = watched{Exists: true, Activation: uint64(val.ActivationEpoch), Exit: uint64(val.ExitEpoch),
			Balance: uint64(hs.Balances[v]), ActiveNow: uint64(val.ActivationEpoch) <= epoch && epoch < uint64(val.ExitEpoch),
			ExitedNow: uint64(val.ExitEpoch) <= epoch}
	}
}

// evaluateMore evaluates the window checks reorg_depth and balance (false:
// not one of them).
func evaluateMore(e Expectation, samples []Sample, nodes func(Sample) []NodeSample) (Outcome, bool) {
	o := Outcome{Name: e.Name, Check: e.Check, From: e.From, To: e.To}
	switch e.Check {
	case "reorg_depth":
		deepest := uint64(0)
		for t := e.From; t <= e.To; t++ {
			for _, n := range nodes(samples[t]) {
				deepest = max(deepest, n.Reorg)
			}
		}
		o.Expected = fmt.Sprintf("deepest reorg %s %g slots over slots %d..%d", e.Op, e.Value, e.From, e.To)
		o.Observed = fmt.Sprintf("%d", deepest)
		o.Pass = compare(float64(deepest), e.Op, e.Value)
		return o, true
	case "balance":
		a, b := nodes(samples[e.From])[0], nodes(samples[e.To])[0]
		o.Expected = fmt.Sprintf("balance change of %v %s %g Gwei over slots %d..%d", e.Validators, e.Op, e.Value, e.From, e.To)
		o.Pass = true
		var obs []string
		for _, v := range e.Validators {
			wa, wb := a.Watch[v], b.Watch[v]
			d := float64(wb.Balance) - float64(wa.Balance)
			obs = append(obs, fmt.Sprintf("%d: %+.0f", v, d))
			o.Pass = o.Pass && wa.Exists && wb.Exists && compare(d, e.Op, e.Value)
		}
		o.Observed = strings.Join(obs, ", ")
		return o, true
	}
	return o, false
}

// holdsRegistry is holds for active, exited and registry.
func holdsRegistry(e Expectation, ns []NodeSample) (string, bool) {
	if e.Check == "registry" {
		low := -1
		for _, n := range ns {
			if low < 0 || n.Registry < low {
				low = n.Registry
			}
		}
		return fmt.Sprintf("%d validators", low), compare(float64(low), e.Op, e.Value)
	}
	var bad []string
	for _, n := range ns {
		for _, v := range e.Validators {
			w := n.Watch[v]
			ok := w.ExitedNow
			if e.Check == "active" {
				ok = w.ActiveNow
			}
			if !ok {
				bad = append(bad, fmt.Sprintf("%d (activation %s, exit %s)", v, epochText(w.Exists, w.Activation), epochText(w.Exists, w.Exit)))
			}
		}
		if len(bad) > 0 {
			return "not " + e.Check + ": " + strings.Join(bad, ", "), false
		}
	}
	return fmt.Sprintf("%s: %v", e.Check, e.Validators), true
}

func epochText(exists bool, e uint64) string {
	switch {
	case !exists:
		return "not deposited"
	case e == uint64(types.FarFutureEpoch):
		return "none"
	}
	return fmt.Sprint(e)
}

// compare reports whether v op want holds (op >=, <= or =).
func compare(v float64, op string, want float64) bool {
	switch op {
	case ">=":
		return v >= want
	case "<=":
		return v <= want
	}
	return v == want
}
