package core

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
)

// ProcessDeposit is process_deposit.
//
//	assert is_valid_merkle_branch(leaf=hash_tree_root(deposit.data), branch=deposit.proof,
//	    depth=DEPOSIT_CONTRACT_TREE_DEPTH + 1, index=state.eth1_deposit_index, root=state.eth1_data.deposit_root)
//	state.eth1_deposit_index += 1
//	if pubkey not in validator_pubkeys:
//	    if not bls_verify(pubkey, signing_root(deposit.data), deposit.data.signature, compute_domain(DOMAIN_DEPOSIT)):
//	        return
//	    state.validators.append(Validator(..., effective_balance=min(amount - amount % EFFECTIVE_BALANCE_INCREMENT, MAX_EFFECTIVE_BALANCE)))
//	    state.balances.append(amount)
//	else:
//	    increase_balance(state, index, amount)
//
// With sigs in batch mode the proof of possession is still verified at once,
// because an invalid one skips the deposit rather than failing the block.
func (t *Transition) ProcessDeposit(st *types.BeaconState, d *types.Deposit, sigs Sigs) error {
	return t.processDeposit(t.newCtx(st), d, sigs)
}

func (t *Transition) processDeposit(c *ctx, d *types.Deposit, sigs Sigs) error {
	st, cfg := c.st, t.cfg
	if !IsValidMerkleBranch(d.Data.TreeRoot(), d.Proof[:], params.DepositContractTreeDepth+1, st.Eth1DepositIndex, st.Eth1Data.DepositRoot) {
		return fmt.Errorf("%w: deposit %d: invalid Merkle branch", ErrInvalidOperation, st.Eth1DepositIndex)
	}
	st.Eth1DepositIndex++
	if c.pubkeyIndex == nil {
		c.pubkeyIndex = make(map[types.BLSPubkey]types.ValidatorIndex, len(st.Validators))
		for i := range st.Validators {
			if _, dup := c.pubkeyIndex[st.Validators[i].Pubkey]; !dup {
				c.pubkeyIndex[st.Validators[i].Pubkey] = types.ValidatorIndex(i)
			}
		}
	}
	if i, ok := c.pubkeyIndex[d.Data.Pubkey]; ok {
		return IncreaseBalance(st, i, d.Data.Amount)
	}
	if !sigs.Skipping() && !t.depositSignatureValid(&d.Data) {
		return nil
	}
	amount := d.Data.Amount
	inc := types.Gwei(cfg.EffectiveBalanceIncrement)
	st.Validators = append(st.Validators, types.Validator{
		Pubkey:                     d.Data.Pubkey,
		WithdrawalCredentials:      d.Data.WithdrawalCredentials,
		ActivationEligibilityEpoch: types.FarFutureEpoch,
		ActivationEpoch:            types.FarFutureEpoch,
		ExitEpoch:                  types.FarFutureEpoch,
		WithdrawableEpoch:          types.FarFutureEpoch,
		EffectiveBalance:           min(amount-amount%inc, types.Gwei(cfg.MaxEffectiveBalance)),
	})
	st.Balances = append(st.Balances, amount)
	c.pubkeyIndex[d.Data.Pubkey] = types.ValidatorIndex(len(st.Validators) - 1)
	return nil
}

// depositSignatureValid checks a deposit's proof of possession. Any decoding
// failure makes it invalid, as the spec's bls_verify returns False on bad points.
func (t *Transition) depositSignatureValid(d *types.DepositData) bool {
	pk, err := bls.PublicKeyFromBytes(d.Pubkey[:])
	if err != nil {
		return false
	}
	sig, err := bls.SignatureFromBytes(d.Signature[:])
	if err != nil {
		return false
	}
	domain := ComputeDomain(t.cfg.DomainDeposit, types.Version{})
	return bls.Verify(pk, d.SigningRoot(), sig, domain)
}

// ProcessVoluntaryExit is process_voluntary_exit.
//
//	validator = state.validators[exit.validator_index]
//	assert is_active_validator(validator, get_current_epoch(state))
//	assert validator.exit_epoch == FAR_FUTURE_EPOCH
//	assert get_current_epoch(state) >= exit.epoch
//	assert get_current_epoch(state) >= validator.activation_epoch + PERSISTENT_COMMITTEE_PERIOD
//	domain = get_domain(state, DOMAIN_VOLUNTARY_EXIT, exit.epoch)
//	assert bls_verify(validator.pubkey, signing_root(exit), exit.signature, domain)
//	initiate_validator_exit(state, exit.validator_index)
func (t *Transition) ProcessVoluntaryExit(st *types.BeaconState, e *types.VoluntaryExit, sigs Sigs) error {
	return t.processVoluntaryExit(t.newCtx(st), e, sigs)
}

