package scenario

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/sim/netsim"
)

// NodeSample is one node's view at a slot's start.
type NodeSample struct {
	Up        bool     `json:"up"`
	Duties    bool     `json:"duties"`
	HeadSlot  uint64   `json:"head_slot"`
	Head      string   `json:"head"`
	Justified uint64   `json:"justified"`
	Finalized uint64   `json:"finalized"`
	Slashed   []uint64 `json:"slashed,omitempty"`
	// Participation is set at epoch starts only.
	Participation float64 `json:"participation,omitempty"`
	// Reorg, Registry and Watch serve the registry checks (registry.go).
	Reorg    uint64             `json:"-"`
	Registry int                `json:"-"`
	Watch    map[uint64]watched `json:"-"`
	// Metrics are the values of the scenario's metric checks (testnet
	// engine).
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// Sample is every node's view at the start of Slot (after slot Slot-1).
type Sample struct {
	Slot  uint64       `json:"slot"`
	Nodes []NodeSample `json:"nodes"`
	// ShardNodes are the shard nodes' views (testnet engine, metric checks
	// with role shard).
	ShardNodes []NodeSample `json:"shard_nodes,omitempty"`
}

// Fired is a step as it ran.
type Fired struct {
	Slot   uint64 `json:"slot"`
	Name   string `json:"name,omitempty"`
	Action string `json:"action"`
	Detail string `json:"detail"`
}

// Window is a fault's span in slots (To is the run's end if never lifted).
type Window struct {
	Kind  string `json:"kind"`
	Label string `json:"label"`
	From  uint64 `json:"from"`
	To    uint64 `json:"to"`
}

// Slashing is the first slot a validator showed as slashed in node 0's
// head state (the slashing was included by then).
type Slashing struct {
	Slot      uint64 `json:"slot"`
	Validator uint64 `json:"validator"`
}

// Report is the outcome of one run. Everything in it depends only on the
// scenario and the seed, so equal runs give equal Hash.
type Report struct {
	Name          string     `json:"name"`
	Engine        string     `json:"engine,omitempty"` // "testnet" on real processes; empty: the simulator
	Description   string     `json:"description,omitempty"`
	File          string     `json:"file"`
	Seed          uint64     `json:"seed"`
	Network       Network    `json:"network"`
	SlotsPerEpoch uint64     `json:"slots_per_epoch"`
	Pass          bool       `json:"pass"`
	Replay        string     `json:"replay"`
	TraceHash     string     `json:"trace_hash"`
	Steps         []Fired    `json:"steps"`
	Windows       []Window   `json:"windows"`
	Slashings     []Slashing `json:"slashings"`
	Expectations  []Outcome  `json:"expectations"`
	Samples       []Sample   `json:"samples"`
	// Optional chart series and timeline events (see report.go).
	Series []Series `json:"series,omitempty"`
	Events []Event  `json:"events,omitempty"`
	// Shard is the shard layer's series (shard.go; nil without shards).
	Shard *ShardSeries `json:"shard,omitempty"`
	// ScoredOut are the peers disconnected for their score (scoring.go).
	ScoredOut []ScoringOut `json:"scored_out,omitempty"`
}

// Hash is the sha256 of the report's JSON.
func (r *Report) Hash() string {
	b, _ := json.Marshal(r)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Options tune a run.
type Options struct {
	// Replay is the command line that replays the run (for the report).
	Replay string
	// Progress, if not nil, gets one line per fired step, finality change
	// and slashing as the run goes.
	Progress io.Writer
	// OnSlot, if not nil, is called after every slot with the slot and the
	// run's last slot (for a progress line).
	OnSlot func(slot, end uint64)
	Logger *slog.Logger
	// Out, if set, is where node OutNode's canonical chain is written as a
	// v0.8.3 sanity/blocks test case at the end (export.go).
	Out     string
	OutNode int
}

// run is one scenario run in progress.
type run struct {
	sc      *Scenario
	sim     *netsim.Sim
	rep     *Report
	open    map[string]int // open windows by key, index into rep.Windows
	slashed map[uint64]bool
	out     io.Writer
	lastFin uint64
	// armed, prevHead and watch serve registry.go.
	armed    map[int]uint64
	prevHead []types.Root
	watch    map[uint64]bool
}

// Run runs sc on the simulator and checks its expectations.
func Run(ctx context.Context, sc *Scenario, opt Options) (*Report, error) {
	cfg, err := sc.Network.config()
	if err == nil {
		err = CheckEngine(sc, EngineSim)
	}
	if err != nil {
		return nil, fmt.Errorf("run scenario %s: %w", sc.Name, err)
	}
	cfg.Logger = opt.Logger
	if opt.Out != "" && (opt.OutNode < 0 || opt.OutNode >= sc.Network.Nodes) {
		return nil, fmt.Errorf("run scenario %s: export: node %d, expected 0..%d", sc.Name, opt.OutNode, sc.Network.Nodes-1)
	}
	s, err := netsim.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("run scenario %s: %w", sc.Name, err)
	}
	defer s.Close()
	out := opt.Progress
	if out == nil {
		out = io.Discard
	}
	r := &run{sc: sc, sim: s, open: map[string]int{}, slashed: map[uint64]bool{}, out: out,
		rep: &Report{Name: sc.Name, Description: sc.Description, File: sc.File, Seed: sc.Network.Seed,
			Network: sc.Network, SlotsPerEpoch: slotsPerEpoch, Replay: opt.Replay,
			Steps: []Fired{}, Windows: []Window{}, Slashings: []Slashing{}}}
	if err := r.startShard(); err != nil {
		return nil, fmt.Errorf("run scenario %s: %w", sc.Name, err)
	}
	if err := holdLateJoiners(s, sc); err != nil {
		return nil, err
	}
	r.openLateWindows()
	end := sc.Network.Epochs * slotsPerEpoch
	for slot := uint64(0); slot <= end; slot++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("run scenario %s: %w", sc.Name, err)
		}
		if err := r.sample(slot); err != nil {
			return nil, err
		}
		for i, st := range sc.Timeline {
			if r.due(i, &st, slot) {
				if err := r.fire(st); err != nil {
					return nil, fmt.Errorf("run scenario %s: step at slot %d: %w", sc.Name, slot, err)
				}
			}
		}
		if slot < end {
			s.RunSlots(types.Slot(slot))
			if opt.OnSlot != nil {
				opt.OnSlot(slot, end)
			}
		}
	}
	if err := export(s, sc, opt); err != nil {
		return nil, fmt.Errorf("run scenario %s: %w", sc.Name, err)
	}
	th := s.TraceHash()
	r.rep.TraceHash = hex.EncodeToString(th[:])
	r.finish(end)
	return r.rep, nil
}

