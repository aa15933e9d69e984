package netsim

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
)

// Sim is one simulation: the nodes, the network and the event loop. It is
// not safe for concurrent use.
type Sim struct {
	cfg            Config
	pcfg           *params.Config
	tr             *core.Transition
	log            *slog.Logger
	rng            *rand.Rand // the network's randomness
	loop           loop
	trace          *trace
	net            network
	stats          Stats
	shared         *shared
	nodes          []*node
	sh             shardSim
	byz            shardByzantine // shard_byzantine.go
	genesis        time.Time
	genesisState   *types.BeaconState // for restarts
	linkFaults     map[int]LinkFault  // per-node extra delay and loss
	rules          []rule             // message rules (msgfault.go)
	ruleSeq        int
	slot           time.Duration
	requestTimeout time.Duration
	nextSlot       types.Slot // the first slot not yet scheduled
	closed         bool
	eth1           eth1Chain    // the simulated eth1 chain (registry.go)
	bad            misbehaviour // validator misbehaviour (misbehave.go)
	score          scoring      // peer scoring (score.go)
}

// New builds a simulation: the interop genesis of cfg.Validators, the nodes
// (validators split evenly, in order) and the network. Nothing runs until
// Run or RunSlots.
func New(cfg Config) (*Sim, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pc := params.Minimal()
	if cfg.Chain != nil {
		cp := *cfg.Chain
		pc = &cp
	}
	if cfg.SlotTime > 0 {
		pc.SecondsPerSlot = uint64(cfg.SlotTime / time.Second)
	}
	pc, err := cfg.Shard.shardParams(pc)
	if err != nil {
		return nil, err
	}
	if err := pc.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	scoreCfg, err := cfg.scoreConfig()
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sim{
		cfg: cfg, pcfg: pc, log: log, trace: newTrace(),
		rng:  rand.New(rand.NewPCG(cfg.Seed, 0x6e657473696d)), // "netsim"
		slot: time.Duration(pc.SecondsPerSlot) * time.Second,
	}
	s.requestTimeout = s.slot
	s.score.cfg = scoreCfg
	s.eth1.s = s
	sh, err := newShared(cfg, pc)
	if err != nil {
		return nil, err
	}
	s.shared = sh
	tr := core.New(pc)
	s.tr = tr
	all, err := validator.NewInteropKeys(0, cfg.Validators)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	genesis, err := validator.InteropGenesis(tr, cfg.Validators, pc.MinGenesisTime, validator.WithKeys(all), validator.SkipDepositSignatures())
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	if tr, err = shardTransition(tr, genesis); err != nil {
		return nil, err
	}
	s.tr = tr
	s.genesis = time.Unix(int64(genesis.GenesisTime), 0)
	s.genesisState = genesis
	s.loop.now = s.genesis
	s.buildNetwork(cfg.Nodes+cfg.Shard.Nodes, cfg.MeshDegree)
	per, extra := cfg.Validators/uint64(cfg.Nodes), cfg.Validators%uint64(cfg.Nodes)
	start := uint64(0)
	for i := range cfg.Nodes {
		count := per
		if uint64(i) < extra {
			count++
		}
		keys, err := validator.NewInteropKeys(start, count)
		if err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("simulate: %w", err)
		}
		start += count
		n, err := s.newNode(i, tr, genesis, keys)
		if err != nil {
			_ = s.Close()
			return nil, err
		}
		s.nodes = append(s.nodes, n)
	}
	for i := range cfg.Shard.Nodes { // shard nodes: beacon followers
		n, err := s.newNode(cfg.Nodes+i, tr, genesis, nil)
		if err != nil {
			_ = s.Close()
			return nil, err
		}
		s.nodes = append(s.nodes, n)
	}
	for _, n := range s.nodes { // every pair connects at genesis
		for _, p := range s.peersOf(n.index) {
			n.h.OnPeerConnected(p)
		}
	}
	if err := s.startWorkload(); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("simulate: %w", err)
	}
	return s, nil
}

