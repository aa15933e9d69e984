package core

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// DepositTree is the deposit contract's incremental Merkle tree: the SSZ
// List[DepositData, 2**DEPOSIT_CONTRACT_TREE_DEPTH] of deposit data roots,
// appended to one leaf at a time with O(depth) work per append, root and proof.
type DepositTree struct {
	leaves []types.Root
	branch [params.DepositContractTreeDepth]types.Root
}

// Append adds the root of a DepositData.
func (d *DepositTree) Append(leaf types.Root) {
	d.leaves = append(d.leaves, leaf)
	node := leaf
	size := uint64(len(d.leaves))
	for h := 0; h < params.DepositContractTreeDepth; h++ {
		if size&1 == 1 {
			d.branch[h] = node
			return
		}
		node = hashPair(d.branch[h], node)
		size >>= 1
	}
}

// Len is the number of deposits.
func (d *DepositTree) Len() int { return len(d.leaves) }

// Root is hash_tree_root of the list: the tree root mixed with the count.
func (d *DepositTree) Root() types.Root {
	var node types.Root
	size := uint64(len(d.leaves))
	for h := 0; h < params.DepositContractTreeDepth; h++ {
		if size&1 == 1 {
			node = hashPair(d.branch[h], node)
		} else {
			node = hashPair(node, zeroHashes[h])
		}
		size >>= 1
	}
	return mixInLength(node, uint64(len(d.leaves)))
}

// Proof returns the branch of leaf i in the tree of the first n leaves, in the
// form process_deposit checks: DEPOSIT_CONTRACT_TREE_DEPTH siblings followed by
// the length mix-in. It costs O(n); callers building many proofs should build
// them in one pass instead.
func (d *DepositTree) Proof(i, n int) ([types.DepositProofLength]types.Root, error) {
	var proof [types.DepositProofLength]types.Root
	if i < 0 || i >= n || n > len(d.leaves) {
		return proof, fmt.Errorf("deposit proof of leaf %d in a tree of %d (have %d)", i, n, len(d.leaves))
	}
	layer := append([]types.Root(nil), d.leaves[:n]...)
	idx := i
	for h := 0; h < params.DepositContractTreeDepth; h++ {
		sib := idx ^ 1
		if sib < len(layer) {
			proof[h] = layer[sib]
		} else {
			proof[h] = zeroHashes[h]
		}
		next := make([]types.Root, (len(layer)+1)/2)
		for k := range next {
			if 2*k+1 < len(layer) {
				next[k] = hashPair(layer[2*k], layer[2*k+1])
			} else {
				next[k] = hashPair(layer[2*k], zeroHashes[h])
			}
		}
		layer = next
		idx >>= 1
	}
	proof[params.DepositContractTreeDepth] = uint64Root(uint64(n))
	return proof, nil
}

