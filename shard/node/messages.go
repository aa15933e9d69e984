package node

import (
	st "github.com/shardlab/shardlab/shard/types"
)

//go:generate go tool sszgen --path messages.go --include ../types,../../beacon/types --objs ShardMessage,ShardBlocksByRangeRequest,ShardStateRequest --output messages_encoding.go

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
