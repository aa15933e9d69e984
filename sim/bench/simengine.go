package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
	"github.com/shardlab/shardlab/sim/netsim"
)

// Engines of `bench throughput`.
const (
	EngineTestnet = "testnet"
	EngineSim     = "sim"
)

// simTick is how often the simulated load hands out its due transactions.
const simTick = 10 * time.Millisecond

// RunSim runs the benchmark of cfg on the deterministic simulator
// (sim/netsim) instead of real processes: the same network (beacon and
// shard nodes, chain, shards) on virtual time, the same workload
// (generator, accounts, Zipf, cross-shard fraction) submitted to the node
// serving each sender's shard, and the same tracker, window and figures,
// read from the simulated nodes every 1/pollsPerSlot slot. It measures the
// protocol's throughput and latency with 50±20 ms links and no CPU limit:
// no CPU, memory or network bytes, and no find-max, ramp or bursts (fixed
// rate only). The result depends only on cfg (seeds included). With
// cfg.CPUProfile the simulator's own CPU profile of the whole run is
// written there (bench.pprof).
func RunSim(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.ValidateSim(); err != nil {
		return nil, err
	}
	chain, err := simChain(cfg)
	if err != nil {
		return nil, err
	}
	tn := cfg.Testnet
	ncfg := netsim.DefaultConfig()
	ncfg.Chain, ncfg.Nodes, ncfg.Validators, ncfg.SlotTime, ncfg.Seed = chain, tn.BeaconNodes, tn.Validators, tn.SlotTime, cfg.Workload.Seed
	ncfg.Shard = netsim.ShardConfig{Nodes: tn.ShardNodes, Shards: tn.Shards}
	if err := ncfg.Validate(); err != nil {
		return nil, fmt.Errorf("run benchmark on the simulator: %w", err)
	}
	s, err := netsim.New(ncfg)
	if err != nil {
		return nil, fmt.Errorf("run benchmark on the simulator: %w", err)
	}
	defer s.Close()
	r, err := newSimRun(s, cfg)
	if err != nil {
		return nil, err
	}
	// The simulation runs in this process: its CPU profile is the
	// benchmark's own (bench.pprof), over the whole run, since the window
	// is virtual time.
	var prof *profiler
	if cfg.CPUProfile != "" {
		if prof, err = newProfiler(cfg.CPUProfile); err != nil {
			return nil, fmt.Errorf("run benchmark on the simulator: %w", err)
		}
		prof.start(ctx, nil, 0)
	}
	wallStart := time.Now() // reported only: never feeds the simulation
	err = r.run(ctx)
	var profiles []Profile
	var profNotes []string
	if prof != nil {
		profiles, profNotes = prof.stop()
	}
	if err != nil {
		return nil, err
	}
	out := r.result()
	out.Profiles, out.Notes = profiles, append(out.Notes, profNotes...)
	out.Notes = append(out.Notes, fmt.Sprintf("engine sim: deterministic simulator (sim/netsim), %v of virtual time in %.1fs of wall time: "+
		"protocol-level throughput and latency with %s links; no CPU, memory or network bytes measured", r.end.Sub(s.GenesisTime()), time.Since(wallStart).Seconds(), ncfg.Latency))
	return out, nil
}

// ValidateSim checks cfg for RunSim: Validate, and a fixed rate. A CPU
// profile (Config.CPUProfile) is of the simulator itself: where its wall
// time goes, not the nodes' CPU on a real network.
func (c Config) ValidateSim() error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.FindMax || c.Ramp > 0 || c.BurstFactor > 0 {
		return fmt.Errorf("%w: engine sim: a fixed --rate or --cap-fraction only (find-max, ramp and bursts pace by the wall clock)", ErrInvalidConfig)
	}
	return nil
}

// simChain is the chain config of cfg's network: the preset, or the
// testnet's chain config file (FitShards), with the shard count and slot
// time netsim sets.
func simChain(cfg Config) (*params.Config, error) {
	if f := cfg.Testnet.ChainConfig; f != "" {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("engine sim: chain config: %w", err)
		}
		c, err := params.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("engine sim: chain config %s: %w", f, err)
		}
		return c, nil
	}
	c, err := params.Preset(cfg.Testnet.Preset)
	if err != nil {
		return nil, fmt.Errorf("engine sim: %w", err)
	}
	return c, nil
}

