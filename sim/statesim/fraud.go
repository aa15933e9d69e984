package statesim

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/p2p"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// The --fraud-at scenario (see FraudReport). statesim plays the byzantine
// parts only: the proposer that publishes a block with a wrong state root,
// and the complicit committee that crosslinks it. Finding the fraud,
// building the proofs (the second with the complicit votes as evidence and
// the rollback) and submitting them is the shard handler's fisherman;
// statesim reads the proofs where the handler publishes them and reports
// what they did once a beacon block includes them.

// fraudScenario is the --fraud-at demonstration's state.
type fraudScenario struct {
	slot types.Slot
	// published is set once the fraudulent block is out: its shard and
	// root.
	published bool
	shard     types.Shard
	root      types.Root
	// builtAt are the slots of the fisherman's proofs built but not yet
	// submitted, oldest first.
	builtAt []types.Slot
	// fisherman is the whistleblower of the first proof (haveFisherman):
	// an honest validator, who votes honestly in the complicit committee.
	fisherman     types.ValidatorIndex
	haveFisherman bool
	// complicitDone is set once the shard's crosslink committee covering
	// the block has voted; complicit is the crosslink it voted (nil if no
	// member took part).
	complicitDone bool
	complicit     *types.Crosslink
	// proved is set once the fisherman's proof with the votes as evidence
	// is out.
	proved bool
	report FraudReport
}

// pendingProof is a fraud proof the fisherman submitted, waiting for a
// beacon block.
type pendingProof struct {
	data   []byte
	report *ProofReport
	// rollback is the crosslink the proof rolls its shard back to, if any.
	rollback *types.Crosslink
	shard    types.Shard
}

// complicitNow reports whether the committee of shard voting crosslink c
// (data root not yet set) is the complicit one: the first of the fraud
// block's shard whose crosslink covers the block's slot.
func (f *fraudScenario) complicitNow(shard types.Shard, c types.Crosslink, cfg *params.Config) bool {
	if f == nil || !f.published || f.complicitDone || shard != f.shard {
		return false
	}
	spe := types.Slot(cfg.SlotsPerEpoch)
	return types.Slot(c.StartEpoch)*spe <= f.slot && f.slot < types.Slot(c.EndEpoch)*spe
}

// publishFraud has the proposer of the first shard that can have a block at
// slot build it honestly on the shard's head from the pooled transactions,
// give it a wrong state root, sign it again and gossip it to the node,
// whose shard handler must reject it (its fisherman then proves it). The
// shard's honest proposer stays silent for the slot.
func (s *shardRun) publishFraud(slot types.Slot) error {
	f, ref := s.fraud, s.ref
	for i, c := range s.node.chains {
		shard := types.Shard(i)
		if !c.CanReference(slot, ref.slot) {
			continue
		}
		proposer, err := shardcore.ShardProposerIndex(s.tr, ref.state, shard, slot)
		if err != nil {
			return fmt.Errorf("simulate slot %d: shard %d: %w", slot, i, err)
		}
		if ref.state.Validators[proposer].Slashed {
			continue
		}
		sk, ok := s.keys.SecretKey(uint64(proposer))
		if !ok {
			return fmt.Errorf("simulate slot %d: no key for shard proposer %d", slot, proposer)
		}
		parent := c.Head()
		ctx := shardcore.BlockContext{Parent: &parent.Header, BeaconRoot: ref.root, Beacon: ref.state}
		opts := shardcore.ExecOptions{TxDomain: s.fv.TxDomain(s.chain), SkipTxSignatures: true}
		built, err := shardcore.BuildBlock(s.tr, ctx, c.HeadState(), slot, c.PendingTransactions(), nil, sk, opts)
		if err != nil {
			return fmt.Errorf("simulate slot %d: build the fraudulent block: %w", slot, err)
		}
		b := built.Block
		b.StateRoot[31] ^= 0xff
		if err := shardcore.SignBlock(s.tr, b, sk); err != nil {
			return fmt.Errorf("simulate slot %d: %w", slot, err)
		}
		h, err := b.Header()
		if err != nil {
			return fmt.Errorf("simulate slot %d: %w", slot, err)
		}
		data, err := b.MarshalSSZ()
		if err != nil {
			return fmt.Errorf("simulate slot %d: encode the fraudulent block: %w", slot, err)
		}
		f.published, f.shard, f.root = true, shard, h.SigningRoot()
		f.report = FraudReport{
			Slot: uint64(slot), Published: true, Shard: uint64(shard), Proposer: uint64(proposer),
			BlockRoot: f.root.String(), Receipts: len(built.Receipts),
			ComplicitAttesters: []uint64{}, IncludedSlots: []uint64{},
		}
		if v := s.node.h.ValidateBlock(shard, "byzantine-proposer", data); v != handler.Reject || !c.IsInvalid(f.root) {
			return fmt.Errorf("simulate slot %d: the shard handler did not reject shard %d's block with a wrong state root (verdict %s)", slot, i, v)
		}
		s.node.silent = i
		return nil
	}
	return nil // no shard can have a block at slot
}

