package validator

import (
	"fmt"
	"math/bits"
	"slices"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
)

// LatestBlockRoot returns the root (signing_root) of the latest block applied
// to st, which is the head root when st is a head state. A state fresh from a
// block has a zero state_root in its latest_block_header; process_slot fills
// it with the state's root, and so does this function.
func LatestBlockRoot(st *types.BeaconState) (types.Root, error) {
	h := st.LatestBlockHeader
	if h.StateRoot.IsZero() {
		root, err := st.HashTreeRoot()
		if err != nil {
			return types.Root{}, fmt.Errorf("hash state: %w", err)
		}
		h.StateRoot = root
	}
	return h.SigningRoot(), nil
}

// ProduceAttestationData is the validator guide's attestation data for the
// committee of shard at slot, following the head block headRoot whose
// post-state (at or before slot) is headState. headState is not modified.
//
//	head_state = head block's post-state processed to slot
//	data.beacon_block_root = signing_root(head_block)
//	data.source = head_state.current_justified_checkpoint
//	start_slot = compute_start_slot_of_epoch(get_current_epoch(head_state))
//	epoch_boundary_block_root = signing_root(head_block) if start_slot == head_state.slot
//	                            else get_block_root_at_slot(head_state, start_slot)
//	data.target = Checkpoint(epoch=get_current_epoch(head_state), root=epoch_boundary_block_root)
//	parent_crosslink = head_state.current_crosslinks[shard]
//	data.crosslink = Crosslink(shard=shard, parent_root=hash_tree_root(parent_crosslink),
//	    start_epoch=parent_crosslink.end_epoch,
//	    end_epoch=min(data.target.epoch, parent_crosslink.end_epoch + MAX_EPOCHS_PER_CROSSLINK),
//	    data_root=ZERO_HASH)
//
// It fails with ErrNotAssigned when the committee of shard does not attest at
// slot. In the shard fork, pass WithDataRoot: attesters vote the data root of
// the shard blocks the crosslink covers (docs/protocol.md §4).
func ProduceAttestationData(tr *core.Transition, headState *types.BeaconState, headRoot types.Root, slot types.Slot, shard types.Shard, opts ...AttestationOption) (*types.AttestationData, error) {
	var o attestationOptions
	for _, opt := range opts {
		opt(&o)
	}
	cfg := tr.Config()
	if headState.Slot > slot {
		return nil, fmt.Errorf("produce attestation data: head state is at slot %d, after slot %d", headState.Slot, slot)
	}
	if uint64(shard) >= cfg.ShardCount {
		return nil, fmt.Errorf("produce attestation data: %w: shard %d >= SHARD_COUNT %d", ErrNotAssigned, shard, cfg.ShardCount)
	}
	st := headState
	if st.Slot < slot {
		st = headState.Copy()
		if err := tr.ProcessSlots(st, slot); err != nil {
			return nil, fmt.Errorf("produce attestation data: process slots to %d: %w", slot, err)
		}
	}
	epoch := tr.CurrentEpoch(st)
	parent := st.CurrentCrosslinks[shard]
	end := min(uint64(epoch), uint64(parent.EndEpoch)+cfg.MaxEpochsPerCrosslink)
	if uint64(parent.EndEpoch)+cfg.MaxEpochsPerCrosslink < uint64(parent.EndEpoch) {
		end = uint64(epoch)
	}
	data := &types.AttestationData{
		BeaconBlockRoot: headRoot,
		Source:          st.CurrentJustifiedCheckpoint,
		Target:          types.Checkpoint{Epoch: epoch},
		Crosslink: types.Crosslink{
			Shard:      shard,
			ParentRoot: parent.TreeRoot(),
			StartEpoch: parent.EndEpoch,
			EndEpoch:   types.Epoch(end),
		},
	}
	attSlot, err := tr.AttestationDataSlot(st, data)
	if err != nil {
		return nil, fmt.Errorf("produce attestation data: %w", err)
	}
	if attSlot != slot {
		return nil, fmt.Errorf("produce attestation data: %w: the committee of shard %d attests at slot %d in epoch %d, not at slot %d",
			ErrNotAssigned, shard, attSlot, epoch, slot)
	}
	start := core.ComputeStartSlotOfEpoch(cfg, epoch)
	if start == st.Slot {
		data.Target.Root = headRoot
	} else {
		root, err := tr.BlockRootAtSlot(st, start)
		if err != nil {
			return nil, fmt.Errorf("produce attestation data: epoch boundary root: %w", err)
		}
		data.Target.Root = root
	}
	if o.dataRoot != nil {
		if !tr.ShardForkActive(st) {
			return nil, fmt.Errorf("produce attestation data: a crosslink data root before the shard fork")
		}
		root, err := o.dataRoot(data.Crosslink)
		if err != nil {
			return nil, fmt.Errorf("produce attestation data: crosslink data root of shard %d: %w", shard, err)
		}
		data.Crosslink.DataRoot = root
	}
	return data, nil
}

// DataRootFunc returns the data root an attester votes for a crosslink of
// the given shard, start and end epochs (data_root of the argument is zero).
type DataRootFunc func(c types.Crosslink) (types.Root, error)

type attestationOptions struct{ dataRoot DataRootFunc }

