package core

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// Math and byte helpers of the spec ("Helper functions: Math", "Crypto").

// IntegerSquareroot is integer_squareroot: the largest x with x*x <= n.
func IntegerSquareroot(n uint64) uint64 {
	if n == ^uint64(0) {
		return 1<<32 - 1
	}
	x := n
	y := x/2 + x%2 // (x + 1) // 2 without overflow
	for y < x {
		x = y
		y = (x + n/x) / 2
	}
	return x
}

func hash(data []byte) types.Root { return sha256.Sum256(data) }

func xorRoots(a, b types.Root) types.Root {
	var r types.Root
	for i := range r {
		r[i] = a[i] ^ b[i]
	}
	return r
}

// uint64Root is hash_tree_root of a uint64 (8 little-endian bytes, zero padded).
func uint64Root(v uint64) types.Root {
	var r types.Root
	binary.LittleEndian.PutUint64(r[:], v)
	return r
}

func safeAdd(a, b uint64) (uint64, bool) {
	s, carry := bits.Add64(a, b, 0)
	return s, carry == 0
}

// Epoch and slot arithmetic ("Helper functions: Misc").

// ComputeEpochOfSlot is compute_epoch_of_slot.
func ComputeEpochOfSlot(cfg *params.Config, slot types.Slot) types.Epoch {
	return types.Epoch(uint64(slot) / cfg.SlotsPerEpoch)
}

// ComputeStartSlotOfEpoch is compute_start_slot_of_epoch.
func ComputeStartSlotOfEpoch(cfg *params.Config, epoch types.Epoch) types.Slot {
	return types.Slot(uint64(epoch) * cfg.SlotsPerEpoch)
}

// ComputeActivationExitEpoch is compute_activation_exit_epoch.
func ComputeActivationExitEpoch(cfg *params.Config, epoch types.Epoch) types.Epoch {
	return epoch + 1 + types.Epoch(cfg.ActivationExitDelay)
}

// ComputeDomain is compute_domain: domain type ++ fork version.
func ComputeDomain(domainType params.DomainType, version types.Version) types.Domain {
	var d types.Domain
	copy(d[:4], domainType[:])
	copy(d[4:], version[:])
	return d
}

func (t *Transition) currentEpoch(st *types.BeaconState) types.Epoch {
	return ComputeEpochOfSlot(t.cfg, st.Slot)
}

// CurrentEpoch is get_current_epoch.
func (t *Transition) CurrentEpoch(st *types.BeaconState) types.Epoch { return t.currentEpoch(st) }

// PreviousEpoch is get_previous_epoch.
func (t *Transition) PreviousEpoch(st *types.BeaconState) types.Epoch {
	cur := t.currentEpoch(st)
	if cur == types.Epoch(t.cfg.GenesisEpoch()) {
		return cur
	}
	return cur - 1
}

// BlockRootAtSlot is get_block_root_at_slot.
func (t *Transition) BlockRootAtSlot(st *types.BeaconState, slot types.Slot) (types.Root, error) {
	if !(slot < st.Slot && uint64(st.Slot) <= uint64(slot)+t.cfg.SlotsPerHistoricalRoot) {
		return types.Root{}, fmt.Errorf("%w: block root of slot %d is out of range at state slot %d", ErrInvalidState, slot, st.Slot)
	}
	return st.BlockRoots[uint64(slot)%t.cfg.SlotsPerHistoricalRoot], nil
}

// BlockRoot is get_block_root: the root of the block at the start of epoch.
func (t *Transition) BlockRoot(st *types.BeaconState, epoch types.Epoch) (types.Root, error) {
	return t.BlockRootAtSlot(st, ComputeStartSlotOfEpoch(t.cfg, epoch))
}

// RandaoMix is get_randao_mix.
func (t *Transition) RandaoMix(st *types.BeaconState, epoch types.Epoch) types.Root {
	return st.RandaoMixes[uint64(epoch)%t.cfg.EpochsPerHistoricalVector]
}

// Domain is get_domain with an explicit message epoch.
func (t *Transition) Domain(st *types.BeaconState, domainType params.DomainType, epoch types.Epoch) types.Domain {
	v := st.Fork.CurrentVersion
	if epoch < st.Fork.Epoch {
		v = st.Fork.PreviousVersion
	}
	return ComputeDomain(domainType, v)
}

// IsActiveValidator is is_active_validator.
func IsActiveValidator(v *types.Validator, epoch types.Epoch) bool {
	return v.ActivationEpoch <= epoch && epoch < v.ExitEpoch
}

// IsSlashableValidator is is_slashable_validator.
func IsSlashableValidator(v *types.Validator, epoch types.Epoch) bool {
	return !v.Slashed && v.ActivationEpoch <= epoch && epoch < v.WithdrawableEpoch
}

// IsSlashableAttestationData is is_slashable_attestation_data: a double vote
// or a surround vote (data1 surrounding data2).
func IsSlashableAttestationData(d1, d2 *types.AttestationData) bool {
	double := *d1 != *d2 && d1.Target.Epoch == d2.Target.Epoch
	surround := d1.Source.Epoch < d2.Source.Epoch && d2.Target.Epoch < d1.Target.Epoch
	return double || surround
}

// ActiveValidatorIndices is get_active_validator_indices.
func ActiveValidatorIndices(st *types.BeaconState, epoch types.Epoch) []types.ValidatorIndex {
	out := make([]types.ValidatorIndex, 0, len(st.Validators))
	for i := range st.Validators {
		if IsActiveValidator(&st.Validators[i], epoch) {
			out = append(out, types.ValidatorIndex(i))
		}
	}
	return out
}