// fraudBuilt notes that the fisherman built a proof at the current slot.
func (s *shardRun) fraudBuilt() {
	if s.fraud != nil {
		s.fraud.builtAt = append(s.fraud.builtAt, s.slot)
	}
}

// published reads what the shard handler publishes: a fraud proof it
// submitted (to the beacon chain's pool, then gossip) is reported and
// followed until a beacon block includes it.
func (s *shardRun) published(topic string, data []byte) {
	if topic != p2p.ShardFraudProofTopic {
		return
	}
	var p st.ShardFraudProof
	if err := types.Decode(&p, data); err != nil {
		return // the fisherman's own encoding: cannot happen
	}
	built := s.slot
	if f := s.fraud; f != nil && len(f.builtAt) > 0 {
		built, f.builtAt = f.builtAt[0], f.builtAt[1:]
	}
	rep := &ProofReport{Kind: "proposer", Built: uint64(built), Evidence: len(p.Evidence), Slashed: []uint64{}, PendingVoters: []uint64{}}
	pp := &pendingProof{data: bytes.Clone(data), report: rep, shard: p.Block.Shard}
	if len(p.Evidence) > 0 {
		rep.Kind = "crosslinkers"
	}
	if len(p.Rollbacks) > 0 && len(p.Rollbacks[0].Chain) > 0 {
		rb := p.Rollbacks[0]
		rep.Rollback = &RollbackReport{
			From:  crosslinkReport(pp.shard, *rb.Chain[len(rb.Chain)-1]),
			To:    crosslinkReport(pp.shard, rb.Parent),
			Chain: len(rb.Chain),
		}
		parent := rb.Parent
		pp.rollback = &parent
	}
	if f := s.fraud; f != nil {
		if !f.haveFisherman {
			f.fisherman, f.haveFisherman = p.Whistleblower, true
			f.report.Fisherman = uint64(p.Whistleblower)
		}
		if rep.Kind == "crosslinkers" {
			f.proved = true
		}
	}
	s.pending = append(s.pending, pp)
}

// landProofs records the fraud proofs a beacon block of slot included
// (proofs): pre is the state the block applied to (at slot), post its
// post-state.
func (s *shardRun) landProofs(slot types.Slot, pre, post *types.BeaconState, proofs [][]byte) error {
	if len(proofs) == 0 {
		return nil
	}
	s.fraudProofs += len(proofs)
	var landed []*pendingProof
	for _, data := range proofs {
		i := slices.IndexFunc(s.pending, func(p *pendingProof) bool { return bytes.Equal(p.data, data) })
		if i < 0 {
			return fmt.Errorf("simulate slot %d: the beacon block includes a fraud proof the fisherman never submitted", slot)
		}
		landed = append(landed, s.pending[i])
		s.pending = slices.Delete(s.pending, i, i+1)
	}
	// The block's slashings all come from its proofs: each proof's
	// offenders, and, for a rollback, the pending voters of the voided
	// crosslink.
	newly := slashedSince(pre, post)
	seen := make(map[types.ValidatorIndex]bool)
	for _, p := range landed {
		p.report.Landed = uint64(slot)
		v, err := s.fv.VerifyFraudProof(s.tr, pre, p.data, core.SkipSigs)
		if err != nil {
			return fmt.Errorf("simulate slot %d: an included fraud proof does not verify: %w", slot, err)
		}
		if v.Voided != nil {
			for _, l := range [][]types.PendingAttestation{pre.PreviousEpochAttestations, pre.CurrentEpochAttestations} {
				for i := range l {
					if l[i].Data.Crosslink == *v.Voided {
						p.report.PendingVotes++
					}
				}
			}
		}
		for _, o := range v.Offenders {
			if slices.Contains(newly, o) && !seen[o] {
				seen[o] = true
				p.report.Slashed = append(p.report.Slashed, uint64(o))
			}
		}
	}
	// The rest were slashed by the rollback rule: attesters of pending
	// votes for the voided crosslink.
	for _, p := range landed {
		if p.rollback == nil {
			continue
		}
		for _, o := range newly {
			if !seen[o] {
				seen[o] = true
				p.report.Slashed = append(p.report.Slashed, uint64(o))
				p.report.PendingVoters = append(p.report.PendingVoters, uint64(o))
			}
		}
	}
	if len(seen) != len(newly) {
		return fmt.Errorf("simulate slot %d: %d validators slashed, %d of them by the block's fraud proofs", slot, len(newly), len(seen))
	}
	for _, p := range landed {
		if p.rollback != nil && post.CurrentCrosslinks[p.shard] != *p.rollback {
			return fmt.Errorf("simulate slot %d: the fraud proof did not roll shard %d's crosslink back", slot, p.shard)
		}
		if f := s.fraud; f != nil {
			if p.rollback != nil && p.shard == f.shard && f.report.RollbackLanded == 0 {
				f.report.RollbackLanded = uint64(slot)
				f.report.RollbackInWindow = f.report.CrosslinkWritten && uint64(slot) <= f.report.WindowEnd
			}
			f.report.Proofs = append(f.report.Proofs, *p.report)
		}
	}
	return nil
}

