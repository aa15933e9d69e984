package statesim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/crypto/bls"
)

// seedStream is the second PCG seed word; the first is Config.Seed.
const seedStream = 0x73746174657369 // "statesi"

// graffiti marks the simulator's blocks.
func graffiti() types.Root {
	var g types.Root
	copy(g[:], "shardlab statesim")
	return g
}

// pooled is an attestation waiting for inclusion, with its slot.
type pooled struct {
	att  *types.Attestation
	slot types.Slot
}

// run holds a simulation's moving parts.
type run struct {
	cfg  Config
	tr   *core.Transition
	keys *validator.Keys
	rng  *rand.Rand
	pool []pooled
	out  *caseWriter

	// Accumulated over the current epoch.
	ep epochAcc
}

type epochAcc struct {
	blocks, attestations    int
	attesters, duties       int
	slots                   int
	propose, verify, attest time.Duration
	start                   time.Time
}

// draw draws, member by member with rng, which of committee attest (each
// with probability p), counts the duties and attesters, and returns the
// attesters in committee order.
func (e *epochAcc) draw(rng *rand.Rand, p float64, committee []types.ValidatorIndex) []types.ValidatorIndex {
	var parts []types.ValidatorIndex
	for _, v := range committee {
		if rng.Float64() < p {
			parts = append(parts, v)
		}
	}
	e.duties += len(committee)
	e.attesters += len(parts)
	return parts
}

// Run simulates cfg.Epochs epochs and returns the result. onEpoch, if not
// nil, receives each epoch's report as soon as the epoch ends; an error
// from it stops the run. Cancelling ctx stops the run between slots.
func Run(ctx context.Context, cfg Config, onEpoch func(EpochReport) error) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Shards > 0 {
		return runShards(ctx, cfg, onEpoch)
	}
	chain := cfg.Chain
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
	res := &Result{Genesis: genesis, GenesisTime: time.Since(t0)}
	if cfg.OutDir != "" {
		if r.out, err = newCaseWriter(cfg.OutDir, genesis); err != nil {
			return nil, err
		}
	}

	start := time.Now()
	r.ep = epochAcc{start: start}
	st := genesis.Copy()
	head, err := validator.LatestBlockRoot(st)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	if err := r.attest(st, head, 0); err != nil {
		return nil, err
	}
	res.HeadRoot = head
	spe := chain.SlotsPerEpoch
	last := types.Slot(cfg.Epochs*spe - 1)
	for slot := types.Slot(0); slot <= last; slot++ {
		if slot > 0 { // slot 0 is genesis, without a block
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("simulate slot %d: %w", slot, err)
			}
			if st, head, err = r.slot(st, slot); err != nil {
				return nil, err
			}
			res.Blocks++
			res.HeadRoot = head
		}
		if (uint64(slot)+1)%spe != 0 {
			continue
		}
		if slot == last {
			res.Final = st.Copy()
		}
		rep, err := r.endEpoch(st)
		if err != nil {
			return nil, err
		}
		res.Reports = append(res.Reports, rep)
		if onEpoch != nil {
			if err := onEpoch(rep); err != nil {
				return nil, err
			}
		}
	}
	res.RunTime = time.Since(start)
	if r.out != nil {
		if err := r.out.finish(res.Final); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// slot runs one slot on st (the previous slot's state, not modified): the
// proposer's block, its full verification, and the slot's attestations. It
// returns the post-state and the block root.
func (r *run) slot(st *types.BeaconState, slot types.Slot) (*types.BeaconState, types.Root, error) {
	t0 := time.Now()
	atts := make([]*types.Attestation, len(r.pool))
	for i, p := range r.pool {
		atts[i] = p.att
	}
	b, _, err := validator.ProduceBlock(r.tr, st, slot, r.keys, atts, graffiti())
	if err != nil {
		return nil, types.Root{}, fmt.Errorf("simulate slot %d: %w", slot, err)
	}
	t1 := time.Now()
	// Apply the block as an importing node would, every signature checked.
	next := st.Copy()
	batch := bls.NewBatch()
	if err := r.tr.StateTransition(next, b, core.BatchSigs(batch), true); err != nil {
		return nil, types.Root{}, fmt.Errorf("simulate slot %d: apply block: %w", slot, err)
	}
	if err := batch.Verify(); err != nil {
		return nil, types.Root{}, fmt.Errorf("simulate slot %d: verify block signatures: %w", slot, err)
	}
	head, err := b.SigningRoot()
	if err != nil {
		return nil, types.Root{}, fmt.Errorf("simulate slot %d: %w", slot, err)
	}
	t2 := time.Now()
	if r.out != nil {
		if err := r.out.block(b); err != nil {
			return nil, types.Root{}, err
		}
	}
	r.prune(b.Body.Attestations, slot)
	if err := r.attest(next, head, slot); err != nil {
		return nil, types.Root{}, err
	}
	t3 := time.Now()
	r.ep.blocks++
	r.ep.attestations += len(b.Body.Attestations)
	r.ep.slots++
	r.ep.propose += t1.Sub(t0)
	r.ep.verify += t2.Sub(t1)
	r.ep.attest += t3.Sub(t2)
	return next, head, nil
}

// attest makes every committee of slot attest to head (whose post-state is
// st, at slot), each member taking part with probability Participation, and
// adds one aggregate per committee with any participant to the pool. Draws
// are made committee by committee, member by member, in committee order.
func (r *run) attest(st *types.BeaconState, head types.Root, slot types.Slot) error {
	coms, err := validator.SlotCommittees(r.tr, st, slot)
	if err != nil {
		return fmt.Errorf("simulate slot %d: %w", slot, err)
	}
	for _, sc := range coms {
		parts := r.ep.draw(r.rng, r.cfg.Participation, sc.Committee)
		if len(parts) == 0 {
			continue
		}
		data, err := validator.ProduceAttestationData(r.tr, st, head, slot, sc.Shard)
		if err != nil {
			return fmt.Errorf("simulate slot %d: %w", slot, err)
		}
		a, err := validator.AggregateCommittee(r.tr, st, data, sc.Committee, parts, r.keys)
		if err != nil {
			return fmt.Errorf("simulate slot %d: %w", slot, err)
		}
		r.pool = append(r.pool, pooled{att: a, slot: slot})
	}
	return nil
}

// prune drops from the pool what a block at slot included (included),
// meaning every attestation whose attesters an included one of equal data
// covers, and what can no longer be included after slot.
func (r *run) prune(included []*types.Attestation, slot types.Slot) {
	spe := types.Slot(r.cfg.Chain.SlotsPerEpoch)
	r.pool = slices.DeleteFunc(r.pool, func(p pooled) bool {
		if p.slot+spe <= slot {
			return true
		}
		for _, in := range included {
			if in.Data == p.att.Data && covers(in.AggregationBits, p.att.AggregationBits) {
				return true
			}
		}
		return false
	})
}

// covers reports whether bitlist a has every bit of bitlist b (same length).
func covers(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if b[i]&^a[i] != 0 {
			return false
		}
	}
	return true
}

