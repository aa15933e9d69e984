package core

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/types"
)

// shardlab's shard fork (docs/protocol.md) changes three things in the
// beacon chain, all here or behind ShardForkActive:
//
//  1. At SHARD_FORK_EPOCH the state's fork version becomes SHARD_FORK_VERSION.
//  2. Crosslink votes carry data: the phase 0 rule data_root == 0 is lifted.
//  3. Blocks are ShardBeaconBlocks, whose bodies carry shard fraud proofs;
//     a valid proof slashes the shard proposer and the validators who
//     crosslinked the fraudulent block, and rolls the shard's crosslink back.
//
// The beacon chain cannot decode or re-execute shard blocks itself: the shard
// layer implements ShardFork and the node hands it to the Transition. Phase 0
// code paths are unchanged, so every phase 0 vector still passes.

// ShardFork verifies the shard-layer evidence a beacon block carries.
type ShardFork interface {
	// VerifyFraudProof checks one encoded shard fraud proof against st,
	// which it must not modify, and says what the proof establishes. Any
	// rejection wraps ErrInvalid.
	VerifyFraudProof(tr *Transition, st *types.BeaconState, proof []byte, sigs Sigs) (*FraudVerdict, error)
}

// FraudVerdict is what a valid fraud proof establishes.
type FraudVerdict struct {
	Shard types.Shard
	// Offenders are the validators to slash when slashable: the shard
	// block's proposer and every validator whose attestation crosslinked a
	// data root containing the block.
	Offenders []types.ValidatorIndex
	// Whistleblower is the fisherman's validator, rewarded as in
	// slash_validator.
	Whistleblower types.ValidatorIndex
	// Rollback, when set, becomes the shard's current (and previous)
	// crosslink: the parent of Voided, the crosslink that contained the block.
	Rollback *types.Crosslink
	Voided   *types.Crosslink
}

// WithShardFork sets the verifier of the shard fork's evidence. Call it once,
// before t processes a block or is shared; building the genesis state with
// t first is fine (a verifier may depend on that genesis).
func (t *Transition) WithShardFork(f ShardFork) *Transition {
	t.shardFork = f
	return t
}

// ShardForkActive reports whether st is at or past SHARD_FORK_EPOCH.
func (t *Transition) ShardForkActive(st *types.BeaconState) bool {
	s := t.cfg.Shard
	return s.Enabled() && uint64(t.currentEpoch(st)) >= s.ForkEpoch
}

// UpgradeToShardFork switches st's fork to SHARD_FORK_VERSION:
//
//	state.fork = Fork(previous_version=state.fork.current_version,
//	                  current_version=SHARD_FORK_VERSION, epoch=SHARD_FORK_EPOCH)
//
// process_slots calls it when a state enters the fork epoch; genesis states
// of chains forking at genesis are built with it.
func (t *Transition) UpgradeToShardFork(st *types.BeaconState) {
	s := t.cfg.Shard
	st.Fork = types.Fork{
		PreviousVersion: st.Fork.CurrentVersion,
		CurrentVersion:  types.Version(s.ForkVersion),
		Epoch:           types.Epoch(s.ForkEpoch),
	}
}

// ProcessShardBeaconBlock is process_block of the shard fork: the phase 0
// steps on the block's phase 0 part, then process_shard_fraud_proofs.
func (t *Transition) ProcessShardBeaconBlock(st *types.BeaconState, b *types.ShardBeaconBlock, sigs Sigs) error {
	if !t.ShardForkActive(st) {
		return fmt.Errorf("%w: a shard-fork block at slot %d, before SHARD_FORK_EPOCH", ErrInvalidBlock, b.Slot)
	}
	header, err := b.Header()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidBlock, err)
	}
	body := b.Body.Phase0()
	c := t.newCtx(st)
	if err := t.processHeader(c, &header, sigs); err != nil {
		return err
	}
	if err := t.processRandao(c, body, sigs); err != nil {
		return err
	}
	t.ProcessEth1Data(st, body)
	if err := t.processOperations(c, body, sigs); err != nil {
		return err
	}
	return t.processShardFraudProofs(c, b.Body.ShardFraudProofs, sigs)
}

// StateTransitionShard is state_transition for a shard-fork block.
func (t *Transition) StateTransitionShard(st *types.BeaconState, b *types.ShardBeaconBlock, sigs Sigs, validateStateRoot bool) error {
	return t.stateTransition(st, b, validateStateRoot, func() error { return t.ProcessShardBeaconBlock(st, b, sigs) })
}

// ProcessShardFraudProof applies one encoded fraud proof (process_shard_fraud_proof).
func (t *Transition) ProcessShardFraudProof(st *types.BeaconState, proof []byte, sigs Sigs) error {
	return t.processShardFraudProofs(t.newCtx(st), [][]byte{proof}, sigs)
}