// Close closes the nodes' databases.
func (s *Sim) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, n := range s.nodes {
		n.closeShard()
		errs = append(errs, n.db.Close())
		for _, db := range n.retired {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}

// scheduleSlot schedules every node's slot-start and attestation-due work
// of slot, in node order, at the times the nodes' clocks say: a node whose
// clock is ahead (SetClockSkew) gets the next slot's work scheduled too,
// early by its offset; one whose clock is behind, late by it.
func (s *Sim) scheduleSlot(slot types.Slot) {
	var due [][2]int // (node, slot) pairs, in node order
	for _, n := range s.nodes {
		last := slot
		if n.skew > 0 {
			last++
		}
		for ; n.nextSlot <= last; n.nextSlot++ {
			due = append(due, [2]int{n.index, int(n.nextSlot)})
		}
	}
	for _, d := range due {
		n, slot := s.nodes[d[0]], types.Slot(d[1])
		start := s.genesis.Add(time.Duration(slot)*s.slot - n.skew)
		s.loop.schedule(start, func() {
			if n.down {
				return
			}
			s.trace.record(recSlot, s.loop.now, n.index, n.index, "slot", nil)
			if n.idle {
				n.h.Tick() // follow the clock without proposing
				return
			}
			n.onSlotStart(slot)
		})
	}
	for _, d := range due {
		n, slot := s.nodes[d[0]], types.Slot(d[1])
		start := s.genesis.Add(time.Duration(slot)*s.slot - n.skew)
		s.loop.schedule(start.Add(s.slot/3), func() {
			if n.down || n.idle {
				return
			}
			s.trace.record(recSlot, s.loop.now, n.index, n.index, "attest", nil)
			n.h.OnAttestationDue(slot)
		})
	}
}

// RunSlots runs the simulation through the end of slot last.
func (s *Sim) RunSlots(last types.Slot) {
	for ; s.nextSlot <= last; s.nextSlot++ {
		s.scheduleSlot(s.nextSlot)
		s.loop.runUntil(s.genesis.Add(time.Duration(s.nextSlot+1)*s.slot - 1))
	}
}

// EpochReport is the state of the network at an epoch's end.
type EpochReport struct {
	Epoch types.Epoch
	// HeadSlot is the highest head slot; Heads the distinct heads.
	HeadSlot types.Slot
	Heads    int
	// Justified and Finalized are the lowest epochs among the nodes.
	Justified, Finalized types.Epoch
	// Participation is the share of active balance that attested the
	// previous epoch's target, by the first node's head state (0 before
	// the state has a previous epoch to count).
	Participation float64
	// Gossip counts the messages delivered so far.
	Gossip uint64
	// Shard is the shard side (nil in a beacon-only run).
	Shard *ShardReport `json:",omitempty"`
	// FakeBLS says that no signature was verified (Config.FakeBLS).
	FakeBLS bool
}

// String formats r as one line.
func (r EpochReport) String() string {
	line := fmt.Sprintf("epoch %3d  head slot %4d  heads %d  justified %3d  finalized %3d  participation %5.1f%%  gossip %d",
		r.Epoch, r.HeadSlot, r.Heads, r.Justified, r.Finalized, 100*r.Participation, r.Gossip)
	if r.Shard != nil {
		line += "  " + r.Shard.String()
	}
	if r.FakeBLS {
		line += "  FAKE BLS (signatures not verified)"
	}
	return line
}

// Report returns the network's state now, labelled as epoch.
func (s *Sim) Report(epoch types.Epoch) EpochReport {
	r := EpochReport{Epoch: epoch, Gossip: s.stats.Gossip, FakeBLS: s.cfg.FakeBLS}
	heads := make(map[types.Root]bool)
	for i, n := range s.nodes {
		head, slot := n.chain.Head()
		heads[head] = true
		r.HeadSlot = max(r.HeadSlot, slot)
		j, f := n.chain.Justified().Epoch, n.chain.Finalized().Epoch
		if i == 0 || j < r.Justified {
			r.Justified = j
		}
		if i == 0 || f < r.Finalized {
			r.Finalized = f
		}
	}
	r.Heads = len(heads)
	r.Participation = s.tr.PreviousEpochParticipation(s.nodes[0].chain.HeadState())
	r.Shard = s.shardReport()
	return r
}

// Result is the outcome of Run.
type Result struct {
	Epochs []EpochReport
	// TraceHash is the hash over every delivered message and fired timer.
	TraceHash [32]byte
	// StateRoots are the nodes' head state roots at the end.
	StateRoots []types.Root
	// SimTime is the virtual time simulated; Wall the real time it took.
	SimTime, Wall time.Duration
	// Events counts the events run; Records the trace records.
	Events, Records uint64
	Stats           Stats
	// Caches counts the hits and misses of the caches the nodes share.
	Caches CacheStats
	// FakeBLS says that no signature was verified (Config.FakeBLS).
	FakeBLS bool
	// ScoredOut are the peers disconnected for their score (score.go).
	ScoredOut []ScoreEvent
}

// TraceHex is the trace hash in hex.
func (r *Result) TraceHex() string { return hex.EncodeToString(r.TraceHash[:]) }

// Speedup is simulated time over wall time.
func (r *Result) Speedup() float64 {
	if r.Wall <= 0 {
		return 0
	}
	return r.SimTime.Seconds() / r.Wall.Seconds()
}

// Run simulates cfg.Epochs epochs, calling onEpoch (if not nil) after each,
// and returns the result. It stops early with ctx's error.
//
// Epoch e's report is taken at the end of slot (e+1)·SLOTS_PER_EPOCH, the
// first slot of the next epoch: the block of that slot is the first whose
// state went through epoch e's closing transition, so the report includes
// the justification and finality that transition decided. A run of N
// epochs thus simulates N·SLOTS_PER_EPOCH+1 slots and ends with the first
// slot of epoch N (as sim/testnet's runs end at the first slot of epoch
// N). If that slot's proposer misses it, the transition shows only in the
// next block.
func (s *Sim) Run(ctx context.Context, onEpoch func(EpochReport)) (*Result, error) {
	wallStart := time.Now() // measurement only: never feeds the simulation
	res := &Result{FakeBLS: s.cfg.FakeBLS}
	spe := types.Slot(s.pcfg.SlotsPerEpoch)
	for e := range s.cfg.Epochs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("simulate: %w", err)
		}
		s.RunSlots(types.Slot(e+1) * spe)
		r := s.Report(types.Epoch(e))
		res.Epochs = append(res.Epochs, r)
		if onEpoch != nil {
			onEpoch(r)
		}
	}
	for _, n := range s.nodes {
		root, err := n.chain.HeadState().HashTreeRoot()
		if err != nil {
			return nil, fmt.Errorf("simulate: hash node %d state: %w", n.index, err)
		}
		res.StateRoots = append(res.StateRoots, root)
	}
	var err error
	if res.StateRoots, err = s.shardStateRoots(res.StateRoots); err != nil {
		return nil, err
	}
	res.TraceHash, res.Records = s.trace.sum(), s.trace.count
	res.SimTime = time.Duration(s.nextSlot) * s.slot
	res.Wall = time.Since(wallStart)
	res.Events, res.Stats, res.Caches = s.loop.events, s.stats, s.shared.stats()
	res.ScoredOut = s.ScoredOut()
	return res, nil
}
