package corebench

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// EpochFixture is a state in the last slot of an epoch with full
// participation recorded for the previous and the current epoch, as a busy
// chain has it right before its epoch transition.
type EpochFixture struct {
	Cfg   *params.Config
	Tr    *core.Transition
	State *types.BeaconState
}

// NewEpochFixture builds a state with n active validators of MAX_EFFECTIVE_BALANCE
// at the last slot of epoch 5 of cfg. Every committee of epochs 4 and 5 has one
// pending attestation with every member's bit set, voting for the correct
// target, head and a valid crosslink; the public keys are placeholders, as
// epoch processing never verifies signatures.
func NewEpochFixture(cfg *params.Config, n int) (*EpochFixture, error) {
	tr := core.New(cfg)
	st := types.NewBeaconState(cfg)
	const epoch = 5
	st.Slot = types.Slot((epoch+1)*cfg.SlotsPerEpoch - 1)
	st.GenesisTime = cfg.MinGenesisTime
	st.Validators = make([]types.Validator, n)
	st.Balances = make([]types.Gwei, n)
	for i := range st.Validators {
		v := &st.Validators[i]
		binary.LittleEndian.PutUint64(v.Pubkey[:], uint64(i)+1)
		v.Pubkey[47] = 0xaa
		v.WithdrawalCredentials = sha256.Sum256(v.Pubkey[:])
		v.WithdrawalCredentials[0] = 0
		v.EffectiveBalance = types.Gwei(cfg.MaxEffectiveBalance)
		v.ExitEpoch = types.FarFutureEpoch
		v.WithdrawableEpoch = types.FarFutureEpoch
		st.Balances[i] = types.Gwei(cfg.MaxEffectiveBalance)
	}
	fill := func(roots []types.Root, tag byte) {
		for i := range roots {
			var b [9]byte
			b[0] = tag
			binary.LittleEndian.PutUint64(b[1:], uint64(i))
			roots[i] = sha256.Sum256(b[:])
		}
	}
	fill(st.BlockRoots, 1)
	fill(st.StateRoots, 2)
	fill(st.RandaoMixes, 3)
	fill(st.ActiveIndexRoots, 4)
	fill(st.CompactCommitteesRoots, 5)
	st.Fork = types.Fork{Epoch: 0}
	st.LatestBlockHeader = types.BeaconBlockHeader{Slot: st.Slot - 1}
	root := func(e uint64) types.Root {
		r, _ := tr.BlockRoot(st, types.Epoch(e))
		return r
	}
	st.PreviousJustifiedCheckpoint = types.Checkpoint{Epoch: epoch - 2, Root: root(epoch - 2)}
	st.CurrentJustifiedCheckpoint = types.Checkpoint{Epoch: epoch - 1, Root: root(epoch - 1)}
	st.FinalizedCheckpoint = types.Checkpoint{Epoch: epoch - 2, Root: root(epoch - 2)}
	st.JustificationBits = 0b0011
	for _, e := range []types.Epoch{epoch - 1, epoch} {
		atts, err := fullAttestations(tr, st, e)
		if err != nil {
			return nil, err
		}
		if e == epoch {
			st.CurrentEpochAttestations = atts
		} else {
			st.PreviousEpochAttestations = atts
		}
	}
	return &EpochFixture{Cfg: cfg, Tr: tr, State: st}, nil
}

// fullAttestations returns one fully-participating pending attestation per
// committee of epoch, as included one slot after their attestation slot.
func fullAttestations(tr *core.Transition, st *types.BeaconState, e types.Epoch) ([]types.PendingAttestation, error) {
	cfg := tr.Config()
	ec, err := tr.Committees(st, e)
	if err != nil {
		return nil, err
	}
	target, err := tr.BlockRoot(st, e)
	if err != nil {
		return nil, err
	}
	source := st.CurrentJustifiedCheckpoint
	if e < tr.CurrentEpoch(st) {
		source = st.PreviousJustifiedCheckpoint
	}
	out := make([]types.PendingAttestation, 0, ec.Count)
	for k, committee := range ec.Committees {
		shard := ec.Shards[k]
		parent := st.CurrentCrosslinks[shard]
		data := types.AttestationData{
			Source: source,
			Target: types.Checkpoint{Epoch: e, Root: target},
			Crosslink: types.Crosslink{
				Shard:      shard,
				ParentRoot: parent.TreeRoot(),
				StartEpoch: parent.EndEpoch,
				EndEpoch:   types.Epoch(min(uint64(e), uint64(parent.EndEpoch)+cfg.MaxEpochsPerCrosslink)),
			},
		}
		slot, err := tr.AttestationDataSlot(st, &data)
		if err != nil {
			return nil, err
		}
		if slot >= st.Slot {
			continue // not includable yet
		}
		if data.BeaconBlockRoot, err = tr.BlockRootAtSlot(st, slot); err != nil {
			return nil, err
		}
		out = append(out, types.PendingAttestation{
			AggregationBits: fullBitlist(len(committee)),
			Data:            data,
			InclusionDelay:  1,
			ProposerIndex:   committee[0],
		})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no attestations for epoch %d", e)
	}
	return out, nil
}

// fullBitlist is an SSZ bitlist of n set bits.
func fullBitlist(n int) []byte {
	b := make([]byte, n/8+1)
	for i := 0; i < n; i++ {
		b[i/8] |= 1 << (i % 8)
	}
	b[n/8] |= 1 << (n % 8)
	return b
}
