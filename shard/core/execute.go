package core

import (
	"fmt"
	"math/bits"

	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/hash"
	"github.com/shardlab/shardlab/crypto/sigcache"
	st "github.com/shardlab/shardlab/shard/types"
)

// ExecOptions says how ExecuteBlock checks the transactions' signatures.
type ExecOptions struct {
	// TxDomain is the chain's transaction domain (ComputeTxDomain), which
	// every signature is checked against. Required unless SkipTxSignatures:
	// execution fails (without ErrInvalidShardBlock) when it is zero.
	TxDomain TxDomain
	// SkipTxSignatures trusts the transactions' signatures (a simulation of
	// honest accounts, or a node that verified them on arrival).
	SkipTxSignatures bool
	// TxCache, when set, remembers verified transaction signatures: a
	// transaction a node admitted to its pool through the same cache is not
	// verified again when a block executes it. nil (the default, and what
	// the fraud-proof verifier uses) verifies every signature.
	TxCache *sigcache.Cache
}

// check fails on options that cannot check signatures.
func (o ExecOptions) check() error {
	if !o.SkipTxSignatures && o.TxDomain.IsZero() {
		return fmt.Errorf("execute shard block: %w", ErrNoTxDomain)
	}
	return nil
}

// ExecuteBlock is process_shard_block (docs/protocol.md §5): it applies b to
// the state behind v, reading the beacon state b references through bv, and
// returns the receipts b emits. It does not check the block's state and
// receipts roots (see ProcessBlock and the fraud-proof verifier), its
// proposer or its signature. v is modified in place; on error it must be
// discarded. An error wraps ErrInvalidShardBlock when the block breaks a rule
// and ErrMissingWitness when v is a witness that lacks what b touches.
//
//	def process_shard_block(state, beacon_state, block):
//	    assert block.shard == state.shard
//	    assert block.slot > state.slot
//	    assert state.beacon_slot <= beacon_state.slot <= block.slot
//	    assert block.slot - beacon_state.slot <= SLOTS_PER_EPOCH
//	    state.slot = block.slot; state.beacon_slot = beacon_state.slot
//	    receipts = []
//	    for tx in block.body.transactions: process_transaction(state, block, tx, receipts)
//	    for claim in block.body.claims: process_receipt_claim(state, beacon_state, claim)
//	    return receipts
func ExecuteBlock(cfg *params.Config, v StateView, bv BeaconView, b *st.ShardBlock, opts ExecOptions) ([]st.Receipt, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	shard, err := v.Shard()
	if err != nil {
		return nil, err
	}
	if b.Shard != shard {
		return nil, invalid("block of shard %d applied to shard %d", b.Shard, shard)
	}
	slot, err := v.Slot()
	if err != nil {
		return nil, err
	}
	if b.Slot <= slot {
		return nil, invalid("block slot %d is not after the parent's %d", b.Slot, slot)
	}
	if uint64(bcore.ComputeEpochOfSlot(cfg, b.Slot)) < cfg.Shard.ForkEpoch {
		return nil, invalid("block at slot %d, before SHARD_FORK_EPOCH %d", b.Slot, cfg.Shard.ForkEpoch)
	}
	bslot, err := v.BeaconSlot()
	if err != nil {
		return nil, err
	}
	ref := bv.Slot()
	if ref < bslot || ref > b.Slot || uint64(b.Slot-ref) > cfg.SlotsPerEpoch {
		return nil, invalid("beacon reference at slot %d: must be in [%d, %d] and within an epoch of slot %d", ref, bslot, b.Slot, b.Slot)
	}
	if len(b.Body.Transactions) > params.MaxShardTransactions || len(b.Body.Claims) > params.MaxShardClaims {
		return nil, invalid("too many transactions or claims")
	}
	if err := v.SetSlot(b.Slot); err != nil {
		return nil, err
	}
	if err := v.SetBeaconSlot(ref); err != nil {
		return nil, err
	}
	var receipts []st.Receipt
	for i, tx := range b.Body.Transactions {
		r, err := processTransaction(cfg, v, shard, b.Slot, tx, opts)
		if err != nil {
			return nil, fmt.Errorf("transaction %d: %w", i, err)
		}
		if r != nil {
			receipts = append(receipts, *r)
		}
	}
	for i, c := range b.Body.Claims {
		if err := processClaim(cfg, v, bv, shard, c); err != nil {
			return nil, fmt.Errorf("claim %d: %w", i, err)
		}
	}
	return receipts, nil
}

