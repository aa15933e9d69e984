package bench

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/p2p"
	shardcore "github.com/shardlab/shardlab/shard/core"
	"github.com/shardlab/shardlab/sim/testnet"
)

// Run starts the testnet of cfg, drives it and returns the result of the
// measured window. The testnet is stopped before Run returns.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	tcfg := cfg.Testnet
	tcfg.TxRate, tcfg.Epochs = 0, 0
	tcfg.Pprof = tcfg.Pprof || cfg.CPUProfile != ""
	tn, err := testnet.New(tcfg, cfg.Log)
	if err != nil {
		return nil, fmt.Errorf("run benchmark: %w", err)
	}
	if err := tn.Start(ctx); err != nil {
		return nil, fmt.Errorf("run benchmark: %w", err)
	}
	defer tn.Stop()
	r := &runner{cfg: cfg, tn: tn, chain: tn.ChainConfig(), genesis: tn.GenesisTime()}
	return r.run(ctx)
}

// runner is one run on a started testnet.
type runner struct {
	cfg     Config
	tn      *testnet.Testnet
	chain   *params.Config
	genesis time.Time
	slot    time.Duration

	tr  *tracker
	sub *submitter
}

// Cap is the protocol's cap of a configuration: MAX_SHARD_TRANSACTIONS
// transactions per shard block, one block per shard and slot.
func Cap(shards uint64, slot time.Duration) float64 {
	return float64(params.MaxShardTransactions) * float64(shards) / slot.Seconds()
}

