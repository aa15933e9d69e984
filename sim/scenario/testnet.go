package scenario

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shardlab/shardlab/beacon/clock"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/sim/testnet"
)

// The testnet engine: the scenario's timeline on a local testnet of real
// processes (sim/testnet). Network node i is the beacon node beacon-i (the
// validators split evenly); shard nodes and fishermen run beside them. The
// runner follows the real clock from the genesis: a tenth of a slot before
// each slot it samples every node over its HTTP API (and metrics
// endpoint), and at the slot's start it fires the slot's steps through the
// nodes' debug API (--debug-api, docs/api.md) and the process lifecycle
// (kill -9, restart on the data dir). The Report is the simulator's, so
// the same evaluate checks the expectations and the same report writer
// draws it; it is not deterministic (real time and scheduling), so its
// TraceHash is a hash of the samples.

// wallClock paces the testnet runner's slots and steps.
var wallClock clock.Real

// TestnetOptions configure the testnet engine.
type TestnetOptions struct {
	// Binary is the shardlab executable the processes run. Required.
	Binary string
	// Dir is the testnet directory (wiped at start; see sim/testnet).
	Dir string
	// ShardNodes serve the shards (split across them, every validator key
	// on each, for shard proposals); Fishermen serve every shard without
	// keys. Shards is the genesis SHARD_COUNT.
	ShardNodes, Fishermen int
	Shards                uint64
	// BasePort is the first port of the layout (0: free ports).
	BasePort int
	// Keep leaves the processes running after the run.
	Keep bool
	// TestnetOut receives the testnet's own progress lines (nil: none).
	TestnetOut io.Writer
}

// DefaultTestnetOptions are 2 shard nodes and 1 fisherman on the minimal
// preset's 8 shards, in directory testnet-scenario, on free ports.
func DefaultTestnetOptions() TestnetOptions {
	return TestnetOptions{Dir: "testnet-scenario", ShardNodes: 2, Fishermen: 1, Shards: 8}
}

// tnRun is one testnet run in progress.
type tnRun struct {
	*run
	tn     *testnet.Testnet
	beacon []*testnet.Process
	shard  []*testnet.Process
	peers  map[string]string // process name -> peer ID
	groups [][]int           // the current partition of the beacon nodes (nil: none)
	last   Sample            // each node's last good sample, for a node that does not answer
	want   map[string][]string
	tr     *core.Transition // the testnet's chain config: participation
	log    *slog.Logger

	mu      sync.Mutex // guards rep.Steps from the asynchronous steps
	pending sync.WaitGroup
}

