package core

import (
	"fmt"

	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
	st "github.com/shardlab/shardlab/shard/types"
)

// GenesisHeader is the header every shard chain starts from: slot
// GENESIS_SLOT, the shard, and the genesis state's root; the rest zero. The
// first block's parent_root is its signing root.
func GenesisHeader(s *st.ShardState) (st.ShardBlockHeader, error) {
	root, err := s.HashTreeRoot()
	if err != nil {
		return st.ShardBlockHeader{}, err
	}
	return st.ShardBlockHeader{Slot: s.Slot, Shard: s.Shard, StateRoot: root}, nil
}

// BlockContext is what a shard node knows around a block: the header of its
// parent and the beacon block it references, with that block's post-state.
type BlockContext struct {
	Parent     *st.ShardBlockHeader
	BeaconRoot bt.Root
	Beacon     *bt.BeaconState // the post-state of BeaconRoot; only read
}

// ProcessBlock is the full validation a shard node applies to a block: the
// header rules that need the beacon state (parent, beacon reference,
// proposer and signature), execution, and the state and receipts roots.
// pre is the parent's post-state; it becomes the block's post-state (on error
// it must be discarded). It returns the receipts the block emits.
//
//	assert block.parent_root == signing_root(parent_header)
//	assert block.beacon_block_root == beacon block root of beacon_state
//	assert block.proposer_index == get_shard_proposer_index(beacon_state, block.shard, block.slot)
//	assert bls_verify(proposer.pubkey, signing_root(block), block.signature,
//	                  compute_shard_domain(DOMAIN_SHARD_PROPOSER))
//	receipts = process_shard_block(state, beacon_state, block)
//	assert block.state_root == hash_tree_root(state)
//	assert block.receipts_root == hash_tree_root(List[Receipt, MAX_SHARD_TRANSACTIONS](receipts))
func ProcessBlock(tr *bcore.Transition, ctx BlockContext, pre *st.ShardState, b *st.ShardBlock, sigs bcore.Sigs, opts ExecOptions) ([]st.Receipt, error) {
	if err := checkHeader(tr, ctx, b, sigs); err != nil {
		return nil, err
	}
	receipts, err := ExecuteBlock(tr.Config(), FullView{S: pre}, FullBeaconView{S: ctx.Beacon}, b, opts)
	if err != nil {
		return nil, err
	}
	root, err := pre.HashTreeRoot()
	if err != nil {
		return nil, err
	}
	if root != b.StateRoot {
		return nil, invalid("state root %s, block says %s", root, b.StateRoot)
	}
	rr, err := st.ReceiptsRoot(receipts)
	if err != nil {
		return nil, invalid("%v", err)
	}
	if rr != b.ReceiptsRoot {
		return nil, invalid("receipts root %s, block says %s", rr, b.ReceiptsRoot)
	}
	return receipts, nil
}

// checkHeader checks what of a block needs its parent and beacon context.
func checkHeader(tr *bcore.Transition, ctx BlockContext, b *st.ShardBlock, sigs bcore.Sigs) error {
	if b.ParentRoot != ctx.Parent.SigningRoot() {
		return invalid("parent root %s is not the given parent %s", b.ParentRoot, ctx.Parent.SigningRoot())
	}
	if b.BeaconBlockRoot != ctx.BeaconRoot {
		return invalid("beacon block root %s is not the given beacon block %s", b.BeaconBlockRoot, ctx.BeaconRoot)
	}
	proposer, err := ShardProposerIndex(tr, ctx.Beacon, b.Shard, b.Slot)
	if err != nil {
		return err
	}
	if b.ProposerIndex != proposer {
		return invalid("proposer %d, expected %d for shard %d slot %d", b.ProposerIndex, proposer, b.Shard, b.Slot)
	}
	if ctx.Beacon.Validators[proposer].Slashed {
		return invalid("shard proposer %d is slashed", proposer)
	}
	return verifyProposerSignature(tr, ctx.Beacon, b, sigs)
}