// simRun is one benchmark run on a simulation; everything runs in the
// simulation's callbacks, on virtual time.
type simRun struct {
	cfg    Config
	s      *netsim.Sim
	chain  *params.Config
	slot   time.Duration
	shards []uint64 // loaded
	loaded uint64
	gen    *generator
	tr     *tracker

	start, from, to, end time.Time
	offered              float64 // transactions due so far (fractional)
	taken                uint64

	fetched map[uint64]uint64
	linked  map[uint64]uint64
}

func newSimRun(s *netsim.Sim, cfg Config) (*simRun, error) {
	chain := s.ChainConfig()
	domain, err := s.TxDomain()
	if err != nil {
		return nil, fmt.Errorf("run benchmark on the simulator: %w", err)
	}
	loaded := chain.ShardCount
	if n := cfg.LoadShards; n > 0 && n < loaded {
		loaded = n
	}
	shards := make([]uint64, loaded)
	for i := range shards {
		shards[i] = uint64(i)
	}
	r := &simRun{cfg: cfg, s: s, chain: chain, slot: s.SlotDuration(), shards: shards, loaded: loaded,
		fetched: make(map[uint64]uint64), linked: make(map[uint64]uint64)}
	if f := cfg.CapFraction; f > 0 {
		r.cfg.Rate = f * Cap(loaded, r.slot)
	}
	r.gen = newGenerator(chain, cfg.Workload, domain, shards, 1, 1)
	// The load starts at slot 1, as on the testnet.
	r.start = s.GenesisTime().Add(r.slot)
	r.from = r.start.Add(cfg.Warmup)
	r.to = r.from.Add(cfg.Duration)
	r.tr = newTracker(r.start)
	r.tr.setChain(r.slot, chain.SlotsPerEpoch, chain.Shard.ChallengeWindow)
	return r, nil
}

// run schedules the load and the observer and runs the simulation slot by
// slot until the window's transactions settle or the drain ends.
func (r *simRun) run(ctx context.Context) error {
	g := r.s.GenesisTime()
	for t := r.start; t.Before(r.to); t = t.Add(simTick) {
		r.s.At(t.Sub(g), r.submitDue)
	}
	drainEnd := r.to.Add(r.cfg.Drain)
	for t := r.start; !t.After(drainEnd.Add(r.slot)); t = t.Add(r.slot / pollsPerSlot) {
		r.s.At(t.Sub(g), r.observe)
	}
	for slot := types.Slot(0); ; slot++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("run benchmark on the simulator: %w", err)
		}
		r.s.RunSlots(slot)
		r.end = g.Add(time.Duration(slot+1) * r.slot)
		r.progress()
		if !r.end.Before(r.to) && (!r.end.Before(drainEnd) || r.tr.settled(r.tr.at(r.from), r.tr.at(r.to))) {
			return nil
		}
	}
}

// progress reports the virtual time to cfg.Progress.
func (r *simRun) progress() {
	if r.cfg.Progress == nil {
		return
	}
	p := Progress{Phase: "sim warm-up", Elapsed: r.end.Sub(r.start), Total: r.cfg.Warmup, Rate: r.cfg.Rate}
	switch {
	case !r.end.Before(r.to):
		p.Phase, p.Elapsed, p.Total, p.Rate = "sim drain", r.end.Sub(r.to), r.cfg.Drain, 0
	case !r.end.Before(r.from):
		p.Phase, p.Elapsed, p.Total = "sim measure", r.end.Sub(r.from), r.cfg.Duration
	}
	p.Offered, p.Included, p.Rejected = r.tr.totals()
	r.cfg.Progress(p)
}

