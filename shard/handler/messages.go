package handler

import (
	bt "github.com/shardlab/shardlab/beacon/types"
	st "github.com/shardlab/shardlab/shard/types"
)

//go:generate go tool sszgen --path messages.go --include ../types,../../beacon/types --objs ShardMessage,ShardBlocksByRangeRequest,ShardStateRequest,ShardInboxRequest,ShardInboxResponse --output messages_encoding.go

// The shard node's wire containers (SSZ, framed by p2p as ssz_snappy).
// Field order defines the encoding.

// ShardMessage is the payload of a shard's transaction topic
// (p2p.ShardTxTopic(shard)): exactly one transaction of the shard, or one
// claim of a receipt sent to the shard,
//
//	class ShardMessage(Container):
//	    transaction: List[Transaction, 1]
//	    claim: List[ReceiptClaim, 1]
type ShardMessage struct {
	Transaction []*st.Transaction  `ssz-max:"1"`
	Claim       []*st.ReceiptClaim `ssz-max:"1"`
}

// ShardBlocksByRangeRequest asks for the canonical blocks of shard at slots
// [start_slot, start_slot + count) (p2p.ShardBlocksByRangeProtocol). Empty
// slots are skipped; each response chunk is one ShardBlock's SSZ, in slot
// order.
type ShardBlocksByRangeRequest struct {
	Shard     uint64
	StartSlot uint64
	Count     uint64
}

// ShardStateByRootProtocol is the request/response protocol on which a
// shard node answers a ShardStateRequest with the post-state of a block of
// a served shard, as one SSZ ShardState chunk, when it still holds it (the
// states of its fork choice's root and the blocks after it), and with no
// chunk otherwise. A node that cannot re-execute a shard's history asks it
// for the state of the shard's latest crosslinked block (shard/chain
// Checkpoint), which it checks against the crosslinked header's state root.
const ShardStateByRootProtocol = "shard_state_by_root"

// ShardStateRequest asks for the post-state of block_root of shard.
type ShardStateRequest struct {
	Shard     uint64
	BlockRoot [32]byte `ssz-size:"32"`
}

// ShardInboxByCrosslinkProtocol is the request/response protocol on which
// a shard node answers a ShardInboxRequest with the inbox nonces of a
// served shard as of a crosslink of it, with their proof, as one SSZ
// ShardInboxResponse chunk, when it holds the crosslink's header list and
// the post-state of its last block (shard/chain InboxProof), and with no
// chunk otherwise. A relayer asks it about the destinations it does not
// serve, for the crosslink in its beacon head state, and checks the answer
// against that crosslink (shard/chain VerifyInboxProof; docs/protocol.md
// §5.3).
const ShardInboxByCrosslinkProtocol = "shard_inbox_by_crosslink"

// ShardInboxRequest asks for the inbox nonces of shard as of crosslink,
// a crosslink of that shard.
type ShardInboxRequest struct {
	Shard     uint64
	Crosslink bt.Crosslink
}

// ShardInboxResponse proves a shard's inbox nonces as of a crosslink:
// header_roots are the crosslink's header list (its data root is
// compute_crosslink_data_root(header_roots)), header the last of them,
// inbox_nonces that header's post-state's list, and inbox_branch the list
// root's Merkle branch in header.state_root,
//
//	class ShardInboxResponse(Container):
//	    header_roots: List[Root, 8192]      # >= MAX_CROSSLINK_HEADERS of the presets
//	    header: ShardBlockHeader
//	    inbox_nonces: List[uint64, MAX_SHARDS]
//	    inbox_branch: List[Root, MAX_MERKLE_BRANCH]
type ShardInboxResponse struct {
	HeaderRoots []bt.Root `ssz-max:"8192" ssz-size:"?,32"`
	Header      st.ShardBlockHeader
	InboxNonces []uint64  `ssz-max:"1024"`
	InboxBranch []bt.Root `ssz-max:"32" ssz-size:"?,32"`
}
