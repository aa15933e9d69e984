package validator

import (
	"encoding/binary"
	"fmt"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// Eth1Source is the eth1 chain as a proposer sees it: the deposit contract's
// state it votes for and the deposits it includes once a vote wins. A nil
// source keeps ProduceBlock's default: vote for state.eth1_data (no change)
// and refuse a state that expects deposits.
type Eth1Source interface {
	// Eth1Vote is the eth1 data the proposer of slot votes for; false
	// votes for the state's eth1_data.
	Eth1Vote(slot types.Slot) (types.Eth1Data, bool)
	// Deposit is deposit index with its proof against the deposit tree of
	// the first count deposits (the tree an eth1_data with deposit_count
	// count commits to).
	Deposit(index, count uint64) (*types.Deposit, error)
}

// Eth1Inputs is the eth1 part of the block of slot on st (st processed to
// slot): the vote (src's, or st's eth1_data without one) and the deposits
// process_operations will expect once process_eth1_data has counted the
// vote, min(MAX_DEPOSITS, eth1_data.deposit_count - eth1_deposit_index) of
// them from eth1_deposit_index on.
func Eth1Inputs(cfg *params.Config, st *types.BeaconState, slot types.Slot, src Eth1Source) (types.Eth1Data, []*types.Deposit, error) {
	vote, ok := src.Eth1Vote(slot)
	if !ok {
		vote = st.Eth1Data
	}
	data := st.Eth1Data // process_eth1_data with the vote counted
	count := uint64(1)
	for _, v := range st.Eth1DataVotes {
		if v == vote {
			count++
		}
	}
	if count*2 > cfg.SlotsPerEth1VotingPeriod {
		data = vote
	}
	if data.DepositCount <= st.Eth1DepositIndex {
		return vote, nil, nil
	}
	n := min(cfg.MaxDeposits, data.DepositCount-st.Eth1DepositIndex)
	deps := make([]*types.Deposit, 0, n)
	for i := st.Eth1DepositIndex; i < st.Eth1DepositIndex+n; i++ {
		d, err := src.Deposit(i, data.DepositCount)
		if err != nil {
			return vote, nil, fmt.Errorf("eth1 inputs at slot %d: %w", slot, err)
		}
		deps = append(deps, d)
	}
	return vote, deps, nil
}

// DepositTree is the deposit contract's Merkle tree (depth
// DEPOSIT_CONTRACT_TREE_DEPTH, root mixed in with the count) over the
// deposits so far, able to prove any deposit against the tree of any
// prefix, as a proposer needs when the winning eth1_data lags the contract.
// Proofs cost O(count) hashes.
type DepositTree struct {
	data   []types.DepositData
	leaves []types.Root
	zero   [params.DepositContractTreeDepth + 1]types.Root
}

// NewDepositTree returns a tree holding deposits, in order.
func NewDepositTree(deposits []types.DepositData) *DepositTree {
	t := &DepositTree{}
	for h := 1; h < len(t.zero); h++ {
		t.zero[h] = hashPair(t.zero[h-1], t.zero[h-1])
	}
	for _, d := range deposits {
		t.Push(d)
	}
	return t
}

// Push appends one deposit (the contract's deposit()).
func (t *DepositTree) Push(d types.DepositData) {
	t.data = append(t.data, d)
	t.leaves = append(t.leaves, d.TreeRoot())
}

// Len is the number of deposits.
func (t *DepositTree) Len() uint64 { return uint64(len(t.leaves)) }

// layers returns the tree of the first count leaves, level by level up to
// the single root of level DEPOSIT_CONTRACT_TREE_DEPTH (a missing right
// sibling is the zero subtree of its level).
func (t *DepositTree) layers(count uint64) [][]types.Root {
	out := make([][]types.Root, params.DepositContractTreeDepth+1)
	out[0] = t.leaves[:count]
	for h := 1; h <= params.DepositContractTreeDepth; h++ {
		prev := out[h-1]
		level := make([]types.Root, (len(prev)+1)/2)
		for i := range level {
			right := t.zero[h-1]
			if 2*i+1 < len(prev) {
				right = prev[2*i+1]
			}
			level[i] = hashPair(prev[2*i], right)
		}
		if len(level) == 0 {
			level = []types.Root{t.zero[h]}
		}
		out[h] = level
	}
	return out
}

// Root is the deposit root of the first count deposits (eth1_data.deposit_root).
func (t *DepositTree) Root(count uint64) (types.Root, error) {
	if count > t.Len() {
		return types.Root{}, fmt.Errorf("deposit root of %d deposits: the tree holds %d", count, t.Len())
	}
	return hashPair(t.layers(count)[params.DepositContractTreeDepth][0], lengthLeaf(count)), nil
}

// Deposit is deposit index with its proof against the tree of the first
// count deposits.
func (t *DepositTree) Deposit(index, count uint64) (*types.Deposit, error) {
	if index >= count || count > t.Len() {
		return nil, fmt.Errorf("prove deposit %d of %d: the tree holds %d", index, count, t.Len())
	}
	ls := t.layers(count)
	d := &types.Deposit{Data: t.data[index]}
	for h := range params.DepositContractTreeDepth {
		sib := index>>h ^ 1
		if sib < uint64(len(ls[h])) {
			d.Proof[h] = ls[h][sib]
		} else {
			d.Proof[h] = t.zero[h]
		}
	}
	d.Proof[params.DepositContractTreeDepth] = lengthLeaf(count)
	return d, nil
}

// lengthLeaf is the count mixed into the deposit root.
func lengthLeaf(count uint64) types.Root {
	var r types.Root
	binary.LittleEndian.PutUint64(r[:8], count)
	return r
}

// DepositData is a deposit of amount for the validator of key index i of
// keys, with interop withdrawal credentials and a proof of possession.
func DepositData(cfg *params.Config, keys *Keys, i uint64, amount types.Gwei) (types.DepositData, error) {
	sk, ok := keys.SecretKey(i)
	if !ok {
		return types.DepositData{}, fmt.Errorf("deposit for key %d: %w: have %s", i, ErrNoKey, keys)
	}
	pk, _ := keys.Pubkey(i)
	d := types.DepositData{Pubkey: pk, WithdrawalCredentials: WithdrawalCredentials(cfg, pk), Amount: amount}
	d.Signature = types.BLSSignature(sk.Sign(d.SigningRoot(), core.ComputeDomain(cfg.DomainDeposit, types.Version{})).Bytes())
	return d, nil
}

// SignVoluntaryExit is validator v's exit from epoch on, signed with its key
// in keys over st's fork (get_domain(state, DOMAIN_VOLUNTARY_EXIT, epoch)).
func SignVoluntaryExit(tr *core.Transition, st *types.BeaconState, v types.ValidatorIndex, epoch types.Epoch, keys *Keys) (*types.VoluntaryExit, error) {
	if uint64(v) >= uint64(len(st.Validators)) {
		return nil, fmt.Errorf("sign exit of validator %d: no such validator", v)
	}
	sk, ok := keys.SecretKeyOf(st.Validators[v].Pubkey)
	if !ok {
		return nil, fmt.Errorf("sign exit of validator %d: %w", v, ErrNoKey)
	}
	e := &types.VoluntaryExit{Epoch: epoch, ValidatorIndex: v}
	e.Signature = types.BLSSignature(sk.Sign(e.SigningRoot(), tr.Domain(st, tr.Config().DomainVoluntaryExit, epoch)).Bytes())
	return e, nil
}