// processTransaction is process_transaction:
//
//	assert tx.shard == state.shard and tx.from < SHARD_ACCOUNTS and tx.to < SHARD_ACCOUNTS
//	assert tx.to_shard < SHARD_COUNT and tx.amount > 0
//	sender = state.accounts[tx.from]
//	assert tx.nonce == sender.nonce
//	assert ed25519_verify(sender.pubkey,
//	    compute_transaction_message(tx, compute_transaction_domain(GENESIS_ROOT)), tx.signature)
//	assert sender.balance >= tx.amount
//	sender.balance -= tx.amount; sender.nonce += 1
//	if tx.to_shard == state.shard:
//	    state.accounts[tx.to].balance += tx.amount
//	else:
//	    receipts.append(Receipt(src_shard=state.shard, dst_shard=tx.to_shard,
//	        nonce=state.outbox_nonces[tx.to_shard], src_slot=block.slot,
//	        sender=tx.from, recipient=tx.to, amount=tx.amount))
//	    state.outbox_nonces[tx.to_shard] += 1
func processTransaction(cfg *params.Config, v StateView, shard bt.Shard, slot bt.Slot, tx *st.Transaction, opts ExecOptions) (*st.Receipt, error) {
	if tx == nil {
		return nil, invalid("nil transaction")
	}
	n := cfg.Shard.Accounts
	if tx.Shard != shard || tx.From >= n || tx.To >= n || uint64(tx.ToShard) >= cfg.ShardCount {
		return nil, invalid("transaction addresses out of range (shard %d, from %d, to %d on shard %d)", tx.Shard, tx.From, tx.To, tx.ToShard)
	}
	if tx.Amount == 0 {
		return nil, invalid("transaction of zero amount")
	}
	sender, err := v.Account(tx.From)
	if err != nil {
		return nil, err
	}
	if tx.Nonce != sender.Nonce {
		return nil, invalid("nonce %d, account %d expects %d", tx.Nonce, tx.From, sender.Nonce)
	}
	if !opts.SkipTxSignatures {
		if !VerifyTxCached(opts.TxCache, opts.TxDomain, sender.Pubkey, tx) {
			return nil, invalid("bad signature of account %d", tx.From)
		}
	}
	if sender.Balance < tx.Amount {
		return nil, invalid("account %d has %d, sends %d", tx.From, sender.Balance, tx.Amount)
	}
	if tx.ToShard == shard && tx.To != tx.From {
		// Check the credit first, so a failing transaction changes nothing.
		if _, err := credited(v, tx.To, tx.Amount); err != nil {
			return nil, err
		}
	}
	sender.Balance -= tx.Amount
	sender.Nonce++
	if err := v.SetAccount(tx.From, sender); err != nil {
		return nil, err
	}
	if tx.ToShard == shard {
		return nil, credit(v, tx.To, tx.Amount)
	}
	nonce, err := v.Outbox(uint64(tx.ToShard))
	if err != nil {
		return nil, err
	}
	if err := v.SetOutbox(uint64(tx.ToShard), nonce+1); err != nil {
		return nil, err
	}
	return &st.Receipt{
		SrcShard: shard, DstShard: tx.ToShard, Nonce: nonce, SrcSlot: slot,
		Sender: tx.From, Recipient: tx.To, Amount: tx.Amount,
	}, nil
}

// credited returns account j with amount added, or an error on overflow.
func credited(v StateView, j uint64, amount bt.Gwei) (st.Account, error) {
	a, err := v.Account(j)
	if err != nil {
		return a, err
	}
	sum, carry := bits.Add64(uint64(a.Balance), uint64(amount), 0)
	if carry != 0 {
		return a, invalid("balance of account %d overflows", j)
	}
	a.Balance = bt.Gwei(sum)
	return a, nil
}

func credit(v StateView, j uint64, amount bt.Gwei) error {
	a, err := credited(v, j, amount)
	if err != nil {
		return err
	}
	return v.SetAccount(j, a)
}

