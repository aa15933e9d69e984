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
	"github.com/shardlab/shardlab/crypto/bls"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// beaconRef is a beacon block as the shard layer sees it: what shard blocks
// reference and fraud proofs point at.
type beaconRef struct {
	slot   types.Slot
	root   types.Root
	header types.BeaconBlockHeader // state_root filled in
	state  *types.BeaconState      // the post-state; never modified
}

// pendingProof is a fraud proof waiting for a beacon block.
type pendingProof struct {
	data   []byte
	report *ProofReport
	// rollback is the crosslink the proof rolls its shard back to, if any.
	rollback *types.Crosslink
	shard    types.Shard
}

// shardRun is a run with the shard layer: the beacon chain in the shard
// fork, the shard chains, the workload, the relayer and the fisherman.
type shardRun struct {
	*run
	chain *params.Config
	fv    shardcore.FraudVerifier // of the genesis; tr carries it
	// st is the beacon head state advanced to the current slot; ref is the
	// latest beacon block. st may be ref.state until it must change (own).
	st      *types.BeaconState
	ref     *beaconRef
	chains  []*shardChain
	links   *linkRegistry
	relay   *relayer
	wl      *workload
	fraud   *fraudScenario
	pending []*pendingProof
	workers int
	// posts are the post-states of the canonical beacon blocks by slot (the
	// genesis state at slot 0), and windows the states of slots without a
	// block, made on demand: the states whose roots state_roots records,
	// which claims prove their challenge window against.
	posts   map[types.Slot]*beaconRef
	windows map[types.Slot]*types.BeaconState
	// history[slot] is the canonical beacon state's current crosslinks at
	// slot (for the invariant checks of the result).
	history [][]types.Crosslink

	initial      uint64 // genesis total of all account balances
	genesisLinks []types.Crosslink
	blocks       int // beacon blocks
	crosslinked  []bool
	fraudProofs  int
	missed       int // slots without a beacon block, over the run
	consErr      error
	consDiff     int64
	slots        []SlotCheck
	sacc         shardAcc
}