// noteInclusions records the beacon slots whose block (at slot) includes
// complicit votes, until the fisherman has used them as evidence.
func (s *shardRun) noteInclusions(slot types.Slot, atts []*types.Attestation) {
	f := s.fraud
	if f == nil || f.complicit == nil || f.proved {
		return
	}
	for _, a := range atts {
		if a.Data.Crosslink == *f.complicit {
			f.report.IncludedSlots = append(f.report.IncludedSlots, uint64(slot))
		}
	}
}

// noteWritten records, at an epoch end (st past the epoch processing),
// whether the complicit crosslink is on the shard's current crosslink
// chain as the node's shard chain knows it.
func (s *shardRun) noteWritten(st *types.BeaconState) {
	f := s.fraud
	if f == nil || f.complicit == nil || f.report.CrosslinkWritten {
		return
	}
	for _, l := range s.node.chains[f.shard].CrosslinkChain(st.CurrentCrosslinks[f.shard], params.MaxCrosslinkChain) {
		if l.Crosslink == *f.complicit {
			f.report.CrosslinkWritten = true
			f.report.WrittenSlot = uint64(st.Slot)
			f.report.WindowEnd = uint64(st.Slot) + s.chain.Shard.ChallengeWindow*s.chain.SlotsPerEpoch
			return
		}
	}
}

// attestComplicit has the members of sc who take part (parts), except the
// honest fisherman, vote the fraudulent chain: the canonical blocks of the
// crosslink's range before the fraudulent block, then it. It returns the
// members who still vote honestly.
func (s *shardRun) attestComplicit(slot types.Slot, sc validator.SlotCommittee, parts []types.ValidatorIndex) ([]types.ValidatorIndex, error) {
	f := s.fraud
	f.complicitDone = true
	var bad, good []types.ValidatorIndex
	for _, v := range parts {
		if f.haveFisherman && v == f.fisherman {
			good = append(good, v)
		} else {
			bad = append(bad, v)
		}
	}
	if len(bad) == 0 {
		return good, nil
	}
	fraudRoot := func(c types.Crosslink) (types.Root, error) {
		ch := s.node.chains[c.Shard]
		var roots []types.Root
		for sl := max(types.Slot(c.StartEpoch)*types.Slot(s.chain.SlotsPerEpoch), 1); sl < f.slot; sl++ {
			if r, ok := ch.CanonicalRoot(sl); ok {
				roots = append(roots, r)
			}
		}
		return shardcore.CrosslinkDataRoot(s.chain, append(roots, f.root))
	}
	data, err := validator.ProduceAttestationData(s.tr, s.st, s.ref.root, slot, sc.Shard, validator.WithDataRoot(fraudRoot))
	if err != nil {
		return nil, fmt.Errorf("simulate slot %d: %w", slot, err)
	}
	a, err := validator.AggregateCommittee(s.tr, s.st, data, sc.Committee, bad, s.keys)
	if err != nil {
		return nil, fmt.Errorf("simulate slot %d: %w", slot, err)
	}
	s.pool = append(s.pool, pooled{att: a, slot: slot})
	cl := data.Crosslink
	f.complicit = &cl
	f.report.ComplicitSlot = uint64(slot)
	f.report.ComplicitAttesters = indices(bad)
	cr := crosslinkReport(f.shard, cl)
	f.report.ComplicitCrosslink = &cr
	return good, nil
}