// AttestationOption adjusts ProduceAttestationData.
type AttestationOption func(*attestationOptions)

// WithDataRoot makes the attestation vote fn's data root for its crosslink.
func WithDataRoot(fn DataRootFunc) AttestationOption {
	return func(o *attestationOptions) { o.dataRoot = fn }
}

// SignAttestation is the validator guide's attestation of one committee
// member: the aggregate of AggregateCommittee with the single participant v.
func SignAttestation(tr *core.Transition, st *types.BeaconState, data *types.AttestationData, committee []types.ValidatorIndex, v types.ValidatorIndex, keys *Keys) (*types.Attestation, error) {
	return AggregateCommittee(tr, st, data, committee, []types.ValidatorIndex{v}, keys)
}

// AggregateCommittee returns the aggregate attestation of the participants,
// members of committee (the crosslink committee of data.target.epoch and
// data.crosslink.shard), voting for data: aggregation bits set at the
// participants' committee positions, custody bits all zero (phase 0), and the
// aggregate of their signatures
//
//	bls_sign(privkey, hash_tree_root(AttestationDataAndCustodyBit(data, custody_bit=0b0)),
//	         get_domain(state, DOMAIN_ATTESTATION, data.target.epoch))
//
// computed as one signature by the sum of their secret keys, which equals the
// sum of the individual signatures and costs a single signing. st is any
// state of the chain that knows the committee (the head state); it is only
// read. Every participant's key must be in keys.
func AggregateCommittee(tr *core.Transition, st *types.BeaconState, data *types.AttestationData, committee []types.ValidatorIndex, participants []types.ValidatorIndex, keys *Keys) (*types.Attestation, error) {
	want, err := tr.CrosslinkCommittee(st, data.Target.Epoch, data.Crosslink.Shard)
	if err != nil {
		return nil, fmt.Errorf("aggregate attestation: committee: %w", err)
	}
	if !slices.Equal(want, committee) {
		return nil, fmt.Errorf("aggregate attestation: %w: the committee given is not the crosslink committee of shard %d in epoch %d",
			ErrNotAssigned, data.Crosslink.Shard, data.Target.Epoch)
	}
	if len(participants) == 0 {
		return nil, fmt.Errorf("aggregate attestation: %w: no participants", ErrNotAssigned)
	}
	pos := make(map[types.ValidatorIndex]int, len(committee))
	for i, v := range committee {
		pos[v] = i
	}
	agg := newBitlist(len(committee))
	keyPos := make([]int, 0, len(participants))
	for _, v := range participants {
		i, ok := pos[v]
		if !ok {
			return nil, fmt.Errorf("aggregate attestation: %w: validator %d is not in the committee of shard %d in epoch %d",
				ErrNotAssigned, v, data.Crosslink.Shard, data.Target.Epoch)
		}
		if bitSet(agg, i) {
			return nil, fmt.Errorf("aggregate attestation: validator %d is listed twice", v)
		}
		setBit(agg, i)
		_, j, err := keys.forValidator(st, v)
		if err != nil {
			return nil, fmt.Errorf("aggregate attestation: %w", err)
		}
		keyPos = append(keyPos, j)
	}
	msg := (&types.AttestationDataAndCustodyBit{Data: *data}).TreeRoot()
	domain := tr.Domain(st, tr.Config().DomainAttestation, data.Target.Epoch)
	var sig *bls.Signature
	if sum, err := keys.sumSecret(keyPos); err == nil {
		sig = sum.Sign(msg, domain)
	} else {
		// The keys sum to zero mod r: sign one by one.
		sigs := make([]*bls.Signature, len(keyPos))
		for i, j := range keyPos {
			sigs[i] = keys.secrets[j].Sign(msg, domain)
		}
		sig = bls.AggregateSignatures(sigs)
	}
	return &types.Attestation{
		AggregationBits: agg,
		Data:            *data,
		CustodyBits:     newBitlist(len(committee)),
		Signature:       types.BLSSignature(sig.Bytes()),
	}, nil
}

// Bitlists are in SSZ form: bit i at byte i/8, bit i%8, and a delimiter bit
// just past the last one.

// newBitlist returns an all-zero bitlist of n bits.
func newBitlist(n int) []byte {
	b := make([]byte, n/8+1)
	b[n/8] = 1 << (n % 8)
	return b
}

// bitlistLen is the number of bits of b, or -1 if it has no delimiter.
func bitlistLen(b []byte) int {
	if len(b) == 0 || b[len(b)-1] == 0 {
		return -1
	}
	return 8*(len(b)-1) + bits.Len8(b[len(b)-1]) - 1
}

func setBit(b []byte, i int)      { b[i/8] |= 1 << (i % 8) }
func bitSet(b []byte, i int) bool { return b[i/8]>>(i%8)&1 == 1 }

// countBits is the number of set bits of bitlist b, its delimiter excluded.
func countBits(b []byte) int {
	n := 0
	for _, c := range b {
		n += bits.OnesCount8(c)
	}
	if len(b) > 0 && b[len(b)-1] != 0 {
		n-- // the delimiter
	}
	return n
}

// BitCount returns the number of attesters of an attestation (the set bits
// of its aggregation bitlist).
func BitCount(a *types.Attestation) int { return countBits(a.AggregationBits) }