func verifyProposerSignature(tr *bcore.Transition, beacon *bt.BeaconState, b *st.ShardBlock, sigs bcore.Sigs) error {
	if sigs.Skipping() {
		return nil
	}
	if uint64(b.ProposerIndex) >= uint64(len(beacon.Validators)) {
		return invalid("proposer %d out of range", b.ProposerIndex)
	}
	root, err := b.SigningRoot()
	if err != nil {
		return invalid("%v", err)
	}
	domain := ShardDomain(tr.Config(), tr.Config().DomainShardProposer)
	if err := tr.VerifySignature(sigs, beacon.Validators[b.ProposerIndex].Pubkey, root, b.Signature, domain, "shard proposer signature"); err != nil {
		return invalid("bad signature of shard proposer %d: %v", b.ProposerIndex, err)
	}
	return nil
}

// ShardDomain is the signature domain of a shard-layer message:
// compute_domain(domain_type, SHARD_FORK_VERSION). Shard blocks, transactions
// and fraud proofs exist only in the shard fork, so their domain never
// depends on a state's fork (which would differ between a block's beacon
// reference and the state that later verifies a proof against it).
func ShardDomain(cfg *params.Config, dt params.DomainType) bt.Domain {
	return bcore.ComputeDomain(dt, bt.Version(cfg.Shard.ForkVersion))
}

// SignBlock sets b's signature with the proposer's key.
func SignBlock(tr *bcore.Transition, b *st.ShardBlock, sk *bls.SecretKey) error {
	root, err := b.SigningRoot()
	if err != nil {
		return err
	}
	b.Signature = bt.BLSSignature(sk.Sign(root, ShardDomain(tr.Config(), tr.Config().DomainShardProposer)).Bytes())
	return nil
}

// Built is a block a proposer assembled, with its post-state and receipts,
// and the candidates it left out and why.
type Built struct {
	Block    *st.ShardBlock
	Post     *st.ShardState
	Receipts []st.Receipt
	Skipped  []error
}

// BuildBlock assembles and signs the block of shard at slot on ctx.Parent:
// it applies the candidate transactions, then claims, in order, leaving out
// each one that is invalid on the state so far (up to the block limits), and
// fills in the roots. pre is the parent's post-state and is not modified.
func BuildBlock(tr *bcore.Transition, ctx BlockContext, pre *st.ShardState, slot bt.Slot, txs []*st.Transaction, claims []*st.ReceiptClaim, sk *bls.SecretKey, opts ExecOptions) (*Built, error) {
	cfg := tr.Config()
	proposer, err := ShardProposerIndex(tr, ctx.Beacon, pre.Shard, slot)
	if err != nil {
		return nil, err
	}
	post := pre.Copy()
	v := FullView{S: post}
	b := &st.ShardBlock{Slot: slot, Shard: pre.Shard, ProposerIndex: proposer, ParentRoot: ctx.Parent.SigningRoot(), BeaconBlockRoot: ctx.BeaconRoot}
	// The header part of process_shard_block, on an empty body.
	if _, err := ExecuteBlock(cfg, v, FullBeaconView{S: ctx.Beacon}, b, opts); err != nil {
		return nil, fmt.Errorf("build shard block: %w", err)
	}
	out := &Built{Block: b, Post: post}
	for _, tx := range txs {
		if len(b.Body.Transactions) >= params.MaxShardTransactions {
			break
		}
		r, err := processTransaction(cfg, v, pre.Shard, slot, tx, opts)
		if err != nil {
			out.Skipped = append(out.Skipped, err)
			continue
		}
		b.Body.Transactions = append(b.Body.Transactions, tx)
		if r != nil {
			out.Receipts = append(out.Receipts, *r)
		}
	}
	bv := FullBeaconView{S: ctx.Beacon}
	for _, c := range claims {
		if len(b.Body.Claims) >= params.MaxShardClaims {
			break
		}
		if err := processClaim(cfg, v, bv, pre.Shard, c); err != nil {
			out.Skipped = append(out.Skipped, err)
			continue
		}
		b.Body.Claims = append(b.Body.Claims, c)
	}
	if b.StateRoot, err = post.HashTreeRoot(); err != nil {
		return nil, err
	}
	if b.ReceiptsRoot, err = st.ReceiptsRoot(out.Receipts); err != nil {
		return nil, err
	}
	if sk != nil {
		if err := SignBlock(tr, b, sk); err != nil {
			return nil, err
		}
	}
	return out, nil
}