// endEpoch measures the epoch that st (the post-state of its last block)
// ends, runs the epoch processing in place (st moves to the next epoch's
// first slot) and returns the report.
func (r *run) endEpoch(st *types.BeaconState) (EpochReport, error) {
	tr := r.tr
	epoch := tr.CurrentEpoch(st)
	prevPart, err := targetParticipation(tr, st, tr.PreviousEpoch(st))
	if err != nil {
		return EpochReport{}, fmt.Errorf("report epoch %d: %w", epoch, err)
	}
	curPart, err := targetParticipation(tr, st, epoch)
	if err != nil {
		return EpochReport{}, fmt.Errorf("report epoch %d: %w", epoch, err)
	}
	before := slices.Clone(st.CurrentCrosslinks)
	t0 := time.Now()
	if err := tr.ProcessSlots(st, st.Slot+1); err != nil {
		return EpochReport{}, fmt.Errorf("process epoch %d: %w", epoch, err)
	}
	epochProcessing := time.Since(t0)
	updated := 0
	for i := range before {
		if before[i] != st.CurrentCrosslinks[i] {
			updated++
		}
	}
	root, err := st.HashTreeRoot()
	if err != nil {
		return EpochReport{}, fmt.Errorf("report epoch %d: %w", epoch, err)
	}
	acc := r.ep
	total := time.Since(acc.start)
	rep := EpochReport{
		Epoch:                uint64(epoch),
		JustifiedEpoch:       uint64(st.CurrentJustifiedCheckpoint.Epoch),
		FinalizedEpoch:       uint64(st.FinalizedCheckpoint.Epoch),
		CrosslinksUpdated:    updated,
		Shards:               len(st.CurrentCrosslinks),
		Participation:        prevPart,
		CurrentParticipation: curPart,
		Attesters:            acc.attesters,
		Duties:               acc.duties,
		Blocks:               acc.blocks,
		Attestations:         acc.attestations,
		StateRoot:            root.String(),
		Timing: Timing{
			EpochMS:           ms(total),
			ProposeMS:         ms(acc.propose),
			VerifyMS:          ms(acc.verify),
			AttestMS:          ms(acc.attest),
			EpochProcessingMS: ms(epochProcessing),
		},
	}
	if acc.slots > 0 {
		rep.Timing.SlotMeanMS = ms(acc.propose+acc.verify+acc.attest) / float64(acc.slots)
	}
	r.ep = epochAcc{start: time.Now()}
	return rep, nil
}

// targetParticipation is the fraction of the total active balance held by
// unslashed validators whose attestations in st voted for the correct target
// of epoch (the previous or current epoch of st):
// get_attesting_balance(state, get_matching_target_attestations(state, epoch))
// / get_total_active_balance(state).
func targetParticipation(tr *core.Transition, st *types.BeaconState, epoch types.Epoch) (float64, error) {
	cfg := tr.Config()
	list := st.PreviousEpochAttestations
	if epoch == tr.CurrentEpoch(st) {
		list = st.CurrentEpochAttestations
	}
	start := core.ComputeStartSlotOfEpoch(cfg, epoch)
	var target types.Root
	if start < st.Slot {
		var err error
		if target, err = tr.BlockRoot(st, epoch); err != nil {
			return 0, err
		}
	} else {
		// st is at the epoch's first slot: its target is st's latest block.
		var err error
		if target, err = validator.LatestBlockRoot(st); err != nil {
			return 0, err
		}
	}
	seen := make(map[types.ValidatorIndex]bool)
	var bal types.Gwei
	for i := range list {
		pa := &list[i]
		if pa.Data.Target.Root != target {
			continue
		}
		idx, err := tr.AttestingIndices(st, &pa.Data, pa.AggregationBits)
		if err != nil {
			return 0, err
		}
		for _, v := range idx {
			if seen[v] || st.Validators[v].Slashed {
				continue
			}
			seen[v] = true
			bal += st.Validators[v].EffectiveBalance
		}
	}
	total := tr.TotalActiveBalance(st)
	if total == 0 {
		return 0, nil
	}
	return float64(bal) / float64(total), nil
}
