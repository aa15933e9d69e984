package core

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/types"
)

// ProcessBlockHeader is process_block_header.
//
//	assert block.slot == state.slot
//	assert block.parent_root == signing_root(state.latest_block_header)
//	state.latest_block_header = BeaconBlockHeader(slot=block.slot, parent_root=block.parent_root, body_root=hash_tree_root(block.body))
//	proposer = state.validators[get_beacon_proposer_index(state)]
//	assert not proposer.slashed
//	assert bls_verify(proposer.pubkey, signing_root(block), block.signature, get_domain(state, DOMAIN_BEACON_PROPOSER))
func (t *Transition) ProcessBlockHeader(st *types.BeaconState, b *types.BeaconBlock, sigs Sigs) error {
	return t.processBlockHeader(t.newCtx(st), b, sigs)
}

func (t *Transition) processBlockHeader(c *ctx, b *types.BeaconBlock, sigs Sigs) error {
	header, err := b.Header()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidBlock, err)
	}
	return t.processHeader(c, &header, sigs)
}

// processHeader is process_block_header on a block's header (its body
// replaced by the body root), shared by both block types.
func (t *Transition) processHeader(c *ctx, header *types.BeaconBlockHeader, sigs Sigs) error {
	st := c.st
	if header.Slot != st.Slot {
		return fmt.Errorf("%w: block slot %d, state slot %d", ErrInvalidBlock, header.Slot, st.Slot)
	}
	parent := st.LatestBlockHeader.SigningRoot()
	if header.ParentRoot != parent {
		return fmt.Errorf("%w: parent root %s, expected %s", ErrInvalidBlock, header.ParentRoot, parent)
	}
	st.LatestBlockHeader = types.BeaconBlockHeader{Slot: header.Slot, ParentRoot: header.ParentRoot, BodyRoot: header.BodyRoot}
	proposer, err := c.proposerIndex()
	if err != nil {
		return err
	}
	v := &st.Validators[proposer]
	if v.Slashed {
		return fmt.Errorf("%w: proposer %d is slashed", ErrInvalidBlock, proposer)
	}
	domain := t.Domain(st, t.cfg.DomainBeaconProposer, c.current)
	return t.verify(sigs, v.Pubkey, header.SigningRoot(), header.Signature, domain, fmt.Sprintf("block signature of proposer %d", proposer))
}

// ProcessRandao is process_randao.
//
//	epoch = get_current_epoch(state)
//	proposer = state.validators[get_beacon_proposer_index(state)]
//	assert bls_verify(proposer.pubkey, hash_tree_root(epoch), body.randao_reveal, get_domain(state, DOMAIN_RANDAO))
//	mix = xor(get_randao_mix(state, epoch), hash(body.randao_reveal))
//	state.randao_mixes[epoch % EPOCHS_PER_HISTORICAL_VECTOR] = mix
func (t *Transition) ProcessRandao(st *types.BeaconState, body *types.BeaconBlockBody, sigs Sigs) error {
	return t.processRandao(t.newCtx(st), body, sigs)
}

func (t *Transition) processRandao(c *ctx, body *types.BeaconBlockBody, sigs Sigs) error {
	st := c.st
	epoch := c.current
	proposer, err := c.proposerIndex()
	if err != nil {
		return err
	}
	domain := t.Domain(st, t.cfg.DomainRandao, epoch)
	if err := t.verify(sigs, st.Validators[proposer].Pubkey, uint64Root(uint64(epoch)), body.RandaoReveal, domain,
		fmt.Sprintf("randao reveal of proposer %d", proposer)); err != nil {
		return err
	}
	i := uint64(epoch) % t.cfg.EpochsPerHistoricalVector
	st.RandaoMixes[i] = xorRoots(st.RandaoMixes[i], hash(body.RandaoReveal[:]))
	return nil
}