// processShardFraudProofs is process_shard_fraud_proofs:
//
//	for proof in body.shard_fraud_proofs:
//	    verdict = verify_shard_fraud_proof(state, proof)      # the shard layer; asserts on failure
//	    slashed_any = False
//	    for index in verdict.offenders:
//	        if is_slashable_validator(state.validators[index], get_current_epoch(state)):
//	            slash_validator(state, index, verdict.whistleblower); slashed_any = True
//	    if verdict.rollback is not None:
//	        state.current_crosslinks[verdict.shard] = verdict.rollback
//	        state.previous_crosslinks[verdict.shard] = verdict.rollback
//	        for a in state.previous_epoch_attestations + state.current_epoch_attestations:
//	            if a.data.crosslink == verdict.voided:    # votes that would write it back
//	                for index in get_attesting_indices(state, a.data, a.aggregation_bits):
//	                    if is_slashable_validator(...): slash_validator(state, index, verdict.whistleblower); slashed_any = True
//	    assert slashed_any or verdict.rollback is not None   # a second proof of the same offence is rejected
func (t *Transition) processShardFraudProofs(c *ctx, proofs [][]byte, sigs Sigs) error {
	if len(proofs) == 0 {
		return nil
	}
	if t.shardFork == nil {
		return fmt.Errorf("%w: the block carries shard fraud proofs but no shard-fork verifier is configured", ErrInvalidBlock)
	}
	st := c.st
	for i, p := range proofs {
		v, err := t.shardFork.VerifyFraudProof(t, st, p, sigs)
		if err != nil {
			return fmt.Errorf("shard fraud proof %d: %w", i, err)
		}
		if uint64(v.Shard) >= t.cfg.ShardCount || uint64(v.Whistleblower) >= uint64(len(st.Validators)) {
			return fmt.Errorf("%w: shard fraud proof %d names a shard or whistleblower out of range", ErrInvalidOperation, i)
		}
		slashed := false
		wb := v.Whistleblower
		for _, o := range v.Offenders {
			if uint64(o) >= uint64(len(st.Validators)) {
				return fmt.Errorf("%w: shard fraud proof %d names validator %d out of range", ErrInvalidOperation, i, o)
			}
			if IsSlashableValidator(&st.Validators[o], c.current) {
				if err := t.slashValidator(c, o, &wb); err != nil {
					return err
				}
				slashed = true
			}
		}
		if v.Rollback != nil {
			if v.Voided == nil {
				return fmt.Errorf("%w: shard fraud proof %d rolls back without naming the voided crosslink", ErrInvalidOperation, i)
			}
			st.CurrentCrosslinks[v.Shard] = *v.Rollback
			st.PreviousCrosslinks[v.Shard] = *v.Rollback
			// Pending votes for the voided crosslink still name the rollback
			// target as their parent and would write it back at the next
			// epoch transition. Their attesters crosslinked the fraudulent
			// block too: slash them, which also removes their weight.
			n, err := t.slashPendingVoters(c, *v.Voided, &wb)
			if err != nil {
				return err
			}
			slashed = slashed || n > 0
		}
		if !slashed && v.Rollback == nil {
			return fmt.Errorf("%w: shard fraud proof %d slashes nobody and rolls nothing back (already processed?)", ErrInvalidOperation, i)
		}
	}
	return nil
}

// slashPendingVoters slashes the unslashed attesters of every pending
// attestation (previous and current epoch) that votes for crosslink c, and
// returns how many it slashed.
func (t *Transition) slashPendingVoters(c *ctx, cl types.Crosslink, whistleblower *types.ValidatorIndex) (int, error) {
	st := c.st
	n := 0
	for _, list := range [][]types.PendingAttestation{st.PreviousEpochAttestations, st.CurrentEpochAttestations} {
		for i := range list {
			a := &list[i]
			if a.Data.Crosslink != cl {
				continue
			}
			voters, err := c.attestingIndices(&a.Data, a.AggregationBits)
			if err != nil {
				return n, err
			}
			for _, v := range voters {
				if IsSlashableValidator(&st.Validators[v], c.current) {
					if err := t.slashValidator(c, v, whistleblower); err != nil {
						return n, err
					}
					n++
				}
			}
		}
	}
	return n, nil
}

// StateTransitionAny is state_transition for a block of either kind.
func (t *Transition) StateTransitionAny(st *types.BeaconState, b types.AnyBlock, sigs Sigs, validateStateRoot bool) error {
	switch blk := b.(type) {
	case *types.BeaconBlock:
		return t.StateTransition(st, blk, sigs, validateStateRoot)
	case *types.ShardBeaconBlock:
		return t.StateTransitionShard(st, blk, sigs, validateStateRoot)
	}
	return fmt.Errorf("%w: unknown block type %T", ErrInvalidBlock, b)
}