func (r *runner) run(ctx context.Context) (*Result, error) {
	r.slot = time.Duration(r.chain.SecondsPerSlot) * time.Second
	clients := make(map[uint64]*testnet.Client)
	var shardNodes []*testnet.Client
	shardOf := make(map[uint64]int)
	var beacon *testnet.Client
	var procs []*testnet.Process
	for _, p := range r.tn.Processes() {
		procs = append(procs, p)
		c := testnet.NewClient(p.Spec.URL())
		switch p.Spec.Role {
		case testnet.RoleBeacon:
			if beacon == nil {
				beacon = c
			}
		case testnet.RoleShard:
			shardNodes = append(shardNodes, c)
			for _, s := range p.Spec.Shards {
				if _, ok := clients[s]; !ok {
					clients[s], shardOf[s] = c, len(shardNodes)-1
				}
			}
		}
	}
	shards := make([]uint64, 0, len(clients))
	for s := range clients {
		shards = append(shards, s)
	}
	slices.Sort(shards)
	loaded := r.chain.ShardCount
	if n := r.cfg.LoadShards; n > 0 && n < uint64(len(shards)) {
		shards, loaded = shards[:n], n
	}
	domain, err := r.txDomain(ctx, beacon)
	if err != nil {
		return nil, err
	}

	capTPS := Cap(loaded, r.slot)
	if f := r.cfg.CapFraction; f > 0 {
		r.cfg.Rate = f * capTPS
	}
	peak := r.cfg.Rate
	if r.cfg.FindMax {
		peak = max(peak, 2*capTPS)
	}
	if r.cfg.BurstFactor > 0 {
		peak *= r.cfg.BurstFactor
	}
	// Two seconds of the peak rate signed ahead, at least 1,000 per lane.
	buffer := max(1000, int(2*peak)/r.cfg.Lanes)
	gen := newGenerator(r.chain, r.cfg.Workload, domain, shards, r.cfg.Lanes, buffer)
	genCtx, stopGen := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopGen()
	wg.Go(func() { gen.run(genCtx) })

	// The load starts at slot 1, when the shard chains have a head to
	// build on.
	start := r.genesis.Add(r.slot)
	if err := sleepUntil(ctx, start); err != nil {
		return nil, err
	}
	r.tr = newTracker(start)
	r.tr.setChain(r.slot, r.chain.SlotsPerEpoch, r.chain.Shard.ChallengeWindow)
	obsCtx, stopObs := context.WithCancel(ctx)
	defer stopObs()
	obs := &observer{tr: r.tr, log: r.cfg.Log, shardNodes: shardNodes, shardOf: shardOf, beacon: beacon,
		genesis: r.genesis, slot: r.slot, slotsPerEpoch: r.chain.SlotsPerEpoch}
	wg.Go(func() { obs.run(obsCtx, r.slot/pollsPerSlot) })
	res := &sampler{procs: procs}
	wg.Go(func() { res.run(obsCtx, time.Second) })

	r.sub = newSubmitter(gen, r.tr, clients, 2*r.slot, r.cfg.BatchSize, r.cfg.Flush)
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	wg.Go(func() { r.sub.run(loadCtx) })
	prog := &progress{}
	wg.Go(func() { r.report(obsCtx, prog) })

	// The rate schedule; the window starts after it settles.
	var steps []Step
	held := r.cfg.Rate
	if r.cfg.FindMax {
		prog.set("find-max", 0)
		steps, held, err = r.findMax(ctx, capTPS, prog)
		if err != nil {
			return nil, err
		}
	} else if r.cfg.Ramp > 0 {
		prog.set("ramp", r.cfg.Ramp)
		if err := r.ramp(ctx); err != nil {
			return nil, err
		}
	}
	r.sub.setRate(held)
	wctl, stopBursts := context.WithCancel(ctx)
	if r.cfg.BurstFactor > 0 {
		wg.Go(func() { r.bursts(wctl, held) })
	}
	prog.set("warm-up", r.cfg.Warmup)
	if err := sleepFor(ctx, r.cfg.Warmup); err != nil {
		stopBursts()
		return nil, err
	}
	from := time.Now()
	before := res.read(ctx)
	machineBefore, machineOK := readMachineCPU()
	var prof *profiler
	if r.cfg.CPUProfile != "" {
		if prof, err = newProfiler(r.cfg.CPUProfile); err != nil {
			stopBursts()
			return nil, err
		}
		prof.start(ctx, procs, r.cfg.Duration)
	}
	prog.set("measure", r.cfg.Duration)
	if err := sleepFor(ctx, r.cfg.Duration); err != nil {
		stopBursts()
		if prof != nil {
			prof.stop()
		}
		return nil, err
	}
	to := time.Now()
	after := res.read(ctx)
	machineAfter, machineOK2 := readMachineCPU()
	stopBursts()
	stopLoad()
	var profiles []Profile
	var profNotes []string
	if prof != nil {
		profiles, profNotes = prof.stop()
	}

	prog.set("drain", r.cfg.Drain)
	r.drain(ctx, r.tr.at(from), r.tr.at(to))
	stopObs()
	stopGen()
	wg.Wait()

	out := r.result(capTPS, from, to, held, steps)
	out.Point.Shards = loaded
	out.Profiles, out.Notes = profiles, append(out.Notes, profNotes...)
	ss := r.tr.slotTotals(r.beaconSlot(from)+1, r.beaconSlot(to))
	out.ShardSlots, out.EmptySlots, out.FullBlocks = ss.blocks+ss.empty, ss.empty, ss.full
	stats, netOK := res.usage(before, after)
	out.Processes = stats
	for _, p := range out.Processes {
		out.CPUSeconds += p.CPUSeconds
		out.NetBytes += p.NetOutBytes
	}
	out.BenchCPUSeconds = after.self - before.self
	if !netOK {
		out.Notes = append(out.Notes, "network bytes incomplete: some node's metrics endpoint gave no "+p2p.BandwidthMetric)
	}
	w := to.Sub(from).Seconds()
	out.CPUUtil = (out.CPUSeconds + out.BenchCPUSeconds) / (w * float64(runtime.NumCPU()))
	if machineOK && machineOK2 {
		out.MachineCPUUtil = machineBefore.busy(machineAfter)
	}
	if n := out.Rates.Included * w; n > 0 {
		out.CPUPer1000 = out.CPUSeconds / n * 1000
		out.NetBytesPerTx = float64(out.NetBytes) / n
	}
	out.Bottleneck = bottleneck(out)
	return out, nil
}

// beaconSlot is the slot at t.
func (r *runner) beaconSlot(t time.Time) uint64 {
	if t.Before(r.genesis) {
		return 0
	}
	return uint64(t.Sub(r.genesis) / r.slot)
}

// txDomain learns the network's transaction domain from a beacon node
// (docs/api.md), retrying while its API comes up.
func (r *runner) txDomain(ctx context.Context, c *testnet.Client) (shardcore.TxDomain, error) {
	var last error
	for range 60 {
		d, err := c.TxDomain(ctx, r.chain)
		if err == nil {
			return d, nil
		}
		last = err
		if err := sleepFor(ctx, 500*time.Millisecond); err != nil {
			return shardcore.TxDomain{}, err
		}
	}
	return shardcore.TxDomain{}, last
}