// TotalBalance is get_total_balance: the sum of effective balances, at least 1.
func TotalBalance(st *types.BeaconState, indices []types.ValidatorIndex) types.Gwei {
	var sum types.Gwei
	for _, i := range indices {
		sum += st.Validators[i].EffectiveBalance
	}
	return max(sum, 1)
}

// IsValidMerkleBranch is is_valid_merkle_branch.
func IsValidMerkleBranch(leaf types.Root, branch []types.Root, depth uint64, index uint64, root types.Root) bool {
	if uint64(len(branch)) < depth {
		return false
	}
	value := leaf
	var buf [64]byte
	for i := uint64(0); i < depth; i++ {
		if i < 64 && (index>>i)&1 == 1 {
			copy(buf[:32], branch[i][:])
			copy(buf[32:], value[:])
		} else {
			copy(buf[:32], value[:])
			copy(buf[32:], branch[i][:])
		}
		value = hash(buf[:])
	}
	return value == root
}

// Mutators ("Beacon state mutators").

// IncreaseBalance is increase_balance. A balance that would overflow uint64
// makes the transition invalid, as the spec's uint64 would.
func IncreaseBalance(st *types.BeaconState, i types.ValidatorIndex, delta types.Gwei) error {
	if uint64(i) >= uint64(len(st.Balances)) {
		return fmt.Errorf("%w: balance index %d out of range", ErrInvalidState, i)
	}
	s, ok := safeAdd(uint64(st.Balances[i]), uint64(delta))
	if !ok {
		return fmt.Errorf("%w: balance of validator %d overflows", ErrInvalidState, i)
	}
	st.Balances[i] = types.Gwei(s)
	return nil
}

// DecreaseBalance is decrease_balance (clamped at zero).
func DecreaseBalance(st *types.BeaconState, i types.ValidatorIndex, delta types.Gwei) error {
	if uint64(i) >= uint64(len(st.Balances)) {
		return fmt.Errorf("%w: balance index %d out of range", ErrInvalidState, i)
	}
	if delta > st.Balances[i] {
		st.Balances[i] = 0
	} else {
		st.Balances[i] -= delta
	}
	return nil
}

// ValidatorChurnLimit is get_validator_churn_limit.
func (t *Transition) ValidatorChurnLimit(st *types.BeaconState) uint64 {
	return t.churnLimit(uint64(len(ActiveValidatorIndices(st, t.currentEpoch(st)))))
}

func (t *Transition) churnLimit(activeCount uint64) uint64 {
	return max(t.cfg.MinPerEpochChurnLimit, activeCount/t.cfg.ChurnLimitQuotient)
}

// InitiateValidatorExit is initiate_validator_exit.
func (t *Transition) InitiateValidatorExit(st *types.BeaconState, index types.ValidatorIndex) error {
	return t.initiateExit(t.newCtx(st), index)
}

func (t *Transition) initiateExit(c *ctx, index types.ValidatorIndex) error {
	st := c.st
	if uint64(index) >= uint64(len(st.Validators)) {
		return fmt.Errorf("%w: validator index %d out of range", ErrInvalidState, index)
	}
	v := &st.Validators[index]
	if v.ExitEpoch != types.FarFutureEpoch {
		return nil
	}
	queue := ComputeActivationExitEpoch(t.cfg, c.current)
	for i := range st.Validators {
		if e := st.Validators[i].ExitEpoch; e != types.FarFutureEpoch && e > queue {
			queue = e
		}
	}
	churn := uint64(0)
	for i := range st.Validators {
		if st.Validators[i].ExitEpoch == queue {
			churn++
		}
	}
	limit, err := c.churnLimit()
	if err != nil {
		return err
	}
	if churn >= limit {
		queue++
	}
	w, ok := safeAdd(uint64(queue), t.cfg.MinValidatorWithdrawabilityDelay)
	if !ok || queue == types.FarFutureEpoch {
		return fmt.Errorf("%w: exit epoch of validator %d overflows", ErrInvalidState, index)
	}
	v.ExitEpoch = queue
	v.WithdrawableEpoch = types.Epoch(w)
	return nil
}

// SlashValidator is slash_validator. whistleblower nil means the proposer.
func (t *Transition) SlashValidator(st *types.BeaconState, index types.ValidatorIndex, whistleblower *types.ValidatorIndex) error {
	return t.slashValidator(t.newCtx(st), index, whistleblower)
}

func (t *Transition) slashValidator(c *ctx, index types.ValidatorIndex, whistleblower *types.ValidatorIndex) error {
	st, cfg := c.st, t.cfg
	epoch := c.current
	if err := t.initiateExit(c, index); err != nil {
		return err
	}
	v := &st.Validators[index]
	v.Slashed = true
	w, ok := safeAdd(uint64(epoch), cfg.EpochsPerSlashingsVector)
	if !ok {
		return fmt.Errorf("%w: withdrawable epoch overflows", ErrInvalidState)
	}
	v.WithdrawableEpoch = max(v.WithdrawableEpoch, types.Epoch(w))
	st.Slashings[uint64(epoch)%cfg.EpochsPerSlashingsVector] += v.EffectiveBalance
	if err := DecreaseBalance(st, index, v.EffectiveBalance/types.Gwei(cfg.MinSlashingPenaltyQuotient)); err != nil {
		return err
	}
	proposer, err := c.proposerIndex()
	if err != nil {
		return err
	}
	wb := proposer
	if whistleblower != nil {
		wb = *whistleblower
	}
	wbReward := v.EffectiveBalance / types.Gwei(cfg.WhistleblowerRewardQuotient)
	propReward := wbReward / types.Gwei(cfg.ProposerRewardQuotient)
	if err := IncreaseBalance(st, proposer, propReward); err != nil {
		return err
	}
	return IncreaseBalance(st, wb, wbReward-propReward)
}
