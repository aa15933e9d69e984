package statesim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/shard/chain"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// beaconRef is the latest beacon block: what shard blocks reference.
type beaconRef struct {
	slot  types.Slot
	root  types.Root
	state *types.BeaconState // the post-state; never modified
}

// shardRun is a run with the shard layer: the beacon chain in the shard
// fork, driven by statesim's proposer and attesters, and the shard node
// (shardNode) whose production handler proposes shard blocks, relays
// claims and proves fraud.
type shardRun struct {
	*run
	chain *params.Config
	fv    shardcore.FraudVerifier // of the genesis; tr carries it
	node  *shardNode
	// st is the beacon head state advanced to the current slot; ref is the
	// latest beacon block. st may be ref.state until it must change (own).
	st      *types.BeaconState
	ref     *beaconRef
	wl      *workload
	fraud   *fraudScenario
	pending []*pendingProof
	workers int
	slot    types.Slot // the slot being run
	// history[slot] is the canonical beacon state's current crosslinks at
	// slot (for the invariant checks of the result).
	history [][]types.Crosslink
	// shards are the run's per-shard counts.
	shards []shardCounts

	initial     uint64 // genesis total of all account balances
	blocks      int    // beacon blocks
	crosslinked []bool
	fraudProofs int
	missed      int // slots without a beacon block, over the run
	consErr     error
	consDiff    int64
	slots       []SlotCheck
	sacc        shardAcc
}

// shardCounts are what the run counts of one shard.
type shardCounts struct {
	// missed are the slots without a block (a slashed proposer).
	missed []types.Slot
	// Over the current epoch: claims included and their summed latency.
	epochClaims, epochLatency uint64
}

// shardAcc accumulates the shard layer's timings and counts over an epoch.
type shardAcc struct {
	slotTotal, workload, relay, shards, build time.Duration
	// missed counts slots without a beacon block, shardMissed shard slots
	// without a block (both for want of an unslashed proposer).
	missed, shardMissed int
}

// ErrConservation is returned when the shard layer's balances plus the
// unclaimed receipts stop adding up to the genesis total.
var ErrConservation = errors.New("shard balances are not conserved")

