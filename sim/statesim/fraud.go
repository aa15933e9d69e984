package statesim

import (
	"fmt"
	"slices"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// fraudScenario is the --fraud-at demonstration (see FraudReport).
type fraudScenario struct {
	slot types.Slot
	// The fraudulent block, once published, with what proving it needs:
	// its parent's header and post-state, and the beacon block it
	// references.
	block    *st.ShardBlock
	shard    types.Shard
	header   st.ShardBlockHeader
	root     types.Root
	parent   st.ShardBlockHeader
	pre      *st.ShardState
	ref      *beaconRef
	proposer types.ValidatorIndex
	// fisherman is the honest validator that proves the fraud.
	fisherman types.ValidatorIndex
	// complicitDone is set once the shard's crosslink committee covering
	// the block has voted; complicit is the crosslink it voted (nil if no
	// member took part), rec its registry entry.
	complicitDone bool
	complicit     *types.Crosslink
	rec           *linkRec
	// evidence holds the complicit votes included in beacon blocks, as
	// indexed attestations; includedEpoch is the epoch of the last
	// inclusion, proved once that epoch has been processed.
	evidence      []*st.CrosslinkEvidence
	includedEpoch types.Epoch
	proved        bool
	report        FraudReport
}

// complicitNow reports whether the committee of shard voting crosslink c
// (data root not yet set) is the complicit one: the first of the fraud
// block's shard whose crosslink covers the block's slot.
func (f *fraudScenario) complicitNow(shard types.Shard, c types.Crosslink, cfg *params.Config) bool {
	if f == nil || f.block == nil || f.complicitDone || shard != f.shard {
		return false
	}
	spe := types.Slot(cfg.SlotsPerEpoch)
	return types.Slot(c.StartEpoch)*spe <= f.slot && f.slot < types.Slot(c.EndEpoch)*spe
}

// fraudulentBlock handles the block of shard i at the fraud slot, built
// honestly and then given a wrong state root: the fisherman must have
// rejected it; it proves it at once.
func (s *shardRun) fraudulentBlock(slot types.Slot, i int, j *shardJob) error {
	f := s.fraud
	if j.rejected == nil {
		return fmt.Errorf("simulate slot %d: the fisherman accepted shard %d's block with a wrong state root", slot, i)
	}
	c := s.chains[i]
	b := j.built.Block
	h, err := b.Header()
	if err != nil {
		return fmt.Errorf("simulate slot %d: %w", slot, err)
	}
	f.block, f.shard, f.header, f.root = b, c.shard, h, h.SigningRoot()
	f.parent, f.pre, f.ref, f.proposer = c.headHeader, c.head, s.ref, j.proposer
	f.fisherman = s.chooseFisherman(slot, c.shard, j.proposer)
	f.report = FraudReport{
		Slot: uint64(slot), Published: true, Shard: uint64(c.shard), Proposer: uint64(j.proposer),
		BlockRoot: f.root.String(), Fisherman: uint64(f.fisherman), Receipts: len(j.built.Receipts),
		ComplicitAttesters: []uint64{}, IncludedSlots: []uint64{},
	}
	return s.prove(slot, shardcore.FraudEvidence{}, "proposer", nil)
}

// chooseFisherman picks the lowest validator index that is neither the
// fraudulent proposer nor in the shard's crosslink committee of the next
// epoch (the one expected to be complicit).
func (s *shardRun) chooseFisherman(slot types.Slot, shard types.Shard, proposer types.ValidatorIndex) types.ValidatorIndex {
	tr, bst := s.tr, s.st
	exclude := map[types.ValidatorIndex]bool{proposer: true}
	next := core.ComputeEpochOfSlot(s.chain, slot) + 1
	if start, err := tr.StartShard(bst, next); err == nil {
		n := s.chain.ShardCount
		if (uint64(shard)+n-uint64(start))%n < tr.CommitteeCount(bst, next) {
			if com, err := tr.CrosslinkCommittee(bst, next, shard); err == nil {
				for _, v := range com {
					exclude[v] = true
				}
			}
		}
	}
	for v := range bst.Validators {
		if !exclude[types.ValidatorIndex(v)] && !bst.Validators[v].Slashed {
			return types.ValidatorIndex(v)
		}
	}
	return 0
}

// prove has the fisherman build a fraud proof of the fraudulent block with
// the evidence and queue it for the next beacon block.
func (s *shardRun) prove(slot types.Slot, ev shardcore.FraudEvidence, kind string, rollbackTo *types.Crosslink) error {
	f := s.fraud
	sk, ok := s.keys.SecretKey(uint64(f.fisherman))
	if !ok {
		return fmt.Errorf("simulate slot %d: no key for fisherman %d", slot, f.fisherman)
	}
	p, err := s.fv.BuildFraudProof(s.tr, f.pre, &f.parent, f.block, &f.ref.header, f.ref.state, ev, f.fisherman, sk)
	if err != nil {
		return fmt.Errorf("simulate slot %d: %w", slot, err)
	}
	data, err := p.MarshalSSZ()
	if err != nil {
		return fmt.Errorf("simulate slot %d: encode fraud proof: %w", slot, err)
	}
	rep := &ProofReport{Kind: kind, Built: uint64(slot), Evidence: len(ev.Attestations), Slashed: []uint64{}, PendingVoters: []uint64{}}
	if ev.Rollback != nil {
		rep.Rollback = &RollbackReport{
			From:  crosslinkReport(f.shard, *ev.Rollback.Chain[len(ev.Rollback.Chain)-1]),
			To:    crosslinkReport(f.shard, ev.Rollback.Parent),
			Chain: len(ev.Rollback.Chain),
		}
	}
	s.pending = append(s.pending, &pendingProof{data: data, report: rep, rollback: rollbackTo, shard: f.shard})
	return nil
}

// takeProofs returns the fraud proofs for the beacon block of slot (at most
// MAX_SHARD_FRAUD_PROOFS). When the complicit votes are in beacon blocks
// and the epoch that included them has been processed (so the crosslink
// they vote was written or not), the fisherman first builds the second
// proof: the votes as evidence and, if the crosslink is on the shard's
// current crosslink chain, the rollback. s.st is at slot.
func (s *shardRun) takeProofs(slot types.Slot) ([]*pendingProof, error) {
	f := s.fraud
	if f != nil && len(f.evidence) > 0 && !f.proved && core.ComputeEpochOfSlot(s.chain, slot) > f.includedEpoch {
		f.proved = true
		ev := shardcore.FraudEvidence{Attestations: f.evidence}
		var to *types.Crosslink
		chain := s.links.chain(s.st.CurrentCrosslinks[f.shard], params.MaxCrosslinkChain)
		for k, l := range chain {
			if l != f.rec {
				continue
			}
			parent, ok := s.links.parent(l.cl.ParentRoot, s.genesisLinks[f.shard])
			if !ok {
				return nil, fmt.Errorf("simulate slot %d: the parent of the complicit crosslink is unknown", slot)
			}
			pos, _ := l.contains(f.root)
			branch, err := s.links.branch(l, pos)
			if err != nil {
				return nil, err
			}
			rb := &st.CrosslinkRollback{Parent: parent, HeaderIndex: uint64(pos), HeaderBranch: branch}
			for i := k; i >= 0; i-- {
				rb.Chain = append(rb.Chain, &chain[i].cl)
			}
			ev.Rollback, to = rb, &parent
			break
		}
		if err := s.prove(slot, ev, "crosslinkers", to); err != nil {
			return nil, err
		}
	}
	return s.pending[:min(len(s.pending), params.MaxShardFraudProofs)], nil
}

// landProofs records the proofs a beacon block of slot included: pre is the
// state the block applied to (at slot), post its post-state.
func (s *shardRun) landProofs(slot types.Slot, pre, post *types.BeaconState, proofs []*pendingProof) error {
	if len(proofs) == 0 {
		return nil
	}
	s.pending = s.pending[len(proofs):]
	s.fraudProofs += len(proofs)
	// The block's slashings all come from its proofs: each proof's
	// offenders, and, for a rollback, the pending voters of the voided
	// crosslink.
	newly := slashedSince(pre, post)
	seen := make(map[types.ValidatorIndex]bool)
	for _, p := range proofs {
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
	for _, p := range proofs {
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
	for _, p := range proofs {
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

// noteInclusions collects the complicit votes among the attestations a
// beacon block of slot included, as the fisherman's evidence. post is the
// block's post-state.
func (s *shardRun) noteInclusions(slot types.Slot, post *types.BeaconState, atts []*types.Attestation) error {
	f := s.fraud
	if f == nil || f.complicit == nil || f.proved {
		return nil
	}
	for _, a := range atts {
		if a.Data.Crosslink != *f.complicit {
			continue
		}
		ia, err := s.tr.IndexedAttestation(post, a)
		if err != nil {
			return fmt.Errorf("simulate slot %d: %w", slot, err)
		}
		pos, _ := f.rec.contains(f.root)
		branch, err := s.links.branch(f.rec, pos)
		if err != nil {
			return err
		}
		if len(f.evidence) < 16 {
			f.evidence = append(f.evidence, &st.CrosslinkEvidence{Attestation: *ia, HeaderIndex: uint64(pos), HeaderBranch: branch})
		}
		f.includedEpoch = core.ComputeEpochOfSlot(s.chain, slot)
		f.report.IncludedSlots = append(f.report.IncludedSlots, uint64(slot))
	}
	return nil
}

// attestComplicit has the members of sc who take part (parts), except the
// honest fisherman, vote the fraudulent chain: the canonical headers of the
// crosslink's range before the fraudulent block, then it. It returns the
// members who still vote honestly.
func (s *shardRun) attestComplicit(slot types.Slot, sc validator.SlotCommittee, parts []types.ValidatorIndex) ([]types.ValidatorIndex, error) {
	f := s.fraud
	f.complicitDone = true
	var bad, good []types.ValidatorIndex
	for _, v := range parts {
		if v == f.fisherman {
			good = append(good, v)
		} else {
			bad = append(bad, v)
		}
	}
	if len(bad) == 0 {
		return good, nil
	}
	fraudRoot := func(c types.Crosslink) (types.Root, error) {
		spe := types.Slot(s.chain.SlotsPerEpoch)
		recs := s.chains[c.Shard].headersIn(types.Slot(c.StartEpoch)*spe, f.slot)
		headers := make([]st.ShardBlockHeader, 0, len(recs)+1)
		for _, r := range recs {
			headers = append(headers, r.header)
		}
		return s.links.register(c, append(headers, f.header))
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
	f.complicit, f.rec = &cl, s.links.byRoot[cl.TreeRoot()]
	f.report.ComplicitSlot = uint64(slot)
	f.report.ComplicitAttesters = indices(bad)
	cr := crosslinkReport(f.shard, cl)
	f.report.ComplicitCrosslink = &cr
	return good, nil
}