// RunTestnet runs sc on a local testnet of real processes and checks its
// expectations.
func RunTestnet(ctx context.Context, sc *Scenario, opt Options, to TestnetOptions) (*Report, error) {
	fail := func(err error) (*Report, error) {
		return nil, fmt.Errorf("run scenario %s on the testnet: %w", sc.Name, err)
	}
	if err := CheckEngine(sc, EngineTestnet); err != nil {
		return fail(err)
	}
	nw := sc.Network
	slotTime, err := time.ParseDuration(nw.SlotTime)
	if err != nil {
		return fail(fmt.Errorf("slot_time %q: %w", nw.SlotTime, err))
	}
	cfg := testnet.DefaultConfig()
	cfg.Dir, cfg.Binary, cfg.BasePort, cfg.Keep = to.Dir, to.Binary, to.BasePort, to.Keep
	cfg.BeaconNodes, cfg.ShardNodes, cfg.Fishermen, cfg.Shards = nw.Nodes, to.ShardNodes, to.Fishermen, to.Shards
	cfg.Validators, cfg.SlotTime, cfg.Epochs, cfg.TxRate, cfg.CrossShard, cfg.Seed = nw.Validators, slotTime, nw.Epochs, nw.TxRate, nw.CrossShard, nw.Seed
	cfg.DebugAPI, cfg.Out, cfg.LogLevel = true, to.TestnetOut, "info"
	if cfg.LateBeacon, err = lateNodes(sc); err != nil {
		return fail(err)
	}
	chainConfig, removeConfig, err := writeChainConfig(nw)
	if err != nil {
		return fail(err)
	}
	defer removeConfig()
	cfg.ChainConfig = chainConfig
	for _, st := range sc.Timeline {
		if st.Action.Kind == "invalid_state_root" && (st.Action.InvalidShard >= cfg.Shards || cfg.ShardNodes == 0) {
			return fail(fmt.Errorf("%w: invalid_state_root of shard %d: the testnet has %d shards and %d shard nodes", ErrInvalid, st.Action.InvalidShard, cfg.Shards, cfg.ShardNodes))
		}
	}
	logger := opt.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	tn, err := testnet.New(cfg, logger)
	if err != nil {
		return fail(err)
	}
	var out io.Writer = &lockedWriter{w: io.Discard}
	if opt.Progress != nil {
		out = &lockedWriter{w: opt.Progress}
	}
	r := &tnRun{
		run: &run{sc: sc, open: map[string]int{}, slashed: map[uint64]bool{}, out: out,
			rep: &Report{Name: sc.Name, Engine: EngineTestnet, Description: sc.Description, File: sc.File, Seed: nw.Seed,
				Network: nw, SlotsPerEpoch: slotsPerEpoch, Replay: opt.Replay,
				Steps: []Fired{}, Windows: []Window{}, Slashings: []Slashing{}}},
		tn: tn, peers: map[string]string{}, want: wantedMetrics(sc), log: logger,
	}
	r.watch = watchedValidators(sc)
	r.openLateWindows()
	if err := tn.Start(ctx); err != nil {
		return fail(err)
	}
	r.tr = core.New(tn.ChainConfig()) // known once Start wrote the genesis
	if !to.Keep {
		defer tn.Stop()
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	_, waitLoad := tn.StartLoad(loadCtx) // network.tx_rate through the shard nodes
	defer func() { stopLoad(); waitLoad() }()
	for _, p := range tn.Processes() {
		if p.Spec.Role == testnet.RoleBeacon {
			r.beacon = append(r.beacon, p)
		} else {
			r.shard = append(r.shard, p)
		}
	}
	if err := r.readPeerIDs(ctx); err != nil {
		return fail(err)
	}
	end := nw.Epochs * slotsPerEpoch
	genesis := tn.GenesisTime()
	for slot := uint64(0); slot <= end; slot++ {
		// A slot is sampled at the end of the slot before it, a tenth of
		// a slot before its start: as on the simulator, which samples a
		// slot before any of its events, the sample shows the network
		// after the previous slot's block and before this slot's block
		// and steps. (Sampled at the slot's start, nodes that had and
		// had not yet received the new slot's block showed two heads;
		// sampled a third into the slot, after the steps, a step such as
		// offline missed that slot's attestations, which the simulator's
		// step does not.) The steps fire at the slot's start.
		start := genesis.Add(time.Duration(slot) * slotTime)
		if err := wallClock.WaitUntil(ctx, start.Add(-slotTime/10)); err != nil {
			r.pending.Wait()
			return fail(err)
		}
		r.sampleTestnet(ctx, slot)
		if err := wallClock.WaitUntil(ctx, start); err != nil {
			r.pending.Wait()
			return fail(err)
		}
		for _, st := range sc.Timeline {
			fireAt := st.Slot
			if st.Action.Kind == "equivocate" && fireAt > 0 {
				fireAt-- // armed a slot early: the proposal goes out at the slot's start
			}
			if fireAt == slot {
				if err := r.fireTestnet(ctx, st); err != nil {
					r.pending.Wait()
					return fail(fmt.Errorf("step at slot %d: %w", st.Slot, err))
				}
			}
		}
		if opt.OnSlot != nil && slot < end {
			opt.OnSlot(slot, end)
		}
	}
	r.pending.Wait()
	slices.SortStableFunc(r.rep.Steps, func(a, b Fired) int { return int(a.Slot) - int(b.Slot) })
	b, _ := json.Marshal(r.rep.Samples)
	sum := sha256.Sum256(b)
	r.rep.TraceHash = hex.EncodeToString(sum[:])
	r.finish(end)
	return r.rep, nil
}

// wantedMetrics are the metrics the expectations check, by role.
func wantedMetrics(sc *Scenario) map[string][]string {
	out := map[string][]string{}
	for _, e := range sc.Expect {
		if e.Check == "metric" && !slices.Contains(out[e.Role], e.Metric) {
			out[e.Role] = append(out[e.Role], e.Metric)
		}
	}
	return out
}

// readPeerIDs asks every process for its libp2p peer ID.
func (r *tnRun) readPeerIDs(ctx context.Context) error {
	for _, p := range r.tn.Processes() {
		if !p.Running() {
			continue // a late joiner: read when it joins
		}
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		id, err := testnet.NewClient(p.Spec.URL()).PeerID(c)
		cancel()
		if err != nil {
			return fmt.Errorf("peer id of %s: %w", p.Spec.Name, err)
		}
		r.peers[p.Spec.Name] = id
	}
	return nil
}

// sampleTestnet records every node's view of slot (just before it starts), in parallel.
// A node that is down or does not answer keeps its last view (Up false
// when down).
func (r *tnRun) sampleTestnet(ctx context.Context, slot uint64) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	smp := Sample{Slot: slot, Nodes: make([]NodeSample, len(r.beacon))}
	if len(r.want[RoleShard]) > 0 {
		smp.ShardNodes = make([]NodeSample, len(r.shard))
	}
	var wg sync.WaitGroup
	for i, p := range r.beacon {
		prev := NodeSample{Head: "00000000"}
		if i < len(r.last.Nodes) {
			prev = r.last.Nodes[i]
		}
		wg.Go(func() { smp.Nodes[i] = r.sampleNode(ctx, p, prev, slot, true, r.want[RoleBeacon]) })
	}
	for i := range smp.ShardNodes {
		prev := NodeSample{}
		if i < len(r.last.ShardNodes) {
			prev = r.last.ShardNodes[i]
		}
		wg.Go(func() { smp.ShardNodes[i] = r.sampleNode(ctx, r.shard[i], prev, slot, false, r.want[RoleShard]) })
	}
	wg.Wait()
	for i := range smp.Nodes {
		smp.Nodes[i].Duties = smp.Nodes[i].Duties && !r.offline(i)
	}
	r.last = smp
	r.record(slot, smp)
}