// finish ends the windows still open at the run's end and checks the
// expectations.
func (r *run) finish(end uint64) {
	for i := range r.rep.Windows {
		if r.rep.Windows[i].To == 0 {
			r.rep.Windows[i].To = end
		}
	}
	r.rep.Pass = true
	for _, e := range r.sc.Expect {
		o := evaluate(e, r.rep.Samples)
		if isShardCheck(e.Check) {
			o = evaluateShard(e, r.rep)
		}
		if e.Check == checkScoredOut {
			o = evaluateScored(e, r.sc, r.rep)
		}
		r.rep.Expectations = append(r.rep.Expectations, o)
		r.rep.Pass = r.rep.Pass && o.Pass
	}
}

// sample records every node's view at slot's start.
func (r *run) sample(slot uint64) error {
	smp := Sample{Slot: slot}
	for i := range r.sim.NodeCount() {
		st, err := r.sim.Status(i)
		if err != nil {
			return err
		}
		hs, _ := r.sim.HeadState(i)
		ns := NodeSample{Up: st.Up, Duties: st.Duties, HeadSlot: uint64(st.HeadSlot), Head: hex.EncodeToString(st.Head[:4]),
			Justified: uint64(st.Justified), Finalized: uint64(st.Finalized)}
		for v, val := range hs.Validators {
			if val.Slashed {
				ns.Slashed = append(ns.Slashed, uint64(v))
			}
		}
		if slot%slotsPerEpoch == 0 {
			ns.Participation = st.Participation
		}
		r.sampleMore(slot, i, &ns, st.Head, hs)
		smp.Nodes = append(smp.Nodes, ns)
	}
	r.record(slot, smp)
	r.sampleScores()
	return r.sampleShard(slot)
}