// processClaim is process_receipt_claim:
//
//	r = claim.receipt; h = claim.header; src = r.src_shard
//	assert r.dst_shard == state.shard != src and src < SHARD_COUNT and r.recipient < SHARD_ACCOUNTS
//	assert h.shard == src and h.slot == r.src_slot
//	assert is_valid_merkle_branch(hash_tree_root(r), claim.receipt_branch, RECEIPTS_DEPTH + 1,
//	                              claim.receipt_index, h.receipts_root)
//	c = claim.crosslinks[0]
//	assert is_valid_merkle_branch(signing_root(h), claim.header_branch, HEADERS_DEPTH + 1,
//	                              claim.header_index, c.data_root)
//	assert c.start_epoch * SLOTS_PER_EPOCH <= h.slot < c.end_epoch * SLOTS_PER_EPOCH
//	assert every crosslink of the chain is of shard src and
//	       hash_tree_root(claim.crosslinks[i]) == claim.crosslinks[i + 1].parent_root
//	assert claim.crosslinks[-1] == beacon_state.current_crosslinks[src]
//	# the challenge window: a crosslink at or after c in the chain was already
//	# the current crosslink of src SHARD_CHALLENGE_WINDOW epochs ago
//	window_slot = beacon_state.slot - SHARD_CHALLENGE_WINDOW * SLOTS_PER_EPOCH   (assert no underflow)
//	old_root = beacon_state.state_roots[window_slot % SLOTS_PER_HISTORICAL_ROOT]
//	assert claim.window_index < len(claim.crosslinks)
//	assert is_valid_merkle_branch(hash_tree_root(claim.crosslinks[claim.window_index]), claim.window_branch,
//	           depth, index of current_crosslinks[src] in BeaconState, old_root)
//	assert r.nonce == state.inbox_nonces[src]
//	state.inbox_nonces[src] += 1
//	state.accounts[r.recipient].balance += r.amount
func processClaim(cfg *params.Config, v StateView, bv BeaconView, shard bt.Shard, claim *st.ReceiptClaim) error {
	if claim == nil {
		return invalid("nil claim")
	}
	r := &claim.Receipt
	src := r.SrcShard
	if r.DstShard != shard || src == shard || uint64(src) >= cfg.ShardCount || r.Recipient >= cfg.Shard.Accounts {
		return invalid("receipt from shard %d to shard %d (recipient %d) cannot be claimed on shard %d", src, r.DstShard, r.Recipient, shard)
	}
	h := &claim.Header
	if h.Shard != src || h.Slot != r.SrcSlot {
		return invalid("header of shard %d slot %d does not match receipt of shard %d slot %d", h.Shard, h.Slot, src, r.SrcSlot)
	}
	if claim.ReceiptIndex >= params.MaxShardTransactions || len(claim.ReceiptBranch) != st.ReceiptsDepth+1 ||
		!hash.IsValidMerkleBranch(r.TreeRoot(), rootsOf(claim.ReceiptBranch), st.ReceiptsDepth+1, claim.ReceiptIndex, h.ReceiptsRoot) {
		return invalid("receipt is not at index %d of the source block's receipts", claim.ReceiptIndex)
	}
	if len(claim.Crosslinks) == 0 || claim.Crosslinks[0] == nil {
		return invalid("claim without crosslinks")
	}
	c := claim.Crosslinks[0]
	if err := verifyHeaderInCrosslink(cfg, h, claim.HeaderIndex, claim.HeaderBranch, c); err != nil {
		return invalid("%v", err)
	}
	current, err := bv.CurrentCrosslink(src)
	if err != nil {
		return err
	}
	if err := verifyCrosslinkChain(claim.Crosslinks, src, current); err != nil {
		return invalid("%v", err)
	}
	if err := checkWindow(cfg, bv, src, claim); err != nil {
		return err
	}
	next, err := v.Inbox(uint64(src))
	if err != nil {
		return err
	}
	if r.Nonce != next {
		return invalid("receipt nonce %d from shard %d, next claimable is %d", r.Nonce, src, next)
	}
	acc, err := credited(v, r.Recipient, r.Amount)
	if err != nil {
		return err
	}
	if err := v.SetInbox(uint64(src), next+1); err != nil {
		return err
	}
	return v.SetAccount(r.Recipient, acc)
}

// WindowSlot is the slot a claim in a block referencing a beacon state at
// slot must prove its crosslink was already current at: SHARD_CHALLENGE_WINDOW
// epochs earlier. ok is false while the chain is younger than that.
func WindowSlot(cfg *params.Config, slot bt.Slot) (bt.Slot, bool) {
	back := cfg.Shard.ChallengeWindow * cfg.SlotsPerEpoch
	if uint64(slot) < back {
		return 0, false
	}
	return slot - bt.Slot(back), true
}

// checkWindow checks that claim.crosslinks[claim.window_index] was the current
// crosslink of src in the beacon state at the window slot (its root recorded
// in the referenced state's state_roots).
func checkWindow(cfg *params.Config, bv BeaconView, src bt.Shard, claim *st.ReceiptClaim) error {
	ws, ok := WindowSlot(cfg, bv.Slot())
	if !ok {
		return invalid("receipts cannot be claimed before the chain is %d epochs old", cfg.Shard.ChallengeWindow)
	}
	old, err := bv.StateRoot(ws)
	if err != nil {
		return err
	}
	if claim.WindowIndex >= uint64(len(claim.Crosslinks)) || claim.Crosslinks[claim.WindowIndex] == nil {
		return invalid("window index %d outside the crosslink chain", claim.WindowIndex)
	}
	g := bt.GIndexCurrentCrosslink(cfg.ShardCount, uint64(src))
	depth := bits.Len64(g) - 1
	if len(claim.WindowBranch) != depth {
		return invalid("window branch of %d nodes, want %d", len(claim.WindowBranch), depth)
	}
	leaf := claim.Crosslinks[claim.WindowIndex].TreeRoot()
	if !hash.IsValidMerkleBranch(leaf, rootsOf(claim.WindowBranch), uint64(depth), g-1<<depth, old) {
		return invalid("the crosslink was not the current crosslink of shard %d at slot %d (challenge window of %d epochs)",
			src, ws, cfg.Shard.ChallengeWindow)
	}
	return nil
}