// InitializeBeaconStateFromEth1 is initialize_beacon_state_from_eth1.
//
//	state = BeaconState(
//	    genesis_time=eth1_timestamp - eth1_timestamp % SECONDS_PER_DAY + 2 * SECONDS_PER_DAY,
//	    eth1_data=Eth1Data(block_hash=eth1_block_hash, deposit_count=len(deposits)),
//	    latest_block_header=BeaconBlockHeader(body_root=hash_tree_root(BeaconBlockBody())))
//	leaves = list(map(lambda deposit: deposit.data, deposits))
//	for index, deposit in enumerate(deposits):
//	    deposit_data_list = List[DepositData, 2**DEPOSIT_CONTRACT_TREE_DEPTH](*leaves[:index + 1])
//	    state.eth1_data.deposit_root = hash_tree_root(deposit_data_list)
//	    process_deposit(state, deposit)
//	for index, validator in enumerate(state.validators):
//	    balance = state.balances[index]
//	    validator.effective_balance = min(balance - balance % EFFECTIVE_BALANCE_INCREMENT, MAX_EFFECTIVE_BALANCE)
//	    if validator.effective_balance == MAX_EFFECTIVE_BALANCE:
//	        validator.activation_eligibility_epoch = GENESIS_EPOCH
//	        validator.activation_epoch = GENESIS_EPOCH
//	indices_list = List[ValidatorIndex, VALIDATOR_REGISTRY_LIMIT](get_active_validator_indices(state, GENESIS_EPOCH))
//	active_index_root = hash_tree_root(indices_list)
//	committee_root = get_compact_committees_root(state, GENESIS_EPOCH)
//	for index in range(EPOCHS_PER_HISTORICAL_VECTOR):
//	    state.active_index_roots[index] = active_index_root
//	    state.compact_committees_roots[index] = committee_root
//
// Note the order of the last step: the compact committees root is computed
// while active_index_roots are still zero, so its seed differs from the one
// the chain later uses for the genesis epoch. sigs == SkipSigs trusts the
// deposit signatures (for interop genesis states built from known keys).
func (t *Transition) InitializeBeaconStateFromEth1(eth1BlockHash types.Root, eth1Timestamp uint64, deposits []*types.Deposit, sigs Sigs) (*types.BeaconState, error) {
	cfg := t.cfg
	st := types.NewBeaconState(cfg)
	st.GenesisTime = eth1Timestamp - eth1Timestamp%params.SecondsPerDay + 2*params.SecondsPerDay
	st.Eth1Data = types.Eth1Data{BlockHash: eth1BlockHash, DepositCount: uint64(len(deposits))}
	var body types.BeaconBlockBody
	bodyRoot, err := body.HashTreeRoot()
	if err != nil {
		return nil, err
	}
	st.LatestBlockHeader = types.BeaconBlockHeader{BodyRoot: bodyRoot}
	st.Slot = types.Slot(cfg.GenesisSlot)
	c := t.newCtx(st)
	var tree DepositTree
	if sigs.mode == sigBatch {
		sigs = VerifySigs // deposits are always checked one by one
	}
	for i, d := range deposits {
		tree.Append(d.Data.TreeRoot())
		st.Eth1Data.DepositRoot = tree.Root()
		if err := t.processDeposit(c, d, sigs); err != nil {
			return nil, fmt.Errorf("%w: deposit %d: %w", ErrInvalidGenesis, i, err)
		}
	}
	genesis := types.Epoch(cfg.GenesisEpoch())
	inc := types.Gwei(cfg.EffectiveBalanceIncrement)
	for i := range st.Validators {
		v := &st.Validators[i]
		b := st.Balances[i]
		v.EffectiveBalance = min(b-b%inc, types.Gwei(cfg.MaxEffectiveBalance))
		if uint64(v.EffectiveBalance) == cfg.MaxEffectiveBalance {
			v.ActivationEligibilityEpoch = genesis
			v.ActivationEpoch = genesis
		}
	}
	activeRoot := t.activeIndexRoot(ActiveValidatorIndices(st, genesis))
	committeeRoot, err := t.compactCommitteesRoot(t.newCtx(st), genesis)
	if err != nil {
		return nil, err
	}
	for i := range st.ActiveIndexRoots {
		st.ActiveIndexRoots[i] = activeRoot
		st.CompactCommitteesRoots[i] = committeeRoot
	}
	if s := cfg.Shard; s.Enabled() && s.ForkEpoch == cfg.GenesisEpoch() {
		// A chain with the shard fork at genesis starts in it (docs/protocol.md).
		t.UpgradeToShardFork(st)
	}
	return st, nil
}

// IsValidGenesisState is is_valid_genesis_state.
//
//	if state.genesis_time < MIN_GENESIS_TIME: return False
//	if len(get_active_validator_indices(state, GENESIS_EPOCH)) < MIN_GENESIS_ACTIVE_VALIDATOR_COUNT: return False
//	return True
func (t *Transition) IsValidGenesisState(st *types.BeaconState) bool {
	if st.GenesisTime < t.cfg.MinGenesisTime {
		return false
	}
	return uint64(len(ActiveValidatorIndices(st, types.Epoch(t.cfg.GenesisEpoch())))) >= t.cfg.MinGenesisActiveValidatorCount
}