// record keeps a sample and prints new slashings and finality changes.
func (r *run) record(slot uint64, smp Sample) {
	for _, v := range smp.Nodes[0].Slashed {
		if !r.slashed[v] {
			r.slashed[v] = true
			r.rep.Slashings = append(r.rep.Slashings, Slashing{Slot: slot, Validator: v})
			fmt.Fprintf(r.out, "slot %4d  validator %d slashed\n", slot, v)
		}
	}
	if fin := smp.Nodes[0].Finalized; fin != r.lastFin {
		fmt.Fprintf(r.out, "slot %4d  node 0 finalized epoch %d\n", slot, fin)
		r.lastFin = fin
	}
	r.rep.Samples = append(r.rep.Samples, smp)
}

// openWindow starts a fault window; closeWindow ends it.
func (r *run) openWindow(kind, key, label string, slot uint64) {
	if _, ok := r.open[key]; ok {
		return
	}
	r.open[key] = len(r.rep.Windows)
	r.rep.Windows = append(r.rep.Windows, Window{Kind: kind, Label: label, From: slot})
}

func (r *run) closeWindow(key string, slot uint64) {
	if i, ok := r.open[key]; ok {
		r.rep.Windows[i].To = slot
		delete(r.open, key)
	}
}

// fire applies one step.
func (r *run) fire(st Step) error {
	s, a, slot := r.sim, st.Action, st.Slot
	var detail string
	switch a.Kind {
	case "partition":
		if err := s.Partition(a.Groups...); err != nil {
			return err
		}
		detail = fmt.Sprint(a.Groups)
		r.closeWindow("net", slot)
		r.openWindow("partition", "net", "partition "+detail, slot)
	case "isolate":
		if err := s.Partition(a.Nodes); err != nil {
			return err
		}
		detail = fmt.Sprint(a.Nodes)
		r.closeWindow("net", slot)
		r.openWindow("partition", "net", "isolate "+detail, slot)
	case "heal":
		s.Heal()
		r.closeWindow("net", slot)
	case "latency":
		l, err := netsim.ParseLatency(a.Latency)
		if err != nil {
			return err
		}
		if err := s.SetLatency(l); err != nil {
			return err
		}
		detail = l.String()
		r.closeWindow("latency", slot)
		if a.Latency != r.sc.Network.Latency {
			r.openWindow("latency", "latency", "latency "+detail, slot)
		}
	case "loss":
		if err := s.SetLoss(a.Loss); err != nil {
			return err
		}
		detail = fmt.Sprint(a.Loss)
		r.closeWindow("loss", slot)
		if a.Loss != r.sc.Network.Loss {
			r.openWindow("loss", "loss", "loss "+detail, slot)
		}
	case "crash", "restart":
		for _, n := range a.Nodes {
			key := fmt.Sprintf("crash %d", n)
			if a.Kind == "crash" {
				if err := s.Crash(n); err != nil {
					return err
				}
				r.openWindow("crash", key, fmt.Sprintf("node %d down", n), slot)
			} else {
				if err := s.Restart(n); err != nil {
					return err
				}
				r.closeWindow(key, slot)
			}
		}
		detail = fmt.Sprint(a.Nodes)
	case "deposit", "exit", "withhold", "wrong_head", "censor", "workload":
		var err error
		if detail, err = r.fireRegistry(st); err != nil {
			return err
		}
	case "offline", "online":
		if len(a.Nodes) == 0 { // single validators (registry.go)
			var err error
			if detail, err = r.fireRegistry(st); err != nil {
				return err
			}
			break
		}
		nodes, err := offlineNodes(s, a)
		if err != nil {
			return err
		}
		for _, n := range nodes {
			if err := s.SetDuties(n, a.Kind == "online"); err != nil {
				return err
			}
			key := fmt.Sprintf("offline %d", n)
			if a.Kind == "offline" {
				first, count, _ := s.ValidatorRange(n)
				r.openWindow("offline", key, fmt.Sprintf("validators %d..%d offline", first, first+count), slot)
			} else {
				r.closeWindow(key, slot)
			}
		}
		detail = "nodes " + fmt.Sprint(nodes)
	case "degrade", "restore":
		for _, n := range a.Nodes {
			if err := s.SetLinkFault(n, a.Link); err != nil {
				return err
			}
			key := fmt.Sprintf("link %d", n)
			r.closeWindow(key, slot)
			if a.Kind == "degrade" {
				kind := "latency"
				if a.Link.Delay == (netsim.Latency{}) {
					kind = "loss"
				}
				r.openWindow(kind, key, fmt.Sprintf("node %d: +%s delay, +%g loss", n, a.Link.Delay, a.Link.Loss), slot)
			}
		}
		detail = fmt.Sprint(a.Nodes)
	case "late_join", "clock_skew", "delay", "reorder":
		var err error
		if detail, err = r.fireNet(a, slot); err != nil {
			return err
		}
	case "equivocate":
		if err := s.Equivocate(types.Slot(slot)); err != nil {
			return err
		}
		detail = fmt.Sprintf("proposer of slot %d", slot)
		r.openWindow("byzantine", fmt.Sprintf("equivocate %d", slot), "double proposal", slot)
		r.closeWindow(fmt.Sprintf("equivocate %d", slot), slot+1)
	case "double_vote", "surround_vote":
		for _, v := range a.Indices {
			var err error
			if a.Kind == "double_vote" {
				err = s.DoubleVote(types.ValidatorIndex(v))
			} else {
				err = s.SurroundVote(types.ValidatorIndex(v))
			}
			if err != nil {
				return err
			}
		}
		detail = "validators " + fmt.Sprint(a.Indices)
		key := a.Kind + fmt.Sprint(slot)
		r.openWindow("byzantine", key, strings.ReplaceAll(a.Kind, "_", " ")+" "+detail, slot)
		r.closeWindow(key, slot+slotsPerEpoch)
	default: // the shard layer's (shard.go)
		d, err := r.fireShard(a, slot)
		if err != nil {
			return err
		}
		detail = d
	}
	r.rep.Steps = append(r.rep.Steps, Fired{Slot: slot, Name: st.Name, Action: a.Kind, Detail: detail})
	fmt.Fprintf(r.out, "slot %4d  step %s: %s %s\n", slot, cmp(st.Name, "-"), a.Kind, detail)
	return nil
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Outcome is an expectation's result with the observed value.
type Outcome struct {
	Name     string `json:"name"`
	Check    string `json:"check"`
	Expected string `json:"expected"`
	Observed string `json:"observed"`
	From     uint64 `json:"from_slot"`
	To       uint64 `json:"to_slot"`
	Pass     bool   `json:"pass"`
}

// evaluate checks e against the samples.
func evaluate(e Expectation, samples []Sample) Outcome {
	if e.Check == "synced" {
		return evaluateSynced(e, samples)
	}
	o := Outcome{Name: e.Name, Check: e.Check, From: e.From, To: e.To}
	nodes := func(s Sample) []NodeSample { return nodesOf(e, roleNodes(e, s)) }
	at := func(t uint64) []NodeSample {
		if e.Check == "participation" {
			t -= t % slotsPerEpoch // measured at epoch starts
		}
		return nodes(samples[t])
	}
	if o, ok := evaluateMore(e, samples, nodes); ok {
		return o
	}
	switch e.Op {
	case "advancing", "not_advancing":
		a, b := metric(e.Check, at(e.From)), metric(e.Check, at(e.To))
		o.Expected = fmt.Sprintf("%s %s over slots %d..%d", e.Check, strings.ReplaceAll(e.Op, "_", " "), e.From, e.To)
		o.Observed = fmt.Sprintf("%g -> %g", a, b)
		o.Pass = (e.Op == "advancing") == (b > a)
		return o
	}
	o.Expected = expected(e)
	for t := e.From; t <= e.To; t++ {
		obs, ok := holds(e, at(t))
		o.Observed, o.Pass = obs, ok
		if ok {
			if e.To > e.From {
				o.Observed += fmt.Sprintf(" (at slot %d)", t)
			}
			break
		}
	}
	return o
}

func expected(e Expectation) string {
	var s string
	switch e.Check {
	case "head_agreement":
		s = fmt.Sprintf("%g distinct head(s)", e.Value)
	case "metric":
		s = metricExpected(e)
	case "slashed":
		s = fmt.Sprintf("slashed = %v", orEmpty(e.Validators))
		if e.Op != "" {
			s = fmt.Sprintf("number slashed %s %g", e.Op, e.Value)
		}
	case "active", "exited":
		s = fmt.Sprintf("%s: %v", e.Check, e.Validators)
	default:
		s = fmt.Sprintf("%s %s %g", e.Check, e.Op, e.Value)
	}
	if e.To > e.From {
		return fmt.Sprintf("%s within slots %d..%d", s, e.From, e.To)
	}
	return fmt.Sprintf("%s at slot %d", s, e.From)
}

func orEmpty(v []uint64) []uint64 {
	if v == nil {
		return []uint64{}
	}
	return v
}

// metric is the lowest value among the nodes.
func metric(check string, ns []NodeSample) float64 {
	low := -1.0
	for _, n := range ns {
		var v float64
		switch check {
		case "finalized":
			v = float64(n.Finalized)
		case "justified":
			v = float64(n.Justified)
		case "participation":
			v = n.Participation
		}
		if low < 0 || v < low {
			low = v
		}
	}
	return low
}

// holds reports the observed value and whether e holds on ns.
func holds(e Expectation, ns []NodeSample) (string, bool) {
	switch e.Check {
	case "head_agreement":
		heads := map[string]bool{}
		var list []string
		for _, n := range ns {
			if !heads[n.Head] {
				heads[n.Head] = true
				list = append(list, n.Head)
			}
		}
		return fmt.Sprintf("%d head(s) %v", len(list), list), float64(len(list)) == e.Value
	case "metric":
		return metricHolds(e, ns)
	case "slashed":
		if e.Op != "" {
			return slashedCount(e, ns)
		}
		want := slices.Clone(e.Validators)
		slices.Sort(want)
		for _, n := range ns {
			if !slices.Equal(n.Slashed, want) && !(len(want) == 0 && len(n.Slashed) == 0) {
				return fmt.Sprintf("slashed = %v", orEmpty(n.Slashed)), false
			}
		}
		return fmt.Sprintf("slashed = %v", orEmpty(want)), true
	case "active", "exited", "registry":
		return holdsRegistry(e, ns)
	}
	v := metric(e.Check, ns)
	obs := fmt.Sprintf("%g", v)
	switch e.Op {
	case ">=":
		return obs, v >= e.Value
	case "<=":
		return obs, v <= e.Value
	}
	return obs, v == e.Value
}