func (t *Transition) processVoluntaryExit(c *ctx, e *types.VoluntaryExit, sigs Sigs) error {
	st, cfg := c.st, t.cfg
	if uint64(e.ValidatorIndex) >= uint64(len(st.Validators)) {
		return fmt.Errorf("%w: validator index %d out of range", ErrInvalidOperation, e.ValidatorIndex)
	}
	v := &st.Validators[e.ValidatorIndex]
	if !IsActiveValidator(v, c.current) {
		return fmt.Errorf("%w: validator %d is not active", ErrInvalidOperation, e.ValidatorIndex)
	}
	if v.ExitEpoch != types.FarFutureEpoch {
		return fmt.Errorf("%w: validator %d already exits at epoch %d", ErrInvalidOperation, e.ValidatorIndex, v.ExitEpoch)
	}
	if c.current < e.Epoch {
		return fmt.Errorf("%w: exit is valid only from epoch %d", ErrInvalidOperation, e.Epoch)
	}
	if uint64(c.current) < uint64(v.ActivationEpoch)+cfg.PersistentCommitteePeriod {
		return fmt.Errorf("%w: validator %d has not been active for PERSISTENT_COMMITTEE_PERIOD", ErrInvalidOperation, e.ValidatorIndex)
	}
	domain := t.Domain(st, cfg.DomainVoluntaryExit, e.Epoch)
	if err := t.verify(sigs, v.Pubkey, e.SigningRoot(), e.Signature, domain, "voluntary exit"); err != nil {
		return err
	}
	return t.initiateExit(c, e.ValidatorIndex)
}

// ProcessTransfer is process_transfer.
//
//	assert state.balances[transfer.sender] >= max(transfer.amount + transfer.fee, transfer.amount, transfer.fee)
//	assert state.slot == transfer.slot
//	assert (state.validators[transfer.sender].activation_eligibility_epoch == FAR_FUTURE_EPOCH or
//	        get_current_epoch(state) >= state.validators[transfer.sender].withdrawable_epoch or
//	        state.balances[transfer.sender] >= transfer.amount + transfer.fee + MAX_EFFECTIVE_BALANCE)
//	assert state.validators[transfer.sender].withdrawal_credentials == BLS_WITHDRAWAL_PREFIX + hash(transfer.pubkey)[1:]
//	assert bls_verify(transfer.pubkey, signing_root(transfer), transfer.signature, get_domain(state, DOMAIN_TRANSFER))
//	decrease_balance(state, transfer.sender, transfer.amount + transfer.fee)
//	increase_balance(state, transfer.recipient, transfer.amount)
//	increase_balance(state, get_beacon_proposer_index(state), transfer.fee)
//	assert not (0 < state.balances[transfer.sender] < MIN_DEPOSIT_AMOUNT)
//	assert not (0 < state.balances[transfer.recipient] < MIN_DEPOSIT_AMOUNT)
func (t *Transition) ProcessTransfer(st *types.BeaconState, tr *types.Transfer, sigs Sigs) error {
	return t.processTransfer(t.newCtx(st), tr, sigs)
}

func (t *Transition) processTransfer(c *ctx, tr *types.Transfer, sigs Sigs) error {
	st, cfg := c.st, t.cfg
	n := uint64(len(st.Validators))
	if uint64(tr.Sender) >= n || uint64(tr.Recipient) >= n {
		return fmt.Errorf("%w: transfer index out of range", ErrInvalidOperation)
	}
	// amount + fee as the spec's unbounded integer: an overflow exceeds any balance.
	total, ok := safeAdd(uint64(tr.Amount), uint64(tr.Fee))
	bal := uint64(st.Balances[tr.Sender])
	if !ok || bal < total {
		return fmt.Errorf("%w: sender balance %d does not cover amount %d and fee %d", ErrInvalidOperation, bal, tr.Amount, tr.Fee)
	}
	if st.Slot != tr.Slot {
		return fmt.Errorf("%w: transfer is for slot %d, state is at %d", ErrInvalidOperation, tr.Slot, st.Slot)
	}
	sender := &st.Validators[tr.Sender]
	withMax, ok := safeAdd(total, cfg.MaxEffectiveBalance)
	if !(sender.ActivationEligibilityEpoch == types.FarFutureEpoch || c.current >= sender.WithdrawableEpoch || (ok && bal >= withMax)) {
		return fmt.Errorf("%w: sender %d may not transfer", ErrInvalidOperation, tr.Sender)
	}
	h := hash(tr.Pubkey[:])
	want := types.Root(h)
	want[0] = cfg.BLSWithdrawalPrefix[0]
	if sender.WithdrawalCredentials != want {
		return fmt.Errorf("%w: transfer pubkey does not match the sender's withdrawal credentials", ErrInvalidOperation)
	}
	domain := t.Domain(st, cfg.DomainTransfer, c.current)
	if !sigs.Skipping() {
		pk, err := bls.PublicKeyFromBytes(tr.Pubkey[:])
		if err != nil {
			return fmt.Errorf("%w: transfer pubkey: %v", ErrInvalidSignature, err)
		}
		if err := t.verifyKey(sigs, pk, tr.SigningRoot(), tr.Signature, domain, "transfer"); err != nil {
			return err
		}
	}
	if err := DecreaseBalance(st, tr.Sender, types.Gwei(total)); err != nil {
		return err
	}
	if err := IncreaseBalance(st, tr.Recipient, tr.Amount); err != nil {
		return err
	}
	proposer, err := c.proposerIndex()
	if err != nil {
		return err
	}
	if err := IncreaseBalance(st, proposer, tr.Fee); err != nil {
		return err
	}
	for _, i := range []types.ValidatorIndex{tr.Sender, tr.Recipient} {
		if b := uint64(st.Balances[i]); b > 0 && b < cfg.MinDepositAmount {
			return fmt.Errorf("%w: transfer leaves validator %d with dust balance %d", ErrInvalidOperation, i, b)
		}
	}
	return nil
}