// shardAcc accumulates the shard layer's timings and counts over an epoch.
type shardAcc struct {
	slotTotal, workload, relay, shards, build, reexec time.Duration
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
	s := &shardRun{
		run:         r,
		chain:       chain,
		fv:          fv,
		links:       newLinkRegistry(chain),
		workers:     runtime.GOMAXPROCS(0),
		crosslinked: make([]bool, chain.ShardCount),
		posts:       make(map[types.Slot]*beaconRef),
		windows:     make(map[types.Slot]*types.BeaconState),
	}
	s.relay = newRelayer(chain, s.links)
	s.wl = newWorkload(chain, fv.TxDomain(chain), &cfg, s.workers)
	s.chains = make([]*shardChain, chain.ShardCount)
	var genesisStates []*st.ShardState
	for i := range s.chains {
		if s.chains[i], err = newShardChain(chain, types.Shard(i)); err != nil {
			return nil, fmt.Errorf("simulate: %w", err)
		}
		s.initial += s.chains[i].balance()
		genesisStates = append(genesisStates, s.chains[i].genesis)
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
	s.ref = &beaconRef{slot: genesis.Slot, root: hdr.SigningRoot(), header: hdr, state: genesis}
	s.posts[genesis.Slot] = s.ref
	s.history = append(s.history, slices.Clone(genesis.CurrentCrosslinks))
	s.genesisLinks = slices.Clone(genesis.CurrentCrosslinks)
	s.st = genesis
	res := &Result{Genesis: genesis, GenesisTime: time.Since(t0), HeadRoot: s.ref.root}
	if cfg.OutDir != "" {
		if r.out, err = newCaseWriter(cfg.OutDir, genesis); err != nil {
			return nil, err
		}
		if err := r.out.shardLayer(chain, genesisStates); err != nil {
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
			if err := s.slot(slot); err != nil {
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
	if r.out != nil {
		if err := r.out.finish(res.Final); err != nil {
			return nil, err
		}
		heads := make([]*st.ShardState, len(s.chains))
		for i, c := range s.chains {
			heads[i] = c.head
		}
		if err := r.out.finishShards(heads); err != nil {
			return nil, err
		}
	}
	res.Shard = s.result(s.st)
	return res, nil
}

// own makes s.st private (not the latest block's post-state) and returns it.
func (s *shardRun) own() *types.BeaconState {
	if s.st == s.ref.state {
		s.st = s.st.Copy()
	}
	return s.st
}

// stateAt returns the canonical beacon state at slot (at most the latest
// block's slot): the post-state of the block at slot, or, for a slot
// without a block, the post-state of the last block before it advanced with
// process_slots (made once per slot). It is the state whose root the next
// process_slot recorded in state_roots. Do not modify it.
func (s *shardRun) stateAt(slot types.Slot) (*types.BeaconState, error) {
	if ref, ok := s.posts[slot]; ok {
		return ref.state, nil
	}
	if st, ok := s.windows[slot]; ok {
		return st, nil
	}
	for p := slot; p > 0; {
		p--
		ref, ok := s.posts[p]
		if !ok {
			continue
		}
		st := ref.state.Copy()
		if err := s.tr.ProcessSlots(st, slot); err != nil {
			return nil, fmt.Errorf("beacon state at slot %d: %w", slot, err)
		}
		s.windows[slot] = st
		return st, nil
	}
	return nil, fmt.Errorf("no beacon block at or before slot %d is kept", slot)
}

// windowState returns the canonical beacon state at the window slot of ref
// (WindowSlot: SHARD_CHALLENGE_WINDOW epochs before ref.slot), whose root
// ref's state_roots holds, or nil while the chain is younger than the window.
func (s *shardRun) windowState(ref *beaconRef) (*types.BeaconState, error) {
	ws, ok := shardcore.WindowSlot(s.chain, ref.slot)
	if !ok {
		return nil, nil
	}
	st, err := s.stateAt(ws)
	if err != nil {
		return nil, err
	}
	root, err := st.HashTreeRoot()
	if err != nil {
		return nil, err
	}
	if want := ref.state.StateRoots[uint64(ws)%s.chain.SlotsPerHistoricalRoot]; root != want {
		return nil, fmt.Errorf("the beacon state made for window slot %d has root %s, the state at slot %d recorded %s", ws, root, ref.slot, want)
	}
	return st, nil
}

// prunePosts forgets the beacon states no claim or proof can need any more:
// those more than SLOTS_PER_HISTORICAL_ROOT slots before slot, except the
// newest block's among them (the base of later slots without a block).
func (s *shardRun) prunePosts(slot types.Slot) {
	sphr := types.Slot(s.chain.SlotsPerHistoricalRoot)
	if slot <= sphr {
		return
	}
	limit := slot - sphr
	var keep types.Slot
	for p := range s.posts {
		if p < limit && p > keep {
			keep = p
		}
	}
	for p := range s.posts {
		if p < limit && p != keep {
			delete(s.posts, p)
		}
	}
	for p := range s.windows {
		if p < limit {
			delete(s.windows, p)
		}
	}
}

// slot runs one slot: the workload's transactions arrive, the beacon block
// (unless its proposer is slashed), every shard's block with the fisherman
// re-executing it, the attestations, and the conservation check.
func (s *shardRun) slot(slot types.Slot) error {
	t0 := time.Now()
	if s.st.Slot < slot {
		if err := s.tr.ProcessSlots(s.own(), slot); err != nil {
			return fmt.Errorf("simulate slot %d: %w", slot, err)
		}
	}
	for _, tx := range s.wl.next(slot) {
		c := s.chains[tx.Shard]
		c.pool = append(c.pool, tx)
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

// beaconBlock produces, verifies and applies the beacon block of slot, with
// the pooled attestations and pending fraud proofs. A slot whose proposer
// is slashed has no block (process_block_header would reject it).
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
	proofs, err := s.takeProofs(slot)
	if err != nil {
		return false, err
	}
	data := make([][]byte, len(proofs))
	for i, p := range proofs {
		data[i] = p.data
	}
	atts := make([]*types.Attestation, len(s.pool))
	for i, p := range s.pool {
		atts[i] = p.att
	}
	b, _, err := validator.ProduceShardBeaconBlock(tr, pre, slot, s.keys, atts, graffiti(), data)
	if err != nil {
		return false, fmt.Errorf("simulate slot %d: %w", slot, err)
	}
	t1 := time.Now()
	next := pre.Copy()
	batch := bls.NewBatch()
	if err := tr.StateTransitionShard(next, b, core.BatchSigs(batch), true); err != nil {
		return false, fmt.Errorf("simulate slot %d: apply block: %w", slot, err)
	}
	if err := batch.Verify(); err != nil {
		return false, fmt.Errorf("simulate slot %d: verify block signatures: %w", slot, err)
	}
	hdr, err := b.Header()
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
	if err := s.noteInclusions(slot, next, b.Body.Attestations); err != nil {
		return false, err
	}
	s.prune(b.Body.Attestations, slot)
	s.ref = &beaconRef{slot: slot, root: hdr.SigningRoot(), header: hdr, state: next}
	s.posts[slot] = s.ref
	s.prunePosts(slot)
	s.st = next
	s.blocks++
	s.ep.blocks++
	s.ep.attestations += len(b.Body.Attestations)
	s.ep.propose += t1.Sub(t0)
	s.ep.verify += t2.Sub(t1)
	return true, nil
}

// shardJob is one shard's block of a slot: built by its proposer and
// re-executed by the fisherman.
type shardJob struct {
	built    *shardcore.Built
	proposer types.ValidatorIndex
	post     *st.ShardState
	receipts []st.Receipt
	// rejected is the fisherman's reason to reject the block.
	rejected      error
	err           error
	build, reexec time.Duration
}

// shardBlocks builds every shard's block of slot on its canonical head,
// referencing the latest beacon block, and has the fisherman re-execute it;
// valid blocks extend their chain. Shards run in parallel; their results
// are applied in shard order. It returns the number of claims included.
func (s *shardRun) shardBlocks(slot types.Slot) (int, error) {
	ref := s.ref
	spe := types.Slot(s.chain.SlotsPerEpoch)
	if slot-ref.slot > spe {
		return 0, nil // no beacon block recent enough to reference
	}
	t0 := time.Now()
	n := len(s.chains)
	chains := make([][]*linkRec, n)
	for src := range chains {
		chains[src] = s.links.chain(ref.state.CurrentCrosslinks[src], params.MaxCrosslinkChain)
	}
	window, err := s.windowState(ref)
	if err != nil {
		return 0, fmt.Errorf("simulate slot %d: %w", slot, err)
	}
	claims := make([][]*st.ReceiptClaim, n)
	for dst := range claims {
		if claims[dst], err = s.relay.claims(dst, s.chains[dst].head.InboxNonces, chains, window); err != nil {
			return 0, fmt.Errorf("simulate slot %d: %w", slot, err)
		}
	}
	t1 := time.Now()
	s.sacc.relay += t1.Sub(t0)
	// The proposers, known from the beacon state: a slashed one cannot
	// propose, so its shard has no block at this slot.
	proposers := make([]types.ValidatorIndex, n)
	corrupt := -1
	for i := range proposers {
		p, err := shardcore.ShardProposerIndex(s.tr, ref.state, types.Shard(i), slot)
		if err != nil {
			return 0, fmt.Errorf("simulate slot %d: shard %d: %w", slot, i, err)
		}
		proposers[i] = p
		if ref.state.Validators[p].Slashed {
			s.chains[i].missed = append(s.chains[i].missed, slot)
			s.sacc.shardMissed++
			continue
		}
		if f := s.fraud; f != nil && slot == f.slot && corrupt < 0 {
			corrupt = i // the first shard with a block at the fraud slot
		}
	}
	jobs := make([]shardJob, n)
	parallel(n, s.workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if !ref.state.Validators[proposers[i]].Slashed {
				jobs[i] = s.buildShard(i, slot, proposers[i], claims[i], i == corrupt)
			}
		}
	})
	s.sacc.shards += time.Since(t1)
	included := 0
	for i := range jobs {
		j := &jobs[i]
		s.sacc.build += j.build
		s.sacc.reexec += j.reexec
		switch {
		case j.err != nil:
			return 0, fmt.Errorf("simulate slot %d: shard %d: %w", slot, i, j.err)
		case j.built == nil:
			continue // no block: its proposer is slashed
		case i == corrupt:
			if err := s.fraudulentBlock(slot, i, j); err != nil {
				return 0, err
			}
			continue
		case j.rejected != nil:
			return 0, fmt.Errorf("simulate slot %d: the fisherman rejects honest shard %d's block: %w", slot, i, j.rejected)
		}
		if err := s.accept(slot, i, j); err != nil {
			return 0, err
		}
		included += len(j.built.Block.Body.Claims)
	}
	return included, nil
}

// buildShard is shard i's proposer building its block of slot and the
// fisherman re-executing it with full validation (every signature). With
// corrupt, the proposer alters the state root and signs again.
func (s *shardRun) buildShard(i int, slot types.Slot, proposer types.ValidatorIndex, claims []*st.ReceiptClaim, corrupt bool) (j shardJob) {
	c, ref, tr := s.chains[i], s.ref, s.tr
	ctx := shardcore.BlockContext{Parent: &c.headHeader, BeaconRoot: ref.root, Beacon: ref.state}
	t0 := time.Now()
	sk, ok := s.keys.SecretKey(uint64(proposer))
	if !ok {
		j.err = fmt.Errorf("no key for shard proposer %d", proposer)
		return j
	}
	// The simulated accounts are honest: the proposer trusts their
	// signatures; the fisherman checks every one.
	built, err := shardcore.BuildBlock(tr, ctx, c.head, slot, c.pool, claims, sk, shardcore.ExecOptions{TxDomain: s.fv.TxDomain(s.chain), SkipTxSignatures: true})
	if err != nil {
		j.err = err
		return j
	}
	if len(built.Skipped) > 0 {
		j.err = fmt.Errorf("the proposer left out %d of the candidates, the first because: %w", len(built.Skipped), built.Skipped[0])
		return j
	}
	if built.Block.ProposerIndex != proposer {
		j.err = fmt.Errorf("block built by %d, the proposer is %d", built.Block.ProposerIndex, proposer)
		return j
	}
	if corrupt {
		built.Block.StateRoot[31] ^= 0xff
		if err := shardcore.SignBlock(tr, built.Block, sk); err != nil {
			j.err = err
			return j
		}
	}
	j.built, j.proposer = built, proposer
	t1 := time.Now()
	post := c.head.Copy()
	receipts, err := shardcore.ProcessBlock(tr, ctx, post, built.Block, core.VerifySigs, shardcore.ExecOptions{TxDomain: s.fv.TxDomain(s.chain)})
	j.build, j.reexec = t1.Sub(t0), time.Since(t1)
	switch {
	case errors.Is(err, shardcore.ErrInvalidShardBlock):
		j.rejected = err
	case err != nil:
		j.err = fmt.Errorf("re-execute: %w", err)
	default:
		j.post, j.receipts = post, receipts
	}
	return j
}

// accept extends shard i's chain with its valid block of slot.
func (s *shardRun) accept(slot types.Slot, i int, j *shardJob) error {
	c := s.chains[i]
	b := j.built.Block
	h, err := b.Header()
	if err != nil {
		return fmt.Errorf("simulate slot %d: %w", slot, err)
	}
	if n := len(b.Body.Transactions); n > 0 && b.Body.Transactions[n-1] != c.pool[n-1] {
		return fmt.Errorf("simulate slot %d: shard %d's block does not include a prefix of its pool", slot, i)
	}
	rec := &blockRec{block: b, header: h, root: h.SigningRoot(), receipts: j.receipts, beaconSlot: s.ref.slot}
	c.blocks = append(c.blocks, rec)
	c.head, c.headHeader = j.post, h
	c.pool = c.pool[len(b.Body.Transactions):]
	c.txs += uint64(len(b.Body.Transactions))
	c.sent += uint64(len(j.receipts))
	if err := s.relay.add(rec); err != nil {
		return fmt.Errorf("simulate slot %d: %w", slot, err)
	}
	for _, cl := range b.Body.Claims {
		c.epochClaims++
		c.epochLatency += uint64(slot - cl.Receipt.SrcSlot)
		if f := s.fraud; f != nil && f.block != nil && cl.Header.SigningRoot() == f.root {
			f.report.ReceiptsClaimed++
		}
	}
	if s.out != nil {
		if err := s.out.shardBlock(i, b); err != nil {
			return err
		}
	}
	return nil
}

// attest makes every committee of slot attest to the latest beacon block,
// voting as crosslink data root the headers of its shard's canonical chain
// in the crosslink's range, each member with probability Participation
// (drawn as in phase 0 runs). The complicit committee of the fraud scenario
// votes the fraudulent chain instead.
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
		data, err := validator.ProduceAttestationData(tr, st, s.ref.root, slot, sc.Shard, validator.WithDataRoot(s.honestRoot))
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

// honestRoot is the data root honest attesters vote for crosslink c: its
// shard's canonical headers in [start_epoch, end_epoch).
func (s *shardRun) honestRoot(c types.Crosslink) (types.Root, error) {
	spe := types.Slot(s.chain.SlotsPerEpoch)
	recs := s.chains[c.Shard].headersIn(types.Slot(c.StartEpoch)*spe, types.Slot(c.EndEpoch)*spe)
	headers := make([]st.ShardBlockHeader, len(recs))
	for i, r := range recs {
		headers[i] = r.header
	}
	return s.links.register(c, headers)
}

// check verifies at the end of slot that the balances of every shard's
// canonical head plus the unclaimed receipts of canonical blocks equal the
// genesis total, and that the shards' nonces agree with the receipts the
// relayer saw.
func (s *shardRun) check(slot types.Slot, beaconBlock bool, claims int) error {
	var total, pending uint64
	for _, c := range s.chains {
		total += c.balance()
	}
	for src := range s.chains {
		for dst, d := range s.chains {
			if src == dst {
				continue
			}
			if got, want := s.chains[src].head.OutboxNonces[dst], uint64(len(s.relay.queues[src][dst])); got != want {
				return fmt.Errorf("simulate slot %d: shard %d's outbox nonce for shard %d is %d, but it sent %d receipts", slot, src, dst, got, want)
			}
			_, amount, err := s.relay.pending(src, dst, d.head.InboxNonces[src])
			if err != nil {
				return fmt.Errorf("simulate slot %d: %w", slot, err)
			}
			pending += amount
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
	for i := range s.crosslinked {
		if rec := s.links.byRoot[st.CurrentCrosslinks[i].TreeRoot()]; rec != nil && len(rec.headers) > 0 {
			s.crosslinked[i] = true
		}
	}
	if f := s.fraud; f != nil && f.complicit != nil {
		for _, l := range s.links.chain(st.CurrentCrosslinks[f.shard], params.MaxCrosslinkChain) {
			if l.cl == *f.complicit && !f.report.CrosslinkWritten {
				f.report.CrosslinkWritten = true
				f.report.WrittenSlot = uint64(st.Slot)
				f.report.WindowEnd = uint64(st.Slot) + s.chain.Shard.ChallengeWindow*s.chain.SlotsPerEpoch
			}
		}
	}
	if rep.Shard, err = s.layerReport(); err != nil {
		return rep, err
	}
	a := s.sacc
	rep.Timing.WorkloadMS = ms(a.workload)
	rep.Timing.RelayMS = ms(a.relay)
	rep.Timing.ShardMS = ms(a.shards)
	rep.Timing.ShardBuildMS = ms(a.build)
	rep.Timing.ShardReexecMS = ms(a.reexec)
	rep.Timing.SlotMeanMS = 0
	if slots > 0 {
		rep.Timing.SlotMeanMS = ms(slotTotal) / float64(slots)
	}
	s.sacc = shardAcc{}
	return rep, nil
}

// layerReport describes the shard layer now (st is past the epoch
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
	for i, c := range s.chains {
		var claimed uint64
		for _, d := range s.chains {
			if d != c {
				claimed += d.head.InboxNonces[i]
			}
		}
		cur := s.st.CurrentCrosslinks[i]
		sr := ShardReport{
			Shard:                uint64(i),
			HeadSlot:             uint64(c.headHeader.Slot),
			HeadRoot:             shortRoot(c.headHeader.SigningRoot()),
			CrosslinkEnd:         uint64(cur.EndEpoch),
			CrosslinkedStateRoot: shortRoot(s.crosslinkedStateRoot(c, cur)),
			Transactions:         c.txs,
			ReceiptsSent:         c.sent,
			ReceiptsClaimed:      claimed,
			ReceiptsPending:      c.sent - claimed,
			EpochClaims:          c.epochClaims,
		}
		if c.epochClaims > 0 {
			sr.MeanClaimLatency = float64(c.epochLatency) / float64(c.epochClaims)
		}
		rep.Shards = append(rep.Shards, sr)
		rep.Transactions += c.txs
		rep.ReceiptsSent += c.sent
		rep.ReceiptsClaimed += claimed
		rep.EpochClaims += c.epochClaims
		latency += c.epochLatency
		c.epochClaims, c.epochLatency = 0, 0
	}
	rep.ReceiptsPending = rep.ReceiptsSent - rep.ReceiptsClaimed
	if rep.EpochClaims > 0 {
		rep.MeanClaimLatency = float64(latency) / float64(rep.EpochClaims)
	}
	return rep, nil
}

// crosslinkedStateRoot is the state root of the last shard block that the
// crosslink chain ending at cur commits to, or the genesis state root.
func (s *shardRun) crosslinkedStateRoot(c *shardChain, cur types.Crosslink) types.Root {
	for _, l := range s.links.chain(cur, params.MaxCrosslinkChain) {
		if len(l.headers) > 0 {
			return l.headers[len(l.headers)-1].StateRoot
		}
	}
	return c.genesisHeader.StateRoot
}

// result summarises the run; final is the beacon state after the last
// epoch processing.
func (s *shardRun) result(final *types.BeaconState) *ShardResult {
	spe := s.chain.SlotsPerEpoch
	var cutoff types.Slot
	if s.cfg.Epochs > lastEpochsMargin {
		cutoff = types.Slot((s.cfg.Epochs - lastEpochsMargin) * spe)
	}
	sum := ShardSummary{
		Shards:         len(s.chains),
		JustifiedEpoch: uint64(final.CurrentJustifiedCheckpoint.Epoch),
		FinalizedEpoch: uint64(final.FinalizedCheckpoint.Epoch),
		ConservationOK: s.consErr == nil,
		MissedSlots:    s.missed,
		FraudProofs:    s.fraudProofs,
		Slashed:        []uint64{},
	}
	out := &ShardResult{Slots: s.slots, CurrentCrosslinks: s.history}
	for i, c := range s.chains {
		sum.Transactions += c.txs
		sum.ReceiptsSent += c.sent
		for dst, d := range s.chains {
			if dst == i {
				continue
			}
			inbox := d.head.InboxNonces[i]
			sum.ReceiptsClaimed += inbox
			sent, claimed := s.relay.sentBefore(i, dst, cutoff, inbox)
			sum.SentBeforeLastEpochs += sent
			sum.ClaimedBeforeLastEpochs += claimed
		}
		if s.crosslinked[i] {
			sum.ShardsCrosslinked++
		}
		cr := ShardChainResult{Genesis: c.genesis, Head: c.head, Missed: c.missed}
		sum.ShardSlotsMissed += len(c.missed)
		for _, b := range c.blocks {
			cr.Blocks = append(cr.Blocks, b.block)
			cr.BeaconSlots = append(cr.BeaconSlots, b.beaconSlot)
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
	return out
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