// ramp raises the rate linearly to cfg.Rate over cfg.Ramp.
func (r *runner) ramp(ctx context.Context) error {
	begin := time.Now()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		el := time.Since(begin)
		if el >= r.cfg.Ramp {
			return nil
		}
		r.sub.setRate(r.cfg.Rate * el.Seconds() / r.cfg.Ramp.Seconds())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// bursts multiplies the rate by the burst factor periodically.
func (r *runner) bursts(ctx context.Context, base float64) {
	for {
		if sleepFor(ctx, r.cfg.BurstEvery-r.cfg.BurstLength) != nil {
			return
		}
		r.sub.setRate(base * r.cfg.BurstFactor)
		err := sleepFor(ctx, r.cfg.BurstLength)
		r.sub.setRate(base)
		if err != nil {
			return
		}
	}
}

// maxSteps bounds find-max's search.
const maxSteps = 16

// findMax raises the rate step by step while it is sustainable and
// returns the steps and the highest sustainable rate (the first rate when
// none was).
func (r *runner) findMax(ctx context.Context, capTPS float64, prog *progress) ([]Step, float64, error) {
	step := r.cfg.Step
	if step <= 0 {
		// One epoch, at least 8 slots (short epochs of small sweep points).
		step = time.Duration(max(r.chain.SlotsPerEpoch, 8)) * r.slot
	}
	bound := r.cfg.MaxP99
	if bound <= 0 {
		bound = 4 * r.slot
	}
	rate := r.cfg.Rate
	if rate <= 0 {
		rate = capTPS / 8
	}
	var steps []Step
	best := 0.0
	for range maxSteps {
		r.sub.setRate(rate)
		prog.set(fmt.Sprintf("find-max %.0f tx/s", rate), step)
		begin := time.Now()
		if err := sleepFor(ctx, step); err != nil {
			return nil, 0, err
		}
		// Judge the step after two slots (the pools fill, blocks follow).
		s := r.tr.step(r.tr.at(begin.Add(2*r.slot)), r.tr.at(time.Now()))
		st := Step{Rate: rate, Offered: s.offered, Accepted: s.accepted, Included: s.included, P99: s.p99, Sustainable: true}
		switch {
		case s.accepted < 0.95*s.offered:
			st.Sustainable, st.Why = false, fmt.Sprintf("accepted %.0f of %.0f offered tx/s", s.accepted, s.offered)
		case s.included < 0.95*s.offered:
			st.Sustainable, st.Why = false, fmt.Sprintf("included %.0f of %.0f offered tx/s", s.included, s.offered)
		case s.p99 > bound.Seconds():
			st.Sustainable, st.Why = false, fmt.Sprintf("p99 inclusion %.1fs above %.1fs", s.p99, bound.Seconds())
		}
		steps = append(steps, st)
		r.cfg.Log.Info("find-max step", "rate", rate, "offered", s.offered, "included", s.included, "p99", s.p99, "ok", st.Sustainable)
		if !st.Sustainable {
			break
		}
		best = rate
		rate *= r.cfg.StepFactor
	}
	if best == 0 {
		best = steps[0].Rate
	}
	if n := len(steps); !steps[n-1].Sustainable {
		// The failed step overfilled the pools: let the nodes drain them
		// before holding the best rate, so that the window measures it
		// and not the recovery.
		r.sub.setRate(0)
		prog.set("find-max recovery", step)
		if err := sleepFor(ctx, step); err != nil {
			return nil, 0, err
		}
	}
	return steps, best, nil
}

// drain follows the nodes until every transaction of the window that was
// included is finalized and, if cross-shard, claimed, or cfg.Drain passes.
func (r *runner) drain(ctx context.Context, from, to int64) {
	end := time.Now().Add(r.cfg.Drain)
	for time.Now().Before(end) {
		if sleepFor(ctx, r.slot) != nil {
			return
		}
		if r.tr.settled(from, to) {
			return
		}
	}
}

// settled reports whether every included transaction offered in [from,
// to) is finalized and, if cross-shard, claimed.
func (t *tracker) settled(from, to int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range t.all {
		if r.offered < from || r.offered >= to || r.included == never {
			continue
		}
		if r.finalized == never || (r.cross() && r.claimed == never) {
			return false
		}
	}
	return true
}

// result computes the window's figures.
func (r *runner) result(capTPS float64, from, to time.Time, held float64, steps []Step) *Result {
	recs, rej, timeline := r.tr.snapshot()
	c, rates, lat := cohort(recs, r.tr.at(from), r.tr.at(to), r.tr.chain)
	mode := "fixed"
	switch {
	case r.cfg.FindMax:
		mode = "find-max"
	case r.cfg.Ramp > 0:
		mode = "ramp"
	}
	tc := r.cfg.Testnet
	out := &Result{
		Point: Point{Shards: r.chain.ShardCount, ChainShards: r.chain.ShardCount, SlotsPerEpoch: r.chain.SlotsPerEpoch, Engine: "testnet", SlotSeconds: r.chain.SecondsPerSlot, CrossShard: r.cfg.Workload.CrossShard,
			Mode: mode, Rate: r.cfg.Rate, Accounts: r.sub.gen.accounts, Zipf: r.cfg.Workload.Zipf, BeaconNodes: tc.BeaconNodes,
			ShardNodes: tc.ShardNodes, Validators: tc.Validators, Preset: tc.Preset, Warmup: r.cfg.Warmup.Seconds(), Duration: r.cfg.Duration.Seconds()},
		Cap: capTPS, ClaimCap: ClaimCap(claimShards(r.chain.ShardCount, r.cfg.LoadShards), r.slot), WindowStart: from.Sub(r.tr.start).Seconds(), WindowEnd: to.Sub(r.tr.start).Seconds(), HeldRate: held,
		Rates: rates, Counts: c, Latency: lat, Rejections: rej, Steps: steps, Timeline: timeline,
		SubmitLagMax: r.sub.lagMax.Load(), Starved: r.sub.starved.Load(), BatchRTT: r.sub.batchRTT(),
	}
	return out
}

// ClaimCap is the protocol's cap on cross-shard claims of a configuration:
// MAX_SHARD_CLAIMS claims per shard block, one block per shard and slot.
func ClaimCap(shards uint64, slot time.Duration) float64 {
	return float64(params.MaxShardClaims) * float64(shards) / slot.Seconds()
}

// claimShards is the number of shards that claim the load's receipts:
// every shard, but with a single loaded shard (FitShards) only the others.
func claimShards(chain, loaded uint64) uint64 {
	if loaded == 1 && chain > 1 {
		return chain - 1
	}
	return chain
}

// bottleneck names what saturated first; after find-max, also why the
// next rate was not sustainable.
func bottleneck(r *Result) string {
	b := saturated(r)
	if n := len(r.Steps); n > 0 && !r.Steps[n-1].Sustainable {
		b += fmt.Sprintf("; find-max: %.0f tx/s was not sustainable (%s)", r.Steps[n-1].Rate, r.Steps[n-1].Why)
	}
	return b
}

// saturated names the resource that saturated first at the held rate.
func saturated(r *Result) string {
	held := r.HeldRate
	crossIncluded := float64(0)
	if r.Counts.Included > 0 {
		crossIncluded = r.Rates.Included * float64(r.Counts.CrossShard) / float64(max(r.Counts.Offered, 1))
	}
	switch {
	case r.CPUUtil >= 0.9:
		return fmt.Sprintf("CPU: nodes and benchmark used %.0f%% of the machine's cores", 100*r.CPUUtil)
	case r.MachineCPUUtil >= 0.9:
		return fmt.Sprintf("CPU: the machine's cores were %.0f%% busy in the window, the nodes and benchmark using %.0f%% of them: other processes took the rest",
			100*r.MachineCPUUtil, 100*r.CPUUtil)
	case r.Rates.Included >= 0.95*r.Cap:
		return fmt.Sprintf("protocol cap: %.0f of %.0f tx/s included", r.Rates.Included, r.Cap)
	case r.Rates.Offered < 0.95*held:
		return fmt.Sprintf("submission: offered %.0f of the %.0f tx/s asked (generator or lanes behind; batch round trip p50 %.2fs, p99 %.2fs)",
			r.Rates.Offered, held, r.BatchRTT.P50, r.BatchRTT.P99)
	case r.Rates.Accepted < 0.95*r.Rates.Offered:
		return fmt.Sprintf("admission: nodes accepted %.0f of %.0f offered tx/s (%s)", r.Rates.Accepted, r.Rates.Offered, topReason(r.Rejections))
	case r.Rates.Included < 0.9*r.Rates.Accepted:
		return fmt.Sprintf("inclusion: blocks included %.0f of %.0f accepted tx/s (%d of %d shard slots without a block, %d full blocks)",
			r.Rates.Included, r.Rates.Accepted, r.EmptySlots, r.ShardSlots, r.FullBlocks)
	case r.ClaimCap > 0 && crossIncluded > 0.95*r.ClaimCap:
		return fmt.Sprintf("claim cap: %.0f cross-shard tx/s included, the blocks claim at most %.0f/s (MAX_SHARD_CLAIMS x shards / slot)", crossIncluded, r.ClaimCap)
	case crossIncluded > 0 && r.Rates.Claimed < 0.9*crossIncluded:
		return fmt.Sprintf("claims: %.0f of %.0f cross-shard tx/s claimed by the end of the drain", r.Rates.Claimed, crossIncluded)
	}
	return "none: the offered load was below every limit"
}

func topReason(m map[string]uint64) string {
	best, n := "none", uint64(0)
	for k, v := range m {
		if v > n || (v == n && k < best) {
			best, n = k, v
		}
	}
	return best
}

func sleepFor(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func sleepUntil(ctx context.Context, at time.Time) error { return sleepFor(ctx, time.Until(at)) }