// submitDue offers the transactions due by now at the fixed rate.
func (r *simRun) submitDue() {
	now := r.s.Now()
	r.offered = r.cfg.Rate * now.Add(simTick).Sub(r.start).Seconds()
	for float64(r.taken) < r.offered {
		t := r.gen.draw()
		if t == nil {
			return // every drawn account rests; the load catches up later
		}
		shardcore.SignTx(r.gen.domain, &t.tx, r.gen.key(acctKey{uint64(t.tx.Shard), t.tx.From}))
		r.taken++
		rec := r.tr.offer(t, now, r.cfg.Rate)
		err := r.s.SubmitTransaction(&t.tx)
		switch {
		case err == nil:
			r.tr.result(rec, now, txAccepted, "")
		case errors.Is(err, netsim.ErrTxRefused):
			r.tr.result(rec, now, txRejected, err.Error())
			k := acctKey{uint64(t.tx.Shard), t.tx.From}
			if r.gen.rest(k, t.gen) {
				// Resume at the node's nonce two slots later, as the
				// testnet load does.
				r.s.At(now.Add(2*r.slot).Sub(r.s.GenesisTime()), func() {
					nonce, _ := r.s.ShardNonce(k.shard, k.index)
					r.gen.resume(k, nonce)
				})
			}
		default:
			r.tr.result(rec, now, txFailed, err.Error())
		}
	}
}

// observe reads the shard chains, crosslinks and finality, as the
// testnet's observer polls the nodes' API.
func (r *simRun) observe() {
	now := r.s.Now()
	beaconSlot := uint64(now.Sub(r.s.GenesisTime()) / r.slot)
	for shard := range r.chain.ShardCount {
		head, ok := r.s.ShardHeadSlot(shard)
		if !ok {
			continue
		}
		for slot := r.fetched[shard] + 1; slot <= head; slot++ {
			if b, ok := r.s.ShardBlock(shard, slot); ok {
				r.tr.block(shard, slot, b, now)
			} else if slot < head {
				r.tr.emptySlot(slot)
			}
			r.fetched[shard] = slot
		}
		if hs, ok := r.s.CrosslinkedSlot(shard); ok && hs > r.linked[shard] {
			r.linked[shard] = hs
			r.tr.crosslink(shard, hs, beaconSlot, now)
		}
	}
	if e := r.s.FinalizedEpoch(); e > 0 {
		r.tr.finalized(e*r.chain.SlotsPerEpoch, now)
	}
}

// result computes the window's figures, as the testnet engine does.
func (r *simRun) result() *Result {
	recs, rej, timeline := r.tr.snapshot()
	c, rates, lat := cohort(recs, r.tr.at(r.from), r.tr.at(r.to), r.tr.chain)
	tn := r.cfg.Testnet
	out := &Result{
		Point: Point{Shards: r.loaded, ChainShards: r.chain.ShardCount, SlotsPerEpoch: r.chain.SlotsPerEpoch, Engine: EngineSim,
			SlotSeconds: r.chain.SecondsPerSlot, CrossShard: r.cfg.Workload.CrossShard, Mode: "fixed", Rate: r.cfg.Rate,
			Accounts: r.gen.accounts, Zipf: r.cfg.Workload.Zipf, BeaconNodes: tn.BeaconNodes, ShardNodes: tn.ShardNodes,
			Validators: tn.Validators, Preset: tn.Preset, Warmup: r.cfg.Warmup.Seconds(), Duration: r.cfg.Duration.Seconds()},
		Cap: Cap(r.loaded, r.slot), ClaimCap: ClaimCap(claimShards(r.chain.ShardCount, r.cfg.LoadShards), r.slot),
		WindowStart: r.from.Sub(r.start).Seconds(), WindowEnd: r.to.Sub(r.start).Seconds(), HeldRate: r.cfg.Rate,
		Rates: rates, Counts: c, Latency: lat, Rejections: rej, Timeline: timeline, SimTrace: fmt.Sprintf("%x", r.s.TraceHash()),
	}
	bs := func(t time.Time) uint64 { return uint64(t.Sub(r.s.GenesisTime()) / r.slot) }
	ss := r.tr.slotTotals(bs(r.from)+1, bs(r.to))
	out.ShardSlots, out.EmptySlots, out.FullBlocks = ss.blocks+ss.empty, ss.empty, ss.full
	out.Bottleneck = bottleneck(out)
	return out
}