// ProcessEth1Data is process_eth1_data.
//
//	state.eth1_data_votes.append(body.eth1_data)
//	if state.eth1_data_votes.count(body.eth1_data) * 2 > SLOTS_PER_ETH1_VOTING_PERIOD:
//	    state.eth1_data = body.eth1_data
func (t *Transition) ProcessEth1Data(st *types.BeaconState, body *types.BeaconBlockBody) {
	st.Eth1DataVotes = append(st.Eth1DataVotes, body.Eth1Data)
	count := uint64(0)
	for i := range st.Eth1DataVotes {
		if st.Eth1DataVotes[i] == body.Eth1Data {
			count++
		}
	}
	if count*2 > t.cfg.SlotsPerEth1VotingPeriod {
		st.Eth1Data = body.Eth1Data
	}
}

// ProcessOperations is process_operations.
//
//	assert len(body.deposits) == min(MAX_DEPOSITS, state.eth1_data.deposit_count - state.eth1_deposit_index)
//	assert len(body.transfers) == len(set(body.transfers))
//	for operations, function in ((body.proposer_slashings, process_proposer_slashing),
//	        (body.attester_slashings, process_attester_slashing), (body.attestations, process_attestation),
//	        (body.deposits, process_deposit), (body.voluntary_exits, process_voluntary_exit),
//	        (body.transfers, process_transfer)):
//	    for operation in operations:
//	        function(state, operation)
func (t *Transition) ProcessOperations(st *types.BeaconState, body *types.BeaconBlockBody, sigs Sigs) error {
	return t.processOperations(t.newCtx(st), body, sigs)
}

func (t *Transition) processOperations(c *ctx, body *types.BeaconBlockBody, sigs Sigs) error {
	st, cfg := c.st, t.cfg
	if st.Eth1Data.DepositCount < st.Eth1DepositIndex {
		return fmt.Errorf("%w: eth1 deposit index %d is past the deposit count %d", ErrInvalidBlock, st.Eth1DepositIndex, st.Eth1Data.DepositCount)
	}
	want := min(cfg.MaxDeposits, st.Eth1Data.DepositCount-st.Eth1DepositIndex)
	if uint64(len(body.Deposits)) != want {
		return fmt.Errorf("%w: block has %d deposits, expected %d", ErrInvalidBlock, len(body.Deposits), want)
	}
	for i := range body.Transfers {
		for j := 0; j < i; j++ {
			if *body.Transfers[i] == *body.Transfers[j] {
				return fmt.Errorf("%w: duplicate transfer %d", ErrInvalidBlock, i)
			}
		}
	}
	// The list lengths are bounded by the SSZ limits; check them for blocks
	// built in memory, which never went through the decoder.
	if uint64(len(body.ProposerSlashings)) > cfg.MaxProposerSlashings || uint64(len(body.AttesterSlashings)) > cfg.MaxAttesterSlashings ||
		uint64(len(body.Attestations)) > cfg.MaxAttestations || uint64(len(body.VoluntaryExits)) > cfg.MaxVoluntaryExits ||
		uint64(len(body.Transfers)) > cfg.MaxTransfers {
		return fmt.Errorf("%w: too many operations", ErrInvalidBlock)
	}
	for i, op := range body.ProposerSlashings {
		if err := t.processProposerSlashing(c, op, sigs); err != nil {
			return fmt.Errorf("proposer slashing %d: %w", i, err)
		}
	}
	for i, op := range body.AttesterSlashings {
		if err := t.processAttesterSlashing(c, op, sigs); err != nil {
			return fmt.Errorf("attester slashing %d: %w", i, err)
		}
	}
	for i, op := range body.Attestations {
		if err := t.processAttestation(c, op, sigs); err != nil {
			return fmt.Errorf("attestation %d: %w", i, err)
		}
	}
	for i, op := range body.Deposits {
		if err := t.processDeposit(c, op, sigs); err != nil {
			return fmt.Errorf("deposit %d: %w", i, err)
		}
	}
	for i, op := range body.VoluntaryExits {
		if err := t.processVoluntaryExit(c, op, sigs); err != nil {
			return fmt.Errorf("voluntary exit %d: %w", i, err)
		}
	}
	for i, op := range body.Transfers {
		if err := t.processTransfer(c, op, sigs); err != nil {
			return fmt.Errorf("transfer %d: %w", i, err)
		}
	}
	return nil
}