// runShards is Run with the shard layer.
func runShards(ctx context.Context, cfg Config, onEpoch func(EpochReport) error) (*Result, error) {
	chain := cfg.ChainConfig()
	cfg.Chain = chain
	r := &run{
		cfg: cfg,
		tr:  core.New(chain),
		rng: rand.New(rand.NewPCG(cfg.Seed, seedStream)),
	}
	t0 := time.Now()
	genesis, err := r.genesis()
	if err != nil {
		return nil, err
	}
	// The fraud-proof verifier, and every transaction signature, is bound
	// to this genesis (docs/protocol.md §2.5).
	fv, err := shardcore.NewFraudVerifier(genesis)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	r.tr.WithShardFork(fv)
	node, err := newShardNode(r.tr, genesis, r.keys, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	defer node.close()
	s := &shardRun{
		run:         r,
		chain:       chain,
		fv:          fv,
		node:        node,
		workers:     runtime.GOMAXPROCS(0),
		crosslinked: make([]bool, chain.ShardCount),
		shards:      make([]shardCounts, chain.ShardCount),
	}
	node.onPublish = s.published
	node.onFraudBuilt = s.fraudBuilt
	s.wl = newWorkload(chain, fv.TxDomain(chain), &cfg, s.workers)
	for _, g := range node.genesis {
		s.initial += balance(g)
	}
	if cfg.FraudAt != 0 {
		s.fraud = &fraudScenario{slot: types.Slot(cfg.FraudAt), report: FraudReport{Slot: cfg.FraudAt}}
	}
	root, err := genesis.HashTreeRoot()
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	hdr := genesis.LatestBlockHeader
	hdr.StateRoot = root
	s.ref = &beaconRef{slot: genesis.Slot, root: hdr.SigningRoot(), state: genesis}
	s.history = append(s.history, slices.Clone(genesis.CurrentCrosslinks))
	s.st = genesis
	res := &Result{Genesis: genesis, GenesisTime: time.Since(t0), HeadRoot: s.ref.root}
	if cfg.OutDir != "" {
		if r.out, err = newCaseWriter(cfg.OutDir, genesis); err != nil {
			return nil, err
		}
		if err := r.out.shardLayer(chain, node.genesis); err != nil {
			return nil, err
		}
	}

	start := time.Now()
	r.ep = epochAcc{start: start}
	if err := s.attest(0); err != nil {
		return nil, err
	}
	spe := chain.SlotsPerEpoch
	last := types.Slot(cfg.Epochs*spe - 1)
	for slot := types.Slot(0); slot <= last; slot++ {
		if slot > 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("simulate slot %d: %w", slot, err)
			}
			if err := s.runSlot(slot); err != nil {
				return nil, err
			}
			res.HeadRoot = s.ref.root
		}
		if (uint64(slot)+1)%spe != 0 {
			continue
		}
		if slot == last {
			res.Final = s.ref.state.Copy()
		}
		rep, err := s.endEpoch()
		if err != nil {
			return nil, err
		}
		res.Reports = append(res.Reports, rep)
		if onEpoch != nil {
			if err := onEpoch(rep); err != nil {
				return nil, err
			}
		}
		if s.consErr != nil {
			return nil, fmt.Errorf("simulate: %w", s.consErr)
		}
	}
	res.RunTime = time.Since(start)
	res.Blocks = s.blocks
	if res.Shard, err = s.result(s.st, last); err != nil {
		return nil, err
	}
	if r.out != nil {
		if err := r.out.finish(res.Final); err != nil {
			return nil, err
		}
		heads := make([]*st.ShardState, len(res.Shard.Chains))
		for i, c := range res.Shard.Chains {
			for _, b := range c.Blocks {
				if err := r.out.shardBlock(i, b); err != nil {
					return nil, err
				}
			}
			heads[i] = c.Head
		}
		if err := r.out.finishShards(heads); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// balance is the sum of a shard state's account balances.
func balance(s *st.ShardState) uint64 {
	var sum uint64
	for i := range s.Accounts {
		sum += uint64(s.Accounts[i].Balance)
	}
	return sum
}

// own makes s.st private (not the latest block's post-state) and returns it.
func (s *shardRun) own() *types.BeaconState {
	if s.st == s.ref.state {
		s.st = s.st.Copy()
	}
	return s.st
}

// runSlot runs one slot: the workload's transactions reach the shards'
// pools, the beacon block (unless its proposer is slashed) is imported by
// the node, the node's shard handler runs its slot (proposals, fraud
// proofs, the relayer), the committees attest, and the conservation check.
func (s *shardRun) runSlot(slot types.Slot) error {
	t0 := time.Now()
	s.slot = slot
	if s.st.Slot < slot {
		if err := s.tr.ProcessSlots(s.own(), slot); err != nil {
			return fmt.Errorf("simulate slot %d: %w", slot, err)
		}
	}
	s.node.startSlot(slot)
	for _, tx := range s.wl.next(slot) {
		if err := s.node.chains[tx.Shard].AddTransaction(tx); err != nil {
			return fmt.Errorf("simulate slot %d: shard %d pool: %w", slot, tx.Shard, err)
		}
	}
	t1 := time.Now()
	s.sacc.workload += t1.Sub(t0)
	produced, err := s.beaconBlock(slot)
	if err != nil {
		return err
	}
	claims, err := s.shardBlocks(slot)
	if err != nil {
		return err
	}
	t2 := time.Now()
	if err := s.attest(slot); err != nil {
		return err
	}
	s.ep.attest += time.Since(t2)
	if err := s.check(slot, produced, claims); err != nil {
		return err
	}
	s.history = append(s.history, slices.Clone(s.st.CurrentCrosslinks))
	s.ep.slots++
	s.sacc.slotTotal += time.Since(t0)
	return nil
}

// beaconBlock produces the beacon block of slot, with the pooled
// attestations and the fraud proofs in the node's beacon pool, and has the
// node import it with every signature verified. A slot whose proposer is
// slashed has no block (process_block_header would reject it).
func (s *shardRun) beaconBlock(slot types.Slot) (bool, error) {
	tr := s.tr
	pre := s.st
	proposer, err := tr.BeaconProposerIndex(pre)
	if err != nil {
		return false, fmt.Errorf("simulate slot %d: %w", slot, err)
	}
	if pre.Validators[proposer].Slashed {
		s.missed++
		s.sacc.missed++
		return false, nil
	}
	t0 := time.Now()
	proofs := s.node.beacon.FraudProofsForBlock(pre)
	atts := make([]*types.Attestation, len(s.pool))
	for i, p := range s.pool {
		atts[i] = p.att
	}
	b, next, err := validator.ProduceShardBeaconBlock(tr, pre, slot, s.keys, atts, graffiti(), proofs)
	if err != nil {
		return false, fmt.Errorf("simulate slot %d: %w", slot, err)
	}
	t1 := time.Now()
	if err := s.node.importBlock(b); err != nil {
		return false, fmt.Errorf("simulate slot %d: import block: %w", slot, err)
	}
	root, err := b.SigningRoot()
	if err != nil {
		return false, fmt.Errorf("simulate slot %d: %w", slot, err)
	}
	t2 := time.Now()
	if s.out != nil {
		if err := s.out.block(b); err != nil {
			return false, err
		}
	}
	if err := s.landProofs(slot, pre, next, proofs); err != nil {
		return false, err
	}
	s.noteInclusions(slot, b.Body.Attestations)
	s.prune(b.Body.Attestations, slot)
	s.ref = &beaconRef{slot: slot, root: root, state: next}
	s.st = next
	s.blocks++
	s.ep.blocks++
	s.ep.attestations += len(b.Body.Attestations)
	s.ep.propose += t1.Sub(t0)
	s.ep.verify += t2.Sub(t1)
	return true, nil
}

// shardBlocks runs the shard handler's slot start: the fisherman's queued
// proofs, every shard's proposer (shard/chain.Propose: the pooled
// transactions and claims on the shard's head, referencing the latest
// beacon block) and the relayer. It then reads the slot's blocks: a shard
// without one must have a slashed proposer (or be the fraud scenario's).
// It returns the number of claims the slot's blocks included.
func (s *shardRun) shardBlocks(slot types.Slot) (int, error) {
	t0 := time.Now()
	if f := s.fraud; f != nil && slot == f.slot {
		if err := s.publishFraud(slot); err != nil {
			return 0, err
		}
	}
	s.node.h.OnSlotStart(slot)
	s.node.silent = -1
	lastProposal := s.lastProposal(t0)
	t1 := time.Now()
	s.sacc.shards += t1.Sub(t0)
	s.sacc.build += lastProposal.Sub(t0)
	s.sacc.relay += t1.Sub(lastProposal)
	ref := s.ref
	included := 0
	for i, c := range s.node.chains {
		head := c.Head()
		if head.Header.Slot != slot {
			if !c.CanReference(slot, ref.slot) {
				continue // no beacon block recent enough to reference
			}
			p, err := shardcore.ShardProposerIndex(s.tr, ref.state, types.Shard(i), slot)
			if err != nil {
				return 0, fmt.Errorf("simulate slot %d: shard %d: %w", slot, i, err)
			}
			switch f := s.fraud; {
			case ref.state.Validators[p].Slashed:
				s.shards[i].missed = append(s.shards[i].missed, slot)
				s.sacc.shardMissed++
			case f != nil && f.published && slot == f.slot && types.Shard(i) == f.shard:
			default:
				return 0, fmt.Errorf("simulate slot %d: shard %d has no block (its head is at slot %d)", slot, i, head.Header.Slot)
			}
			continue
		}
		b, _, ok := c.Block(head.Root)
		if !ok {
			return 0, fmt.Errorf("simulate slot %d: shard %d's head block %s is not held", slot, i, head.Root)
		}
		sc := &s.shards[i]
		for _, cl := range b.Body.Claims {
			sc.epochClaims++
			sc.epochLatency += uint64(slot - cl.Receipt.SrcSlot)
			if f := s.fraud; f != nil && f.published && cl.Header.SigningRoot() == f.root {
				f.report.ReceiptsClaimed++
			}
		}
		included += len(b.Body.Claims)
	}
	return included, nil
}

// lastProposal is when the last shard block of the slot was proposed
// (the handler proposes, then relays), or from if none was.
func (s *shardRun) lastProposal(from time.Time) time.Time {
	if s.node.proposedAt.After(from) {
		return s.node.proposedAt
	}
	return from
}

// attest makes every committee of slot attest to the latest beacon block,
// voting as crosslink data root what the shard handler answers (the root of
// its shard's canonical headers in the crosslink's range), each member with
// probability Participation (drawn as in phase 0 runs). The complicit
// committee of the fraud scenario votes the fraudulent chain instead.
func (s *shardRun) attest(slot types.Slot) error {
	tr, st := s.tr, s.st
	coms, err := validator.SlotCommittees(tr, st, slot)
	if err != nil {
		return fmt.Errorf("simulate slot %d: %w", slot, err)
	}
	for _, sc := range coms {
		parts := s.ep.draw(s.rng, s.cfg.Participation, sc.Committee)
		if len(parts) == 0 {
			continue
		}
		data, err := validator.ProduceAttestationData(tr, st, s.ref.root, slot, sc.Shard, validator.WithDataRoot(s.node.h.DataRoot))
		if err != nil {
			return fmt.Errorf("simulate slot %d: %w", slot, err)
		}
		if f := s.fraud; f.complicitNow(sc.Shard, data.Crosslink, s.chain) {
			if parts, err = s.attestComplicit(slot, sc, parts); err != nil {
				return err
			}
			if len(parts) == 0 {
				continue
			}
		}
		a, err := validator.AggregateCommittee(tr, st, data, sc.Committee, parts, s.keys)
		if err != nil {
			return fmt.Errorf("simulate slot %d: %w", slot, err)
		}
		s.pool = append(s.pool, pooled{att: a, slot: slot})
	}
	return nil
}

// check verifies at the end of slot that the balances of every shard's
// head plus the unclaimed receipts of the canonical chains equal the
// genesis total, and that every shard's chain holds each receipt its head
// state's outbox nonces count.
func (s *shardRun) check(slot types.Slot, beaconBlock bool, claims int) error {
	var total, pending uint64
	chains := s.node.chains
	heads := make([]*st.ShardState, len(chains))
	for i, c := range chains {
		heads[i] = c.HeadState()
		total += balance(heads[i])
	}
	for src, c := range chains {
		for dst, d := range chains {
			if src == dst {
				continue
			}
			sent, claimed := heads[src].OutboxNonces[dst], d.Inbox(types.Shard(src))
			if claimed > sent {
				return fmt.Errorf("simulate slot %d: shard %d has claimed %d receipts from shard %d, which sent %d", slot, dst, claimed, src, sent)
			}
			recs := c.SentReceipts(types.Shard(dst), claimed, int(sent-claimed))
			if uint64(len(recs)) != sent-claimed {
				return fmt.Errorf("simulate slot %d: shard %d holds %d of its %d unclaimed receipts to shard %d", slot, src, len(recs), sent-claimed, dst)
			}
			for _, r := range recs {
				pending += uint64(r.Receipt.Amount)
			}
		}
	}
	diff := int64(total + pending - s.initial)
	if diff != 0 && s.consErr == nil {
		s.consDiff = diff
		s.consErr = fmt.Errorf("%w: at slot %d, balances + unclaimed receipts - genesis total = %+d Gwei", ErrConservation, slot, diff)
	}
	s.slots = append(s.slots, SlotCheck{Slot: slot, BeaconBlock: beaconBlock, ConservationDiff: diff, Claims: claims})
	return nil
}

// endEpoch runs the epoch processing at the end of the current epoch and
// returns its report with the shard layer's.
func (s *shardRun) endEpoch() (EpochReport, error) {
	st := s.own()
	slotTotal, slots := s.sacc.slotTotal, s.ep.slots
	rep, err := s.run.endEpoch(st)
	if err != nil {
		return rep, err
	}
	for i, c := range s.node.chains {
		if l := c.CrosslinkChain(st.CurrentCrosslinks[i], 1); len(l) > 0 && len(l[0].Headers) > 0 {
			s.crosslinked[i] = true
		}
	}
	s.noteWritten(st)
	if rep.Shard, err = s.layerReport(); err != nil {
		return rep, err
	}
	a := s.sacc
	rep.Timing.WorkloadMS = ms(a.workload)
	rep.Timing.RelayMS = ms(a.relay)
	rep.Timing.ShardMS = ms(a.shards)
	rep.Timing.ShardBuildMS = ms(a.build)
	rep.Timing.SlotMeanMS = 0
	if slots > 0 {
		rep.Timing.SlotMeanMS = ms(slotTotal) / float64(slots)
	}
	s.sacc = shardAcc{}
	return rep, nil
}

// layerReport describes the shard layer now (s.st is past the epoch
// processing) and resets the per-epoch counts.
func (s *shardRun) layerReport() (*ShardLayerReport, error) {
	rep := &ShardLayerReport{
		ConservationOK:   s.consErr == nil,
		ConservationDiff: s.consDiff,
		FraudProofs:      s.fraudProofs,
		MissedSlots:      s.sacc.missed,
		ShardSlotsMissed: s.sacc.shardMissed,
	}
	for i := range s.st.Validators {
		if s.st.Validators[i].Slashed {
			rep.Slashed++
		}
	}
	var latency uint64
	chains := s.node.chains
	for i, c := range chains {
		var claimed uint64
		for _, d := range chains {
			if d != c {
				claimed += d.Inbox(types.Shard(i))
			}
		}
		stats := c.Stats()
		head := c.Head()
		cur := s.st.CurrentCrosslinks[i]
		sc := &s.shards[i]
		sr := ShardReport{
			Shard:                uint64(i),
			HeadSlot:             uint64(head.Header.Slot),
			HeadRoot:             shortRoot(head.Root),
			CrosslinkEnd:         uint64(cur.EndEpoch),
			CrosslinkedStateRoot: shortRoot(crosslinkedStateRoot(c, cur)),
			Transactions:         stats.Transactions,
			ReceiptsSent:         stats.ReceiptsSent,
			ReceiptsClaimed:      claimed,
			ReceiptsPending:      stats.ReceiptsSent - claimed,
			EpochClaims:          sc.epochClaims,
		}
		if sc.epochClaims > 0 {
			sr.MeanClaimLatency = float64(sc.epochLatency) / float64(sc.epochClaims)
		}
		rep.Shards = append(rep.Shards, sr)
		rep.Transactions += sr.Transactions
		rep.ReceiptsSent += sr.ReceiptsSent
		rep.ReceiptsClaimed += claimed
		rep.EpochClaims += sc.epochClaims
		latency += sc.epochLatency
		sc.epochClaims, sc.epochLatency = 0, 0
	}
	rep.ReceiptsPending = rep.ReceiptsSent - rep.ReceiptsClaimed
	if rep.EpochClaims > 0 {
		rep.MeanClaimLatency = float64(latency) / float64(rep.EpochClaims)
	}
	return rep, nil
}

// crosslinkedStateRoot is the state root of the last shard block that the
// crosslink chain ending at cur commits to, or the genesis state root.
func crosslinkedStateRoot(c *chain.Service, cur types.Crosslink) types.Root {
	if h, ok := c.CrosslinkHeader(cur); ok {
		return h.StateRoot
	}
	return c.GenesisHeader().StateRoot
}

// result summarises the run; final is the beacon state after the last
// epoch processing, last the run's last slot.
func (s *shardRun) result(final *types.BeaconState, last types.Slot) (*ShardResult, error) {
	spe := s.chain.SlotsPerEpoch
	var cutoff types.Slot
	if s.cfg.Epochs > lastEpochsMargin {
		cutoff = types.Slot((s.cfg.Epochs - lastEpochsMargin) * spe)
	}
	sum := ShardSummary{
		Shards:         len(s.node.chains),
		JustifiedEpoch: uint64(final.CurrentJustifiedCheckpoint.Epoch),
		FinalizedEpoch: uint64(final.FinalizedCheckpoint.Epoch),
		ConservationOK: s.consErr == nil,
		MissedSlots:    s.missed,
		FraudProofs:    s.fraudProofs,
		Slashed:        []uint64{},
	}
	out := &ShardResult{Slots: s.slots, CurrentCrosslinks: s.history}
	chains := s.node.chains
	for i, c := range chains {
		head := c.HeadState()
		for dst, d := range chains {
			if dst == i {
				continue
			}
			inbox := d.Inbox(types.Shard(i))
			sum.ReceiptsClaimed += inbox
			sent := head.OutboxNonces[dst]
			sum.ReceiptsSent += sent
			for _, r := range c.SentReceipts(types.Shard(dst), 0, int(sent)) {
				if r.Receipt.SrcSlot < cutoff {
					sum.SentBeforeLastEpochs++
					if r.Receipt.Nonce < inbox {
						sum.ClaimedBeforeLastEpochs++
					}
				}
			}
		}
		sum.Transactions += c.Stats().Transactions
		if s.crosslinked[i] {
			sum.ShardsCrosslinked++
		}
		cr := ShardChainResult{Genesis: s.node.genesis[i], Head: head, Missed: s.shards[i].missed}
		sum.ShardSlotsMissed += len(cr.Missed)
		for _, b := range c.CanonicalRange(1, uint64(last)) {
			ref, ok := s.node.beacon.Block(b.BeaconBlockRoot)
			if !ok {
				return nil, fmt.Errorf("summarise shard %d: the beacon block %s its block of slot %d references is unknown", i, b.BeaconBlockRoot, b.Slot)
			}
			cr.Blocks = append(cr.Blocks, b)
			cr.BeaconSlots = append(cr.BeaconSlots, ref.GetSlot())
		}
		out.Chains = append(out.Chains, cr)
	}
	sum.ReceiptsPending = sum.ReceiptsSent - sum.ReceiptsClaimed
	for i := range final.Validators {
		if final.Validators[i].Slashed {
			sum.Slashed = append(sum.Slashed, uint64(i))
		}
	}
	if s.fraud != nil {
		rep := s.fraud.report
		for _, p := range s.pending {
			rep.Proofs = append(rep.Proofs, *p.report) // built, never included
		}
		sum.Fraud = &rep
	}
	out.Summary = sum
	return out, nil
}

// slashedSince lists the validators slashed in after but not in before.
func slashedSince(before, after *types.BeaconState) []types.ValidatorIndex {
	var out []types.ValidatorIndex
	for i := range after.Validators {
		if after.Validators[i].Slashed && (i >= len(before.Validators) || !before.Validators[i].Slashed) {
			out = append(out, types.ValidatorIndex(i))
		}
	}
	return out
}

// indices renders validator indices as uint64s.
func indices(vs []types.ValidatorIndex) []uint64 {
	out := make([]uint64, len(vs))
	for i, v := range vs {
		out[i] = uint64(v)
	}
	return slices.Clip(out)
}