// offline reports whether node i's validators were taken offline.
func (r *tnRun) offline(i int) bool {
	_, open := r.open[fmt.Sprintf("offline %d", i)]
	return open
}

// sampleNode reads one node (full: finality, head, slashed validators
// and, at an epoch's first slot, the previous epoch's participation in its
// head state) and the wanted metrics; prev fills what could not be read.
func (r *tnRun) sampleNode(ctx context.Context, p *testnet.Process, prev NodeSample, slot uint64, full bool, metrics []string) NodeSample {
	ns := prev
	ns.Up, ns.Duties, ns.Participation = p.Running(), true, 0
	if !ns.Up {
		return ns
	}
	c := testnet.NewClient(p.Spec.URL())
	var errs []error
	if full {
		if f, err := c.Finality(ctx); err == nil {
			ns.Justified, ns.Finalized = f.Justified.Epoch, f.Finalized.Epoch
		} else {
			errs = append(errs, err)
		}
		if h, err := c.Header(ctx, "head"); err == nil {
			ns.HeadSlot, ns.Head = h.Slot, shortHex(h.Root)
		} else {
			errs = append(errs, err)
		}
		if vs, err := c.Validators(ctx); err == nil {
			ns.Slashed = testnet.SlashedOf(vs)
			r.watchOf(&ns, vs, slot)
		} else {
			errs = append(errs, err)
		}
		if slot%slotsPerEpoch == 0 {
			if st, err := c.HeadState(ctx, r.tr.Config()); err == nil {
				ns.Participation = r.tr.PreviousEpochParticipation(st)
			} else {
				errs = append(errs, err)
			}
		}
	}
	if len(metrics) > 0 {
		if m, err := testnet.Metrics(ctx, p.Spec.MetricsURL(), metrics); err == nil {
			ns.Metrics = m
		} else {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		r.log.Warn("sample node", "node", p.Spec.Name, "err", errors.Join(errs...))
	}
	return ns
}

// shortHex is the first 4 bytes of a 0x-hex root, as the simulator's
// samples show heads.
func shortHex(root string) string {
	root = strings.TrimPrefix(root, "0x")
	if len(root) > 8 {
		root = root[:8]
	}
	return root
}

// NodeCount and ValidatorRange tell offlineNodes the validators of each
// beacon node (validatorHosts).
func (r *tnRun) NodeCount() int { return len(r.beacon) }

// ShardNodeCount is 0: NodeCount counts the beacon nodes only.
func (r *tnRun) ShardNodeCount() int { return 0 }

func (r *tnRun) ValidatorRange(i int) (first, count uint64, err error) {
	lo, hi, ok := testnet.ValidatorSplit(r.sc.Network.Validators, len(r.beacon), i)
	if !ok {
		return 0, 0, nil
	}
	return lo, hi - lo + 1, nil
}

// host is the beacon node hosting validator v.
func (r *tnRun) host(v uint64) (int, error) {
	for i := range r.beacon {
		first, count, _ := r.ValidatorRange(i)
		if v >= first && v < first+count {
			return i, nil
		}
	}
	return 0, fmt.Errorf("validator %d is hosted by no node", v)
}

// addStep records a fired step (asynchronous steps finish later).
func (r *tnRun) addStep(f Fired, name string) {
	r.mu.Lock()
	r.rep.Steps = append(r.rep.Steps, f)
	r.mu.Unlock()
	fmt.Fprintf(r.out, "slot %4d  step %s: %s %s\n", f.Slot, cmp(name, "-"), f.Action, f.Detail)
}
